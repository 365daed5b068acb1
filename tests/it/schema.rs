//! The catalog loader against a real server: types through domains and arrays, keys, partitions.

use pullprod::policy::model::TableName;
use pullprod::schema::{self, TableKind};
use pullprod::sqltype::BaseType;

use crate::support::TestDb;

#[test]
fn catalog_resolves_types_keys_and_partitions() {
    let db = TestDb::new("schema_catalog");
    db.exec(
        "CREATE TYPE mood AS ENUM ('sad', 'happy');
         CREATE DOMAIN short_code AS varchar(6) CHECK (VALUE <> '');
         CREATE TABLE people (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text UNIQUE,
             code short_code, moods mood[], price numeric(8,2), tags text[],
             boss int REFERENCES people(id), doubled int GENERATED ALWAYS AS (id * 2) STORED);
         CREATE TABLE events (at date NOT NULL, who int) PARTITION BY RANGE (at);
         CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
         CREATE SEQUENCE invoice_seq;
         CREATE MATERIALIZED VIEW people_count AS SELECT count(*) FROM people;",
    );
    let catalog = schema::load(&mut db.client()).expect("catalog loads");
    let people = catalog
        .table(&TableName {
            schema: "public".into(),
            name: "people".into(),
        })
        .expect("people");
    assert_eq!(people.primary_key, vec!["id"]);
    let col = |name: &str| people.column(name).expect(name);
    assert!(col("id").identity && col("id").binary_safe);
    assert!(col("email").unique);
    assert_eq!(col("code").sql_type.base, BaseType::Varchar);
    assert_eq!(col("code").sql_type.max_chars, Some(6));
    assert!(col("moods").sql_type.array && col("moods").sql_type.base == BaseType::Enum);
    assert_eq!(col("moods").sql_type.enum_labels, vec!["sad", "happy"]);
    assert!(
        !col("moods").binary_safe,
        "arrays of user types embed a per-database OID"
    );
    assert!(col("tags").binary_safe);
    assert_eq!(col("price").sql_type.numeric, Some((8, 2)));
    assert!(col("doubled").generated);
    assert_eq!(
        people.references("boss").map(|(t, c)| (t.name.as_str(), c)),
        Some(("people", "id"))
    );
    let events = catalog
        .table(&TableName {
            schema: "public".into(),
            name: "events".into(),
        })
        .expect("events");
    assert_eq!(events.kind, TableKind::Partitioned);
    let part = catalog
        .table(&TableName {
            schema: "public".into(),
            name: "events_2024".into(),
        })
        .expect("partition");
    assert_eq!(part.kind, TableKind::Partition);
    assert_eq!(
        part.parent.as_ref().map(|p| p.name.as_str()),
        Some("events")
    );
    assert!(catalog.sequences.iter().any(|s| s.name == "invoice_seq"));
    assert!(catalog.sequences.iter().any(|s| s.name == "people_id_seq"));
    assert!(catalog.matviews.iter().any(|m| m.name == "people_count"));
}
