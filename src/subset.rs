//! Subsets: the rows of each table that `where`, `percent`, `limit`, `follow` and `nullify`
//! select, closed under foreign keys, as SQL evaluated by the source in the shared snapshot. Pure.
//!
//! How a slice is computed (every step is SQL; nothing is materialised on our side):
//!
//! 1. Every copied table gets a kind. A *root* has `where`, `percent` or `limit`; a *follower*
//!    has `follow`; a table with neither that references a root, a follower or another such
//!    table (through a foreign key not listed in `nullify`) is *restricted by closure*; every
//!    other table (lookup tables) is copied *whole*.
//! 2. The *downward* set `D` of each non-whole table: for a root, the rows matching its
//!    condition, its sample and its limit; for a follower, the rows that reference a row in the
//!    `D` of a followed table (and match its own `where`/`percent`/`limit`, if any); for a
//!    table restricted by closure, the rows whose every reference into non-whole tables is NULL
//!    or points into their `D`. These are non-recursive CTEs in dependency order (`follow`
//!    cycles are an error; other cycles are cut conservatively: the reference must be NULL).
//!    Each `D` carries the columns other tables' foreign keys reference (`k0`, `k1`, …), so a
//!    referencing table tests `(user_id) IN (SELECT k0 FROM D)`: one scan per table, one hash
//!    per reference, no join back to the referenced table.
//! 3. The *closure* `C`: the row identities `(tableoid, ctid)` of every `D`, plus the rows
//!    they reference, transitively, through every foreign key not listed in `nullify`. Only
//!    rows that can reference something new go through the recursive CTE (`pullprod_grow`:
//!    roots, followers, self-referencing tables and every row it adds; `UNION` keeps each row
//!    once, so self references and cycles terminate); the `D` of a table restricted by closure
//!    already references only chosen rows and is appended as it is (merged by `UNION` with
//!    the rows the recursion adds to that table, if it can add any). Every row appears once.
//! 4. A table's rows are `C` restricted to it; a `nullify` reference to a row outside `C`
//!    becomes NULL. `(tableoid, ctid)` names a row for the life of a snapshot, which every worker
//!    shares, so every worker sees the same slice, and no primary key is needed.
//!
//! Rows pulled in by the closure do not bring their own children: `follow` goes down from `D`
//! only, which keeps a slice small and its size predictable.

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{Code, Diagnostic};
use crate::policy::model::{Origin, Policy, TableAction, TableName, TableRule};
use crate::policy::validate::policy_table_name;
use crate::schema::{Catalog, ForeignKey, Table, TableKind};
use crate::sql::quote_ident;

/// What to copy from each table of a subset, keyed by the table rows are read from (ordinary
/// tables and partitions). Tables not listed are copied as they are.
#[derive(Debug, Clone, Default)]
pub struct Selections {
    by_table: BTreeMap<TableName, Selection>,
}

/// The rows (and nullified references) of one table, as SQL.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// `WITH RECURSIVE …`: the downward sets and the closure, shared by every table. Once
    /// materialised: the chosen rows of the tables `nullified` looks into, as a list, or nothing.
    with: String,
    /// Only rows in the closure (false: every row, some references nullified).
    restricted: bool,
    /// Columns replaced by `CASE WHEN <referenced row chosen> THEN column END`.
    nullified: Vec<(String, String)>,
    /// The tables (as named by the policy) whose chosen rows `nullified` looks into.
    nullify_parents: Vec<TableName>,
    /// Once materialised: this table's chosen rows, a `tid[]` literal read by TID scan.
    chosen: Option<String>,
}

/// Beyond this many chosen rows the closure is not held in memory (about 10 bytes a row): each
/// table's query evaluates it in the source instead, which is slower but bounded.
pub const MATERIALISE_MAX_ROWS: u64 = 2_000_000;

impl Selections {
    pub fn get(&self, table: &TableName) -> Option<&Selection> {
        self.by_table.get(table)
    }

    pub fn is_empty(&self) -> bool {
        self.by_table.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&TableName, &Selection)> {
        self.by_table.iter()
    }
}

impl Selection {
    /// `SELECT <columns> FROM ONLY <table> …`: the rows to copy, for `COPY (…) TO STDOUT`.
    pub fn query(&self, table: &TableName, columns: &[String]) -> String {
        let list = columns
            .iter()
            .map(
                |column| match self.nullified.iter().find(|(name, _)| name == column) {
                    Some((_, expr)) => format!("{expr} AS {}", quote_ident(column)),
                    None => format!("x.{}", quote_ident(column)),
                },
            )
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "{} SELECT {list} FROM ONLY {} x{}",
            self.with,
            table.quoted(),
            self.where_clause()
        )
    }

    /// `SELECT count(*) …`: how many rows `query` returns.
    pub fn count_query(&self, table: &TableName) -> String {
        format!(
            "{} SELECT count(*) FROM ONLY {} x{}",
            self.with,
            table.quoted(),
            self.where_clause()
        )
    }

    /// Only some rows are copied (as opposed to all rows with some references nullified).
    pub fn is_restricted(&self) -> bool {
        self.restricted
    }

    fn where_clause(&self) -> String {
        match (&self.chosen, self.restricted) {
            (_, false) => String::new(),
            (Some(tids), true) => format!(" WHERE x.ctid = ANY('{tids}'::tid[])"),
            (None, true) => {
                " WHERE (x.tableoid, x.ctid) IN (SELECT rel, rid FROM pullprod_reach)".to_string()
            }
        }
    }
}

/// Compute the closure once, in the snapshot `client` reads (every worker shares it), and
/// rewrite each selection to read its own chosen rows by TID: without this, every table's
/// query evaluated the whole closure again (issue: a 10 % slice spent 5 s per table selecting).
/// `selections` are keyed by the table rows are read from. Returns how many rows the closure
/// holds, or `None` when it holds more than `max_rows` (then nothing changes: each table's
/// query evaluates the closure in the source, slower but with bounded memory).
pub fn materialise<'a>(
    client: &mut postgres::Client,
    catalog: &Catalog,
    selections: impl IntoIterator<Item = (&'a TableName, &'a mut Selection)>,
    max_rows: u64,
) -> anyhow::Result<Option<u64>> {
    use crate::pgerror::PgContext;
    use postgres::fallible_iterator::FallibleIterator;
    let mut selections: Vec<(&TableName, &mut Selection)> = selections.into_iter().collect();
    let Some(with) = selections
        .first()
        .map(|(_, selection)| selection.with.clone())
    else {
        return Ok(Some(0));
    };
    let sql = format!(
        "{with} SELECT rel, rid::text FROM pullprod_reach LIMIT {}",
        max_rows + 1
    );
    // Per table its TIDs, already as the inside of a `tid[]` literal (`"(0,1)","(0,2)"`: about
    // ten bytes a row), and how many.
    let mut rows_by_oid: BTreeMap<u32, (String, usize)> = BTreeMap::new();
    let mut total = 0u64;
    // Row data: a failing condition's message may quote a value, so SQLSTATE only.
    let mut rows = client
        .query_raw(sql.as_str(), std::iter::empty::<&str>())
        .rows_context("failed to select the rows of the subset")?;
    while let Some(row) = rows
        .next()
        .rows_context("failed to select the rows of the subset")?
    {
        total += 1;
        if total > max_rows {
            return Ok(None);
        }
        let (list, count) = rows_by_oid.entry(row.get(0)).or_default();
        push_tid(list, row.get::<_, &str>(1));
        *count += 1;
    }
    drop(rows);
    let oids: Vec<u32> = rows_by_oid.keys().copied().collect();
    let names = client
        .query(
            "SELECT c.oid, n.nspname, c.relname FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ANY($1)",
            &[&oids],
        )
        .pg_context("failed to name the tables of the subset")?;
    let mut chosen: BTreeMap<TableName, (u32, String, usize)> = BTreeMap::new();
    for row in names {
        let oid: u32 = row.get(0);
        let table = TableName {
            schema: row.get(1),
            name: row.get(2),
        };
        let (list, count) = rows_by_oid.remove(&oid).unwrap_or_default();
        chosen.insert(table, (oid, list, count));
    }
    // The table a row table's rules (and references) are named by: its root, for a partition.
    let owner = |table: &TableName| -> TableName {
        match catalog.table(table).and_then(|t| t.parent.clone()) {
            Some(parent) => parent,
            None => table.clone(),
        }
    };
    for (table, selection) in &mut selections {
        selection.chosen = Some(if selection.restricted {
            let list = chosen.get(*table).map_or("", |(_, list, _)| list.as_str());
            format!("{{{list}}}")
        } else {
            String::new()
        });
        selection.with = if selection.nullify_parents.is_empty() {
            String::new()
        } else {
            let mut oids = String::new();
            let mut tids = String::new();
            for (row_table, (oid, list, count)) in &chosen {
                if *count == 0 || !selection.nullify_parents.contains(&owner(row_table)) {
                    continue;
                }
                for _ in 0..*count {
                    if !oids.is_empty() {
                        oids.push(',');
                    }
                    oids.push_str(&oid.to_string());
                }
                if !tids.is_empty() {
                    tids.push(',');
                }
                tids.push_str(list);
            }
            format!(
                "WITH pullprod_reach(rel, rid) AS (SELECT * FROM unnest('{{{oids}}}'::oid[], '{{{tids}}}'::tid[]))"
            )
        };
    }
    Ok(Some(total))
}

/// Append `"(0,1)"` to the inside of a `tid[]` literal (TIDs hold only digits, commas and
/// parentheses, so quoting them is enough).
fn push_tid(list: &mut String, tid: &str) {
    if !list.is_empty() {
        list.push(',');
    }
    list.push('"');
    list.push_str(tid);
    list.push('"');
}

/// True when the policy uses subset keys (`percent`, `limit`, `follow`, `nullify`). Without
/// them `where` is a plain filter on its own table, as it always was.
pub fn is_subset(policy: &Policy) -> bool {
    policy.tables.iter().any(|rule| rule.subset.is_used())
}

/// The selection of every table that is not copied whole, or every problem (as messages).
pub fn select(catalog: &Catalog, policy: &Policy) -> Result<Selections, Vec<String>> {
    if !is_subset(policy) {
        return Ok(Selections::default());
    }
    let catalog = &with_partition_keys(catalog);
    let problems = check(policy, catalog);
    if !problems.is_empty() {
        return Err(problems
            .into_iter()
            .map(|diagnostic| format!("{} [{}]", diagnostic.message, diagnostic.code))
            .collect());
    }
    let graph = Graph::new(catalog, policy);
    let order = match graph.order() {
        Ok(order) => order,
        Err(cycle) => return Err(vec![graph.cycle_message(&cycle)]),
    };
    Ok(graph.selections(catalog, &order))
}

/// Subset problems of `policy` against `catalog`: `follow` naming unknown tables or tables no
/// foreign key leads to, `follow` cycles, `nullify` columns that are no nullable reference.
pub fn check(policy: &Policy, catalog: &Catalog) -> Vec<Diagnostic> {
    if !is_subset(policy) {
        return Vec::new();
    }
    let catalog = &with_partition_keys(catalog);
    let mut diagnostics = Vec::new();
    for rule in &policy.tables {
        let Some(table) = catalog.table(&rule.table) else {
            continue;
        };
        let label = policy_table_name(&rule.table);
        for (parent, origin) in &rule.subset.follow {
            if catalog.table(parent).is_none() {
                let known = catalog
                    .tables
                    .iter()
                    .filter(|table| table.kind != TableKind::Partition)
                    .map(|table| policy_table_name(&table.name))
                    .collect::<Vec<_>>();
                let wanted = policy_table_name(parent);
                let help =
                    match crate::diag::did_you_mean(&wanted, known.iter().map(String::as_str)) {
                        Some(close) => format!("did you mean `{close}`?"),
                        None => {
                            "name a table of the database, `schema.table` outside `public`".into()
                        }
                    };
                diagnostics.push(
                    error(
                        Code::SubsetUnknownTable,
                        origin,
                        format!("`{label}.follow` names `{wanted}`, which is not in the database"),
                    )
                    .with_help(help),
                );
            } else if !table
                .foreign_keys
                .iter()
                .any(|fk| &fk.referenced_table == parent)
            {
                diagnostics.push(
                    error(
                        Code::SubsetNoForeignKey,
                        origin,
                        format!(
                            "`{label}` cannot follow `{}`: no foreign key of `{label}` references it",
                            policy_table_name(parent)
                        ),
                    )
                    .with_help(format!(
                        "follow a table `{label}` references, or give `{label}` its own `where`, `percent` or `limit`"
                    )),
                );
            } else if policy
                .table(parent)
                .is_some_and(|parent_rule| parent_rule.action == TableAction::Skip)
            {
                diagnostics.push(
                    error(
                        Code::SubsetNoForeignKey,
                        origin,
                        format!(
                            "`{label}` cannot follow `{}`: that table is `skip = true`, so no row of it is chosen",
                            policy_table_name(parent)
                        ),
                    )
                    .with_help("follow a table whose rows are copied".to_string()),
                );
            }
        }
        for (column, origin) in &rule.subset.nullify {
            if let Some(problem) = nullify_problem(table, rule, column) {
                diagnostics.push(
                    error(
                        Code::SubsetBadNullify,
                        origin,
                        format!("`{label}.nullify` lists `{column}`, {problem}"),
                    )
                    .with_help(
                        "list the nullable columns of foreign keys whose references may be dropped"
                            .to_string(),
                    ),
                );
            }
        }
    }
    if diagnostics.is_empty() && is_subset(policy) {
        let graph = Graph::new(catalog, policy);
        if let Err(cycle) = graph.order() {
            let first = cycle[0];
            let origin = graph.nodes[first]
                .rule
                .subset
                .follow
                .first()
                .map(|(_, origin)| origin.clone())
                .unwrap_or_else(|| graph.nodes[first].rule.origin.clone());
            diagnostics.push(
                error(Code::SubsetFollowCycle, &origin, graph.cycle_message(&cycle)).with_help(
                    "give one table of the cycle its own `where`, `percent` or `limit` instead of `follow`"
                        .to_string(),
                ),
            );
        }
    }
    crate::diag::sort(&mut diagnostics);
    diagnostics
}

/// Each `where` condition of a subset, as `(table, condition, origin)`: check-policy asks the
/// database to `EXPLAIN SELECT 1 FROM ONLY <table> WHERE (<condition>)`.
pub fn conditions(policy: &Policy) -> Vec<(TableName, String, Origin)> {
    policy
        .tables
        .iter()
        .filter_map(|rule| {
            let filter = rule.filter.as_ref()?;
            let origin = rule
                .subset
                .filter_origin
                .clone()
                .unwrap_or_else(|| rule.origin.clone());
            Some((rule.table.clone(), filter.clone(), origin))
        })
        .collect()
}

/// A `subset-bad-condition` diagnostic for a condition the database refused.
pub fn bad_condition(table: &TableName, origin: &Origin, reason: &str) -> Diagnostic {
    let label = policy_table_name(table);
    error(
        Code::SubsetBadCondition,
        origin,
        format!("`{label}.where` is not a valid condition on `{label}`: {reason}"),
    )
    .with_help("write a SQL boolean expression over the table's columns".to_string())
}

/// The catalog as slices see it: a partitioned table also owns the foreign keys declared on
/// its partitions only (pagila's `payment_p2022_01_customer_id_fkey`), and a key referencing a
/// partition references its partitioned table. Rows of other partitions then follow that key
/// too, which can only add referenced rows to a slice, never lose one.
fn with_partition_keys(catalog: &Catalog) -> Catalog {
    let root = |name: &TableName| -> TableName {
        catalog
            .table(name)
            .and_then(|table| table.parent.clone())
            .unwrap_or_else(|| name.clone())
    };
    let mut lifted = catalog.clone();
    for table in &mut lifted.tables {
        for fk in &mut table.foreign_keys {
            fk.referenced_table = root(&fk.referenced_table);
        }
    }
    let declared_below: Vec<(TableName, ForeignKey)> = lifted
        .tables
        .iter()
        .filter_map(|table| Some((table.parent.clone()?, &table.foreign_keys)))
        .flat_map(|(parent, keys)| keys.iter().map(move |fk| (parent.clone(), fk.clone())))
        .collect();
    for (parent, fk) in declared_below {
        let Some(owner) = lifted.tables.iter_mut().find(|table| table.name == parent) else {
            continue;
        };
        let known = owner.foreign_keys.iter().any(|own| {
            own.columns == fk.columns
                && own.referenced_table == fk.referenced_table
                && own.referenced_columns == fk.referenced_columns
        });
        if !known {
            owner.foreign_keys.push(fk);
        }
    }
    lifted
}

fn error(code: Code, origin: &Origin, message: String) -> Diagnostic {
    Diagnostic::error(code, &origin.file, origin.span.clone(), message)
}

fn nullify_problem(table: &Table, rule: &TableRule, column: &str) -> Option<String> {
    let Some(found) = table.column(column) else {
        return Some(format!("which is not a column of `{}`", table.name));
    };
    let Some(fk) = table
        .foreign_keys
        .iter()
        .find(|fk| fk.columns.iter().any(|name| name == column))
    else {
        return Some("which is not part of a foreign key".to_string());
    };
    if found.not_null {
        return Some("which is NOT NULL, so it cannot be set to NULL".to_string());
    }
    let missing: Vec<&String> = fk
        .columns
        .iter()
        .filter(|name| {
            !rule
                .subset
                .nullify
                .iter()
                .any(|(listed, _)| listed == *name)
        })
        .collect();
    if !missing.is_empty() {
        return Some(format!(
            "but not the other columns of foreign key `{}` ({})",
            fk.constraint,
            missing
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `where`, `percent` or `limit` (possibly with `follow` too).
    Root,
    /// `follow` only.
    Follower,
    /// References a non-whole table: restricted by closure.
    Implicit,
    Whole,
}

struct Node<'a> {
    table: &'a Table,
    rule: &'a TableRule,
    kind: Kind,
}

/// A downward dependency: `D` of `from` needs `D` of `to`. Hard edges are `follow`; soft ones
/// (restriction by closure) may be cut to break a cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Edge {
    from: usize,
    to: usize,
    hard: bool,
}

struct Graph<'a> {
    nodes: Vec<Node<'a>>,
    index: BTreeMap<&'a TableName, usize>,
}

/// How a downward dependency ended up.
struct Order {
    /// Node indices, dependencies first.
    nodes: Vec<usize>,
    /// Soft edges cut to break cycles.
    cut: BTreeSet<(usize, usize)>,
}

impl<'a> Graph<'a> {
    fn new(catalog: &'a Catalog, policy: &'a Policy) -> Graph<'a> {
        let mut nodes = Vec::new();
        for table in &catalog.tables {
            if table.kind == TableKind::Partition {
                continue;
            }
            let Some(rule) = policy.table(&table.name) else {
                continue;
            };
            if rule.action == TableAction::Skip {
                continue;
            }
            let kind = if rule.filter.is_some()
                || rule.subset.percent.is_some()
                || rule.subset.limit.is_some()
            {
                Kind::Root
            } else if !rule.subset.follow.is_empty() {
                Kind::Follower
            } else {
                Kind::Whole
            };
            nodes.push(Node { table, rule, kind });
        }
        let index = nodes
            .iter()
            .enumerate()
            .map(|(idx, node)| (&node.table.name, idx))
            .collect();
        let mut graph = Graph { nodes, index };
        // Restriction by closure spreads along references until nothing changes.
        loop {
            let mut changed = false;
            for idx in 0..graph.nodes.len() {
                if graph.nodes[idx].kind != Kind::Whole {
                    continue;
                }
                let restricts = graph
                    .references(idx)
                    .any(|(_, to)| to != idx && graph.nodes[to].kind != Kind::Whole);
                if restricts {
                    graph.nodes[idx].kind = Kind::Implicit;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        graph
    }

    /// Foreign keys of node `idx` into copied tables that are not nullified, with the target.
    fn references(&self, idx: usize) -> impl Iterator<Item = (&'a ForeignKey, usize)> + '_ {
        let node = &self.nodes[idx];
        node.table.foreign_keys.iter().filter_map(move |fk| {
            let to = *self.index.get(&fk.referenced_table)?;
            (!is_nullified(node.rule, fk)).then_some((fk, to))
        })
    }

    fn edges(&self, idx: usize) -> Vec<Edge> {
        let node = &self.nodes[idx];
        let mut edges = BTreeSet::new();
        match node.kind {
            Kind::Root | Kind::Follower => {
                for (parent, _) in &node.rule.subset.follow {
                    if let Some(&to) = self.index.get(parent)
                        && self.nodes[to].kind != Kind::Whole
                    {
                        edges.insert(Edge {
                            from: idx,
                            to,
                            hard: true,
                        });
                    }
                }
            }
            Kind::Implicit => {
                for (_, to) in self.references(idx) {
                    if to != idx && self.nodes[to].kind != Kind::Whole {
                        edges.insert(Edge {
                            from: idx,
                            to,
                            hard: false,
                        });
                    }
                }
            }
            Kind::Whole => {}
        }
        edges.into_iter().collect()
    }

    /// Dependencies first. A cycle of `follow` edges only is an error (its nodes); a cycle
    /// through a soft edge is broken by cutting that edge.
    fn order(&self) -> Result<Order, Vec<usize>> {
        let mut cut = BTreeSet::new();
        // Each restart cuts one more soft edge: at most as many restarts as edges.
        loop {
            match self.try_order(&cut) {
                Ok(nodes) => return Ok(Order { nodes, cut }),
                Err(Retry::Cut(edge)) => {
                    cut.insert(edge);
                }
                Err(Retry::Cycle(nodes)) => return Err(nodes),
            }
        }
    }

    fn try_order(&self, cut: &BTreeSet<(usize, usize)>) -> Result<Vec<usize>, Retry> {
        #[derive(Clone, Copy, PartialEq)]
        enum State {
            New,
            Visiting,
            Done,
        }
        let mut state = vec![State::New; self.nodes.len()];
        let mut order = Vec::new();
        for start in 0..self.nodes.len() {
            if state[start] != State::New {
                continue;
            }
            // Iterative DFS: the path holds (node, edge that led to it, next edge index).
            let mut path: Vec<(usize, Option<Edge>, usize)> = vec![(start, None, 0)];
            state[start] = State::Visiting;
            while let Some(&mut (node, _, ref mut next)) = path.last_mut() {
                let edges = self.edges(node);
                let Some(&edge) = edges.get(*next) else {
                    state[node] = State::Done;
                    order.push(node);
                    path.pop();
                    continue;
                };
                *next += 1;
                if cut.contains(&(edge.from, edge.to)) {
                    continue;
                }
                match state[edge.to] {
                    State::Done => {}
                    State::New => {
                        state[edge.to] = State::Visiting;
                        path.push((edge.to, Some(edge), 0));
                    }
                    State::Visiting => {
                        if !edge.hard {
                            return Err(Retry::Cut((edge.from, edge.to)));
                        }
                        let pos = path
                            .iter()
                            .position(|(on_path, _, _)| *on_path == edge.to)
                            .expect("a visiting node is on the path");
                        let soft = path[pos + 1..]
                            .iter()
                            .filter_map(|(_, via, _)| *via)
                            .find(|via| !via.hard);
                        return Err(match soft {
                            Some(soft) => Retry::Cut((soft.from, soft.to)),
                            None => {
                                Retry::Cycle(path[pos..].iter().map(|(node, _, _)| *node).collect())
                            }
                        });
                    }
                }
            }
        }
        Ok(order)
    }

    fn cycle_message(&self, cycle: &[usize]) -> String {
        let mut names: Vec<String> = cycle
            .iter()
            .map(|&idx| format!("`{}`", policy_table_name(&self.nodes[idx].table.name)))
            .collect();
        names.push(names[0].clone());
        format!(
            "`follow` goes round in a cycle: {}",
            names.join(" follows ")
        )
    }

    fn selections(&self, catalog: &Catalog, order: &Order) -> Selections {
        let restricted: Vec<usize> = (0..self.nodes.len())
            .filter(|&idx| self.nodes[idx].kind != Kind::Whole)
            .collect();
        if restricted.is_empty() {
            return Selections::default();
        }
        let mut ctes = Vec::new();
        for &idx in &order.nodes {
            if self.nodes[idx].kind == Kind::Whole {
                continue;
            }
            // No alias: a `where` condition may name its table (`users.created_at`).
            let table = self.nodes[idx].table.name.quoted();
            // The referenced columns ride along, so a table referencing this one tests its
            // keys against the set itself instead of joining the whole table back by TID.
            let keys: String = self
                .key_columns(idx)
                .iter()
                .enumerate()
                .map(|(n, column)| format!(", {table}.{} AS k{n}", quote_ident(column)))
                .collect();
            ctes.push(format!(
                "{} AS (SELECT {table}.tableoid AS rel, {table}.ctid AS rid{keys} FROM {table} WHERE {})",
                downward_cte(idx),
                self.downward(idx, &table, &order.cut)
            ));
        }
        // A row of a table restricted by closure is in its downward set only when every
        // reference it has (but one to its own table) already points into a downward set:
        // expanding it finds nothing new (`settled`). Only the other downward sets, and every
        // row the closure adds, go through the recursive closure (`pullprod_grow`), which
        // therefore holds a small part of the slice; every other downward set is appended as
        // it is. A settled table the closure can still add rows to (`reached`: referenced from
        // a table whose rows grow) has its downward set merged with those rows by `UNION`.
        let settled = |idx: usize| {
            self.nodes[idx].kind == Kind::Implicit && self.references(idx).all(|(_, to)| to != idx)
        };
        let mut grows: BTreeSet<usize> = restricted
            .iter()
            .copied()
            .filter(|&idx| !settled(idx))
            .collect();
        loop {
            let more: Vec<usize> = grows
                .iter()
                .flat_map(|&from| self.references(from).map(|(_, to)| to))
                .filter(|&to| self.nodes[to].kind != Kind::Whole && !grows.contains(&to))
                .collect();
            if more.is_empty() {
                break;
            }
            grows.extend(more);
        }
        // The tables rows live in (each partition of a partitioned table).
        let row_tables = |idx: usize| -> Vec<&TableName> {
            catalog
                .tables
                .iter()
                .filter(|table| match table.kind {
                    TableKind::Partitioned => false,
                    TableKind::Partition => {
                        table.parent.as_ref() == Some(&self.nodes[idx].table.name)
                    }
                    TableKind::Ordinary => table.name == self.nodes[idx].table.name,
                })
                .map(|table| &table.name)
                .collect()
        };
        let regclass =
            |table: &TableName| format!("{}::regclass", crate::sql::quote_literal(&table.quoted()));
        let seed = restricted
            .iter()
            .filter(|&&idx| !settled(idx))
            .map(|&idx| format!("SELECT rel, rid FROM {}", downward_cte(idx)))
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        let mut steps = Vec::new();
        for &from in &grows {
            for (fk, to) in self.references(from) {
                if self.nodes[to].kind == Kind::Whole {
                    continue;
                }
                // One step per table rows live in, gated on the row's table: `r.rel = …` is a
                // one-time filter, so a row of the closure is looked up by TID in its own table
                // only, not in every table of every step.
                for row_table in row_tables(from) {
                    steps.push(format!(
                        "SELECT p.tableoid, p.ctid FROM ONLY {table} c JOIN {} p ON {} \
                         WHERE r.rel = {} AND c.ctid = r.rid",
                        self.nodes[to].table.name.quoted(),
                        key_equals("c", &fk.columns, "p", &fk.referenced_columns),
                        regclass(row_table),
                        table = row_table.quoted(),
                    ));
                }
            }
        }
        let grow = if steps.is_empty() {
            format!("pullprod_grow(rel, rid) AS ({seed})")
        } else {
            format!(
                "pullprod_grow(rel, rid) AS (SELECT rel, rid FROM ({seed}) pullprod_seed UNION \
                 SELECT n.rel, n.rid FROM pullprod_grow r CROSS JOIN LATERAL ({}) n(rel, rid))",
                steps.join(" UNION ALL ")
            )
        };
        ctes.push(grow);
        let (reached, apart): (Vec<usize>, Vec<usize>) = restricted
            .iter()
            .copied()
            .filter(|&idx| settled(idx))
            .partition(|idx| grows.contains(idx));
        let reached_tables: Vec<String> = reached
            .iter()
            .flat_map(|&idx| row_tables(idx))
            .map(regclass)
            .collect();
        let mut parts = vec![if reached_tables.is_empty() {
            "SELECT rel, rid FROM pullprod_grow".to_string()
        } else {
            format!(
                "SELECT rel, rid FROM pullprod_grow WHERE rel NOT IN ({})",
                reached_tables.join(", ")
            )
        }];
        parts.extend(
            apart
                .iter()
                .map(|&idx| format!("SELECT rel, rid FROM {}", downward_cte(idx))),
        );
        if !reached.is_empty() {
            let own: Vec<String> = reached
                .iter()
                .map(|&idx| format!("SELECT rel, rid FROM {}", downward_cte(idx)))
                .collect();
            parts.push(format!(
                "({} UNION SELECT rel, rid FROM pullprod_grow WHERE rel IN ({}))",
                own.join(" UNION ALL "),
                reached_tables.join(", ")
            ));
        }
        // Every row once: the parts hold rows of different tables, or are merged by `UNION`.
        ctes.push(format!(
            "pullprod_reach(rel, rid) AS ({})",
            parts.join(" UNION ALL ")
        ));
        let with = format!("WITH RECURSIVE {}", ctes.join(", "));

        let mut by_table = BTreeMap::new();
        for (idx, node) in self.nodes.iter().enumerate() {
            let nullified = self.nullified_columns(idx);
            let restricted = node.kind != Kind::Whole;
            if !restricted && nullified.is_empty() {
                continue;
            }
            let selection = Selection {
                with: with.clone(),
                restricted,
                nullified,
                nullify_parents: self.nullified_parents(idx),
                chosen: None,
            };
            // Rows live in the table itself, or in its partitions.
            for table in row_tables(idx) {
                by_table.insert(table.clone(), selection.clone());
            }
        }
        Selections { by_table }
    }

    /// The columns of node `idx` that foreign keys of copied tables reference, in a fixed
    /// order: its downward set carries them as `k0`, `k1`, ….
    fn key_columns(&self, idx: usize) -> Vec<String> {
        let name = &self.nodes[idx].table.name;
        let columns: BTreeSet<&String> = self
            .nodes
            .iter()
            .flat_map(|node| &node.table.foreign_keys)
            .filter(|fk| &fk.referenced_table == name)
            .flat_map(|fk| &fk.referenced_columns)
            .collect();
        columns.into_iter().cloned().collect()
    }

    /// The SQL condition on `alias` (a row of node `idx`) for membership in its downward set,
    /// followed by its `limit` (the first rows in key order) if any.
    fn downward(&self, idx: usize, alias: &str, cut: &BTreeSet<(usize, usize)>) -> String {
        let node = &self.nodes[idx];
        let condition = self.condition(idx, alias, cut);
        match node.rule.subset.limit {
            None => condition,
            Some(limit) => format!(
                "{condition} ORDER BY {} LIMIT {limit}",
                order_key(node.table, alias)
            ),
        }
    }

    /// The downward condition before `limit`: `where`, `percent`, `follow`, closure.
    fn condition(&self, idx: usize, alias: &str, cut: &BTreeSet<(usize, usize)>) -> String {
        let node = &self.nodes[idx];
        let mut own = Vec::new();
        if let Some(filter) = &node.rule.filter {
            own.push(format!("({filter})"));
        }
        if let Some(percent) = node.rule.subset.percent {
            let per_10000 = (percent * 100.0).round() as i64;
            own.push(format!(
                "(hashtextextended({}, 0) & 9223372036854775807) % 10000 < {per_10000}",
                row_key(node.table, alias)
            ));
        }
        let mut follows = Vec::new();
        for (parent, _) in &node.rule.subset.follow {
            let Some(&to) = self.index.get(parent) else {
                continue;
            };
            for fk in node
                .table
                .foreign_keys
                .iter()
                .filter(|fk| &fk.referenced_table == parent)
            {
                follows.push(self.references_chosen(alias, fk, to));
            }
        }
        if !follows.is_empty() {
            own.push(format!("({})", follows.join(" OR ")));
        }
        if node.kind == Kind::Implicit {
            for (fk, to) in self.references(idx) {
                if to == idx || self.nodes[to].kind == Kind::Whole {
                    continue;
                }
                let mut alternatives: Vec<String> = fk
                    .columns
                    .iter()
                    .map(|column| format!("{alias}.{} IS NULL", quote_ident(column)))
                    .collect();
                if !cut.contains(&(idx, to)) {
                    alternatives.push(self.references_chosen(alias, fk, to));
                }
                own.push(format!("({})", alternatives.join(" OR ")));
            }
        }
        if own.is_empty() {
            "true".to_string()
        } else {
            own.join(" AND ")
        }
    }

    /// `alias` references (through `fk`) a row in the downward set of node `to` (or any row of
    /// it, when `to` is copied whole).
    fn references_chosen(&self, alias: &str, fk: &ForeignKey, to: usize) -> String {
        let columns = fk
            .columns
            .iter()
            .map(|column| format!("{alias}.{}", quote_ident(column)))
            .collect::<Vec<_>>()
            .join(", ");
        let referenced = fk
            .referenced_columns
            .iter()
            .map(|column| format!("p.{}", quote_ident(column)))
            .collect::<Vec<_>>()
            .join(", ");
        let parent = &self.nodes[to];
        if parent.kind == Kind::Whole {
            format!(
                "({columns}) IN (SELECT {referenced} FROM {} p)",
                parent.table.name.quoted()
            )
        } else {
            let keys = self.key_columns(to);
            let carried = fk
                .referenced_columns
                .iter()
                .map(|column| {
                    let n = keys
                        .iter()
                        .position(|key| key == column)
                        .expect("every referenced column is carried");
                    format!("d.k{n}")
                })
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "({columns}) IN (SELECT {carried} FROM {} d)",
                downward_cte(to)
            )
        }
    }

    /// The non-whole tables the nullified foreign keys of node `idx` point into.
    fn nullified_parents(&self, idx: usize) -> Vec<TableName> {
        let node = &self.nodes[idx];
        let mut parents: Vec<TableName> = node
            .table
            .foreign_keys
            .iter()
            .filter(|fk| is_nullified(node.rule, fk))
            .filter_map(|fk| self.index.get(&fk.referenced_table))
            .filter(|&&to| self.nodes[to].kind != Kind::Whole)
            .map(|&to| self.nodes[to].table.name.clone())
            .collect();
        parents.sort();
        parents.dedup();
        parents
    }

    /// `(column, expression)` for each column of a nullified foreign key into a non-whole table.
    fn nullified_columns(&self, idx: usize) -> Vec<(String, String)> {
        let node = &self.nodes[idx];
        let mut conditions: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for fk in &node.table.foreign_keys {
            if !is_nullified(node.rule, fk) {
                continue;
            }
            let Some(&to) = self.index.get(&fk.referenced_table) else {
                continue;
            };
            if self.nodes[to].kind == Kind::Whole {
                continue;
            }
            let mut alternatives: Vec<String> = fk
                .columns
                .iter()
                .map(|column| format!("x.{} IS NULL", quote_ident(column)))
                .collect();
            alternatives.push(format!(
                "({}) IN (SELECT {} FROM {} p WHERE (p.tableoid, p.ctid) IN (SELECT rel, rid FROM pullprod_reach))",
                fk.columns
                    .iter()
                    .map(|column| format!("x.{}", quote_ident(column)))
                    .collect::<Vec<_>>()
                    .join(", "),
                fk.referenced_columns
                    .iter()
                    .map(|column| format!("p.{}", quote_ident(column)))
                    .collect::<Vec<_>>()
                    .join(", "),
                self.nodes[to].table.name.quoted()
            ));
            let condition = format!("({})", alternatives.join(" OR "));
            for column in &fk.columns {
                conditions
                    .entry(column.clone())
                    .or_default()
                    .push(condition.clone());
            }
        }
        conditions
            .into_iter()
            .map(|(column, conditions)| {
                let expr = format!(
                    "CASE WHEN {} THEN x.{} END",
                    conditions.join(" AND "),
                    quote_ident(&column)
                );
                (column, expr)
            })
            .collect()
    }
}

enum Retry {
    Cut((usize, usize)),
    Cycle(Vec<usize>),
}

fn downward_cte(idx: usize) -> String {
    format!("pullprod_d{idx}")
}

/// Every column of `fk` is listed in the table's `nullify`.
fn is_nullified(rule: &TableRule, fk: &ForeignKey) -> bool {
    fk.columns.iter().all(|column| {
        rule.subset
            .nullify
            .iter()
            .any(|(listed, _)| listed == column)
    })
}

/// `(c.a, c.b) = (p.x, p.y)`.
fn key_equals(
    left: &str,
    left_columns: &[String],
    right: &str,
    right_columns: &[String],
) -> String {
    let side = |alias: &str, columns: &[String]| {
        columns
            .iter()
            .map(|column| format!("{alias}.{}", quote_ident(column)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "({}) = ({})",
        side(left, left_columns),
        side(right, right_columns)
    )
}

/// The text hashed by `percent`: the primary key, else the whole row.
fn row_key(table: &Table, alias: &str) -> String {
    if table.primary_key.is_empty() {
        format!("ROW({alias}.*)::text")
    } else {
        format!(
            "ROW({})::text",
            table
                .primary_key
                .iter()
                .map(|column| format!("{alias}.{}", quote_ident(column)))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// The order `limit` takes the first rows in: the primary key, else the whole row's text.
fn order_key(table: &Table, alias: &str) -> String {
    if table.primary_key.is_empty() {
        format!("ROW({alias}.*)::text")
    } else {
        table
            .primary_key
            .iter()
            .map(|column| format!("{alias}.{}", quote_ident(column)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::validate::{PolicyFile, parse, table_name};
    use crate::schema::Column;
    use crate::sqltype::{BaseType, SqlType};

    /// `table: col, col!` (`!` = NOT NULL) and `fk: table(cols) -> table(cols)` lines.
    fn catalog(text: &str) -> Catalog {
        let mut catalog = Catalog::default();
        for line in text.lines().map(str::trim).filter(|line| !line.is_empty()) {
            if let Some(fk) = line.strip_prefix("fk:") {
                let (from, to) = fk.split_once("->").expect("fk: a(x) -> b(y)");
                let parse_side = |side: &str| {
                    let (table, columns) = side.trim().split_once('(').expect("table(cols)");
                    let columns: Vec<String> = columns
                        .trim_end_matches(')')
                        .split(',')
                        .map(|column| column.trim().to_string())
                        .collect();
                    (table_name(table), columns)
                };
                let (from_table, columns) = parse_side(from);
                let (referenced_table, referenced_columns) = parse_side(to);
                let table = catalog
                    .tables
                    .iter_mut()
                    .find(|table| table.name == from_table)
                    .expect("fk from a known table");
                table.foreign_keys.push(ForeignKey {
                    constraint: format!("{}_{}_fkey", from_table.name, columns.join("_")),
                    columns,
                    referenced_table,
                    referenced_columns,
                });
                continue;
            }
            let (name, columns) = line.split_once(':').expect("table: columns");
            catalog.tables.push(Table {
                name: table_name(name.trim()),
                kind: TableKind::Ordinary,
                parent: None,
                columns: columns
                    .split(',')
                    .map(|column| {
                        let column = column.trim();
                        Column {
                            name: column.trim_end_matches('!').to_string(),
                            sql_type: SqlType::simple(BaseType::Int4, "integer"),
                            not_null: column.ends_with('!'),
                            generated: false,
                            identity: false,
                            unique: false,
                            binary_safe: true,
                        }
                    })
                    .collect(),
                primary_key: vec!["id".to_string()],
                foreign_keys: Vec::new(),
                estimated_rows: 0,
                total_bytes: 0,
                row_security: false,
            });
        }
        catalog.sort();
        catalog
    }

    fn shop() -> Catalog {
        catalog(
            "
            countries: id!
            users: id!, country_id!, referred_by
            addresses: id!, user_id!
            orders: id!, user_id!, address_id
            order_items: id!, order_id!, line_no!, product_id!
            products: id!
            shipments: id!, order_id!, line_no!
            notes: id!, user_id
            fk: users(country_id) -> countries(id)
            fk: users(referred_by) -> users(id)
            fk: addresses(user_id) -> users(id)
            fk: orders(user_id) -> users(id)
            fk: orders(address_id) -> addresses(id)
            fk: order_items(order_id) -> orders(id)
            fk: order_items(product_id) -> products(id)
            fk: shipments(order_id, line_no) -> order_items(order_id, line_no)
            fk: notes(user_id) -> users(id)
            ",
        )
    }

    fn policy(text: &str) -> Policy {
        let parsed = parse(&[PolicyFile {
            path: "/p/policy/shop.toml".into(),
            text: text.to_string(),
        }]);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        parsed.policy
    }

    /// Every table of `catalog` classified as a whole-table keep, plus `extra` rules.
    fn policy_for(catalog: &Catalog, extra: &str) -> Policy {
        let mut text = String::new();
        for table in &catalog.tables {
            text.push_str(&format!(
                "[{}]\nkeep = {{ reason = \"test\" }}\n",
                table.name.name
            ));
            let header = format!("[{}]\n", table.name.name);
            if let Some(start) = extra.find(&header) {
                let rest = &extra[start + header.len()..];
                let end = rest.find("\n[").map(|end| end + 1).unwrap_or(rest.len());
                text.push_str(&rest[..end]);
            }
        }
        policy(&text)
    }

    fn kinds(catalog: &Catalog, policy: &Policy) -> String {
        let graph = Graph::new(catalog, policy);
        graph
            .nodes
            .iter()
            .map(|node| format!("{}={:?}", node.table.name.name, node.kind))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn kinds_spread_through_references() {
        let shop = shop();
        let policy = policy_for(
            &shop,
            "[users]\npercent = 5\n[addresses]\nfollow = \"users\"\n[orders]\nfollow = \"users\"\n\
             [order_items]\nfollow = \"orders\"\n[notes]\nnullify = [\"user_id\"]\n",
        );
        assert_eq!(
            kinds(&shop, &policy),
            "addresses=Follower countries=Whole notes=Whole order_items=Follower \
             orders=Follower products=Whole shipments=Implicit users=Root"
        );
        let selections = select(&shop, &policy).expect("selects");
        let names: Vec<&str> = selections
            .iter()
            .map(|(table, _)| table.name.as_str())
            .collect();
        // Whole tables are copied as they are; `notes` keeps every row but drops references.
        assert_eq!(
            names,
            [
                "addresses",
                "notes",
                "order_items",
                "orders",
                "shipments",
                "users"
            ]
        );
        let notes = selections.get(&table_name("notes")).unwrap();
        assert!(!notes.is_restricted());
        assert!(
            notes
                .query(&table_name("notes"), &["id".into(), "user_id".into()])
                .contains("CASE WHEN (x.\"user_id\" IS NULL OR (x.\"user_id\") IN")
        );
    }

    #[test]
    fn without_subset_keys_where_is_a_plain_filter() {
        let shop = shop();
        let policy = policy_for(&shop, "[users]\nwhere = \"id < 10\"\n");
        assert!(!is_subset(&policy));
        assert!(select(&shop, &policy).unwrap().is_empty());
    }

    #[test]
    fn selection_sql() {
        let shop = catalog(
            "
            users: id!, referred_by
            orders: id!, user_id!
            fk: users(referred_by) -> users(id)
            fk: orders(user_id) -> users(id)
            ",
        );
        let policy = policy_for(
            &shop,
            "[users]\npercent = 5\nwhere = \"id > 0\"\n[orders]\nfollow = \"users\"\nlimit = 10\n",
        );
        let selections = select(&shop, &policy).unwrap();
        let orders = table_name("orders");
        let sql = selections
            .get(&orders)
            .unwrap()
            .query(&orders, &["id".into(), "user_id".into()]);
        insta::assert_snapshot!(
            sql.replace(", pullprod_", ",\n  pullprod_")
                .replace(" SELECT x.", "\nSELECT x.")
        );
    }

    #[test]
    fn cycles_through_closure_are_cut_but_follow_cycles_are_errors() {
        let cyclic = catalog(
            "
            users: id!
            a: id!, user_id!, b_id
            b: id!, a_id!
            fk: a(user_id) -> users(id)
            fk: a(b_id) -> b(id)
            fk: b(a_id) -> a(id)
            ",
        );
        let policy = policy_for(&cyclic, "[users]\nlimit = 3\n");
        assert_eq!(kinds(&cyclic, &policy), "a=Implicit b=Implicit users=Root");
        let graph = Graph::new(&cyclic, &policy);
        let order = graph.order().expect("soft cycles are cut");
        assert_eq!(order.cut.len(), 1);
        assert_eq!(order.nodes.len(), 3);
        assert!(select(&cyclic, &policy).is_ok());

        let policy = policy_for(&cyclic, "[a]\nfollow = \"b\"\n[b]\nfollow = \"a\"\n");
        let err = select(&cyclic, &policy).unwrap_err();
        assert_eq!(
            err,
            ["`follow` goes round in a cycle: `a` follows `b` follows `a` [subset-follow-cycle]"]
        );

        // A follow edge closing a cycle with a closure edge: the closure edge is cut.
        let policy = policy_for(&cyclic, "[users]\nlimit = 3\n[b]\nfollow = \"a\"\n");
        assert_eq!(kinds(&cyclic, &policy), "a=Implicit b=Follower users=Root");
        assert!(select(&cyclic, &policy).is_ok());
    }

    fn check_diagnostics(extra: &str) -> String {
        let mut shop = shop();
        let addresses = shop
            .tables
            .iter_mut()
            .find(|table| table.name.name == "addresses")
            .expect("addresses");
        let note = Column {
            name: "note".into(),
            ..addresses.columns[0].clone()
        };
        addresses.columns.push(note);
        let policy = policy_for(&shop, extra);
        check(&policy, &shop)
            .iter()
            .map(|diagnostic| {
                format!(
                    "{}: {} ({})",
                    diagnostic.code,
                    diagnostic.message,
                    diagnostic.help.clone().unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn check_reports_bad_follow_and_nullify() {
        insta::assert_snapshot!(check_diagnostics(
            "[addresses]\nfollow = [\"user\", \"orders\", \"billing.accounts\"]\nnullify = [\"user_id\", \"nope\", \"note\"]\n\
             [shipments]\nnullify = [\"order_id\"]\n[orders]\nnullify = [\"address_id\"]\n"
        ));
        assert_eq!(check_diagnostics("[orders]\nfollow = \"users\"\n"), "");
    }
}
