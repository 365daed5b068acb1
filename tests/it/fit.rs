//! G11, green means it runs: a matrix of strategy × column type × modifier (unique, NOT NULL,
//! CHECK). In every cell check-policy's verdict with a database equals the pull's outcome:
//! accepted cells load, refused cells are refused by the pull with the same diagnostic at the
//! same file:line, and each refusal's suggested fix, applied, passes check-policy and loads.
//! One source database, one table per strategy, three check-policy runs and two pulls.

use std::collections::BTreeMap;

use crate::support::{Project, TestDb};

/// A column type of the matrix: its SQL, three values that satisfy its CHECK (distinct, for
/// the unique cell), the CHECK (`{c}` is the column) and whether it can carry a unique index.
struct Type {
    key: &'static str,
    sql: &'static str,
    values: [&'static str; 3],
    check: &'static str,
    unique: bool,
}

const TYPES: &[Type] = &[
    Type {
        key: "text",
        sql: "text",
        values: ["'Anna Smith'", "'Bob Jones'", "'Cleo Brown'"],
        check: "{c} ~ '^[A-Za-z ]+$'",
        unique: true,
    },
    Type {
        key: "vc_short",
        sql: "varchar(4)",
        values: ["'ab'", "'cd'", "'ef'"],
        check: "{c} ~ '^[a-z]+$'",
        unique: true,
    },
    Type {
        key: "vc_long",
        sql: "varchar(200)",
        values: ["'Anna Smith'", "'Bob Jones'", "'Cleo Brown'"],
        check: "length({c}) > 3",
        unique: true,
    },
    Type {
        key: "char1",
        sql: "char(1)",
        values: ["'M'", "'F'", "'m'"],
        check: "upper({c}) = ANY (ARRAY['M', 'F'])",
        unique: true,
    },
    Type {
        key: "citext",
        sql: "citext",
        values: ["'a@x.io'", "'b@x.io'", "'c@x.io'"],
        check: "{c} LIKE '%@%'",
        unique: true,
    },
    Type {
        key: "int2",
        sql: "int2",
        values: ["10", "20", "30"],
        check: "{c} BETWEEN 0 AND 1000",
        unique: true,
    },
    Type {
        key: "int4",
        sql: "int4",
        values: ["10", "20", "30"],
        check: "{c} BETWEEN 0 AND 1000",
        unique: true,
    },
    Type {
        key: "int8",
        sql: "int8",
        values: ["10", "20", "30"],
        check: "{c} BETWEEN 0 AND 1000",
        unique: true,
    },
    Type {
        key: "numeric",
        sql: "numeric(6,2)",
        values: ["1.50", "2.50", "3.50"],
        check: "{c} >= 0",
        unique: true,
    },
    Type {
        key: "bool",
        sql: "bool",
        values: ["true", "false", "true"],
        check: "{c} IN (true, false)",
        unique: false,
    },
    Type {
        key: "uuid",
        sql: "uuid",
        values: [
            "'0b7e7c8e-57b4-4a0c-9b6f-1d2e3f405161'",
            "'1c8f8d9f-68c5-4b1d-8c70-2e3f40516272'",
            "'2d909ea0-79d6-4c2e-9d81-3f4051627383'",
        ],
        check: "{c} <> '00000000-0000-0000-0000-000000000000'",
        unique: true,
    },
    Type {
        key: "enum",
        sql: "mood",
        values: ["'happy'", "'sad'", "'angry'"],
        check: "{c} <> 'meh'",
        unique: true,
    },
    Type {
        key: "domain",
        sql: "code8",
        values: ["'ABC'", "'DEF'", "'GHI'"],
        check: "length({c}) >= 2",
        unique: true,
    },
    Type {
        key: "json",
        sql: "json",
        values: [r#"'{"a": 1}'"#, r#"'{"a": 2}'"#, r#"'{"a": 3}'"#],
        check: "({c}->>'a') IS NOT NULL",
        unique: false,
    },
    Type {
        key: "jsonb",
        sql: "jsonb",
        values: [r#"'{"a": 1}'"#, r#"'{"a": 2}'"#, r#"'{"a": 3}'"#],
        check: "{c} ? 'a'",
        unique: true,
    },
    Type {
        key: "xml",
        sql: "xml",
        values: ["'<a>1</a>'", "'<a>2</a>'", "'<a>3</a>'"],
        check: "xml_is_well_formed_document({c}::text)",
        unique: false,
    },
    Type {
        key: "bytea",
        sql: "bytea",
        values: ["'\\x01'", "'\\x02'", "'\\x03'"],
        check: "length({c}) <= 4",
        unique: true,
    },
    Type {
        key: "text_arr",
        sql: "text[]",
        values: ["'{a,b}'", "'{c}'", "'{d,e}'"],
        check: "cardinality({c}) <= 3",
        unique: true,
    },
    Type {
        key: "int_arr",
        sql: "int4[]",
        values: ["'{1,2}'", "'{3}'", "'{4,5}'"],
        check: "cardinality({c}) <= 3",
        unique: true,
    },
    Type {
        key: "date",
        sql: "date",
        values: ["'2001-01-01'", "'2002-02-02'", "'2003-03-03'"],
        check: "{c} > '1900-01-01'",
        unique: true,
    },
    Type {
        key: "ts",
        sql: "timestamp",
        values: [
            "'2001-01-01 10:00'",
            "'2002-02-02 11:00'",
            "'2003-03-03 12:00'",
        ],
        check: "{c} > '1900-01-01'",
        unique: true,
    },
    Type {
        key: "tstz",
        sql: "timestamptz",
        values: [
            "'2001-01-01 10:00+00'",
            "'2002-02-02 11:00+00'",
            "'2003-03-03 12:00+00'",
        ],
        check: "{c} > '1900-01-01'",
        unique: true,
    },
    Type {
        key: "inet",
        sql: "inet",
        values: ["'10.0.0.1'", "'10.0.0.2'", "'10.0.0.3'"],
        check: "family({c}) = 4",
        unique: true,
    },
];

const MODIFIERS: &[&str] = &["plain", "unique", "nn", "check"];

/// One table per strategy: (table, the rule as written).
const STRATEGIES: &[(&str, &str)] = &[
    ("s_null", r#""null""#),
    ("s_redact", r#""redact""#),
    ("s_const", r#"{ const = "x" }"#),
    ("s_hash", r#""hash""#),
    ("s_hash_unique", "{ hash = true, unique = true }"),
    ("s_phone", r#""fake.phone""#),
    ("s_phone_unique", r#"{ fake = "phone", unique = true }"#),
    ("s_email_unique", r#"{ fake = "email", unique = true }"#),
    ("s_year", r#""generalise.year""#),
    ("s_shift", "{ shift = { days = 3 } }"),
];

fn cells() -> Vec<(&'static Type, &'static str)> {
    let mut cells = Vec::new();
    for ty in TYPES {
        for modifier in MODIFIERS {
            if *modifier == "unique" && !ty.unique {
                continue;
            }
            cells.push((ty, *modifier));
        }
    }
    cells
}

fn column(ty: &Type, modifier: &str) -> String {
    format!("{}_{modifier}", ty.key)
}

fn schema_sql() -> String {
    let mut sql = String::from(
        "CREATE EXTENSION IF NOT EXISTS citext;\n\
         CREATE TYPE mood AS ENUM ('happy', 'sad', 'meh', 'angry');\n\
         CREATE DOMAIN code8 AS varchar(8) CHECK (VALUE ~ '^[A-Z]+$');\n",
    );
    for (table, _) in STRATEGIES {
        let mut columns = vec!["id int PRIMARY KEY".to_string()];
        for (ty, modifier) in cells() {
            let constraint = match modifier {
                "unique" => " UNIQUE".to_string(),
                "nn" => " NOT NULL".to_string(),
                "check" => format!(
                    " CHECK ({})",
                    ty.check.replace("{c}", &column(ty, modifier))
                ),
                _ => String::new(),
            };
            columns.push(format!("{} {}{constraint}", column(ty, modifier), ty.sql));
        }
        sql.push_str(&format!("CREATE TABLE {table} ({});\n", columns.join(", ")));
        for row in 0..3 {
            let values: Vec<&str> = cells().iter().map(|(ty, _)| ty.values[row]).collect();
            sql.push_str(&format!(
                "INSERT INTO {table} VALUES ({row}, {});\n",
                values.join(", ")
            ));
        }
    }
    sql
}

fn policy(rules: &BTreeMap<(String, String), String>) -> String {
    let mut text = String::new();
    for (table, _) in STRATEGIES {
        text.push_str(&format!("[{table}]\nid = \"keep\"\n"));
        for (ty, modifier) in cells() {
            let name = column(ty, modifier);
            let rule = &rules[&(table.to_string(), name.clone())];
            text.push_str(&format!("{name} = {rule}\n"));
        }
        text.push('\n');
    }
    text
}

fn project(source: &TestDb) -> Project {
    let project = Project::empty();
    project.write(
        "Cargo.toml",
        "[package]\nname = \"fit-matrix\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n\
         [package.metadata.dump]\npolicy = \"policy\"\nproject = \"fit-matrix\"\n\
         source.staging = { url = \"env:STAGING_DATABASE_URL\", production = false }\n\
         target = \"env:DATABASE_URL\"\nsalt = \"env:PULLPROD_SALT\"\nretention-days = 1\n\
         review-ref = \"main\"\n",
    );
    project.write("src/lib.rs", "//! the fit matrix\n");
    project.write("policy/m.toml", "");
    project.git_commit_all("the fit matrix project");
    let _ = source;
    project
}

/// A finding of `check-policy --format json`.
#[derive(Debug, Clone)]
struct Finding {
    line: usize,
    rendered: String,
    code: String,
    help: String,
}

fn check(project: &Project, source: &TestDb) -> (i32, Vec<Finding>) {
    let (code, stdout, stderr) = project.run(&[
        "check-policy",
        "--database-url",
        source.url(),
        "--format",
        "json",
    ]);
    let items: Vec<serde_json::Value> = serde_json::from_str(&stdout)
        .unwrap_or_else(|err| panic!("check-policy JSON ({err}): {stdout}\n{stderr}"));
    let findings = items
        .iter()
        .map(|item| {
            let text = |key: &str| item[key].as_str().unwrap_or("").to_string();
            Finding {
                line: item["line"].as_u64().expect("line") as usize,
                rendered: format!(
                    "{}:{}:{}: {}[{}]: {}",
                    text("file"),
                    item["line"],
                    item["column"],
                    text("severity"),
                    text("code"),
                    text("message")
                ),
                code: text("code"),
                help: text("help"),
            }
        })
        .collect();
    (code, findings)
}

/// The policy line `line` (1-based) names this (table, column).
fn cell_at(policy: &str, line: usize) -> (String, String) {
    let mut table = String::new();
    for (idx, text) in policy.lines().enumerate() {
        if let Some(name) = text.strip_prefix('[') {
            table = name.trim_end_matches(']').to_string();
        }
        if idx + 1 == line {
            let column = text.split(" = ").next().expect("a rule line").to_string();
            return (table, column);
        }
    }
    panic!("no line {line} in the policy");
}

/// `write `col = <rule>`, which fits` → `<rule>`.
fn suggested_rule(help: &str) -> Option<String> {
    let start = help.find("write `")? + "write `".len();
    let rest = &help[start..];
    let end = rest.find("`, which fits")?;
    let line = &rest[..end];
    Some(line.split_once(" = ")?.1.to_string())
}

#[test]
fn check_policy_verdicts_equal_pull_outcomes() {
    let source = TestDb::new("fit_matrix_src");
    source.exec(&schema_sql());
    let target = TestDb::new("fit_matrix_dst");
    let project = project(&source);
    let state = tempfile::TempDir::new().expect("state folder");
    let env = [
        ("STAGING_DATABASE_URL", source.url().to_string()),
        ("DATABASE_URL", target.url().to_string()),
        (
            "PULLPROD_SALT",
            "a fit matrix salt that is long enough".to_string(),
        ),
        ("XDG_STATE_HOME", state.path().display().to_string()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let pull = |project: &Project| {
        let (code, stdout, stderr) =
            project.run_with_env(&["pull-prod", "--from", "staging"], &env);
        (code, format!("{stdout}{stderr}"))
    };

    let mut rules = BTreeMap::new();
    for (table, rule) in STRATEGIES {
        for (ty, modifier) in cells() {
            rules.insert((table.to_string(), column(ty, modifier)), rule.to_string());
        }
    }
    let written = policy(&rules);
    project.write("policy/m.toml", &written);

    // 1. check-policy's verdicts.
    let (code, findings) = check(&project, &source);
    assert_eq!(code, 1, "some cells must be refused: {findings:?}");
    let mut refused: BTreeMap<(String, String), Finding> = BTreeMap::new();
    for finding in &findings {
        assert!(
            finding.code == "does-not-fit" || finding.code == "type-mismatch",
            "unexpected finding: {finding:?}"
        );
        refused.insert(cell_at(&written, finding.line), finding.clone());
    }

    // 2. The pull refuses with the very same diagnostics, at the same lines.
    let (pull_code, output) = pull(&project);
    assert_ne!(pull_code, 0, "the pull must refuse: {output}");
    for finding in &findings {
        assert!(
            output.contains(&format!("{}\n  help: {}", finding.rendered, finding.help)),
            "the pull does not show `{}` with its help:\n{output}",
            finding.rendered
        );
    }
    let pull_findings = output
        .lines()
        .filter(|line| line.contains(": error["))
        .count();
    assert_eq!(pull_findings, findings.len(), "{output}");

    // 3. Every refusal suggests a rule; applied, it passes check-policy.
    let mut fixed = rules.clone();
    let mut nothing_fits = Vec::new();
    for (cell, finding) in &refused {
        let rule = match suggested_rule(&finding.help) {
            Some(rule) => rule,
            None => {
                assert!(
                    finding.help.starts_with("no strategy fits"),
                    "no suggested rule for {cell:?}: {}",
                    finding.help
                );
                nothing_fits.push(format!("{}.{}", cell.0, cell.1));
                r#"{ keep = true, reason = "no strategy fits this test column" }"#.to_string()
            }
        };
        fixed.insert(cell.clone(), rule);
    }
    let fixed_policy = policy(&fixed);
    project.write("policy/m.toml", &fixed_policy);
    let (code, findings) = check(&project, &source);
    assert_eq!(
        (code, findings.len()),
        (0, 0),
        "the suggested fixes must pass: {findings:#?}"
    );

    // 4. Accepted cells and applied fixes load.
    let (pull_code, output) = pull(&project);
    assert_eq!(pull_code, 0, "the pull must succeed: {output}");
    for (table, _) in STRATEGIES {
        assert_eq!(target.count(&format!("SELECT count(*) FROM {table}")), 3);
    }

    // The cases the issue reported, each on the side it must be.
    let verdict = |table: &str, column: &str| refused.get(&(table.to_string(), column.to_string()));
    assert!(verdict("s_hash_unique", "vc_short_plain").is_some());
    assert!(verdict("s_redact", "char1_check").is_some());
    assert!(verdict("s_redact", "xml_plain").is_none());
    assert!(verdict("s_hash", "xml_plain").is_none());
    assert!(verdict("s_phone_unique", "text_plain").is_some());
    assert!(
        verdict("s_phone", "text_unique").is_some(),
        "a unique index needs `unique`"
    );
    let enum_help = &verdict("s_hash_unique", "enum_plain")
        .expect("refused")
        .help;
    assert!(!enum_help.contains("pick `hash`"), "{enum_help}");
    // Only where no rule but `keep` can meet the column: a NOT NULL domain of capitals, and a
    // CHECK that refuses NULL as well as any other JSON document.
    assert!(
        nothing_fits
            .iter()
            .all(|cell| cell.ends_with(".domain_nn") || cell.ends_with(".json_check")),
        "{nothing_fits:?}"
    );
    // Refused and accepted cells both exist for most strategies: the matrix discriminates.
    assert!(
        refused.len() > 20 && refused.len() < rules.len() - 20,
        "{}",
        refused.len()
    );
}
