//! The source catalog: tables, columns, types, keys and sequences, read from `pg_catalog`.
//! The model is plain data; `load` is the only function here that talks to a server.

use std::collections::HashMap;

use anyhow::Result;
use postgres::Client;

use crate::pgerror::PgContext;
use crate::policy::model::TableName;
use crate::sqltype::{BaseType, SqlType};

/// Everything pullprod needs to know about a database's user tables.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Ordinary and partitioned tables of every user schema, sorted by name.
    pub tables: Vec<Table>,
    pub sequences: Vec<TableName>,
    /// Materialized views, refreshed after the data is loaded.
    pub matviews: Vec<TableName>,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub name: TableName,
    pub kind: TableKind,
    /// For a partition: the partitioned table whose policy rules it follows.
    pub parent: Option<TableName>,
    /// Columns in attribute order, dropped columns left out.
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
    pub foreign_keys: Vec<ForeignKey>,
    /// `pg_class.reltuples`: the planner's row estimate (-1 when never analysed).
    pub estimated_rows: i64,
    /// Bytes of the table's rows (heap and TOAST, indexes left out): from `relpages` when the
    /// table has statistics, measured on disk otherwise (opening 100,000 relations to measure
    /// them is what made reading large catalogs slow). Orders the copy, largest first.
    pub total_bytes: i64,
    /// Row-level security is enabled on the table.
    pub row_security: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    Ordinary,
    /// A partitioned parent: holds no rows itself; its partitions are tables of their own.
    Partitioned,
    /// A partition of `parent` (rows are copied into the partition directly).
    Partition,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub sql_type: SqlType,
    pub not_null: bool,
    /// `GENERATED ALWAYS AS (…) STORED`: never copied, the target computes it.
    pub generated: bool,
    /// `GENERATED … AS IDENTITY`: copied as it is.
    pub identity: bool,
    /// A single-column unique constraint or unique index covers this column.
    pub unique: bool,
    /// Values can travel in COPY binary format between two databases: the type has binary
    /// I/O and no user-defined type OID is embedded in the value (as arrays of them do).
    pub binary_safe: bool,
}

#[derive(Debug, Clone)]
pub struct ForeignKey {
    pub constraint: String,
    pub columns: Vec<String>,
    pub referenced_table: TableName,
    pub referenced_columns: Vec<String>,
}

impl Catalog {
    /// The table called `name`, by binary search: `tables` is kept sorted by name (`load` and
    /// `sort` establish it), so lookups stay logarithmic in catalogs of 100,000 tables.
    pub fn table(&self, name: &TableName) -> Option<&Table> {
        self.tables
            .binary_search_by(|table| table.name.cmp(name))
            .ok()
            .map(|index| &self.tables[index])
    }

    /// Restore the order `table` relies on, after tables were added by hand.
    pub fn sort(&mut self) {
        self.tables.sort_by(|a, b| a.name.cmp(&b.name));
    }
}

impl Column {
    /// A plain nullable column of `sql_type`: no constraint, not generated, binary-safe.
    pub fn new(name: impl Into<String>, sql_type: SqlType) -> Column {
        Column {
            name: name.into(),
            sql_type,
            not_null: false,
            generated: false,
            identity: false,
            unique: false,
            binary_safe: true,
        }
    }
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|column| column.name == name)
    }

    /// The key this column references through a single-column foreign key, if any.
    pub fn references(&self, column: &str) -> Option<(&TableName, &str)> {
        self.foreign_keys.iter().find_map(|fk| {
            let idx = fk.columns.iter().position(|name| name == column)?;
            Some((&fk.referenced_table, fk.referenced_columns[idx].as_str()))
        })
    }
}

/// Schemas that are never user data: the system's, and pullprod's own audit schema.
pub const SYSTEM_SCHEMAS: &[&str] = &["pg_catalog", "information_schema", "pullprod"];

/// Read the catalog of the database `client` is connected to (in its current transaction,
/// so a source reads the snapshot the copy will use).
pub fn load(client: &mut Client) -> Result<Catalog> {
    let types = load_types(client)?;
    let relations = client
        .query(
            "SELECT c.oid, n.nspname, c.relname, c.relkind::text, c.relispartition, \
                    c.reltuples::float8, \
                    CASE WHEN c.relpages > 0 \
                         THEN (c.relpages::int8 + COALESCE(t.relpages, 0)) * current_setting('block_size')::int8 \
                         ELSE pg_relation_size(c.oid) + COALESCE(pg_relation_size(t.oid), 0) END, \
                    c.relrowsecurity, \
                    CASE WHEN c.relispartition THEN (SELECT rn.nspname FROM pg_class r \
                         JOIN pg_namespace rn ON rn.oid = r.relnamespace \
                         WHERE r.oid = pg_partition_root(c.oid)) END, \
                    CASE WHEN c.relispartition THEN (SELECT r.relname FROM pg_class r \
                         WHERE r.oid = pg_partition_root(c.oid)) END \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_class t ON t.oid = c.reltoastrelid \
             WHERE c.relkind IN ('r', 'p', 'S', 'm') \
               AND n.nspname <> ALL($1) AND n.nspname NOT LIKE 'pg\\_%' \
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass \
                               AND d.objid = c.oid AND d.deptype = 'e') \
             ORDER BY n.nspname, c.relname",
            &[&SYSTEM_SCHEMAS],
        )
        .pg_context("failed to read the list of tables from `pg_class`")?;
    let columns = client
        .query(
            "SELECT a.attrelid, a.attname, a.atttypid, a.atttypmod, format_type(a.atttypid, a.atttypmod), \
                    a.attnotnull, a.attgenerated <> '', a.attidentity <> '', \
                    EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisunique \
                            AND i.indnatts = 1 AND i.indkey[0] = a.attnum AND i.indpred IS NULL) \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') \
             ORDER BY a.attrelid, a.attnum",
            &[],
        )
        .pg_context("failed to read columns from `pg_attribute`")?;
    let keys = client
        .query(
            "SELECT i.indrelid, array_agg(a.attname ORDER BY k.ord) \
             FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
             WHERE i.indisprimary GROUP BY i.indrelid",
            &[],
        )
        .pg_context("failed to read primary keys from `pg_index`")?;
    let foreign_keys = client
        .query(
            "SELECT con.conrelid, con.conname, rn.nspname, r.relname, \
                    array(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, o) \
                          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.o), \
                    array(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, o) \
                          JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.o) \
             FROM pg_constraint con JOIN pg_class r ON r.oid = con.confrelid \
             JOIN pg_namespace rn ON rn.oid = r.relnamespace \
             WHERE con.contype = 'f' AND con.conparentid = 0 ORDER BY con.conrelid, con.conname",
            &[],
        )
        .pg_context("failed to read foreign keys from `pg_constraint`")?;

    let mut columns_by_table: HashMap<u32, Vec<Column>> = HashMap::new();
    for row in &columns {
        let relid: u32 = row.get(0);
        let type_oid: u32 = row.get(2);
        let typmod: i32 = row.get(3);
        let (sql_type, binary_safe) = types.resolve(type_oid, typmod, row.get(4));
        columns_by_table.entry(relid).or_default().push(Column {
            name: row.get(1),
            sql_type,
            not_null: row.get(5),
            generated: row.get(6),
            identity: row.get(7),
            unique: row.get(8),
            binary_safe,
        });
    }
    let mut keys_by_table: HashMap<u32, Vec<String>> =
        keys.iter().map(|row| (row.get(0), row.get(1))).collect();
    let mut fks_by_table: HashMap<u32, Vec<ForeignKey>> = HashMap::new();
    for row in &foreign_keys {
        fks_by_table
            .entry(row.get(0))
            .or_default()
            .push(ForeignKey {
                constraint: row.get(1),
                referenced_table: TableName {
                    schema: row.get(2),
                    name: row.get(3),
                },
                columns: row.get(4),
                referenced_columns: row.get(5),
            });
    }

    let mut catalog = Catalog::default();
    for row in &relations {
        let oid: u32 = row.get(0);
        let name = TableName {
            schema: row.get(1),
            name: row.get(2),
        };
        let relkind: String = row.get(3);
        match relkind.as_str() {
            "S" => catalog.sequences.push(name),
            "m" => catalog.matviews.push(name),
            _ => {
                let is_partition: bool = row.get(4);
                let parent = if is_partition {
                    Some(TableName {
                        schema: row.get(8),
                        name: row.get(9),
                    })
                } else {
                    None
                };
                let kind = match (relkind.as_str(), is_partition) {
                    ("p", _) => TableKind::Partitioned,
                    (_, true) => TableKind::Partition,
                    _ => TableKind::Ordinary,
                };
                let reltuples: f64 = row.get(5);
                catalog.tables.push(Table {
                    name,
                    kind,
                    parent,
                    columns: columns_by_table.remove(&oid).unwrap_or_default(),
                    primary_key: keys_by_table.remove(&oid).unwrap_or_default(),
                    foreign_keys: fks_by_table.remove(&oid).unwrap_or_default(),
                    estimated_rows: reltuples as i64,
                    total_bytes: row.get(6),
                    row_security: row.get(7),
                });
            }
        }
    }
    // The server's ORDER BY follows its collation; lookups need Rust's byte order.
    catalog.sort();
    Ok(catalog)
}

/// `pg_type` and `pg_enum`, to resolve domains and arrays to their base types.
struct Types {
    by_oid: HashMap<u32, TypeRow>,
    enum_labels: HashMap<u32, Vec<String>>,
}

struct TypeRow {
    name: String,
    /// `b` base, `d` domain, `e` enum, `c` composite, `r`/`m` range…
    kind: u8,
    base: u32,
    base_typmod: i32,
    element: u32,
    is_array: bool,
    has_binary_io: bool,
}

/// OIDs below this are built into PostgreSQL and the same in every database.
const FIRST_NORMAL_OID: u32 = 16384;

fn load_types(client: &mut Client) -> Result<Types> {
    let rows = client
        .query(
            "SELECT oid, typname, ascii(typtype), typbasetype, typtypmod, typelem, \
                    typcategory = 'A', typsend <> 0 AND typreceive <> 0 FROM pg_type",
            &[],
        )
        .pg_context("failed to read types from `pg_type`")?;
    let by_oid = rows
        .iter()
        .map(|row| {
            let kind: i32 = row.get(2);
            (
                row.get(0),
                TypeRow {
                    name: row.get(1),
                    kind: kind as u8,
                    base: row.get(3),
                    base_typmod: row.get(4),
                    element: row.get(5),
                    is_array: row.get(6),
                    has_binary_io: row.get(7),
                },
            )
        })
        .collect();
    let mut enum_labels: HashMap<u32, Vec<String>> = HashMap::new();
    for row in client
        .query(
            "SELECT enumtypid, enumlabel FROM pg_enum ORDER BY enumtypid, enumsortorder",
            &[],
        )
        .pg_context("failed to read enum labels from `pg_enum`")?
    {
        enum_labels.entry(row.get(0)).or_default().push(row.get(1));
    }
    Ok(Types {
        by_oid,
        enum_labels,
    })
}

impl Types {
    /// The column's type resolved through domains and arrays, and whether it is binary-safe.
    fn resolve(&self, oid: u32, typmod: i32, display: String) -> (SqlType, bool) {
        let mut oid = oid;
        let mut typmod = typmod;
        let mut array = false;
        let mut binary_safe = true;
        // Domains over arrays over domains…: at most a few levels in practice.
        for _ in 0..16 {
            let Some(row) = self.by_oid.get(&oid) else {
                break;
            };
            binary_safe &= row.has_binary_io;
            if row.kind == b'd' {
                oid = row.base;
                if row.base_typmod >= 0 {
                    typmod = row.base_typmod;
                }
                continue;
            }
            if row.is_array && row.element != 0 {
                array = true;
                oid = row.element;
                if oid >= FIRST_NORMAL_OID {
                    // Binary arrays carry their element type's OID, which differs between databases.
                    binary_safe = false;
                }
                continue;
            }
            break;
        }
        let row = self.by_oid.get(&oid);
        let base = match row {
            Some(row) if row.kind == b'e' => BaseType::Enum,
            Some(row) if row.kind == b'c' => {
                binary_safe = false;
                BaseType::Other(row.name.clone())
            }
            Some(row) => BaseType::from_typname(&row.name),
            None => BaseType::Other(format!("oid {oid}")),
        };
        let max_chars = match base {
            BaseType::Varchar | BaseType::Bpchar if typmod >= 4 => Some((typmod - 4) as u32),
            _ => None,
        };
        let numeric = match base {
            BaseType::Numeric if typmod >= 4 => {
                let packed = (typmod - 4) as u32;
                Some(((packed >> 16) as u16, (packed & 0xffff) as u16))
            }
            _ => None,
        };
        let enum_labels = self.enum_labels.get(&oid).cloned().unwrap_or_default();
        let sql_type = SqlType {
            display,
            base,
            array,
            max_chars,
            numeric,
            enum_labels,
        };
        (sql_type, binary_safe)
    }
}
