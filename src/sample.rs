//! Sampling values for the detector (G10): a bounded random sample of every table, read in the
//! caller's read-only session (for pull-prod, its snapshot), turned into findings at once. No
//! sampled value is kept, printed or returned.

use anyhow::Result;
use postgres::Client;

use crate::detect::{self, Sampled, Samples};
use crate::pgerror::PgContext;
use crate::policy::model::Policy;
use crate::schema::{Catalog, Column, Table};
use crate::sql::quote_ident;
use crate::sqltype::BaseType;

/// At most this many rows are read per table.
pub const MAX_ROWS: u64 = 1000;

/// Tables estimated above this many rows are sampled by pages (`TABLESAMPLE SYSTEM`) instead of
/// a full random ordering.
const SMALL_TABLE_ROWS: i64 = 20_000;
const SMALL_TABLE_BYTES: i64 = 32 << 20;

/// Which columns to sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The columns the policy keeps in clear (pull-prod).
    Kept,
    /// Kept columns and columns the policy does not classify yet (check-policy, `policy init`).
    KeptOrUnclassified,
}

/// Sample every table's columns in `scope` through `client` (already read-only, ideally in a
/// snapshot) and return the findings.
pub fn sample(
    client: &mut Client,
    policy: &Policy,
    catalog: &Catalog,
    scope: Scope,
) -> Result<Samples> {
    let mut samples = Samples::default();
    let (plan, _) = crate::plan::resolve(policy, catalog);
    for planned in &plan.tables {
        if !planned.holds_rows() || planned.action == crate::plan::Action::Skip {
            // A partitioned table is sampled through its partitions, which the plan lists too.
            continue;
        }
        if planned.rules_from.is_none() && scope == Scope::Kept {
            continue;
        }
        let Some(table) = catalog.table(&planned.table) else {
            continue;
        };
        // Partitions share their parent's rules: findings are recorded under the table the rule names.
        let rule_table = planned.rules_from.as_ref().unwrap_or(&planned.table);
        // Kept in clear (a kept foreign key that follows a transformed key is not), or not
        // classified yet when the scope asks for those too.
        let columns: Vec<&Column> = planned
            .columns
            .iter()
            .filter(|planned_column| detect::is_sampled(&planned_column.column))
            .filter(|planned_column| match &planned_column.rule {
                Some(rule) => rule.is_keep(),
                None => scope == Scope::KeptOrUnclassified,
            })
            .filter_map(|planned_column| table.column(&planned_column.column.name))
            .collect();
        if columns.is_empty() {
            continue;
        }
        let names: Vec<String> = columns.iter().map(|column| column.name.clone()).collect();
        let rows = client
            .query(sample_sql(table, &columns).as_str(), &[])
            .data_context(&table.name, &names, "failed to sample values")?;
        for row in rows {
            for (idx, column) in columns.iter().enumerate() {
                // A value the client cannot decode (an SQL_ASCII source's bytes that are not
                // UTF-8) is passed over: the sample judges what it can read.
                let value = match read_as(column) {
                    Read::Bytes => row
                        .try_get::<_, Option<Vec<u8>>>(idx)
                        .ok()
                        .flatten()
                        .map(|bytes| (None, Some(bytes))),
                    _ => row
                        .try_get::<_, Option<String>>(idx)
                        .ok()
                        .flatten()
                        .map(|text| (Some(text), None)),
                };
                let Some((text, bytes)) = value else {
                    continue;
                };
                let sampled = match (read_as(column), &text, &bytes) {
                    (Read::Text, Some(text), _) => Sampled::Text(text),
                    (Read::Json, Some(text), _) => Sampled::Json(text),
                    (Read::Xml, Some(text), _) => Sampled::Xml(text),
                    (Read::Bytes, _, Some(bytes)) => Sampled::Bytes(bytes),
                    _ => continue,
                };
                samples.add_value(rule_table, &column.name, sampled);
            }
        }
    }
    Ok(samples)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Read {
    Text,
    Json,
    Xml,
    Bytes,
}

fn read_as(column: &Column) -> Read {
    let base = &column.sql_type.base;
    match base {
        _ if column.sql_type.array => Read::Json,
        BaseType::Json | BaseType::Jsonb => Read::Json,
        BaseType::Bytea => Read::Bytes,
        BaseType::Other(name) if name == "xml" => Read::Xml,
        _ => Read::Text,
    }
}

/// `SELECT … FROM t TABLESAMPLE SYSTEM (p) LIMIT n` for a big table (random pages, read in
/// a fraction of the time), `… ORDER BY random() LIMIT n` for a small one: random rows across
/// the table either way, never just the first ones.
fn sample_sql(table: &Table, columns: &[&Column]) -> String {
    let exprs: Vec<String> = columns
        .iter()
        .map(|column| {
            let ident = quote_ident(&column.name);
            match read_as(column) {
                Read::Bytes => format!("substring({ident} from 1 for 16)"),
                Read::Json if column.sql_type.array => format!("array_to_json({ident})::text"),
                _ => format!("{ident}::text"),
            }
        })
        .collect();
    let estimated_rows = if table.estimated_rows > 0 {
        table.estimated_rows
    } else {
        // Never analysed: guess from the size on disk.
        table.total_bytes / 100
    };
    let from = if estimated_rows <= SMALL_TABLE_ROWS && table.total_bytes <= SMALL_TABLE_BYTES {
        format!("{} ORDER BY random()", table.name.quoted())
    } else {
        let percent = (300.0 * MAX_ROWS as f64 / estimated_rows.max(1) as f64).clamp(0.01, 100.0);
        format!("{} TABLESAMPLE SYSTEM ({percent:.4})", table.name.quoted())
    };
    format!("SELECT {} FROM {from} LIMIT {MAX_ROWS}", exprs.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::model::TableName;
    use crate::schema::TableKind;
    use crate::sqltype::SqlType;

    fn table(estimated_rows: i64, total_bytes: i64) -> Table {
        Table {
            name: TableName {
                schema: "public".into(),
                name: "events".into(),
            },
            kind: TableKind::Ordinary,
            parent: None,
            columns: Vec::new(),
            primary_key: Vec::new(),
            foreign_keys: Vec::new(),
            estimated_rows,
            total_bytes,
            row_security: false,
        }
    }

    fn column(name: &str, base: BaseType, array: bool) -> Column {
        let mut sql_type = SqlType::simple(base, "t");
        sql_type.array = array;
        Column::new(name, sql_type)
    }

    #[test]
    fn small_tables_are_shuffled_big_ones_sampled_by_pages() {
        let columns = [
            column("note", BaseType::Text, false),
            column("tags", BaseType::Text, true),
            column("photo", BaseType::Bytea, false),
            column("doc", BaseType::Other("xml".into()), false),
        ];
        let refs: Vec<&Column> = columns.iter().collect();
        assert_eq!(
            sample_sql(&table(500, 1 << 20), &refs),
            "SELECT \"note\"::text, array_to_json(\"tags\")::text, substring(\"photo\" from 1 for 16), \"doc\"::text \
             FROM \"public\".\"events\" ORDER BY random() LIMIT 1000"
        );
        assert_eq!(
            sample_sql(&table(30_000_000, 8 << 30), &refs[..1]),
            "SELECT \"note\"::text FROM \"public\".\"events\" TABLESAMPLE SYSTEM (0.0100) LIMIT 1000"
        );
        assert_eq!(
            sample_sql(&table(-1, 1 << 30), &refs[..1]),
            "SELECT \"note\"::text FROM \"public\".\"events\" TABLESAMPLE SYSTEM (0.0279) LIMIT 1000"
        );
    }
}
