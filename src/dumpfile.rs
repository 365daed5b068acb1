//! `pull-prod --to-file`: the anonymised SQL dump file, its safety checks (outside every Git
//! work tree, owner-only, atomic rename), optional gzip/zstd compression, retention and pruning.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};

use crate::conn::Settings;
use crate::pipeline::{Sink, SinkWorker, TableCopied, TablePlan, Unit};
use crate::target;

/// Retention is at most this many days (DESIGN G7).
pub const MAX_RETENTION_DAYS: u32 = crate::config::MAX_RETENTION_DAYS;
/// Retention of a dump in the system temp directory when none is configured.
pub const DEFAULT_RETENTION_DAYS: u32 = crate::config::DEFAULT_RETENTION_DAYS;
/// Suffix of the sidecar that records a dump's project and expiry: `<file>.pullprod.json`.
pub const SIDECAR_SUFFIX: &str = ".pullprod.json";

/// Where dumps go and how long they live; resolved from the configuration by the caller.
#[derive(Debug, Clone, Default)]
pub struct DumpOptions {
    /// `dump-dir` (default: `<system temp dir>/dumps`).
    pub dir: Option<PathBuf>,
    /// `project`: names the default file and owns the dumps that pruning may delete.
    pub project: String,
    /// `retention-days` (1..=30). Required for a dump outside the system temp directory;
    /// defaults to `DEFAULT_RETENTION_DAYS` inside it.
    pub retention_days: Option<u32>,
    /// Where the index of written dumps is kept (default: `config::state_dir()`), so that dumps
    /// written outside the dump dir are pruned too.
    pub state_dir: Option<PathBuf>,
}

/// `--to-file [PATH]`: where to write (None: `<dump-dir>/<project>.sql`) and the dump options.
#[derive(Debug, Clone, Default)]
pub struct ToFile {
    pub path: Option<PathBuf>,
    pub dump: DumpOptions,
}

/// How the file's bytes are stored, chosen by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    /// `.gz`
    Gzip,
    /// `.zst`
    Zstd,
}

impl Compression {
    pub fn from_path(path: &Path) -> Compression {
        match path.extension().and_then(|ext| ext.to_str()) {
            Some("gz") => Compression::Gzip,
            Some("zst") | Some("zstd") => Compression::Zstd,
            _ => Compression::None,
        }
    }

    /// Refuse a compression this build leaves out: `.zst` without the `zstd` feature.
    pub fn check_available(self) -> Result<()> {
        if self == Compression::Zstd && !cfg!(feature = "zstd") {
            bail!(
                "`.zst` dumps need pullprod's `zstd` feature: add `features = [\"zstd\"]` to the `pullprod` \
                 dependency in `xtask/Cargo.toml`, or use a `.sql.gz` or `.sql` file"
            );
        }
        Ok(())
    }
}

/// What the sidecar `<file>.pullprod.json` records (and the header comment repeats).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DumpMeta {
    pub project: String,
    /// Seconds since the Unix epoch.
    pub created: u64,
    pub expires: u64,
    pub retention_days: u32,
    /// The configured source's name (`production`, `staging`).
    #[serde(default)]
    pub source: String,
    /// The dump file this sidecar describes (absolute).
    pub file: PathBuf,
    /// In the index only: the temporary file of a dump being written, recorded before its first
    /// byte so that a killed run's `.part` is pruned wherever it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<PathBuf>,
}

impl DumpMeta {
    pub fn is_expired(&self, now: SystemTime) -> bool {
        unix_secs(now) >= self.expires
    }
}

/// `created + days`, in Unix seconds. The retention must be 1..=30 days.
pub fn expires_at(created: u64, retention_days: u32) -> Result<u64> {
    check_retention(retention_days)?;
    Ok(created + u64::from(retention_days) * 86_400)
}

pub fn check_retention(retention_days: u32) -> Result<()> {
    if retention_days == 0 || retention_days > MAX_RETENTION_DAYS {
        bail!(
            "`retention-days` is {retention_days}: it must be between 1 and {MAX_RETENTION_DAYS}"
        );
    }
    Ok(())
}

/// The system temp directory's `dumps/` folder.
pub fn default_dump_dir() -> PathBuf {
    std::env::temp_dir().join("dumps")
}

impl DumpOptions {
    /// `dump-dir`, `project` and `retention-days` as configured; the retention counts as set
    /// only when the manifest writes it.
    pub fn from_config(config: &crate::config::Config) -> DumpOptions {
        DumpOptions {
            dir: Some(config.dump_dir.clone()),
            project: config.project.clone(),
            retention_days: config
                .spans
                .contains_key("retention-days")
                .then_some(config.retention_days),
            state_dir: None,
        }
    }

    pub fn dump_dir(&self) -> PathBuf {
        self.dir.clone().unwrap_or_else(default_dump_dir)
    }

    fn index_path(&self) -> Result<PathBuf> {
        let dir = match &self.state_dir {
            Some(dir) => dir.clone(),
            None => crate::config::state_dir()?,
        };
        Ok(dir.join("dumps.jsonl"))
    }
}

/// The path a dump will be written to: `path` (a file, or an existing folder to put
/// `<project>.sql` in) or `<dump-dir>/<project>.sql`; absolute.
pub fn resolve_path(path: Option<&Path>, options: &DumpOptions) -> Result<PathBuf> {
    if options.project.is_empty() || options.project.contains(['/', '\0']) {
        bail!(
            "the project name `{}` cannot name a dump file",
            options.project
        );
    }
    let default_name = format!("{}.sql", options.project);
    let path = match path {
        None => options.dump_dir().join(default_name),
        Some(path) if path.is_dir() || path.as_os_str().to_string_lossy().ends_with('/') => {
            path.join(default_name)
        }
        Some(path) => path.to_path_buf(),
    };
    let path = if path.is_absolute() {
        path
    } else {
        std::env::current_dir()
            .context("failed to read the current directory")?
            .join(path)
    };
    Ok(lexically_normal(&path))
}

/// The Git work tree (repository, linked worktree or submodule) that contains `path`, if any:
/// walks up from the real path (symlinks resolved; for a path that does not exist yet, from
/// its nearest existing ancestor) looking for a `.git` directory or file.
pub fn enclosing_git_work_tree(path: &Path) -> Result<Option<PathBuf>> {
    let real = real_path(path)?;
    let mut dir = Some(real.as_path());
    while let Some(current) = dir {
        // Inside a repository's own `.git` directory counts too.
        if current.file_name().is_some_and(|name| name == ".git") {
            return Ok(current.parent().map(Path::to_path_buf));
        }
        let marker = current.join(".git");
        match fs::symlink_metadata(&marker) {
            Ok(meta) if meta.is_dir() || meta.is_file() || meta.file_type().is_symlink() => {
                return Ok(Some(current.to_path_buf()));
            }
            Ok(_) => {}
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) => {}
            Err(err) => {
                return Err(err)
                    .with_context(|| format!("failed to inspect `{}`", marker.display()));
            }
        }
        dir = current.parent();
    }
    Ok(None)
}

/// Refuse a dump path inside a Git work tree, and one outside the system temp directory
/// without a configured retention. Returns the retention to record.
pub fn check_destination(path: &Path, options: &DumpOptions) -> Result<u32> {
    if let Some(work_tree) = enclosing_git_work_tree(path)? {
        bail!(
            "refusing to write a dump to `{}`: it is inside the Git work tree `{}` and could be committed; \
             choose a path outside every repository (the default is `{}`)",
            path.display(),
            work_tree.display(),
            default_dump_dir()
                .join(format!("{}.sql", options.project))
                .display()
        );
    }
    match options.retention_days {
        Some(days) => {
            check_retention(days)?;
            Ok(days)
        }
        None => {
            let temp = real_path(&std::env::temp_dir())?;
            if !real_path(path)?.starts_with(&temp) {
                bail!(
                    "refusing to write a dump to `{}` outside the system temp directory without a retention: \
                     set `retention-days` (at most {MAX_RETENTION_DAYS}) in `[package.metadata.dump]`",
                    path.display()
                );
            }
            Ok(DEFAULT_RETENTION_DAYS)
        }
    }
}

/// An open dump being written under a temporary name; `commit` renames it into place.
pub struct DumpWriter {
    path: PathBuf,
    temp: Option<tempfile::NamedTempFile>,
    sink: Option<Encoder>,
    meta: DumpMeta,
    index: PathBuf,
}

enum Encoder {
    Plain(BufWriter<File>),
    Gzip(flate2::write::GzEncoder<BufWriter<File>>),
    #[cfg(feature = "zstd")]
    Zstd(zstd::stream::write::Encoder<'static, BufWriter<File>>),
}

impl DumpWriter {
    /// Check the destination, create its folder (0700) and a temporary file (0600) beside it,
    /// and write the header comment. Nothing is at `path` until `commit`.
    pub fn create(path: &Path, source_name: &str, options: &DumpOptions) -> Result<DumpWriter> {
        Compression::from_path(path).check_available()?;
        let retention_days = check_destination(path, options)?;
        let dir = path
            .parent()
            .ok_or_else(|| anyhow!("`{}` has no parent folder", path.display()))?;
        prepare_dir(dir, options)?;
        // Check again now the folder exists: its real path is now known exactly.
        check_destination(path, options)?;
        let file_name = path
            .file_name()
            .and_then(|name| name.to_str())
            .ok_or_else(|| anyhow!("`{}` is not a file name", path.display()))?;
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{file_name}."))
            .suffix(".part")
            .permissions(fs::Permissions::from_mode(0o600))
            .tempfile_in(dir)
            .with_context(|| format!("failed to create a temporary file in `{}`", dir.display()))?;
        let index = options.index_path()?;
        let created = unix_secs(SystemTime::now());
        let meta = DumpMeta {
            project: options.project.clone(),
            created,
            expires: expires_at(created, retention_days)?,
            retention_days,
            source: source_name.to_string(),
            file: path.to_path_buf(),
            part: None,
        };
        // Recorded before the first byte: a killed run's `.part` is pruned wherever it is.
        record_in_index(
            &index,
            &DumpMeta {
                part: Some(temp.path().to_path_buf()),
                ..meta.clone()
            },
        )?;
        let file = temp
            .reopen()
            .with_context(|| format!("failed to open `{}`", temp.path().display()))?;
        let buffered = BufWriter::with_capacity(1 << 20, file);
        let sink = match Compression::from_path(path) {
            Compression::None => Encoder::Plain(buffered),
            Compression::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                buffered,
                flate2::Compression::fast(),
            )),
            #[cfg(feature = "zstd")]
            Compression::Zstd => Encoder::Zstd(
                zstd::stream::write::Encoder::new(buffered, 3)
                    .context("failed to start zstd compression")?,
            ),
            #[cfg(not(feature = "zstd"))]
            Compression::Zstd => unreachable!("`check_available` refused `.zst` above"),
        };
        let mut writer = DumpWriter {
            path: path.to_path_buf(),
            temp: Some(temp),
            sink: Some(sink),
            meta,
            index,
        };
        let header = header_comment(&writer.meta);
        writer.write_all(header.as_bytes())?;
        Ok(writer)
    }

    pub fn meta(&self) -> &DumpMeta {
        &self.meta
    }

    /// Finish compression, flush, fsync, write the sidecar, rename into place, record in the index.
    pub fn commit(mut self) -> Result<DumpMeta> {
        let sink = self.sink.take().expect("a dump is committed once");
        let buffered = match sink {
            Encoder::Plain(buffered) => buffered,
            Encoder::Gzip(encoder) => encoder
                .finish()
                .context("failed to finish gzip compression")?,
            #[cfg(feature = "zstd")]
            Encoder::Zstd(encoder) => encoder
                .finish()
                .context("failed to finish zstd compression")?,
        };
        let file = buffered
            .into_inner()
            .map_err(|err| anyhow!("{}", err.error()))
            .context("failed to write the dump file")?;
        file.sync_all().context("failed to write the dump file")?;
        write_sidecar(&self.meta)?;
        let temp = self.temp.take().expect("a dump is committed once");
        let part = temp.path().to_path_buf();
        temp.persist(&self.path)
            .map_err(|err| anyhow!("{}", err.error))
            .with_context(|| {
                format!(
                    "failed to move the dump into place at `{}`",
                    self.path.display()
                )
            })?;
        forget_part(&self.index, &part)?;
        record_in_index(&self.index, &self.meta)?;
        Ok(self.meta.clone())
    }

    fn sink(&mut self) -> &mut dyn Write {
        match self.sink.as_mut().expect("not committed yet") {
            Encoder::Plain(writer) => writer,
            Encoder::Gzip(writer) => writer,
            #[cfg(feature = "zstd")]
            Encoder::Zstd(writer) => writer,
        }
    }
}

impl Write for DumpWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sink().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.sink().flush()
    }
}

/// A dump file as the destination of a pull: the same steps as the new database (schema,
/// data, post-data, sequences), written as SQL. The data comes from the pull's parallel
/// workers (`Sink`): each unit (a table, or a range of a split table) goes to an unnamed 0600
/// temporary file in the dump's private folder and is appended to the dump, in plan order,
/// once every unit before it is there; so memory stays flat and the file is the same whatever
/// the number of workers. A split table's ranges are one COPY block, as an unsplit table's
/// rows: the first range writes the `COPY … FROM stdin;` line, the last one the `\.`.
pub struct DumpSink {
    dir: PathBuf,
    assembly: Mutex<Assembly>,
}

struct Assembly {
    writer: DumpWriter,
    /// The unit (`Unit::seq`) to append next.
    next: usize,
    /// Units copied ahead of their turn, rewound.
    done: BTreeMap<usize, File>,
}

impl DumpSink {
    /// Start the dump: `writer`'s header, then a line recording the policy and commit that ran.
    pub fn new(mut writer: DumpWriter, policy_sha256: &str, commit: Option<&str>) -> Result<Self> {
        writeln!(
            writer,
            "-- policy sha256: {}, commit: {}\n",
            comment_safe(policy_sha256),
            comment_safe(commit.unwrap_or("none"))
        )
        .context("failed to write the dump file")?;
        let dir = writer
            .path
            .parent()
            .expect("a dump's folder was prepared")
            .to_path_buf();
        Ok(DumpSink {
            dir,
            assembly: Mutex::new(Assembly {
                writer,
                next: 0,
                done: BTreeMap::new(),
            }),
        })
    }

    /// Pipe `pg_dump --schema-only <section>` (in the snapshot) into the dump.
    pub fn schema(
        &self,
        pg_dump: &Path,
        source: &Settings,
        snapshot: &str,
        section: target::Section,
    ) -> Result<()> {
        self.with_writer(|writer| capture_schema(pg_dump, source, snapshot, section, writer))?;
        if section == target::Section::PreData {
            self.sql(
                "\n--\n-- Data, anonymised by pullprod\n--\n\nSET client_encoding = 'UTF8';\nSET session_replication_role = DEFAULT;\n",
            )?;
        }
        Ok(())
    }

    /// Write SQL text (statements or comments) as it is, on lines of its own.
    pub fn sql(&self, text: &str) -> Result<()> {
        self.with_writer(|writer| {
            writer
                .write_all(text.as_bytes())
                .and_then(|()| writer.write_all(b"\n"))
                .context("failed to write the dump file")
        })
    }

    /// Finish the file and move it into place.
    pub fn commit(self) -> Result<DumpMeta> {
        let assembly = self
            .assembly
            .into_inner()
            .expect("no worker panics holding the lock");
        if !assembly.done.is_empty() {
            bail!(
                "the dump is incomplete: {} table(s) were copied but never written",
                assembly.done.len()
            );
        }
        let mut writer = assembly.writer;
        writer
            .write_all(b"\n-- end of pullprod dump\n")
            .context("failed to write the dump file")?;
        writer.commit()
    }

    fn with_writer<T>(&self, write: impl FnOnce(&mut DumpWriter) -> Result<T>) -> Result<T> {
        let mut assembly = self
            .assembly
            .lock()
            .expect("no worker panics holding the lock");
        write(&mut assembly.writer)
    }

    /// Unit `idx` (`Unit::seq`) is complete in `file`: append it and every later unit already
    /// waiting.
    fn append(&self, idx: usize, file: File) -> Result<()> {
        let mut assembly = self
            .assembly
            .lock()
            .expect("no worker panics holding the lock");
        assembly.done.insert(idx, file);
        loop {
            let next = assembly.next;
            let Some(mut file) = assembly.done.remove(&next) else {
                return Ok(());
            };
            io::copy(&mut file, &mut assembly.writer).context("failed to write the dump file")?;
            assembly.next += 1;
        }
    }
}

impl Sink for DumpSink {
    fn name(&self) -> &str {
        "the dump"
    }

    fn open(&self) -> Result<Box<dyn SinkWorker + '_>> {
        Ok(Box::new(DumpWorker { sink: self }))
    }
}

struct DumpWorker<'a> {
    sink: &'a DumpSink,
}

impl SinkWorker for DumpWorker<'_> {
    fn table(
        &mut self,
        unit: &Unit,
        plan: &TablePlan,
        rows: &mut dyn FnMut(&mut (dyn Write + Send)) -> Result<TableCopied>,
    ) -> Result<TableCopied> {
        // No name, owner-only, in the private folder: gone with the process whatever happens.
        let mut file = tempfile::tempfile_in(&self.sink.dir).with_context(|| {
            format!(
                "failed to create a temporary file in `{}`",
                self.sink.dir.display()
            )
        })?;
        if unit.is_first() {
            writeln!(
                file,
                "COPY {} ({}) FROM stdin;",
                plan.table.quoted(),
                plan.column_list()
            )
            .context("failed to write a temporary file of the dump")?;
        }
        let copied = rows(&mut file)?;
        if unit.is_last() {
            file.write_all(b"\\.\n\n")
                .context("failed to write a temporary file of the dump")?;
        }
        file.seek(io::SeekFrom::Start(0))
            .context("failed to write a temporary file of the dump")?;
        self.sink.append(unit.seq, file)?;
        Ok(copied)
    }
}

/// Every dump of the project that the index or the dump dir knows of, newest first.
pub fn list_dumps(options: &DumpOptions) -> Result<Vec<DumpMeta>> {
    let mut sidecars: Vec<PathBuf> = Vec::new();
    let dir = options.dump_dir();
    match fs::read_dir(&dir) {
        Ok(entries) => {
            for entry in entries {
                let entry = entry.with_context(|| format!("failed to list `{}`", dir.display()))?;
                let path = entry.path();
                if path.to_string_lossy().ends_with(SIDECAR_SUFFIX) {
                    sidecars.push(path);
                }
            }
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        Err(err) => return Err(err).with_context(|| format!("failed to list `{}`", dir.display())),
    }
    for meta in read_index(&options.index_path()?)? {
        if meta.part.is_none() {
            sidecars.push(sidecar_path(&meta.file));
        }
    }
    sidecars.sort();
    sidecars.dedup();
    let mut dumps = Vec::new();
    for sidecar in sidecars {
        let Some(meta) = read_sidecar(&sidecar)? else {
            continue;
        };
        if meta.project == options.project && sidecar_path(&meta.file) == sidecar {
            dumps.push(meta);
        }
    }
    dumps.sort_by(|a, b| b.created.cmp(&a.created).then(a.file.cmp(&b.file)));
    dumps.dedup_by(|a, b| a.file == b.file);
    Ok(dumps)
}

/// The newest unexpired dump of the project whose file still exists.
pub fn newest_unexpired(options: &DumpOptions, now: SystemTime) -> Result<Option<DumpMeta>> {
    Ok(list_dumps(options)?
        .into_iter()
        .find(|meta| !meta.is_expired(now) && meta.file.is_file()))
}

/// Delete the project's expired dumps (file and sidecar) and forget them in the index.
/// Other projects' dumps and unrelated files are never touched. Returns the deleted files.
pub fn prune_expired(options: &DumpOptions, now: SystemTime) -> Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    for meta in list_dumps(options)? {
        if !meta.is_expired(now) {
            continue;
        }
        for path in [meta.file.clone(), sidecar_path(&meta.file)] {
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(err) => {
                    return Err(err).with_context(|| {
                        format!("failed to delete the expired dump `{}`", path.display())
                    });
                }
            }
        }
        removed.push(meta.file);
    }
    removed.extend(remove_stale_parts(options, now)?);
    // Unfinished files the index knows of, wherever they are: a day old, they are a killed
    // run's (a run in progress rewrites its file continuously).
    let index = options.index_path()?;
    let entries = read_index(&index)?;
    for meta in &entries {
        let Some(part) = &meta.part else { continue };
        if meta.project == options.project && is_stale_part(part, &meta.file, now) {
            fs::remove_file(part).with_context(|| {
                format!("failed to delete the unfinished dump `{}`", part.display())
            })?;
            removed.push(part.clone());
        }
    }
    // Forget the project's index entries whose sidecar (or unfinished file) is gone.
    let kept: Vec<&DumpMeta> = entries
        .iter()
        .filter(|meta| {
            meta.project != options.project
                || match &meta.part {
                    Some(part) => fs::symlink_metadata(part).is_ok(),
                    None => sidecar_path(&meta.file).exists(),
                }
        })
        .collect();
    if kept.len() != entries.len() {
        write_index(&index, &kept)?;
    }
    Ok(removed)
}

/// Temporary files of the project's default-named dumps (`.<project>.sql….part`) left in
/// the dump dir by a killed run, once a day old.
fn remove_stale_parts(options: &DumpOptions, now: SystemTime) -> Result<Vec<PathBuf>> {
    let dir = options.dump_dir();
    let prefix = format!(".{}.sql", options.project);
    let mut removed = Vec::new();
    let Ok(entries) = fs::read_dir(&dir) else {
        return Ok(removed);
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with(&prefix) || !name.ends_with(".part") {
            continue;
        }
        let path = entry.path();
        if !is_old_file_of_ours(&path, now) {
            continue;
        }
        fs::remove_file(&path).with_context(|| {
            format!("failed to delete the unfinished dump `{}`", path.display())
        })?;
        removed.push(path);
    }
    Ok(removed)
}

/// `part` is a day-old temporary file of the dump `file`: named `.<file name>.<random>.part`
/// beside it, a regular file (not a link) of ours.
fn is_stale_part(part: &Path, file: &Path, now: SystemTime) -> bool {
    let (Some(name), Some(file_name)) = (
        part.file_name().and_then(|name| name.to_str()),
        file.file_name().and_then(|name| name.to_str()),
    ) else {
        return false;
    };
    let beside = part.parent() == file.parent();
    beside
        && name.starts_with(&format!(".{file_name}."))
        && name.ends_with(".part")
        && is_old_file_of_ours(part, now)
}

/// A regular file (not a link) of ours, last written a day ago or more.
fn is_old_file_of_ours(path: &Path, now: SystemTime) -> bool {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return false;
    };
    let Ok(modified) = meta.modified() else {
        return false;
    };
    meta.file_type().is_file()
        && Some(meta.uid()) == own_uid()
        && now.duration_since(modified).unwrap_or(Duration::ZERO) >= Duration::from_secs(86_400)
}

/// Load a dump file (plain or compressed) into `database` with `psql -v ON_ERROR_STOP=1 -X -q`.
pub fn load_into(path: &Path, database: &Settings) -> Result<()> {
    let psql = target::find_tool("psql", 0)?;
    let file = File::open(path)
        .with_context(|| format!("failed to open the dump `{}`", path.display()))?;
    let compression = Compression::from_path(path);
    compression.check_available()?;
    let mut reader: Box<dyn Read + Send> = match compression {
        Compression::None => Box::new(io::BufReader::new(file)),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(io::BufReader::new(file))),
        #[cfg(feature = "zstd")]
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::new(file).context("failed to start zstd decompression")?,
        ),
        #[cfg(not(feature = "zstd"))]
        Compression::Zstd => unreachable!("`check_available` refused `.zst` above"),
    };
    let mut child = target::psql_into(&psql, database)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("failed to start `psql`")?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let fed = io::copy(&mut reader, &mut stdin);
    drop(stdin);
    let status = child.wait().context("failed to wait for `psql`")?;
    let errors = errors.join().unwrap_or_default();
    if !status.success() {
        // psql's messages name statements and lines, never the data rows of a COPY.
        bail!(
            "the dump `{}` did not load: {}",
            path.display(),
            crate::target::first_lines(&errors)
        );
    }
    fed.with_context(|| format!("failed to read the dump `{}`", path.display()))?;
    Ok(())
}

/// `<file>.pullprod.json`.
pub fn sidecar_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_os_string();
    name.push(SIDECAR_SUFFIX);
    PathBuf::from(name)
}

/// `2026-11-26T23:42:01Z` for Unix seconds.
pub fn format_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rest = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn unix_secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// A value made safe to put in a `--` comment of the dump: line breaks and every other
/// control character escaped (`\n`), so nothing after it can become a statement.
pub fn comment_safe(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() || c == '\\' {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

fn header_comment(meta: &DumpMeta) -> String {
    format!(
        "--\n-- pullprod anonymised dump of project `{}` from `{}`\n-- created: {}\n-- expires: {} \
         (retention-days = {}); `cargo xtask prune-dumps` deletes it after that\n\
         -- load with: psql -v ON_ERROR_STOP=1 -X -q -d <empty database> -f <this file>\n--\n\n",
        comment_safe(&meta.project),
        comment_safe(&meta.source),
        format_utc(meta.created),
        format_utc(meta.expires),
        meta.retention_days
    )
}

/// Create the folder (and missing parents) 0700. A folder we did not create must be ours and
/// private already: it is never chmod'ed (a shared folder such as the system temp folder
/// itself would be locked for everyone), and its owner is checked before anything else.
fn prepare_dir(dir: &Path, options: &DumpOptions) -> Result<()> {
    let created = match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => true,
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => false,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .with_context(|| format!("failed to create the dump folder `{}`", dir.display()))?;
            true
        }
        Err(err) => {
            return Err(err)
                .with_context(|| format!("failed to create the dump folder `{}`", dir.display()));
        }
    };
    let meta =
        fs::metadata(dir).with_context(|| format!("failed to inspect `{}`", dir.display()))?;
    if !meta.is_dir() {
        bail!("`{}` is not a folder", dir.display());
    }
    if Some(meta.uid()) != own_uid() {
        bail!(
            "refusing to write a dump into `{}`: the folder belongs to another user; choose a \
             folder of your own (the dump dir `{}` is created private if it does not exist)",
            dir.display(),
            options.dump_dir().display()
        );
    }
    if meta.mode() & 0o077 != 0 {
        if !created {
            bail!(
                "refusing to write a dump into `{}`: other users can open that folder (mode {:o}); \
                 make it private with `chmod 700 {}`, or choose a folder of your own",
                dir.display(),
                meta.mode() & 0o7777,
                dir.display()
            );
        }
        // Ours, just created: only the umask can have widened it.
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).with_context(|| {
            format!("failed to make the dump folder `{}` private", dir.display())
        })?;
    }
    Ok(())
}

/// The effective user id of this process: the owner of `/proc/self`, else of a file it creates.
fn own_uid() -> Option<u32> {
    if let Ok(meta) = fs::metadata("/proc/self") {
        return Some(meta.uid());
    }
    let probe = tempfile::tempfile().ok()?;
    probe.metadata().ok().map(|meta| meta.uid())
}

/// Pipe `pg_dump --schema-only <section>` (in the snapshot) into the dump.
fn capture_schema(
    pg_dump: &Path,
    source: &Settings,
    snapshot: &str,
    section: target::Section,
    out: &mut dyn Write,
) -> Result<()> {
    let mut child = target::schema_dump(pg_dump, source, Some(snapshot), section)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("failed to start `pg_dump`")?;
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let copied = io::copy(&mut stdout, out);
    drop(stdout);
    let status = child.wait().context("failed to wait for `pg_dump`")?;
    let errors = errors.join().unwrap_or_default();
    if !status.success() {
        bail!(
            "`pg_dump` failed to read the source schema: {}",
            crate::target::first_lines(&errors)
        );
    }
    copied.context("failed to write the schema to the dump")?;
    Ok(())
}

/// Written to a new temporary file (`O_EXCL`, 0600) renamed over the sidecar's name: a link
/// planted there is replaced, never followed.
fn write_sidecar(meta: &DumpMeta) -> Result<()> {
    let path = sidecar_path(&meta.file);
    let mut text = serde_json::to_string_pretty(meta).expect("metadata serialises");
    text.push('\n');
    write_replacing(&path, text.as_bytes())
}

/// Replace `path` with `bytes` atomically: a fresh 0600 temporary file beside it, renamed.
fn write_replacing(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| anyhow!("`{}` has no parent folder", path.display()))?;
    let mut temp = tempfile::Builder::new()
        .prefix(".pullprod-")
        .permissions(fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)
        .with_context(|| format!("failed to write `{}`", path.display()))?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .with_context(|| format!("failed to write `{}`", path.display()))?;
    temp.persist(path)
        .map_err(|err| anyhow!("{}", err.error))
        .with_context(|| format!("failed to write `{}`", path.display()))?;
    Ok(())
}

/// Read a file that must be a regular file of ours: never through a link (`O_NOFOLLOW`).
fn read_own_file(path: &Path) -> io::Result<Option<String>> {
    let mut file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
    {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        // A link: not ours to trust.
        Err(err) if err.raw_os_error() == Some(libc::ELOOP) => return Ok(None),
        Err(err) => return Err(err),
    };
    let meta = file.metadata()?;
    if !meta.is_file() || Some(meta.uid()) != own_uid() {
        return Ok(None);
    }
    let mut text = String::new();
    if file.read_to_string(&mut text).is_err() {
        return Ok(None);
    }
    Ok(Some(text))
}

fn read_sidecar(path: &Path) -> Result<Option<DumpMeta>> {
    // A link, or a file of another user, is not ours to trust (nor to prune from).
    let text = match read_own_file(path) {
        Ok(Some(text)) => text,
        Ok(None) => return Ok(None),
        Err(err) => {
            return Err(err).with_context(|| format!("failed to read `{}`", path.display()));
        }
    };
    // A sidecar we cannot read is not ours to delete.
    Ok(serde_json::from_str(&text).ok())
}

fn read_index(path: &Path) -> Result<Vec<DumpMeta>> {
    // The index says which files pruning deletes: only a regular file of ours is believed.
    let text = match read_own_file(path) {
        Ok(Some(text)) => text,
        Ok(None) => return Ok(Vec::new()),
        Err(err) => {
            return Err(err).with_context(|| format!("failed to read `{}`", path.display()));
        }
    };
    Ok(text
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect())
}

fn write_index(path: &Path, entries: &[&DumpMeta]) -> Result<()> {
    let mut text = String::new();
    for meta in entries {
        text.push_str(&serde_json::to_string(meta).expect("metadata serialises"));
        text.push('\n');
    }
    write_replacing(path, text.as_bytes())
}

/// Forget the index entry of a temporary file that became a dump (or was removed).
fn forget_part(index: &Path, part: &Path) -> Result<()> {
    let entries = read_index(index)?;
    let kept: Vec<&DumpMeta> = entries
        .iter()
        .filter(|entry| entry.part.as_deref() != Some(part))
        .collect();
    if kept.len() != entries.len() {
        write_index(index, &kept)?;
    }
    Ok(())
}

fn record_in_index(index: &Path, meta: &DumpMeta) -> Result<()> {
    if let Some(dir) = index.parent() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("failed to create `{}`", dir.display()))?;
    }
    let mut entries = read_index(index)?;
    if meta.part.is_none() {
        entries.retain(|entry| entry.part.is_some() || entry.file != meta.file);
    }
    entries.push(meta.clone());
    write_index(index, &entries.iter().collect::<Vec<_>>())
}

/// The real path: symlinks resolved; for a path that does not exist (yet), its nearest
/// existing ancestor resolved and the rest appended.
fn real_path(path: &Path) -> Result<PathBuf> {
    let path = if path.is_absolute() {
        lexically_normal(path)
    } else {
        lexically_normal(
            &std::env::current_dir()
                .context("failed to read the current directory")?
                .join(path),
        )
    };
    let mut missing = Vec::new();
    let mut existing = path.as_path();
    loop {
        match fs::canonicalize(existing) {
            Ok(real) => {
                let mut real = real;
                for part in missing.iter().rev() {
                    real.push(part);
                }
                return Ok(real);
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                let Some(name) = existing.file_name() else {
                    return Ok(path);
                };
                missing.push(name.to_os_string());
                existing = match existing.parent() {
                    Some(parent) => parent,
                    None => return Ok(path),
                };
            }
            Err(err) => {
                return Err(err)
                    .with_context(|| format!("failed to resolve `{}`", existing.display()));
            }
        }
    }
}

/// `a/./b/../c` -> `a/c` without touching the file system.
fn lexically_normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_tree() -> tempfile::TempDir {
        tempfile::tempdir().expect("temp dir")
    }

    #[test]
    fn git_work_tree_is_found_from_a_path_that_does_not_exist_yet() {
        let root = temp_tree();
        let repo = root.path().join("repo");
        fs::create_dir_all(repo.join(".git")).unwrap();
        fs::create_dir_all(repo.join("src")).unwrap();
        let found = enclosing_git_work_tree(&repo.join("src/deeper/dump.sql")).unwrap();
        assert_eq!(found, Some(fs::canonicalize(&repo).unwrap()));
        assert_eq!(
            enclosing_git_work_tree(&repo.join(".git/objects/x.sql")).unwrap(),
            Some(fs::canonicalize(&repo).unwrap()),
            "inside the `.git` folder itself"
        );
        assert_eq!(
            enclosing_git_work_tree(&root.path().join("outside/d.sql")).unwrap(),
            None
        );
    }

    #[test]
    fn git_file_marks_worktrees_and_submodules() {
        let root = temp_tree();
        let sub = root.path().join("linked");
        fs::create_dir_all(&sub).unwrap();
        fs::write(
            sub.join(".git"),
            "gitdir: /elsewhere/.git/worktrees/linked\n",
        )
        .unwrap();
        assert_eq!(
            enclosing_git_work_tree(&sub.join("d.sql")).unwrap(),
            Some(fs::canonicalize(&sub).unwrap())
        );
    }

    #[test]
    fn symlinks_are_resolved_before_walking_up() {
        let root = temp_tree();
        let repo = root.path().join("repo");
        fs::create_dir_all(repo.join(".git")).unwrap();
        fs::create_dir_all(repo.join("data")).unwrap();
        let outside = root.path().join("outside");
        fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(repo.join("data"), outside.join("link")).unwrap();
        assert_eq!(
            enclosing_git_work_tree(&outside.join("link/d.sql")).unwrap(),
            Some(fs::canonicalize(&repo).unwrap())
        );
        assert_eq!(
            enclosing_git_work_tree(&outside.join("d.sql")).unwrap(),
            None
        );
    }

    #[test]
    fn retention_arithmetic() {
        assert_eq!(expires_at(1_000, 1).unwrap(), 1_000 + 86_400);
        assert_eq!(expires_at(0, 30).unwrap(), 30 * 86_400);
        assert!(
            expires_at(0, 31)
                .unwrap_err()
                .to_string()
                .contains("between 1 and 30")
        );
        assert!(expires_at(0, 0).is_err());
        let meta = DumpMeta {
            project: "shop".into(),
            created: 1_000,
            expires: expires_at(1_000, 3).unwrap(),
            retention_days: 3,
            source: "production".into(),
            file: PathBuf::from("/tmp/dumps/shop.sql"),
            part: None,
        };
        let at = |secs: u64| UNIX_EPOCH + Duration::from_secs(secs);
        assert!(!meta.is_expired(at(1_000 + 3 * 86_400 - 1)));
        assert!(meta.is_expired(at(1_000 + 3 * 86_400)));
    }

    #[test]
    fn comment_values_stay_on_their_line() {
        assert_eq!(comment_safe("staging"), "staging");
        assert_eq!(
            comment_safe("a\nDROP TABLE t;\r\\x\u{0}é"),
            "a\\nDROP TABLE t;\\r\\\\x\\u{0}é"
        );
    }

    #[test]
    fn dates_format_as_utc() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_utc(1_798_328_521), "2026-12-26T23:42:01Z");
    }

    #[test]
    fn compression_follows_the_extension() {
        assert_eq!(
            Compression::from_path(Path::new("a.sql")),
            Compression::None
        );
        assert_eq!(
            Compression::from_path(Path::new("a.sql.gz")),
            Compression::Gzip
        );
        assert_eq!(
            Compression::from_path(Path::new("a.sql.zst")),
            Compression::Zstd
        );
    }

    #[test]
    fn default_path_is_in_the_dump_dir() {
        let options = DumpOptions {
            dir: Some(PathBuf::from("/tmp/somewhere/dumps")),
            project: "shop".into(),
            ..DumpOptions::default()
        };
        assert_eq!(
            resolve_path(None, &options).unwrap(),
            PathBuf::from("/tmp/somewhere/dumps/shop.sql")
        );
        assert_eq!(
            resolve_path(Some(Path::new("/tmp/x/../y.sql.gz")), &options).unwrap(),
            PathBuf::from("/tmp/y.sql.gz")
        );
        let bad = DumpOptions {
            project: "a/b".into(),
            ..options
        };
        assert!(resolve_path(None, &bad).is_err());
    }
}
