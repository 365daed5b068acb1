//! The demo shop: `demo-prod` fills a real database deterministically, and the demo policy
//! in `policy/*.toml` classifies every column of the demo schema.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use xtask::demo::{self, DemoOptions};

use crate::support::{TestDb, with_dbname};

fn fill(db: &TestDb, scale: u64) -> demo::DemoSummary {
    demo::demo_prod(&DemoOptions {
        scale,
        database_url: Some(db.url().to_string()),
    })
    .unwrap_or_else(|err| panic!("demo_prod failed: {err:#}"))
}

/// What the spec asks for, computed here independently of `demo::planned_rows`.
fn expected_rows(scale: u64) -> Vec<(String, u64)> {
    let orders = scale * 3;
    let items: u64 = (1..=orders).map(|o| 1 + o % 5).sum();
    [
        ("countries", 16),
        ("users", scale),
        ("addresses", scale + scale / 2),
        ("products", (scale * 20 / 1000).max(50)),
        ("orders", orders),
        ("order_items", items),
        ("events", scale * 8),
        ("sessions", scale),
    ]
    .into_iter()
    .map(|(table, n)| (table.to_string(), n))
    .collect()
}

#[test]
fn demo_prod_fills_every_table_in_proportion() {
    let db = TestDb::new("demo_prod_fills");
    let summary = fill(&db, 200);

    assert_eq!(summary.database, db.name());
    assert_eq!(summary.rows, expected_rows(200));
    assert!(
        summary.bytes > 1_000_000,
        "database size {} bytes",
        summary.bytes
    );
    for (table, n_rows) in &summary.rows {
        assert_eq!(
            db.count(&format!("SELECT count(*) FROM {table}")) as u64,
            *n_rows,
            "{table}"
        );
    }
    assert_eq!(demo::demo_scale(db.url()).unwrap(), Some(200));
}

#[test]
fn demo_prod_keeps_every_foreign_key_valid() {
    let db = TestDb::new("demo_prod_fks");
    fill(&db, 200);
    let mut client = db.client();
    let foreign_keys = client
        .query(
            "SELECT c.conrelid::regclass::text, a.attname::text, c.confrelid::regclass::text, fa.attname::text
             FROM pg_constraint c
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
             JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = c.confkey[1]
             WHERE c.contype = 'f' AND cardinality(c.conkey) = 1 AND c.conparentid = 0",
            &[],
        )
        .unwrap();
    let mut checked = BTreeSet::new();
    for row in &foreign_keys {
        let (table, column, parent, parent_column): (String, String, String, String) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        let orphans = db.count(&format!(
            "SELECT count(*) FROM {table} t WHERE t.{column} IS NOT NULL \
                 AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.{parent_column} = t.{column})"
        ));
        assert_eq!(orphans, 0, "{table}.{column} -> {parent}.{parent_column}");
        let referencing = db.count(&format!(
            "SELECT count(*) FROM {table} WHERE {column} IS NOT NULL"
        ));
        assert!(
            referencing > 0,
            "{table}.{column} never references {parent}"
        );
        checked.insert(format!("{table}.{column}"));
    }
    let expected: BTreeSet<String> = [
        "addresses.country_code",
        "addresses.user_id",
        "events.user_id",
        "order_items.order_id",
        "order_items.product_id",
        "orders.shipping_address_id",
        "orders.user_id",
        "sessions.user_id",
        "users.referred_by",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(checked, expected);
    // An order ships to one of its own customer's addresses.
    assert_eq!(
        db.count(
            "SELECT count(*) FROM orders o JOIN addresses a ON a.id = o.shipping_address_id \
             WHERE a.user_id <> o.user_id"
        ),
        0
    );
    // Order totals match their lines.
    assert_eq!(
        db.count("SELECT count(*) FROM orders o JOIN order_totals t ON t.order_id = o.id WHERE t.items_total <> o.total"
        ),
        0
    );
}

#[test]
fn demo_prod_populates_partitions_views_and_sequences() {
    let db = TestDb::new("demo_prod_partitions");
    fill(&db, 200);
    let mut client = db.client();
    let per_partition: BTreeMap<String, i64> = client
        .query(
            "SELECT tableoid::regclass::text, count(*) FROM events GROUP BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    assert!(per_partition.len() >= 2, "events in {per_partition:?}");
    assert!(
        per_partition.contains_key("events_2024"),
        "{per_partition:?}"
    );
    assert!(
        per_partition.contains_key("events_default"),
        "{per_partition:?}"
    );
    assert_eq!(db.count("SELECT count(*) FROM ONLY events"), 0);

    assert_eq!(
        db.count(
            "SELECT count(*) FROM pg_matviews WHERE matviewname = 'daily_sales' AND ispopulated"
        ),
        1
    );
    let days = db.count(
        "SELECT count(DISTINCT (placed_at AT TIME ZONE 'UTC')::date) FROM orders \
         WHERE status IN ('paid', 'shipped', 'delivered')",
    );
    assert!(days > 0);
    assert_eq!(db.count("SELECT count(*) FROM daily_sales"), days);

    // Sequences are past the loaded keys: the application can insert straight away.
    let new_user: i64 = client
        .query_one("INSERT INTO users (email, full_name, password_digest) VALUES ('new@example.com', 'New', 'x') RETURNING id", &[])
        .unwrap()
        .get(0);
    assert_eq!(new_user, 201);
    let invoice: i64 = client
        .query_one(
            "INSERT INTO orders (user_id) VALUES (1) RETURNING invoice_number",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(invoice, 100_000 + 601);
    let event: i64 = client
        .query_one(
            "INSERT INTO events (occurred_at, kind) VALUES (now(), 'test') RETURNING id",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(event, 1601);
    assert!(
        db.count("SELECT count(*) FROM products WHERE price_with_vat = round(price * 1.2, 2)")
            >= 50
    );
}

#[test]
fn demo_prod_data_looks_real() {
    let db = TestDb::new("demo_prod_real");
    fill(&db, 200);
    let checks = [
        (
            "bcrypt-looking digests",
            "SELECT count(*) = 200 FROM users WHERE password_digest ~ '^\\$2a\\$12\\$[./A-Za-z0-9]{53}$'",
        ),
        (
            "JWT-ish tokens",
            "SELECT count(*) > 100 FROM users WHERE api_token ~ '^eyJ[A-Za-z0-9_-]+\\.eyJ[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{43}$'",
        ),
        (
            "some users without token",
            "SELECT count(*) > 0 FROM users WHERE api_token IS NULL",
        ),
        (
            "emails",
            "SELECT count(*) = 200 FROM users WHERE email ~ '^[A-Za-z0-9._]+@[A-Za-z0-9.]+\\.[A-Za-z]+$'",
        ),
        (
            "mixed-case emails",
            "SELECT count(*) > 0 FROM users WHERE email::text <> lower(email::text)",
        ),
        (
            "UK phones",
            "SELECT count(*) > 0 FROM users WHERE phone ~ '^(\\+44 7|07)[0-9]{3} [0-9]{6}$'",
        ),
        (
            "missing phones",
            "SELECT count(*) > 0 FROM users WHERE phone IS NULL",
        ),
        (
            "multi-byte names",
            "SELECT count(*) > 0 FROM users WHERE octet_length(full_name) > length(full_name)",
        ),
        (
            "Japanese names",
            "SELECT count(*) > 0 FROM users WHERE full_name ~ '[山陽]'",
        ),
        (
            "bios with tabs",
            "SELECT count(*) > 0 FROM users WHERE bio LIKE E'%\\t%'",
        ),
        (
            "bios with newlines",
            "SELECT count(*) > 0 FROM users WHERE bio LIKE E'%\\n%'",
        ),
        (
            "bios with backslashes",
            "SELECT count(*) > 0 FROM users WHERE strpos(bio, E'\\\\') > 0",
        ),
        (
            "bios with emails",
            "SELECT count(*) > 0 FROM users WHERE bio LIKE '%@%'",
        ),
        (
            "IPv4 and IPv6",
            "SELECT count(DISTINCT family(last_sign_in_ip)) = 2 FROM users",
        ),
        (
            "avatars",
            "SELECT count(*) > 0 FROM users WHERE substr(avatar, 1, 4) = '\\x89504e47'::bytea",
        ),
        (
            "referrals",
            "SELECT count(*) > 0 FROM users WHERE referred_by < id",
        ),
        (
            "tags",
            "SELECT count(*) > 0 FROM users WHERE cardinality(tags) = 2",
        ),
        ("statuses", "SELECT count(DISTINCT status) = 4 FROM users"),
        (
            "event emails match their user",
            "SELECT count(*) = 0 FROM events e JOIN users u ON u.id = e.user_id WHERE e.payload #>> '{actor,email}' <> u.email::text",
        ),
        (
            "event actor IPs",
            "SELECT count(*) > 0 FROM events WHERE (payload #>> '{actor,ip}')::inet IS NOT NULL",
        ),
        (
            "emails inside item arrays",
            "SELECT count(*) > 0 FROM events WHERE payload @? '$.items[*].email ? (@ like_regex \"@\")'",
        ),
        (
            "system events without actor",
            "SELECT count(*) > 0 FROM events WHERE user_id IS NULL AND NOT payload ? 'actor'",
        ),
    ];
    let mut client = db.client();
    for (what, sql) in checks {
        let ok: bool = client
            .query_one(sql, &[])
            .unwrap_or_else(|err| panic!("{what}: {err}"))
            .get(0);
        assert!(ok, "{what}: {sql}");
    }
}

#[test]
fn demo_prod_is_deterministic() {
    let first = TestDb::new("demo_prod_same_a");
    let second = TestDb::new("demo_prod_same_b");
    fill(&first, 150);
    fill(&second, 150);
    let digests = |db: &TestDb| -> Vec<(String, String)> {
        let mut client = db.client();
        [
            "countries",
            "users",
            "addresses",
            "products",
            "orders",
            "order_items",
            "events",
            "sessions",
            "daily_sales",
        ]
        .iter()
        .map(|table| {
            let sql = format!(
                "SELECT md5(string_agg(t::text, ',' ORDER BY t::text COLLATE \"C\")) FROM {table} t"
            );
            let digest: String = client.query_one(&sql, &[]).unwrap().get(0);
            (table.to_string(), digest)
        })
        .collect()
    };
    let first_digests = digests(&first);
    assert_eq!(first_digests, digests(&second));

    // Refilling the same database at another scale changes its contents and its recorded scale.
    fill(&second, 151);
    assert_eq!(demo::demo_scale(second.url()).unwrap(), Some(151));
    assert_ne!(first_digests, digests(&second));
}

#[test]
fn demo_scale_is_none_unless_demo_prod_finished() {
    let db = TestDb::new("demo_scale_none");
    assert_eq!(demo::demo_scale(db.url()).unwrap(), None);
    let missing = with_dbname(db.url(), "pp_t_demo_no_such_database");
    assert_eq!(demo::demo_scale(&missing).unwrap(), None);
}

#[test]
fn demo_prod_refuses_to_drop_a_database_it_did_not_make() {
    let db = TestDb::new("demo_prod_refuses");
    db.exec("CREATE TABLE precious (id int); INSERT INTO precious VALUES (1)");
    let err = demo::demo_prod(&DemoOptions {
        scale: 10,
        database_url: Some(db.url().to_string()),
    })
    .unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        format!(
            "refusing to drop `{}`: it has tables and was not made by `demo-prod`; \
             drop it yourself or choose another `--database-url`",
            db.name()
        )
    );
    assert_eq!(db.count("SELECT count(*) FROM precious"), 1);
}

#[test]
fn migrations_list_matches_the_folder() {
    let dir = repo_root().join("migrations");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".sql"))
        .collect();
    on_disk.sort();
    let listed: Vec<&str> = demo::MIGRATIONS.iter().map(|(name, _)| *name).collect();
    assert_eq!(on_disk, listed);
}

/// Every column of every table of the demo schema is named in `policy/*.toml` (a table that is
/// skipped or kept whole covers its columns), and the policy names nothing that does not exist.
#[test]
fn demo_policy_classifies_every_column() {
    let db = TestDb::new("demo_policy_columns");
    for (name, sql) in demo::MIGRATIONS {
        db.client()
            .batch_execute(sql)
            .unwrap_or_else(|err| panic!("{name}: {err}"));
    }
    let mut schema: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let rows = db
        .client()
        .query(
            "SELECT col.table_name::text, col.column_name::text
             FROM information_schema.columns col
             JOIN information_schema.tables t USING (table_schema, table_name)
             JOIN pg_class c ON c.oid = format('%I.%I', col.table_schema, col.table_name)::regclass
             WHERE col.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND NOT c.relispartition",
            &[],
        )
        .unwrap();
    for row in rows {
        schema.entry(row.get(0)).or_default().insert(row.get(1));
    }
    assert!(schema.len() >= 8, "{schema:?}");
    assert!(schema["products"].contains("price_with_vat"));

    let policy = read_policy();
    let mut problems = Vec::new();
    for (table, columns) in &schema {
        match policy.get(table) {
            None => problems.push(format!("table `{table}` is not in the policy")),
            Some(PolicyTable::Whole { other_keys }) => {
                for key in other_keys {
                    problems.push(format!(
                        "`{table}` is classified whole but also names `{key}`"
                    ));
                }
            }
            Some(PolicyTable::Columns(rules)) => {
                for column in columns {
                    if !rules.contains_key(column) {
                        problems.push(format!("column `{table}.{column}` is not in the policy"));
                    }
                }
                for column in rules.keys() {
                    if !columns.contains(column) {
                        problems.push(format!("policy names missing column `{table}.{column}`"));
                    }
                }
            }
        }
    }
    for table in policy.keys() {
        if !schema.contains_key(table) {
            problems.push(format!("policy names missing table `{table}`"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");

    // Security-sensitive columns are never kept, and the whole-table forms are the ones the demo shows.
    let PolicyTable::Columns(users) = &policy["users"] else {
        panic!("users is classified per column")
    };
    assert!(
        users["password_digest"].contains("const"),
        "{}",
        users["password_digest"]
    );
    assert!(
        users["api_token"].contains("hash"),
        "{}",
        users["api_token"]
    );
    assert!(matches!(policy["sessions"], PolicyTable::Whole { .. }));
    assert!(matches!(policy["countries"], PolicyTable::Whole { .. }));
    let PolicyTable::Columns(events) = &policy["events"] else {
        panic!("events is classified per column")
    };
    assert!(
        events["payload"].contains("$.items[*].email"),
        "{}",
        events["payload"]
    );
}

enum PolicyTable {
    /// `skip = true` or `keep = { reason = "…" }`; any other keys besides `where` and `rows`.
    Whole { other_keys: Vec<String> },
    /// Column name -> its rule, as TOML text.
    Columns(BTreeMap<String, String>),
}

/// Parse every `policy/*.toml` with toml_edit; a table named twice is an error.
fn read_policy() -> BTreeMap<String, PolicyTable> {
    let dir = repo_root().join("policy");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "policy files: {files:?}");
    let mut policy = BTreeMap::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let doc: toml_edit::DocumentMut = text
            .parse()
            .unwrap_or_else(|err| panic!("{}: {err}", file.display()));
        for (table, item) in doc.iter() {
            let rules = item
                .as_table_like()
                .unwrap_or_else(|| panic!("{}: `{table}` is not a table", file.display()));
            let whole = rules.get("skip").and_then(|skip| skip.as_bool()) == Some(true)
                || rules
                    .get("keep")
                    .and_then(|keep| keep.as_table_like())
                    .is_some_and(|keep| {
                        keep.get("reason")
                            .and_then(|r| r.as_str())
                            .is_some_and(|r| !r.is_empty())
                    });
            let entry = if whole {
                PolicyTable::Whole {
                    other_keys: rules
                        .iter()
                        .map(|(key, _)| key.to_string())
                        .filter(|key| !["skip", "keep", "where", "rows"].contains(&key.as_str()))
                        .collect(),
                }
            } else {
                PolicyTable::Columns(
                    rules
                        .iter()
                        .filter(|(key, _)| !["where", "rows"].contains(key))
                        .map(|(key, rule)| (key.to_string(), rule.to_string()))
                        .collect(),
                )
            };
            let previous = policy.insert(table.to_string(), entry);
            assert!(
                previous.is_none(),
                "{}: table `{table}` is classified twice",
                file.display()
            );
        }
    }
    policy
}

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}
