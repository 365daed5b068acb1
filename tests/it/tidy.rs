//! Repository rules that keep the code readable: every file says what it owns, and pure
//! modules never touch files, processes or sockets.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in
        std::fs::read_dir(dir).unwrap_or_else(|err| panic!("list {}: {err}", dir.display()))
    {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_rust_file_starts_with_a_module_comment() {
    let mut missing = Vec::new();
    for dir in ["src", "xtask/src", "tests", "benches"] {
        for file in rust_files(&root().join(dir)) {
            let text = std::fs::read_to_string(&file).expect("read");
            if !text.starts_with("//!") {
                missing.push(file.strip_prefix(root()).unwrap().display().to_string());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "files without a leading `//!` comment: {missing:?}"
    );
}

#[test]
fn pure_modules_do_no_io() {
    let pure = [
        "src/policy",
        "src/transform",
        "src/coverage.rs",
        "src/detect.rs",
        "src/rowcodec.rs",
        "src/sqltype.rs",
        "src/sql.rs",
        "src/checkexpr.rs",
    ];
    let forbidden = [
        "std::fs",
        "postgres::",
        "xshell",
        "std::process",
        "TcpStream",
        "UdpSocket",
    ];
    let mut offences = Vec::new();
    for item in pure {
        let path = root().join(item);
        let files = if path.is_dir() {
            rust_files(&path)
        } else {
            vec![path]
        };
        for file in files {
            let text = std::fs::read_to_string(&file).expect("read");
            // Tests at the end of a file may use whatever they need.
            let code = text.split("#[cfg(test)]").next().unwrap_or(&text);
            for word in forbidden {
                if code.contains(word) {
                    offences.push(format!(
                        "{} uses `{word}`",
                        file.strip_prefix(root()).unwrap().display()
                    ));
                }
            }
        }
    }
    assert!(offences.is_empty(), "pure modules doing IO: {offences:?}");
}

#[test]
fn architecture_maps_every_module() {
    let architecture =
        std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mut unmapped = Vec::new();
    for file in rust_files(&root().join("src")) {
        let relative = file.strip_prefix(root()).unwrap().display().to_string();
        let module = if relative.starts_with("src/policy/") {
            "src/policy/".to_string()
        } else if relative.starts_with("src/transform/") {
            "src/transform/".to_string()
        } else {
            relative
        };
        if !architecture.contains(&format!("`{module}`")) {
            unmapped.push(module);
        }
    }
    unmapped.dedup();
    assert!(
        unmapped.is_empty(),
        "modules missing from ARCHITECTURE.md's code map: {unmapped:?}"
    );
    for guarantee in ["G1", "G2", "G3", "G4", "G5", "G6", "G7", "G8", "G9"] {
        assert!(
            architecture.contains(&format!("| {guarantee} ")),
            "ARCHITECTURE.md does not map {guarantee}"
        );
    }
}
