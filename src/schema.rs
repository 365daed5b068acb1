//! The source catalog: tables, columns, types, keys and sequences, read from `pg_catalog`.
//! The model is plain data; `load` is the only function here that talks to a server.

use crate::policy::model::TableName;
use crate::sqltype::SqlType;

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
    /// `pg_total_relation_size`, bytes.
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
}

#[derive(Debug, Clone)]
pub struct ForeignKey {
    pub constraint: String,
    pub columns: Vec<String>,
    pub referenced_table: TableName,
    pub referenced_columns: Vec<String>,
}

impl Catalog {
    pub fn table(&self, name: &TableName) -> Option<&Table> {
        self.tables.iter().find(|table| &table.name == name)
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
