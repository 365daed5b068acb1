//! `pull-prod --to-file`: the dump loads with psql and equals a direct pull, holds no canary,
//! refuses Git work trees, is private, and expired dumps are pruned (only the project's own).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use pullprod::conn::Settings;
use pullprod::dumpfile::{self, DumpOptions, DumpWriter, ToFile};
use pullprod::policy::model::Policy;
use pullprod::pull::{self, Destination, PullOptions, PullRequest};
use pullprod::transform::Salt;

use crate::support::{TestDb, git};

const CANARY: &str = "CANARY-7f3e-do-not-leak";

/// small_shop's policy with transforms (`fake.email`, `hash`, `null`) on the columns the
/// canaries are planted in.
fn policy() -> Policy {
    crate::support::small_shop_policy(r#"{ fake = "email", unique = true }"#, r#""hash""#)
}

fn shop_source(test: &str) -> TestDb {
    let source = TestDb::new(test);
    source.exec(include_str!("../data/small_shop.sql"));
    source.exec(&format!(
        "UPDATE people SET secret = '{CANARY}-secret-' || id, \
                email = '{CANARY}-mail-' || id || '@example.com' WHERE id % 2 = 0; \
         UPDATE orders SET note = '{CANARY}-note-' || id WHERE id % 3 = 0; \
         UPDATE sessions SET token = '{CANARY}-token'"
    ));
    source
}

fn request(source: &TestDb, target: &TestDb, to_file: Option<ToFile>, state: &Path) -> PullRequest {
    PullRequest {
        source_name: "staging".into(),
        source: Settings::parse(source.url()).expect("source settings"),
        destination: match to_file {
            Some(to_file) => Destination::File(to_file),
            None => Destination::Database(Settings::parse(target.url()).expect("target settings")),
        },
        policy: policy(),
        policy_sha256: "0".repeat(64),
        commit: None,
        salt: Salt::new(b"test salt".to_vec()),
        schema: Default::default(),
        options: PullOptions {
            jobs: 2,
            quiet: true,
            audit_log: Some(state.join("audit.log")),
            ..PullOptions::default()
        },
    }
}

fn dump_options(dir: &Path, state: &Path, project: &str, days: u32) -> DumpOptions {
    DumpOptions {
        dir: Some(dir.to_path_buf()),
        project: project.into(),
        retention_days: Some(days),
        state_dir: Some(state.to_path_buf()),
    }
}

/// md5 of every user table's rows, plus sequence positions: the database's whole content.
pub(crate) fn fingerprint(db: &TestDb) -> Vec<(String, String)> {
    let mut out = crate::support::table_digests(db);
    let mut client = db.client();
    for sequence in [
        "public.orders_id_seq",
        "public.invoice_seq",
        "public.people_id_seq",
    ] {
        let sql = format!("SELECT last_value::text || '/' || is_called::text FROM {sequence}");
        out.push((sequence.into(), client.query_one(&sql, &[]).unwrap().get(0)));
    }
    out
}

pub(crate) fn psql_load(path: &Path, db: &TestDb) {
    let output = Command::new("psql")
        .args(["-v", "ON_ERROR_STOP=1", "-X", "-q", "-d", db.url(), "-f"])
        .arg(path)
        .output()
        .expect("run psql");
    assert!(
        output.status.success(),
        "psql failed to load the dump: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn dump_file_loads_with_psql_and_equals_a_direct_pull() {
    let source = shop_source("dump_equal_src");
    let direct = TestDb::new("dump_equal_direct");
    let state = tempfile::tempdir().unwrap();
    pull::run(&request(&source, &direct, None, state.path())).expect("direct pull");
    let expected = fingerprint(&direct);
    assert!(
        expected
            .iter()
            .any(|(t, f)| t == "public.people" && f.starts_with("50:"))
    );

    let dir = private_dir();
    for file_name in ["shop.sql", "shop.sql.gz", "shop.sql.zst"] {
        let path = dir.path().join(file_name);
        let to_file = ToFile {
            path: Some(path.clone()),
            dump: dump_options(dir.path(), state.path(), "shop", 3),
        };
        let unused = TestDb::new("dump_equal_unused");
        let summary = pull::run(&request(&source, &unused, Some(to_file), state.path()))
            .expect("pull to file");
        assert!(
            summary
                .copied
                .iter()
                .any(|t| t.table.name == "orders" && t.rows == 200)
        );
        assert!(path.is_file(), "{file_name} written");
        assert!(
            !dir.path().read_dir().unwrap().any(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".part")),
            "no temporary file left"
        );
        let sidecar: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dumpfile::sidecar_path(&path)).unwrap())
                .unwrap();
        assert_eq!(sidecar["project"], "shop");
        assert_eq!(sidecar["retention_days"], 3);
        assert_eq!(
            sidecar["expires"].as_u64().unwrap() - sidecar["created"].as_u64().unwrap(),
            3 * 86_400
        );
        assert_eq!(
            unused
                .client()
                .query_one(
                    "SELECT count(*) FROM pg_class WHERE relname = 'people'",
                    &[]
                )
                .unwrap()
                .get::<_, i64>(0),
            0,
            "the dev database is not touched by --to-file"
        );

        let loaded = TestDb::new("dump_equal_loaded");
        if file_name == "shop.sql" {
            psql_load(&path, &loaded);
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(text.starts_with("--\n-- pullprod anonymised dump of project `shop`"));
            assert!(text.contains("-- expires: "));
            assert!(text.contains("COPY \"public\".\"orders\" (\"id\", \"person_id\", \"note\", \"total\") FROM stdin;\n"));
            assert!(
                text.contains("SELECT pg_catalog.setval('\"public\".\"invoice_seq\"', 104, true);")
            );
            assert!(text.contains("REFRESH MATERIALIZED VIEW \"public\".\"people_count\";"));
        } else {
            dumpfile::load_into(&path, &Settings::parse(loaded.url()).unwrap())
                .expect("compressed dump loads");
            let head = std::fs::read(&path).unwrap();
            let magic: &[u8] = if file_name.ends_with(".gz") {
                &[0x1f, 0x8b]
            } else {
                &[0x28, 0xb5, 0x2f, 0xfd]
            };
            assert!(head.starts_with(magic), "{file_name} is compressed");
        }
        assert_eq!(
            fingerprint(&loaded),
            expected,
            "{file_name} gives the direct pull's contents"
        );
        let fks: i64 = loaded
            .client()
            .query_one(
                "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated",
                &[],
            )
            .unwrap()
            .get(0);
        assert!(fks >= 2, "constraints were restored");
    }
}

#[test]
fn dump_file_holds_no_canary() {
    let source = shop_source("dump_canary_src");
    let unused = TestDb::new("dump_canary_dst");
    let state = tempfile::tempdir().unwrap();
    let dir = private_dir();
    let path = dir.path().join("canary.sql");
    let to_file = ToFile {
        path: Some(path.clone()),
        dump: dump_options(dir.path(), state.path(), "shop", 1),
    };
    pull::run(&request(&source, &unused, Some(to_file), state.path())).expect("pull to file");
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 10_000, "the dump holds the data");
    // Sanity: the canary is in the source, and kept values are in the file.
    let planted: i64 = source
        .client()
        .query_one(
            &format!("SELECT count(*) FROM people WHERE secret LIKE '{CANARY}%'"),
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(planted, 25);
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains("user17@example.com"), "emails are faked");
    assert!(
        text.contains("\t{sad,happy}\t"),
        "kept values are in the file"
    );
    assert!(!text.contains(CANARY), "a canary reached the dump file");
    assert!(!text.contains("CANARY"), "a canary reached the dump file");
    let log = std::fs::read_to_string(state.path().join("audit.log")).unwrap();
    assert!(!log.contains("CANARY"));
}

fn git_repo(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    git(dir, &["init", "-q"]);
    std::fs::write(dir.join("README"), "x").unwrap();
    git(dir, &["add", "README"]);
    git(dir, &["commit", "-q", "-m", "init"]);
}

fn refused(path: &Path, options: &DumpOptions) -> String {
    match DumpWriter::create(path, "staging", options) {
        Ok(_) => panic!("`{}` was accepted", path.display()),
        Err(err) => format!("{err:#}"),
    }
}

#[test]
fn dump_refuses_git_work_trees_submodules_and_symlinks_into_them() {
    let root = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let options = dump_options(&root.path().join("dumps"), state.path(), "shop", 2);

    let repo = root.path().join("repo");
    git_repo(&repo);
    let message = refused(&repo.join("data/shop.sql"), &options);
    assert!(message.contains("inside the Git work tree"), "{message}");
    assert!(
        !repo.join("data").exists(),
        "nothing created inside the repository"
    );

    // A submodule: its `.git` is a file.
    let library = root.path().join("library");
    git_repo(&library);
    let host = root.path().join("host");
    git_repo(&host);
    git(
        &host,
        &[
            "submodule",
            "add",
            "-q",
            library.to_str().unwrap(),
            "vendor/library",
        ],
    );
    assert!(host.join("vendor/library/.git").is_file());
    let message = refused(&host.join("vendor/library/shop.sql"), &options);
    assert!(message.contains("vendor/library"), "{message}");

    // A linked worktree.
    git(
        &repo,
        &[
            "worktree",
            "add",
            "-q",
            root.path().join("linked").to_str().unwrap(),
        ],
    );
    let message = refused(&root.path().join("linked/shop.sql"), &options);
    assert!(message.contains("linked"), "{message}");

    // A symlink outside that points into a work tree.
    let outside = root.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&repo, outside.join("link")).unwrap();
    let message = refused(&outside.join("link/shop.sql"), &options);
    assert!(message.contains("inside the Git work tree"), "{message}");
    std::os::unix::fs::symlink(repo.join("README"), outside.join("file-link.sql")).unwrap();
    let message = refused(&outside.join("file-link.sql"), &options);
    assert!(message.contains("inside the Git work tree"), "{message}");

    // Outside every repository: written, owner-only, in a private folder.
    let path = outside.join("fresh/folder/shop.sql");
    let mut writer = DumpWriter::create(&path, "staging", &options).expect("outside git is fine");
    std::io::Write::write_all(&mut writer, b"SELECT 1;\n").unwrap();
    let meta = writer.commit().unwrap();
    assert_eq!(meta.file, path);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    assert_eq!(mode(&dumpfile::sidecar_path(&path)), 0o600);
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .ends_with("SELECT 1;\n")
    );

    // A shared folder is refused, the dump dir too once others can open it: a folder we did
    // not create is never chmod'ed (see `shared_or_foreign_dump_folders_are_refused…`).
    let shared = root.path().join("shared");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).unwrap();
    let message = refused(&shared.join("shop.sql"), &options);
    assert!(message.contains("other users can open"), "{message}");
    let dump_dir = options.dump_dir();
    std::fs::create_dir_all(&dump_dir).unwrap();
    std::fs::set_permissions(&dump_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let message = refused(&dump_dir.join("shop.sql"), &options);
    assert!(message.contains("chmod 700"), "{message}");
    assert_eq!(mode(&dump_dir), 0o755);
}

/// A temporary folder only its owner can open (`tempfile::tempdir` makes them 0755).
fn private_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

#[test]
fn dump_refused_before_reading_a_row_through_pull() {
    let source = shop_source("dump_refuse_src");
    let unused = TestDb::new("dump_refuse_dst");
    let root = tempfile::tempdir().unwrap();
    let repo = root.path().join("repo");
    git_repo(&repo);
    let to_file = ToFile {
        path: Some(repo.join("shop.sql")),
        dump: dump_options(&root.path().join("dumps"), root.path(), "shop", 2),
    };
    let err = pull::run(&request(&source, &unused, Some(to_file), root.path()))
        .expect_err("a dump inside a repository is refused");
    assert!(
        format!("{err:#}").contains("inside the Git work tree"),
        "{err:#}"
    );
    assert!(!repo.join("shop.sql").exists());
    let leftovers: Vec<_> = std::fs::read_dir(&repo)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "only README and .git: {leftovers:?}");
}

#[test]
fn dump_outside_temp_needs_a_retention() {
    let options = DumpOptions {
        dir: None,
        project: "shop".into(),
        retention_days: None,
        state_dir: None,
    };
    let outside: PathBuf = PathBuf::from("/var/lib/pullprod-never-created/shop.sql");
    let err = dumpfile::check_destination(&outside, &options).unwrap_err();
    assert!(
        format!("{err:#}").contains("set `retention-days`"),
        "{err:#}"
    );
    let inside = std::env::temp_dir().join("dumps/shop.sql");
    assert_eq!(
        dumpfile::check_destination(&inside, &options).unwrap(),
        dumpfile::DEFAULT_RETENTION_DAYS
    );
    let too_long = DumpOptions {
        retention_days: Some(31),
        ..options
    };
    let err = dumpfile::check_destination(&inside, &too_long).unwrap_err();
    assert!(format!("{err:#}").contains("between 1 and 30"), "{err:#}");
}

#[test]
fn prune_removes_exactly_the_projects_expired_dumps() {
    let root = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let dir = root.path().join("dumps");
    let elsewhere = root.path().join("elsewhere");
    let write = |path: &Path, project: &str, days: u32| {
        let options = dump_options(&dir, state.path(), project, days);
        let mut writer = DumpWriter::create(path, "production", &options).unwrap();
        std::io::Write::write_all(&mut writer, b"SELECT 1;\n").unwrap();
        writer.commit().unwrap();
    };
    write(&dir.join("shop.sql"), "shop", 1);
    write(&dir.join("shop-week.sql.gz"), "shop", 7);
    write(&dir.join("blog.sql"), "blog", 1);
    write(&elsewhere.join("shop-copy.sql"), "shop", 1);
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    // Unfinished files of killed runs: the project's own is pruned once old, another's never.
    for part in [".shop.sql.AbC123.part", ".blog.sql.AbC123.part"] {
        std::fs::write(dir.join(part), "COPY").unwrap();
    }
    std::fs::write(dir.join("unrelated.sql"), "SELECT 2;").unwrap();

    let options = dump_options(&dir, state.path(), "shop", 3);
    let now = SystemTime::now();
    assert!(
        dumpfile::prune_expired(&options, now).unwrap().is_empty(),
        "nothing expired yet"
    );
    let newest = dumpfile::newest_unexpired(&options, now)
        .unwrap()
        .expect("a dump");
    assert_eq!(newest.project, "shop");

    let later = now + Duration::from_secs(2 * 86_400);
    let mut removed = dumpfile::prune_expired(&options, later).unwrap();
    removed.sort();
    let mut expected = vec![
        dir.join("shop.sql"),
        elsewhere.join("shop-copy.sql"),
        dir.join(".shop.sql.AbC123.part"),
    ];
    expected.sort();
    assert_eq!(removed, expected);
    for gone in &expected {
        assert!(!gone.exists());
        assert!(!dumpfile::sidecar_path(gone).exists());
    }
    for kept in [
        "shop-week.sql.gz",
        "blog.sql",
        "notes.txt",
        "unrelated.sql",
        ".blog.sql.AbC123.part",
    ] {
        assert!(dir.join(kept).exists(), "{kept} untouched");
    }
    assert!(dumpfile::sidecar_path(&dir.join("blog.sql")).exists());
    assert_eq!(
        dumpfile::newest_unexpired(&options, later)
            .unwrap()
            .map(|m| m.file),
        Some(dir.join("shop-week.sql.gz"))
    );
    assert!(
        dumpfile::prune_expired(&options, later).unwrap().is_empty(),
        "pruning twice removes nothing more"
    );
    let much_later = now + Duration::from_secs(8 * 86_400);
    assert_eq!(
        dumpfile::prune_expired(&options, much_later).unwrap(),
        vec![dir.join("shop-week.sql.gz")]
    );
    assert!(
        dir.join("blog.sql").exists(),
        "another project's dump is never ours to prune"
    );
}

#[test]
fn failed_dump_leaves_nothing_behind() {
    let source = shop_source("dump_failed_src");
    let unused = TestDb::new("dump_failed_dst");
    let state = tempfile::tempdir().unwrap();
    let dir = private_dir();
    let path = dir.path().join("shop.sql");
    // Fails while the rows are read, after the schema has been written to the temporary file.
    let mut request = request(
        &source,
        &unused,
        Some(ToFile {
            path: Some(path.clone()),
            dump: dump_options(dir.path(), state.path(), "shop", 1),
        }),
        state.path(),
    );
    request.policy.tables[1].filter = Some("no_such_column > 0".into());
    let err = pull::run(&request).expect_err("the broken filter fails the copy");
    assert!(format!("{err:#}").contains("orders"), "{err:#}");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert!(
        left.is_empty(),
        "no dump, sidecar or temporary file: {left:?}"
    );
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn shared_or_foreign_dump_folders_are_refused_and_never_chmodded() {
    use std::os::unix::fs::MetadataExt;
    let root = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let folder = |name: &str, mode: u32| {
        let dir = root.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).unwrap();
        dir
    };
    // A shared sticky folder, as the system temp folder itself is: it used to be chmod'ed 0700.
    let shared = folder("shared", 0o1777);
    let message = refused(
        &shared.join("shop.sql"),
        &dump_options(&shared, state.path(), "shop", 1),
    );
    assert!(
        message.contains("other users can open that folder") && message.contains("chmod 700"),
        "{message}"
    );
    assert_eq!(
        mode_of(&shared),
        0o1777,
        "never chmod a folder we did not create"
    );
    // Our own folder, open to others: refused too, with the fix to apply; left as it is.
    let open = folder("open", 0o755);
    let message = refused(
        &open.join("shop.sql"),
        &dump_options(&open, state.path(), "shop", 1),
    );
    assert!(message.contains("chmod 700"), "{message}");
    assert_eq!(mode_of(&open), 0o755);
    // Another user's folder: refused on ownership first, whatever its mode; left as it is.
    for mode in [0o755, 0o700] {
        let foreign = folder(&format!("foreign-{mode:o}"), mode);
        std::os::unix::fs::chown(&foreign, Some(65534), Some(65534)).unwrap();
        let message = refused(
            &foreign.join("shop.sql"),
            &dump_options(&foreign, state.path(), "shop", 1),
        );
        assert!(message.contains("belongs to another user"), "{message}");
        assert_eq!(mode_of(&foreign), mode);
        assert_eq!(std::fs::metadata(&foreign).unwrap().uid(), 65534);
        assert_eq!(
            std::fs::read_dir(&foreign).unwrap().count(),
            0,
            "nothing written"
        );
    }
    // A folder we create is private, and so is a private folder of ours.
    let fresh = root.path().join("new/dumps");
    let mut writer = DumpWriter::create(
        &fresh.join("shop.sql"),
        "staging",
        &dump_options(&fresh, state.path(), "shop", 1),
    )
    .expect("created");
    std::io::Write::write_all(&mut writer, b"SELECT 1;\n").unwrap();
    writer.commit().unwrap();
    assert_eq!(mode_of(&fresh), 0o700);
    let private = folder("private", 0o700);
    DumpWriter::create(
        &private.join("shop.sql"),
        "staging",
        &dump_options(&private, state.path(), "shop", 1),
    )
    .expect("a private folder of ours");
}

#[test]
fn planted_links_at_the_sidecar_and_the_index_are_replaced_not_followed() {
    let root = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let dir = root.path().join("dumps");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let victim = root.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let dump = dir.join("shop.sql");
    std::os::unix::fs::symlink(&victim, dumpfile::sidecar_path(&dump)).unwrap();
    std::os::unix::fs::symlink(&victim, state.path().join("dumps.jsonl")).unwrap();
    let options = dump_options(&dir, state.path(), "shop", 1);
    let mut writer = DumpWriter::create(&dump, "staging", &options).unwrap();
    std::io::Write::write_all(&mut writer, b"SELECT 1;\n").unwrap();
    writer.commit().unwrap();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    for written in [
        dumpfile::sidecar_path(&dump),
        state.path().join("dumps.jsonl"),
    ] {
        let meta = std::fs::symlink_metadata(&written).unwrap();
        assert!(meta.file_type().is_file(), "{}", written.display());
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    assert_eq!(
        dumpfile::newest_unexpired(&options, SystemTime::now())
            .unwrap()
            .map(|meta| meta.file),
        Some(dump)
    );
}

#[test]
fn unfinished_dumps_at_custom_paths_are_pruned() {
    let root = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let dir = root.path().join("dumps");
    let elsewhere = root.path().join("elsewhere");
    let options = dump_options(&dir, state.path(), "shop", 1);
    // A killed run: the writer never commits nor drops (its temporary file stays).
    let mut writer =
        DumpWriter::create(&elsewhere.join("custom.sql"), "staging", &options).unwrap();
    std::io::Write::write_all(&mut writer, b"COPY people FROM stdin;\n").unwrap();
    std::mem::forget(writer);
    let parts = || -> Vec<PathBuf> {
        std::fs::read_dir(&elsewhere)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.to_string_lossy().ends_with(".part"))
            .collect()
    };
    let left = parts();
    assert_eq!(left.len(), 1, "{left:?}");
    let now = SystemTime::now();
    assert!(
        dumpfile::prune_expired(&options, now).unwrap().is_empty(),
        "a run in progress"
    );
    assert_eq!(parts(), left);
    // Another project's pruning leaves it alone.
    let blog = dump_options(&dir, state.path(), "blog", 1);
    let later = now + Duration::from_secs(2 * 86_400);
    assert!(dumpfile::prune_expired(&blog, later).unwrap().is_empty());
    assert_eq!(
        dumpfile::prune_expired(&options, later).unwrap(),
        left,
        "a day-old unfinished dump is pruned wherever it is"
    );
    assert!(parts().is_empty());
    assert!(dumpfile::prune_expired(&options, later).unwrap().is_empty());
}

#[test]
fn header_values_cannot_inject_sql() {
    let root = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let dir = root.path().join("dumps");
    let options = dump_options(&dir, state.path(), "shop\rCREATE TABLE from_project();", 1);
    let path = dir.join("shop.sql");
    let source = "prod\nCREATE TABLE injected(); --\u{2028}\u{0b}";
    let mut writer = DumpWriter::create(&path, source, &options).unwrap();
    std::io::Write::write_all(&mut writer, b"SELECT 1;\n").unwrap();
    writer.commit().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let header: Vec<&str> = text
        .split(['\n', '\r'])
        .take_while(|line| *line != "SELECT 1;")
        .collect();
    for line in &header {
        assert!(
            line.is_empty() || line.starts_with("--"),
            "{line:?} in {text:?}"
        );
    }
    assert!(
        text.contains(r"prod\nCREATE TABLE injected(); --"),
        "{text}"
    );
}
