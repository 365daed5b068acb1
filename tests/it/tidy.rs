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
        "src/plan.rs",
        "src/coverage.rs",
        "src/detect",
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
        } else if relative.starts_with("src/detect/") {
            "src/detect/".to_string()
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
    for guarantee in ["G1", "G2", "G3", "G4", "G5", "G6", "G7", "G8", "G9", "G10"] {
        assert!(
            architecture.contains(&format!("| {guarantee} ")),
            "ARCHITECTURE.md does not map {guarantee}"
        );
    }
}

/// The modules of `src/` a file's code names through `crate::` (in `use` lines and inline
/// paths; comments and the tests at the end of a file left out). A folder is one module.
fn crate_imports(text: &str) -> std::collections::BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    let code: String = code
        .lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let ident = |text: &str| -> String {
        text.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut modules = std::collections::BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a, b::c, d::{e, f}}`: the first name of each top-level item.
            let mut depth = 0;
            let mut item_start = true;
            for (idx, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && !c.is_whitespace() => {
                        modules.insert(ident(&group[idx..]));
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            modules.insert(ident(rest));
        }
    }
    modules.retain(|module| !module.is_empty());
    modules
}

/// The module graph of `src/` has no cycle: each shared piece lives in the module that owns
/// it, and a module only uses the ones below it.
#[test]
fn modules_import_each_other_without_cycles() {
    let src = root().join("src");
    let mut graph: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        Default::default();
    for file in rust_files(&src) {
        let relative = file.strip_prefix(&src).unwrap();
        let mut parts = relative.components();
        let first = parts.next().unwrap().as_os_str().to_string_lossy();
        if first == "bin" || first == "lib.rs" {
            continue;
        }
        let module = first.trim_end_matches(".rs").to_string();
        let text = std::fs::read_to_string(&file).expect("read");
        let imports = crate_imports(&text);
        let entry = graph.entry(module.clone()).or_default();
        entry.extend(imports.into_iter().filter(|import| *import != module));
    }
    assert!(
        graph.contains_key("pull") && graph["pull"].contains("pipeline"),
        "the graph was read: {graph:?}"
    );
    // Depth-first search; a module met again on the current path closes a cycle.
    fn visit(
        module: &str,
        graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
        cycles: &mut Vec<String>,
    ) {
        if let Some(at) = path.iter().position(|seen| seen == module) {
            let mut cycle = path[at..].to_vec();
            cycle.push(module.to_string());
            cycles.push(cycle.join(" -> "));
            return;
        }
        if !done.insert(module.to_string()) {
            return;
        }
        path.push(module.to_string());
        for next in graph.get(module).into_iter().flatten() {
            visit(next, graph, path, done, cycles);
        }
        path.pop();
    }
    let mut cycles = Vec::new();
    let mut done = std::collections::BTreeSet::new();
    for module in graph.keys() {
        visit(module, &graph, &mut Vec::new(), &mut done, &mut cycles);
    }
    assert!(
        cycles.is_empty(),
        "import cycles between modules: {cycles:#?}"
    );
}

#[test]
fn crate_imports_reads_use_lines_groups_and_inline_paths() {
    let text = "use crate::a::{self, X};\nuse crate::{b, c::{D, e}, d};\n\
                // crate::commented\nfn f() { crate::inline::call(); } // crate::trailing\n\
                #[cfg(test)]\nmod tests { use crate::test_only; }\n";
    let found: Vec<String> = crate_imports(text).into_iter().collect();
    assert_eq!(found, ["a", "b", "c", "d", "inline"]);
}
