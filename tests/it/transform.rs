//! The transform engine against real PostgreSQL: outputs of every supported type load back
//! with COPY in text and binary format, both formats agree, and `unique` holds at 10M values.

use std::io::{Read, Write};

use postgres::Client;
use pullprod::policy::model::{FakeKind, Generalise, JsonPath, JsonRule, JsonStep, Rule, Strategy};
use pullprod::sqltype::{BaseType, SqlType};
use pullprod::transform::{ColumnTransform, DEV_PASSWORD_BCRYPT, Format, Salt, Written};

use crate::support::TestDb;

const SCHEMA: &str = r#"
CREATE EXTENSION citext;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN email_address AS varchar(40) CHECK (VALUE LIKE '%_@_%.%');
CREATE TABLE cols (
    v12 varchar(12), c5 char(5), ci citext, em email_address, md mood,
    tags text[], grid varchar(12)[], nums int4[], amt numeric(8,2), amt2 numeric(8,2),
    doc jsonb, raw json, ip inet, net cidr, id uuid, blob bytea,
    d date, dob date, ts timestamp, tstz timestamptz,
    i2 int2, i8 int8, f4 float4, f8 float8, b bool, nm name,
    pw varchar(60), r text, nl text, fn text, note text, phone varchar(20), dates date[],
    rk int PRIMARY KEY
);
"#;

/// Random but reproducible source rows (`setseed`), with NULLs, tabs, newlines, backslashes,
/// quotes, braces, multi-byte characters, empty strings and the word NULL.
const FILL: &str = r#"
SELECT setseed(0.42);
CREATE FUNCTION tricky(n int, salt int) RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT string_agg((ARRAY['a','Z','ü','漢','😀',E'\t',E'\n','\','"','{','}',',',' ','NULL','x','é'])[1 + floor(random() * 16)::int], '')
  FROM generate_series(1, n + salt * 0)
$$;
INSERT INTO cols
SELECT
  CASE WHEN g % 7 = 0 THEN NULL ELSE left(coalesce(tricky(g % 12, g), ''), 12) END,
  left(coalesce(tricky(g % 5, g), ''), 5),
  'User' || g || '@Corp.Example',
  'u' || g || '@x.io',
  (ARRAY['sad','ok','happy'])[1 + g % 3]::mood,
  CASE g % 5 WHEN 0 THEN NULL WHEN 1 THEN '{}'::text[] ELSE ARRAY[tricky(3, g), NULL, '', 'NULL', tricky(6, g)] END,
  ARRAY[[left(tricky(2, g), 12), NULL], ['b', left(tricky(9, g), 12)]]::varchar(12)[],
  ARRAY[g, NULL, -g],
  round((random() * 1999998 - 999999)::numeric / 100, 2),
  round((random() * 1999998 - 999999)::numeric / 100, 2),
  jsonb_build_object('email', 'e' || g || '@x.io', 'items', jsonb_build_array(jsonb_build_object('name', tricky(4, g), 'q', g), jsonb_build_object('q', g * 2)), 'n', g * 1.5, 'keep', 'k' || E'\n' || g),
  ('{"email": "e' || g || '@x.io", "x": [1, 2.50, 1e3],  "note": "kept"}')::json,
  CASE WHEN g % 2 = 0 THEN ('192.168.' || g % 256 || '.' || g % 250 || '/24')::inet ELSE ('2001:db8:' || to_hex(g) || '::' || to_hex(g * 7) || '/64')::inet END,
  CASE WHEN g % 2 = 0 THEN ('10.' || g % 256 || '.0.0/16')::cidr ELSE ('fd00:' || to_hex(g) || '::/32')::cidr END,
  md5(g::text)::uuid,
  CASE WHEN g % 9 = 0 THEN ''::bytea ELSE decode(md5(g::text), 'hex') || '\x00'::bytea END,
  CASE WHEN g = 3 THEN 'infinity'::date ELSE date '2000-01-01' + (random() * 20000 - 10000)::int END,
  date '1950-01-01' + g * 50,
  timestamp '2001-02-03 04:05:06.789' + g * interval '17 hours 3 minutes 0.000123 seconds',
  CASE WHEN g = 4 THEN '-infinity'::timestamptz ELSE timestamptz '1999-12-31 23:59:59.5+00' + (random() * 1e9) * interval '1 second' END,
  (g * 97 % 30000 - 15000)::int2,
  (g::int8 * 1000000007 - 300000000000),
  (random() * 1e6 - 5e5)::float4,
  CASE g % 11 WHEN 0 THEN 'NaN'::float8 WHEN 1 THEN '-Infinity'::float8 ELSE random() * 1e-3 END,
  g % 2 = 0,
  ('user ' || g)::name,
  'hash' || g,
  tricky(8, g),
  'secret ' || g,
  'Full ' || tricky(3, g) || ' Name',
  tricky(30, g),
  '+44 20 ' || g,
  ARRAY[date '2020-01-01' + g, NULL],
  g
FROM generate_series(1, 400) AS g;
"#;

fn json_rules() -> Strategy {
    let key = |k: &str| JsonStep::Key(k.into());
    let path = |text: &str, steps| JsonPath {
        text: text.into(),
        steps,
    };
    Strategy::Json(vec![
        JsonRule {
            path: path("$.email", vec![key("email")]),
            rule: Rule::new(Strategy::fake(FakeKind::Email)),
        },
        JsonRule {
            path: path(
                "$.items[*].name",
                vec![key("items"), JsonStep::EveryElement, key("name")],
            ),
            rule: Rule::new(Strategy::Hash),
        },
        JsonRule {
            path: path("$.n", vec![key("n")]),
            rule: Rule::new(Strategy::Generalise(Generalise::Bucket(10.0))),
        },
        JsonRule {
            path: path("$.x[*]", vec![key("x"), JsonStep::EveryElement]),
            rule: Rule::new(Strategy::Hash),
        },
    ])
}

fn sql_type(base: BaseType, display: &str, max_chars: Option<u32>) -> SqlType {
    SqlType {
        max_chars,
        ..SqlType::simple(base, display)
    }
}

/// Every column of `cols` with its rule and resolved type, in table order.
fn columns() -> Vec<(&'static str, Rule, SqlType)> {
    let array = |mut t: SqlType| {
        t.array = true;
        t
    };
    let numeric82 = SqlType {
        numeric: Some((8, 2)),
        ..SqlType::simple(BaseType::Numeric, "numeric(8,2)")
    };
    let mood = SqlType {
        enum_labels: vec!["sad".into(), "ok".into(), "happy".into()],
        ..SqlType::simple(BaseType::Enum, "mood")
    };
    vec![
        (
            "v12",
            Rule::new(Strategy::Hash),
            sql_type(BaseType::Varchar, "character varying(12)", Some(12)),
        ),
        (
            "c5",
            Rule::new(Strategy::Mask { keep_last: 2 }),
            sql_type(BaseType::Bpchar, "character(5)", Some(5)),
        ),
        (
            "ci",
            Rule::new(Strategy::fake(FakeKind::Email)),
            SqlType::simple(BaseType::Citext, "citext"),
        ),
        (
            "em",
            Rule::unique(Strategy::fake(FakeKind::Email)),
            sql_type(BaseType::Varchar, "email_address", Some(40)),
        ),
        ("md", Rule::new(Strategy::Hash), mood),
        (
            "tags",
            Rule::new(Strategy::fake(FakeKind::Word)),
            array(SqlType::simple(BaseType::Text, "text[]")),
        ),
        (
            "grid",
            Rule::new(Strategy::Mask { keep_last: 1 }),
            array(sql_type(
                BaseType::Varchar,
                "character varying(12)[]",
                Some(12),
            )),
        ),
        (
            "nums",
            Rule::unique(Strategy::Hash),
            array(SqlType::simple(BaseType::Int4, "integer[]")),
        ),
        (
            "amt",
            Rule::new(Strategy::Generalise(Generalise::Bucket(5.0))),
            numeric82.clone(),
        ),
        ("amt2", Rule::new(Strategy::Hash), numeric82),
        (
            "doc",
            Rule::new(json_rules()),
            SqlType::simple(BaseType::Jsonb, "jsonb"),
        ),
        (
            "raw",
            Rule::new(json_rules()),
            SqlType::simple(BaseType::Json, "json"),
        ),
        (
            "ip",
            Rule::new(Strategy::Hash),
            SqlType::simple(BaseType::Inet, "inet"),
        ),
        (
            "net",
            Rule::new(Strategy::Hash),
            SqlType::simple(BaseType::Cidr, "cidr"),
        ),
        (
            "id",
            Rule::unique(Strategy::Hash),
            SqlType::simple(BaseType::Uuid, "uuid"),
        ),
        (
            "blob",
            Rule::new(Strategy::Hash),
            SqlType::simple(BaseType::Bytea, "bytea"),
        ),
        (
            "d",
            Rule::new(Strategy::Shift { max_days: 30 }),
            SqlType::simple(BaseType::Date, "date"),
        ),
        (
            "dob",
            Rule::new(Strategy::fake(FakeKind::DateOfBirth)),
            SqlType::simple(BaseType::Date, "date"),
        ),
        (
            "ts",
            Rule::new(Strategy::Generalise(Generalise::Month)),
            SqlType::simple(BaseType::Timestamp, "timestamp without time zone"),
        ),
        (
            "tstz",
            Rule::new(Strategy::Shift { max_days: 10 }),
            SqlType::simple(BaseType::Timestamptz, "timestamp with time zone"),
        ),
        (
            "i2",
            Rule::unique(Strategy::Hash),
            SqlType::simple(BaseType::Int2, "smallint"),
        ),
        (
            "i8",
            Rule::new(Strategy::Hash),
            SqlType::simple(BaseType::Int8, "bigint"),
        ),
        (
            "f4",
            Rule::new(Strategy::Generalise(Generalise::Bucket(0.5))),
            SqlType::simple(BaseType::Float4, "real"),
        ),
        (
            "f8",
            Rule::new(Strategy::Hash),
            SqlType::simple(BaseType::Float8, "double precision"),
        ),
        (
            "b",
            Rule::new(Strategy::Hash),
            SqlType::simple(BaseType::Bool, "boolean"),
        ),
        (
            "nm",
            Rule::unique(Strategy::fake(FakeKind::Username)),
            SqlType::simple(BaseType::Name, "name"),
        ),
        (
            "pw",
            Rule::new(Strategy::Const(DEV_PASSWORD_BCRYPT.into())),
            sql_type(BaseType::Varchar, "character varying(60)", Some(60)),
        ),
        (
            "r",
            Rule::new(Strategy::Redact),
            SqlType::simple(BaseType::Text, "text"),
        ),
        (
            "nl",
            Rule::new(Strategy::Null),
            SqlType::simple(BaseType::Text, "text"),
        ),
        (
            "fn",
            Rule::new(Strategy::fake(FakeKind::Name)),
            SqlType::simple(BaseType::Text, "text"),
        ),
        (
            "note",
            Rule::new(Strategy::fake(FakeKind::Paragraph)),
            SqlType::simple(BaseType::Text, "text"),
        ),
        (
            "phone",
            Rule::new(Strategy::fake(FakeKind::Phone)),
            sql_type(BaseType::Varchar, "character varying(20)", Some(20)),
        ),
        (
            "dates",
            Rule::new(Strategy::Shift { max_days: 3 }),
            array(SqlType::simple(BaseType::Date, "date[]")),
        ),
    ]
}

fn session(client: &mut Client) {
    client
        .batch_execute(
            "SET DateStyle = ISO; SET TimeZone = 'UTC'; SET bytea_output = hex; SET extra_float_digits = 3;",
        )
        .expect("session settings");
}

#[test]
fn transform_outputs_load_in_text_and_binary_copy() {
    let db = TestDb::new("transform_outputs_load");
    db.exec(SCHEMA);
    db.exec(FILL);
    db.exec("CREATE TABLE out_text (LIKE cols); CREATE TABLE out_binary (LIKE cols);");
    let mut client = db.client();
    session(&mut client);
    let columns = columns();
    let salt = Salt::new("integration-salt");

    for (format, table, option) in [
        (Format::Text, "out_text", "text"),
        (Format::Binary, "out_binary", "binary"),
    ] {
        let mut transforms: Vec<ColumnTransform> = columns
            .iter()
            .map(|(name, rule, sql_type)| {
                assert!(pullprod::transform::supports_binary(sql_type) || format == Format::Text);
                ColumnTransform::new(rule, sql_type, format, &salt)
                    .unwrap_or_else(|err| panic!("column `{name}`: {err}"))
            })
            .collect();
        let mut source = Vec::new();
        client
            .copy_out(&format!("COPY cols TO STDOUT (FORMAT {option})"))
            .expect("copy out")
            .read_to_end(&mut source)
            .expect("read copy");
        let rows = match format {
            Format::Text => parse_text_copy(&source),
            Format::Binary => parse_binary_copy(&source),
        };
        assert_eq!(rows.len(), 400);
        let mut encoded = Vec::new();
        if format == Format::Binary {
            encoded.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
            encoded.extend_from_slice(&[0; 8]);
        }
        let mut value = Vec::new();
        for row in &rows {
            // The last column, `rk`, is kept (passed through) to match rows up afterwards.
            assert_eq!(row.len(), columns.len() + 1);
            if format == Format::Binary {
                encoded.extend_from_slice(&(row.len() as i16).to_be_bytes());
            }
            for (i, (field, transform)) in row.iter().zip(&mut transforms).enumerate() {
                value.clear();
                let written = transform
                    .apply(field.as_deref(), &mut value)
                    .unwrap_or_else(|err| panic!("column `{}` ({option}): {err}", columns[i].0));
                let output = (written == Written::Value).then_some(value.as_slice());
                match format {
                    Format::Text => {
                        if i > 0 {
                            encoded.push(b'\t');
                        }
                        escape_text(output, &mut encoded);
                    }
                    Format::Binary => match output {
                        None => encoded.extend_from_slice(&(-1i32).to_be_bytes()),
                        Some(bytes) => {
                            encoded.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
                            encoded.extend_from_slice(bytes);
                        }
                    },
                }
            }
            let key = row.last().expect("rk").as_deref();
            match format {
                Format::Text => {
                    encoded.push(b'\t');
                    escape_text(key, &mut encoded);
                }
                Format::Binary => {
                    let key = key.expect("rk is never NULL");
                    encoded.extend_from_slice(&(key.len() as i32).to_be_bytes());
                    encoded.extend_from_slice(key);
                }
            }
            if format == Format::Text {
                encoded.push(b'\n');
            }
        }
        if format == Format::Binary {
            encoded.extend_from_slice(&(-1i16).to_be_bytes());
        }
        let mut writer = client
            .copy_in(&format!("COPY {table} FROM STDIN (FORMAT {option})"))
            .expect("copy in");
        writer.write_all(&encoded).expect("write rows");
        writer
            .finish()
            .unwrap_or_else(|err| panic!("PostgreSQL rejected the {option} output: {err:?}"));
    }

    // Both formats gave the same logical output, row for row.
    let dump = |client: &mut Client, table: &str| -> String {
        client
            .query_one(
                &format!("SELECT string_agg(t::text, E'\\n' ORDER BY t::text) FROM {table} t"),
                &[],
            )
            .expect("dump")
            .get(0)
    };
    let text_rows = dump(&mut client, "out_text");
    let binary_rows = dump(&mut client, "out_binary");
    assert!(text_rows.len() > 400 * 100);
    if text_rows != binary_rows {
        let first_difference = text_rows
            .lines()
            .zip(binary_rows.lines())
            .position(|(a, b)| a != b);
        panic!("text and binary outputs differ from line {first_difference:?}");
    }

    let count =
        |client: &mut Client, sql: &str| -> i64 { client.query_one(sql, &[]).expect(sql).get(0) };
    assert_eq!(count(&mut client, "SELECT count(*) FROM out_text"), 400);
    assert_eq!(count(&mut client, "SELECT count(*) FROM out_binary"), 400);
    // No original value survives in a pseudonymised column, and NULLs stay where they were.
    // (`net`: a hashed IPv4 /16 has only 256 possible outputs in 10/8, so chance equality
    // with a 10.x source network is expected and carries no information.)
    for (column, _, _) in &columns {
        if matches!(
            *column,
            "net"
                | "pw"
                | "r"
                | "nl"
                | "md"
                | "b"
                | "c5"
                | "grid"
                | "tags"
                | "dates"
                | "amt"
                | "ts"
                | "f4"
                | "raw"
                | "doc"
                | "d"
                | "tstz"
                | "nums"
        ) {
            continue;
        }
        let same = count(
            &mut client,
            &format!(
                "SELECT count(*) FROM cols s JOIN out_text o ON s.rk = o.rk AND s.{column}::text = o.{column}::text \
                 AND s.{column}::text NOT IN ('', '\\x')"
            ),
        );
        assert_eq!(same, 0, "column `{column}` leaked original values");
    }
    for column in ["v12", "tags", "blob", "d", "tstz", "f8"] {
        let source_nulls = count(
            &mut client,
            &format!("SELECT count(*) FROM cols WHERE {column} IS NULL"),
        );
        let output_nulls = count(
            &mut client,
            &format!("SELECT count(*) FROM out_text WHERE {column} IS NULL"),
        );
        assert_eq!(source_nulls, output_nulls, "NULLs of `{column}`");
    }
    assert_eq!(
        count(
            &mut client,
            "SELECT count(*) FROM out_text WHERE nl IS NOT NULL"
        ),
        0
    );
    assert_eq!(
        count(
            &mut client,
            &format!("SELECT count(*) FROM out_text WHERE pw = '{DEV_PASSWORD_BCRYPT}'")
        ),
        400
    );
    assert_eq!(
        count(&mut client, "SELECT count(DISTINCT em) FROM out_text"),
        400
    );
    assert_eq!(
        count(&mut client, "SELECT count(DISTINCT id) FROM out_text"),
        400
    );
    assert_eq!(
        count(&mut client, "SELECT count(DISTINCT nm) FROM out_text"),
        400
    );
    assert_eq!(
        count(&mut client, "SELECT count(DISTINCT i2) FROM out_text"),
        count(&mut client, "SELECT count(DISTINCT i2) FROM cols")
    );
    assert_eq!(
        count(
            &mut client,
            "SELECT count(*) FROM out_text WHERE em NOT LIKE '%@example.%'"
        ),
        0
    );
    assert_eq!(
        count(
            &mut client,
            "SELECT count(*) FROM out_text WHERE r <> '[redacted]'"
        ),
        0
    );
    assert_eq!(
        count(
            &mut client,
            "SELECT count(*) FROM out_text WHERE NOT (ip << inet '10.0.0.0/8' OR ip << inet '2001:db8::/32')"
        ),
        0
    );
    assert_eq!(
        count(
            &mut client,
            "SELECT count(*) FROM out_text WHERE dob NOT BETWEEN '1940-01-01' AND '2006-12-31'"
        ),
        0
    );
    assert_eq!(
        count(
            &mut client,
            "SELECT count(*) FROM out_text WHERE date_trunc('month', ts) <> ts"
        ),
        0
    );
    assert_eq!(
        count(
            &mut client,
            "SELECT count(*) FROM out_text o JOIN cols s ON s.rk = o.rk WHERE isfinite(s.d) AND abs(o.d - s.d) > 30 OR isfinite(s.d) <> isfinite(o.d)"
        ),
        0
    );
    // Array shape and NULL elements survive.
    assert_eq!(
        count(
            &mut client,
            "SELECT count(*) FROM out_text WHERE array_dims(grid) = '[1:2][1:2]' AND grid[1][2] IS NULL"
        ),
        400
    );
    assert_eq!(
        count(
            &mut client,
            "SELECT count(*) FROM out_text WHERE cardinality(tags) = 5 AND tags[2] IS NULL"
        ),
        count(
            &mut client,
            "SELECT count(*) FROM cols WHERE cardinality(tags) = 5"
        )
    );
    // JSON: kept paths untouched, rules applied only at their paths.
    assert_eq!(
        count(
            &mut client,
            "SELECT count(*) FROM out_text o JOIN cols s ON s.rk = o.rk WHERE o.doc->>'keep' = s.doc->>'keep' AND o.doc->'items'->1 = s.doc->'items'->1 AND o.doc->>'email' LIKE '%@example.%'"
        ),
        400
    );
    assert_eq!(
        count(
            &mut client,
            "SELECT count(*) FROM out_text WHERE raw->>'note' = 'kept' AND raw->>'email' LIKE '%@example.%'"
        ),
        400
    );
}

/// Binary inputs produced by PostgreSQL itself decode to the same values as the text ones.
#[test]
fn binary_decoders_read_postgres_send_output() {
    let db = TestDb::new("transform_binary_decoders");
    let mut client = db.client();
    session(&mut client);
    let cases: &[(&str, SqlType)] = &[
        (
            "-12345678.900100::numeric",
            SqlType::simple(BaseType::Numeric, "numeric"),
        ),
        (
            "0.000001::numeric",
            SqlType::simple(BaseType::Numeric, "numeric"),
        ),
        (
            "'NaN'::numeric",
            SqlType::simple(BaseType::Numeric, "numeric"),
        ),
        (
            "1e30::numeric",
            SqlType::simple(BaseType::Numeric, "numeric"),
        ),
        (
            "'0044-03-15 BC'::date",
            SqlType::simple(BaseType::Date, "date"),
        ),
        (
            "'294276-12-31 23:59:59.999999'::timestamp",
            SqlType::simple(BaseType::Timestamp, "timestamp"),
        ),
        (
            "'1999-01-08 04:05:06.5+02'::timestamptz",
            SqlType::simple(BaseType::Timestamptz, "timestamptz"),
        ),
        (
            "'::ffff:1.2.3.4/100'::inet",
            SqlType::simple(BaseType::Inet, "inet"),
        ),
        (
            "'192.168.0.0/16'::cidr",
            SqlType::simple(BaseType::Cidr, "cidr"),
        ),
        (
            "'{\"a\": [1, {\"b\": null}]}'::jsonb",
            SqlType::simple(BaseType::Jsonb, "jsonb"),
        ),
        (
            "'1.17549435e-38'::float4",
            SqlType::simple(BaseType::Float4, "float4"),
        ),
        (
            "'-0.1'::float8",
            SqlType::simple(BaseType::Float8, "float8"),
        ),
        (
            "'\\x00ff'::bytea",
            SqlType::simple(BaseType::Bytea, "bytea"),
        ),
    ];
    let salt = Salt::new("s");
    for (expression, sql_type) in cases {
        let fetch = |client: &mut Client, option: &str| -> Vec<u8> {
            let mut data = Vec::new();
            client
                .copy_out(&format!(
                    "COPY (SELECT {expression}) TO STDOUT (FORMAT {option})"
                ))
                .expect("copy out")
                .read_to_end(&mut data)
                .expect("read");
            data
        };
        let text_rows = parse_text_copy(&fetch(&mut client, "text"));
        let binary_rows = parse_binary_copy(&fetch(&mut client, "binary"));
        // `hash` outputs depend only on the decoded value: equal outputs mean equal decodes.
        let mut outputs = Vec::new();
        for (format, rows) in [(Format::Text, &text_rows), (Format::Binary, &binary_rows)] {
            let mut transform =
                ColumnTransform::new(&Rule::new(Strategy::Hash), sql_type, format, &salt)
                    .expect("builds");
            let mut out = Vec::new();
            transform
                .apply(rows[0][0].as_deref(), &mut out)
                .unwrap_or_else(|err| panic!("{expression}: {err}"));
            outputs.push(out);
        }
        let binary_as_text = render_binary(&mut client, sql_type, &outputs[1]);
        assert_eq!(
            String::from_utf8_lossy(&outputs[0]),
            String::from_utf8_lossy(&binary_as_text),
            "{expression}"
        );
    }
}

/// Let PostgreSQL read a binary value (via binary COPY) and print it as text.
fn render_binary(client: &mut Client, sql_type: &SqlType, bytes: &[u8]) -> Vec<u8> {
    let type_name = match sql_type.base {
        BaseType::Numeric => "numeric",
        BaseType::Date => "date",
        BaseType::Timestamp => "timestamp",
        BaseType::Timestamptz => "timestamptz",
        BaseType::Inet => "inet",
        BaseType::Cidr => "cidr",
        BaseType::Float4 => "float4",
        BaseType::Float8 => "float8",
        BaseType::Bytea => "bytea",
        BaseType::Jsonb => "jsonb",
        _ => "text",
    };
    client
        .batch_execute(&format!(
            "DROP TABLE IF EXISTS render; CREATE TEMP TABLE render (v {type_name})"
        ))
        .expect("render table");
    let mut data = b"PGCOPY\n\xff\r\n\0".to_vec();
    data.extend_from_slice(&[0; 8]);
    data.extend_from_slice(&1i16.to_be_bytes());
    data.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
    data.extend_from_slice(bytes);
    data.extend_from_slice(&(-1i16).to_be_bytes());
    let mut writer = client
        .copy_in("COPY render FROM STDIN (FORMAT binary)")
        .expect("copy in");
    writer.write_all(&data).expect("write");
    writer
        .finish()
        .expect("PostgreSQL accepts the binary value");
    let mut text = Vec::new();
    client
        .copy_out("COPY render TO STDOUT")
        .expect("copy out")
        .read_to_end(&mut text)
        .expect("read");
    parse_text_copy(&text)
        .remove(0)
        .remove(0)
        .expect("not NULL")
}

/// `unique = true` over 10 million distinct inputs: no two outputs are equal (checked on
/// 64-bit fingerprints of the outputs, sorted).
#[test]
fn unique_outputs_do_not_collide_at_ten_million() {
    let salt = Salt::new("uniqueness");
    let cases = [
        (
            Rule::unique(Strategy::fake(FakeKind::Email)),
            sql_type(BaseType::Varchar, "character varying(60)", Some(60)),
        ),
        (
            Rule::unique(Strategy::Hash),
            sql_type(BaseType::Varchar, "character varying(20)", Some(20)),
        ),
    ];
    std::thread::scope(|scope| {
        for (rule, sql_type) in &cases {
            let salt = &salt;
            scope.spawn(move || {
                let mut transform =
                    ColumnTransform::new(rule, sql_type, Format::Binary, salt).expect("builds");
                let mut fingerprints = Vec::with_capacity(10_000_000);
                let mut input = Vec::new();
                let mut out = Vec::new();
                for i in 0..10_000_000u64 {
                    input.clear();
                    input.extend_from_slice(b"user-");
                    input.extend_from_slice(i.to_string().as_bytes());
                    out.clear();
                    transform.apply(Some(&input), &mut out).expect("applies");
                    fingerprints.push(fingerprint(&out));
                }
                fingerprints.sort_unstable();
                let duplicates = fingerprints
                    .windows(2)
                    .filter(|pair| pair[0] == pair[1])
                    .count();
                assert_eq!(
                    duplicates, 0,
                    "{:?} produced duplicate outputs",
                    rule.strategy
                );
            });
        }
    });
}

/// FNV-1a, 64 bits: a false duplicate among 10M values has odds of about 3e-6.
fn fingerprint(bytes: &[u8]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for &b in bytes {
        hash = (hash ^ b as u64).wrapping_mul(0x100_0000_01b3);
    }
    hash
}

/// COPY text rows: fields split on tabs, `\N` is NULL, backslash escapes undone.
fn parse_text_copy(data: &[u8]) -> Vec<Vec<Option<Vec<u8>>>> {
    let mut rows = Vec::new();
    for line in data.split(|b| *b == b'\n').filter(|line| !line.is_empty()) {
        let mut row = Vec::new();
        for field in line.split(|b| *b == b'\t') {
            if field == b"\\N" {
                row.push(None);
                continue;
            }
            let mut value = Vec::new();
            let mut i = 0;
            while i < field.len() {
                if field[i] == b'\\' && i + 1 < field.len() {
                    value.push(match field[i + 1] {
                        b'b' => 8,
                        b'f' => 12,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'v' => 11,
                        other => other,
                    });
                    i += 2;
                } else {
                    value.push(field[i]);
                    i += 1;
                }
            }
            row.push(Some(value));
        }
        rows.push(row);
    }
    rows
}

fn escape_text(value: Option<&[u8]>, out: &mut Vec<u8>) {
    let Some(value) = value else {
        out.extend_from_slice(b"\\N");
        return;
    };
    for &b in value {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => out.push(b),
        }
    }
}

/// COPY binary rows: the PGCOPY header, then per tuple a field count and length-prefixed fields.
fn parse_binary_copy(data: &[u8]) -> Vec<Vec<Option<Vec<u8>>>> {
    assert!(
        data.starts_with(b"PGCOPY\n\xff\r\n\0"),
        "binary COPY signature"
    );
    let extension = u32::from_be_bytes(data[15..19].try_into().unwrap()) as usize;
    let mut pos = 19 + extension;
    let mut rows = Vec::new();
    loop {
        let count = i16::from_be_bytes(data[pos..pos + 2].try_into().unwrap());
        pos += 2;
        if count < 0 {
            break;
        }
        let mut row = Vec::new();
        for _ in 0..count {
            let len = i32::from_be_bytes(data[pos..pos + 4].try_into().unwrap());
            pos += 4;
            if len < 0 {
                row.push(None);
            } else {
                row.push(Some(data[pos..pos + len as usize].to_vec()));
                pos += len as usize;
            }
        }
        rows.push(row);
    }
    rows
}
