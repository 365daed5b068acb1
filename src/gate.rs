//! G8, the review gate: a production pull runs the policy files and the dump table exactly as
//! the `review-ref` commit holds them, read from the commit's blobs (`git ls-tree`,
//! `git cat-file`) with every `GIT_*` variable removed, hashed, and parsed from those very
//! buffers: nothing is read from the working tree afterwards, so nothing can be swapped in.
//! The working tree is only compared with them, to refuse with a message naming the files.
//! Which sources are production is decided by the reviewed manifest, never the working copy.
//!
//! Known limit: the review ref is resolved in the local repository, so whoever can write its
//! refs or objects (`git update-ref`, a forged commit) can make anything "reviewed"; the gate
//! protects against mistakes and working-tree tricks, not against the repository's owner.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, anyhow, bail};
use sha2::{Digest, Sha256};

use crate::config::{self, Config};
use crate::diag::Diagnostic;
use crate::policy::PolicyFile;

/// The policy files and the dump table a pull runs, and the sha256 over exactly these bytes.
/// The only way to get at the files is through this value, so what is hashed is what is parsed.
#[derive(Debug, Clone)]
pub struct PolicyBytes {
    files: Vec<PolicyFile>,
    dump_table: String,
    sha256: String,
}

impl PolicyBytes {
    /// `files` (paths inside `project_dir`) and the dump table's text; names in the hash are
    /// relative to `project_dir`, so a checkout elsewhere hashes the same.
    pub fn new(project_dir: &Path, files: Vec<PolicyFile>, dump_table: String) -> PolicyBytes {
        let mut hasher = Sha256::new();
        let mut add = |name: &str, bytes: &[u8]| {
            hasher.update(name.as_bytes());
            hasher.update([0]);
            hasher.update((bytes.len() as u64).to_be_bytes());
            hasher.update(bytes);
        };
        for file in &files {
            let name = file.path.strip_prefix(project_dir).unwrap_or(&file.path);
            add(&name.to_string_lossy(), file.text.as_bytes());
        }
        add("[dump table]", dump_table.as_bytes());
        let sha256 = hasher
            .finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        PolicyBytes {
            files,
            dump_table,
            sha256,
        }
    }

    /// The working copy's policy files and dump table (for sources that are not production).
    pub fn working_copy(config: &Config) -> Result<PolicyBytes> {
        let files = crate::config::policy_files(config)?;
        Ok(PolicyBytes::new(
            &config.project_dir,
            files,
            dump_table_text(&config.manifest_text),
        ))
    }

    pub fn files(&self) -> &[PolicyFile] {
        &self.files
    }

    pub fn dump_table(&self) -> &str {
        &self.dump_table
    }

    pub fn sha256(&self) -> &str {
        &self.sha256
    }
}

/// What the `review-ref` commit holds: its manifest's configuration and its policy bytes.
#[derive(Debug, Clone)]
pub struct Reviewed {
    /// The review ref as configured (`origin/main`).
    pub review_ref: String,
    /// The commit it named when read; every blob comes from this commit.
    pub commit: String,
    /// The configuration parsed from the reviewed manifest (paths as in the working tree).
    pub config: Config,
    /// Problems in the reviewed dump table.
    pub config_diagnostics: Vec<Diagnostic>,
    /// Where the reviewed policy is in the working tree, and whether it is a folder there.
    pub policy_path: PathBuf,
    pub policy_is_folder: bool,
    pub bytes: PolicyBytes,
}

impl Reviewed {
    /// A source is production unless the reviewed manifest marks it `production = false`.
    pub fn is_production(&self, source: &str) -> bool {
        !self.config.non_production.contains(source)
    }
}

/// The dump table's text (`[package.metadata.dump]` or `[workspace.metadata.dump]`) in a
/// manifest, as written; empty when there is none.
pub fn dump_table_text(manifest_text: &str) -> String {
    let Ok(doc) = manifest_text.parse::<toml_edit::DocumentMut>() else {
        return String::new();
    };
    ["package", "workspace"]
        .iter()
        .find_map(|section| {
            doc.get(section)?
                .get("metadata")?
                .get("dump")
                .map(|item| item.to_string())
        })
        .unwrap_or_default()
}

/// Read the manifest and the policy as the `review-ref` commit holds them. `working` gives the
/// manifest's path and the review ref; the reviewed manifest must name the same review ref
/// (its dump table is compared with the working copy's by `differences`). Errors say why
/// nothing can count as reviewed: no repository, no such ref, a symlink, a path outside.
pub fn read_reviewed(working: &Config) -> Result<Reviewed> {
    let git = Git::new(&working.project_dir);
    let review_ref = working.review_ref.clone();
    let table = working.table_name;
    let toplevel = git.text(&["rev-parse", "--show-toplevel"]).map_err(|_| {
        anyhow!(
            "`{}` is not in a Git repository, so nothing in it can have been reviewed; commit the \
                 project to a repository whose `{review_ref}` contains the policy",
            working.project_dir.display()
        )
    })?;
    let commit = git
        .text(&[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &format!("{review_ref}^{{commit}}"),
        ])
        .map_err(|_| {
            anyhow!(
                "the review ref `{review_ref}` does not exist in this repository; run `git fetch`, or set \
                 `review-ref` in `[{table}]` to the branch where reviewed changes land"
            )
        })?;
    let toplevel = std::fs::canonicalize(&toplevel)
        .with_context(|| format!("failed to resolve the repository folder `{toplevel}`"))?;
    let manifest = std::fs::canonicalize(&working.manifest_path)
        .with_context(|| format!("failed to resolve `{}`", working.manifest_path.display()))?;
    let manifest_rel = manifest
        .strip_prefix(&toplevel)
        .map(Path::to_path_buf)
        .map_err(|_| {
            anyhow!(
                "`{}` resolves to `{}`, outside the repository `{}`: a symlinked manifest cannot be reviewed",
                working.manifest_path.display(),
                manifest.display(),
                toplevel.display()
            )
        })?;
    let project_rel = manifest_rel.parent().unwrap_or(Path::new("")).to_path_buf();
    let show = |rel: &Path| show_path(&working.project_dir, &project_rel, rel);
    // Where a path of the repository is in the working tree.
    let on_disk = |rel: &Path| match rel.strip_prefix(&project_rel) {
        Ok(inside) => working.project_dir.join(inside),
        Err(_) => toplevel.join(rel),
    };

    let manifest_entry = git.entry(&commit, &manifest_rel)?.ok_or_else(|| {
        anyhow!(
            "`{}` is not in `{review_ref}` (commit {}): commit it and get it reviewed there",
            show(&manifest_rel),
            short(&commit)
        )
    })?;
    refuse_special(&manifest_entry, &show(&manifest_rel), &review_ref)?;
    let manifest_text = git.blob_texts(&[(manifest_entry.oid.clone(), show(&manifest_rel))])?;
    let manifest_text = manifest_text.into_iter().next().unwrap_or_default();
    let package = manifest_text
        .parse::<toml_edit::DocumentMut>()
        .ok()
        .and_then(|doc| {
            doc.get("package")?
                .get("name")?
                .as_str()
                .map(str::to_string)
        });
    let (config, config_diagnostics) =
        config::parse(&working.manifest_path, &manifest_text, package.as_deref())
            .with_context(|| format!("the manifest in `{review_ref}` is not valid TOML"))?;

    // The policy path, inside the repository, as the reviewed manifest names it.
    let policy_in_project = config
        .policy_path
        .strip_prefix(&config.project_dir)
        .map_err(|_| {
            anyhow!(
                "the policy `{}` is outside the project: production pulls only run a policy kept in the \
                 repository; write `policy` relative to `{}`",
                config.policy_path.display(),
                show(&manifest_rel)
            )
        })?;
    let policy_rel = normalize(&project_rel.join(policy_in_project)).ok_or_else(|| {
        anyhow!(
            "the policy `{}` is outside the repository `{}`: production pulls only run a reviewed policy \
             kept in it",
            config.policy_path.display(),
            toplevel.display()
        )
    })?;
    let policy_entry = git.entry(&commit, &policy_rel)?.ok_or_else(|| {
        anyhow!(
            "the policy `{}` is not in `{review_ref}` (commit {}): commit it and get it reviewed there",
            show(&policy_rel),
            short(&commit)
        )
    })?;
    refuse_special(&policy_entry, &show(&policy_rel), &review_ref)?;
    let mut wanted = Vec::new();
    if policy_entry.is_tree() {
        for entry in git.list_tree(&policy_entry.oid)? {
            if !entry.name.ends_with(".toml") || entry.is_tree() {
                continue;
            }
            let rel = policy_rel.join(&entry.name);
            refuse_special(&entry, &show(&rel), &review_ref)?;
            wanted.push((entry.oid, rel));
        }
        wanted.sort_by(|a, b| a.1.cmp(&b.1));
    } else {
        wanted.push((policy_entry.oid.clone(), policy_rel.clone()));
    }
    let named: Vec<(String, String)> = wanted
        .iter()
        .map(|(oid, rel)| (oid.clone(), show(rel)))
        .collect();
    let texts = git.blob_texts(&named)?;
    let files = wanted
        .iter()
        .zip(texts)
        .map(|((_, rel), text)| PolicyFile {
            path: on_disk(rel),
            text,
        })
        .collect();
    let bytes = PolicyBytes::new(&config.project_dir, files, dump_table_text(&manifest_text));
    Ok(Reviewed {
        review_ref,
        commit,
        policy_path: on_disk(&policy_rel),
        policy_is_folder: policy_entry.is_tree(),
        config,
        config_diagnostics,
        bytes,
    })
}

/// How the working copy differs from the reviewed bytes: one line per file (relative to the
/// project), empty when identical. Contents are compared, never index flags or `git status`;
/// symlinks, extra files (untracked or ignored) and missing files all count.
pub fn differences(working: &Config, reviewed: &Reviewed) -> Vec<String> {
    let project_dir = &working.project_dir;
    let rel = |path: &Path| {
        path.strip_prefix(project_dir)
            .unwrap_or(path)
            .display()
            .to_string()
    };
    let mut found = Vec::new();
    let manifest_name = rel(&working.manifest_path);
    if dump_table_text(&working.manifest_text) != reviewed.bytes.dump_table() {
        found.push(format!(
            "{manifest_name} (`[{}]` edited)",
            working.table_name
        ));
    } else if let Ok(meta) = std::fs::symlink_metadata(&working.manifest_path)
        && meta.file_type().is_symlink()
    {
        found.push(format!("{manifest_name} (a symlink)"));
    }
    let policy = &reviewed.policy_path;
    // Every folder from the project down to the policy must be a real folder, not a symlink.
    if let Ok(inside) = policy.strip_prefix(project_dir) {
        let mut path = project_dir.clone();
        for component in inside.components() {
            path.push(component);
            if std::fs::symlink_metadata(&path).is_ok_and(|meta| meta.file_type().is_symlink()) {
                found.push(format!("{} (a symlink)", rel(&path)));
                return found;
            }
        }
    }
    let reviewed_files: BTreeMap<&Path, &str> = reviewed
        .bytes
        .files()
        .iter()
        .map(|file| (file.path.as_path(), file.text.as_str()))
        .collect();
    let mut on_disk: Vec<PathBuf> = Vec::new();
    if reviewed.policy_is_folder {
        match std::fs::read_dir(policy) {
            Ok(entries) => {
                for entry in entries.flatten() {
                    let path = entry.path();
                    let is_dir = entry.file_type().is_ok_and(|kind| kind.is_dir());
                    if path.extension().is_some_and(|ext| ext == "toml") && !is_dir {
                        on_disk.push(path);
                    }
                }
            }
            Err(_) => found.push(format!("{} (missing or not a folder)", rel(policy))),
        }
    } else {
        on_disk.push(policy.clone());
    }
    on_disk.sort();
    for path in &on_disk {
        let meta = std::fs::symlink_metadata(path);
        let what = match (&meta, reviewed_files.get(path.as_path())) {
            (Ok(meta), _) if meta.file_type().is_symlink() => Some("a symlink"),
            (Err(_), _) => Some("deleted"),
            (Ok(_), None) => Some("not in the review ref: untracked, ignored or uncommitted"),
            (Ok(_), Some(text)) => match std::fs::read(path) {
                Ok(bytes) if bytes == text.as_bytes() => None,
                _ => Some("edited"),
            },
        };
        if let Some(what) = what {
            found.push(format!("{} ({what})", rel(path)));
        }
    }
    for path in reviewed_files.keys() {
        if !on_disk.iter().any(|disk| disk == path) {
            found.push(format!("{} (deleted)", rel(path)));
        }
    }
    found
}

/// The commit `HEAD` names, for the audit of pulls that are not production (informational).
pub fn head_commit(dir: &Path) -> Option<String> {
    Git::new(dir)
        .text(&["rev-parse", "--verify", "--quiet", "HEAD"])
        .ok()
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

/// `rel` (relative to the repository) as the user sees it: relative to the project folder.
fn show_path(project_dir: &Path, project_rel: &Path, rel: &Path) -> String {
    match rel.strip_prefix(project_rel) {
        Ok(inside) => inside.display().to_string(),
        Err(_) => project_dir.join(rel).display().to_string(),
    }
}

/// Resolve `.` and `..` without touching the disk; `None` when the path leaves its root.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::Normal(part) => out.push(part),
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// Symlinks and submodules in the reviewed tree are refused: their content is not in the commit.
fn refuse_special(entry: &Entry, shown: &str, review_ref: &str) -> Result<()> {
    match entry.mode.as_str() {
        "120000" => bail!(
            "`{shown}` is a symlink in `{review_ref}`: what it points to was never reviewed; commit the \
             file itself"
        ),
        "160000" => bail!(
            "`{shown}` is a submodule in `{review_ref}`: its content was never reviewed here; commit the \
             policy itself"
        ),
        _ => Ok(()),
    }
}

/// One entry of a Git tree.
#[derive(Debug, Clone)]
struct Entry {
    mode: String,
    oid: String,
    /// The entry's name (last component) or path, as `ls-tree` printed it.
    name: String,
}

impl Entry {
    fn is_tree(&self) -> bool {
        self.mode == "040000"
    }
}

/// Git run in a folder with every inherited `GIT_*` variable removed, no fsmonitor, no replace
/// objects and literal pathspecs: only the repository the folder is in answers.
struct Git {
    dir: PathBuf,
}

impl Git {
    fn new(dir: &Path) -> Git {
        Git {
            dir: dir.to_path_buf(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new("git");
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("GIT_") {
                command.env_remove(&name);
            }
        }
        command
            .current_dir(&self.dir)
            .args([
                "--no-replace-objects",
                "--literal-pathspecs",
                "-c",
                "core.fsmonitor=false",
            ])
            .args(args)
            .stdin(Stdio::null());
        command
    }

    fn bytes(&self, args: &[&str]) -> Result<Vec<u8>> {
        let output = self
            .command(args)
            .output()
            .context("failed to run `git`: is it installed?")?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            bail!(
                "`git {}` failed: {}",
                args.first().copied().unwrap_or(""),
                stderr.lines().next().unwrap_or("").trim()
            );
        }
        Ok(output.stdout)
    }

    fn text(&self, args: &[&str]) -> Result<String> {
        let bytes = self.bytes(args)?;
        Ok(String::from_utf8_lossy(&bytes).trim().to_string())
    }

    /// The entry at `rel` (relative to the repository) in `commit`, if there is one.
    fn entry(&self, commit: &str, rel: &Path) -> Result<Option<Entry>> {
        let rel_text = rel
            .to_str()
            .context("a path in the repository is not UTF-8")?;
        if rel_text.is_empty() {
            let oid = self.text(&["rev-parse", &format!("{commit}^{{tree}}")])?;
            return Ok(Some(Entry {
                mode: "040000".into(),
                oid,
                name: String::new(),
            }));
        }
        let out = self.bytes(&["ls-tree", "-z", "--full-tree", commit, "--", rel_text])?;
        Ok(parse_ls_tree(&out)?
            .into_iter()
            .find(|entry| entry.name == rel_text))
    }

    /// The entries of the tree `oid` (names only, not recursive).
    fn list_tree(&self, oid: &str) -> Result<Vec<Entry>> {
        parse_ls_tree(&self.bytes(&["ls-tree", "-z", oid])?)
    }

    /// The blobs' contents as UTF-8 text, in order; `named` pairs each object with its file name.
    fn blob_texts(&self, named: &[(String, String)]) -> Result<Vec<String>> {
        let mut child = self
            .command(&["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("failed to run `git cat-file`")?;
        let mut stdin = child.stdin.take().context("git's stdin")?;
        let request: String = named.iter().map(|(oid, _)| format!("{oid}\n")).collect();
        let writer = std::thread::spawn(move || stdin.write_all(request.as_bytes()));
        let mut out = Vec::new();
        child
            .stdout
            .take()
            .context("git's stdout")?
            .read_to_end(&mut out)
            .context("failed to read from `git cat-file`")?;
        let _ = writer.join();
        child.wait().context("failed to wait for `git cat-file`")?;
        let mut texts = Vec::new();
        let mut rest = out.as_slice();
        for (_, name) in named {
            let newline = rest
                .iter()
                .position(|byte| *byte == b'\n')
                .context("`git cat-file` answered less than asked")?;
            let header = String::from_utf8_lossy(&rest[..newline]).to_string();
            let size: usize = match header.split(' ').collect::<Vec<_>>().as_slice() {
                [_, "blob", size] => size.parse().context("`git cat-file` printed a bad size")?,
                _ => bail!("`{name}` is not a file in the review ref"),
            };
            let start = newline + 1;
            let body = rest
                .get(start..start + size)
                .context("`git cat-file` answered less than asked")?;
            let text = String::from_utf8(body.to_vec())
                .map_err(|_| anyhow!("`{name}` in the review ref is not UTF-8 text"))?;
            texts.push(text);
            rest = rest.get(start + size + 1..).unwrap_or(&[]);
        }
        Ok(texts)
    }
}

/// `git ls-tree -z` output: `<mode> <type> <oid>\t<path>\0` entries.
fn parse_ls_tree(out: &[u8]) -> Result<Vec<Entry>> {
    out.split(|byte| *byte == 0)
        .filter(|record| !record.is_empty())
        .map(|record| {
            let record =
                std::str::from_utf8(record).context("a path in the repository is not UTF-8")?;
            let (meta, name) = record
                .split_once('\t')
                .context("unexpected `git ls-tree` output")?;
            let mut parts = meta.split(' ');
            let (Some(mode), Some(_kind), Some(oid)) = (parts.next(), parts.next(), parts.next())
            else {
                bail!("unexpected `git ls-tree` output");
            };
            Ok(Entry {
                mode: mode.to_string(),
                oid: oid.to_string(),
                name: name.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_leave_the_repository_are_refused() {
        assert_eq!(
            normalize(Path::new("a/./b/../c")),
            Some(PathBuf::from("a/c"))
        );
        assert_eq!(normalize(Path::new("a/../../c")), None);
        assert_eq!(normalize(Path::new("/etc/passwd")), None);
    }

    #[test]
    fn the_hash_covers_exactly_the_bytes_parsed() {
        let file = |text: &str| PolicyFile {
            path: PathBuf::from("/p/policy/a.toml"),
            text: text.to_string(),
        };
        let one = PolicyBytes::new(
            Path::new("/p"),
            vec![file("[t]\nx = \"keep\"\n")],
            "t".into(),
        );
        let same = PolicyBytes::new(
            Path::new("/elsewhere"),
            vec![PolicyFile {
                path: PathBuf::from("/elsewhere/policy/a.toml"),
                text: "[t]\nx = \"keep\"\n".into(),
            }],
            "t".into(),
        );
        let other = PolicyBytes::new(
            Path::new("/p"),
            vec![file("[t]\nx = \"null\"\n")],
            "t".into(),
        );
        assert_eq!(
            one.sha256(),
            same.sha256(),
            "the checkout's location does not count"
        );
        assert_ne!(one.sha256(), other.sha256());
        assert_eq!(one.files()[0].text, "[t]\nx = \"keep\"\n");
    }

    #[test]
    fn ls_tree_records() {
        let entries =
            parse_ls_tree(b"100644 blob aaaa\tpolicy/a.toml\x00120000 blob bbbb\tpolicy/b.toml\0")
                .unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].mode, "120000");
        assert_eq!(entries[0].name, "policy/a.toml");
    }
}
