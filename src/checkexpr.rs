//! CHECK constraints, domain checks and partition bounds for seed-dev: PostgreSQL's deparsed
//! expressions (`pg_get_constraintdef`, `pg_get_partition_constraintdef`) read into facts, then
//! value shapes per column. Pure: text in, shapes out; what is not understood gives nothing.

use crate::sqltype::{BaseType, SqlType};

/// A comparison operator, as written between two operands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Op {
    fn parse(text: &str) -> Option<Op> {
        Some(match text {
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "=" => Op::Eq,
            "<>" | "!=" => Op::Ne,
            _ => return None,
        })
    }

    /// The operator with its operands swapped: `a < b` is `b > a`.
    pub fn flipped(self) -> Op {
        match self {
            Op::Lt => Op::Gt,
            Op::Le => Op::Ge,
            Op::Gt => Op::Lt,
            Op::Ge => Op::Le,
            other => other,
        }
    }
}

/// The right-hand side of a bound on a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bound {
    /// A literal's text, unquoted (`'2024-01-01'::date` is `2024-01-01`, `(0)::numeric` is `0`).
    Literal(String),
    /// `now()`, `CURRENT_TIMESTAMP`, `CURRENT_DATE` and the like.
    Now,
}

/// What one constraint says about the columns of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// The column (possibly through `upper`/`lower`/a cast) is one of these literals.
    OneOf { column: String, values: Vec<String> },
    /// `column op bound`.
    Bound {
        column: String,
        op: Op,
        bound: Bound,
    },
    /// `left op right`, two columns of the row.
    Cross { left: String, op: Op, right: String },
    /// `length(column) op n` (also `char_length`, `character_length`).
    Length { column: String, op: Op, n: i64 },
    /// `column IS NULL` (`null`) or `IS NOT NULL`.
    Null { column: String, null: bool },
    /// `num_nonnulls(a, b, …) = 1`: exactly one of them holds a value.
    ExactlyOne(Vec<String>),
}

/// The facts of a constraint definition (`CHECK (…)`, a partition constraint or a bare
/// expression). Conjuncts not understood give no fact; of a disjunction, the first alternative
/// that forces no NULL and is fully understood is taken (else the first understood one).
/// In a domain's check the value is the column `VALUE`.
pub fn read(definition: &str) -> Vec<Fact> {
    let text = definition.trim();
    let text = text.strip_suffix("NOT VALID").unwrap_or(text).trim_end();
    let text = text.strip_prefix("CHECK").unwrap_or(text).trim_start();
    let tokens = tokenize(text);
    let mut parser = Parser { tokens, pos: 0 };
    let expr = parser.expr();
    let mut facts = Vec::new();
    facts_of(&expr, &mut facts);
    facts
}

/// A domain's facts about `VALUE`, as facts about `column`.
pub fn for_column(facts: &[Fact], column: &str) -> Vec<Fact> {
    let rename = |name: &String| {
        if name == "VALUE" {
            column.to_string()
        } else {
            name.clone()
        }
    };
    facts
        .iter()
        .map(|fact| match fact {
            Fact::OneOf { column, values } => Fact::OneOf {
                column: rename(column),
                values: values.clone(),
            },
            Fact::Bound { column, op, bound } => Fact::Bound {
                column: rename(column),
                op: *op,
                bound: bound.clone(),
            },
            Fact::Cross { left, op, right } => Fact::Cross {
                left: rename(left),
                op: *op,
                right: rename(right),
            },
            Fact::Length { column, op, n } => Fact::Length {
                column: rename(column),
                op: *op,
                n: *n,
            },
            Fact::Null { column, null } => Fact::Null {
                column: rename(column),
                null: *null,
            },
            Fact::ExactlyOne(columns) => Fact::ExactlyOne(columns.iter().map(rename).collect()),
        })
        .collect()
}

/// A parsed expression: only the shapes facts come from are told apart.
#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Column(String),
    Literal(String),
    Now,
    Func(String, Vec<Expr>),
    Compare(Op, Box<Expr>, Box<Expr>),
    /// `left op ANY (ARRAY[…])`.
    Any(Op, Box<Expr>, Vec<Expr>),
    IsNull(Box<Expr>, bool),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Other,
}

/// Adds the facts of `expr`; false when some part of it was not understood.
fn facts_of(expr: &Expr, facts: &mut Vec<Fact>) -> bool {
    match expr {
        Expr::And(parts) => {
            let mut all = true;
            for part in parts {
                all &= facts_of(part, facts);
            }
            all
        }
        Expr::Or(parts) => {
            let mut first_understood: Option<Vec<Fact>> = None;
            for part in parts {
                let mut found = Vec::new();
                if !facts_of(part, &mut found) {
                    continue;
                }
                let forces_null = found
                    .iter()
                    .any(|fact| matches!(fact, Fact::Null { null: true, .. }));
                if !forces_null {
                    facts.extend(found);
                    return true;
                }
                first_understood.get_or_insert(found);
            }
            match first_understood {
                Some(found) => {
                    facts.extend(found);
                    true
                }
                None => false,
            }
        }
        Expr::IsNull(inner, null) => match column_of(inner) {
            Some(column) => {
                facts.push(Fact::Null {
                    column,
                    null: *null,
                });
                true
            }
            None => false,
        },
        Expr::Any(Op::Eq, left, items) => {
            let values: Option<Vec<String>> = items.iter().map(literal_of).collect();
            match (column_of(left), values) {
                (Some(column), Some(values)) if !values.is_empty() => {
                    facts.push(Fact::OneOf { column, values });
                    true
                }
                _ => false,
            }
        }
        Expr::Compare(op, left, right) => compare_facts(*op, left, right, facts),
        _ => false,
    }
}

fn compare_facts(op: Op, left: &Expr, right: &Expr, facts: &mut Vec<Fact>) -> bool {
    // The constant on the left: flip so the column is on the left.
    let constant = |expr: &Expr| literal_of(expr).is_some() || matches!(expr, Expr::Now);
    if constant(left) && !constant(right) {
        return compare_facts(op.flipped(), right, left, facts);
    }
    if let Some((column, n)) = length_of(left).zip(literal_of(right)) {
        let Ok(n) = n.parse::<i64>() else {
            return false;
        };
        facts.push(Fact::Length { column, op, n });
        return true;
    }
    if let Expr::Func(name, args) = left
        && (name == "num_nonnulls" || name == "num_nulls")
        && op == Op::Eq
        && literal_of(right).is_some()
    {
        let columns: Option<Vec<String>> = args.iter().map(column_of).collect();
        let n: Option<usize> = literal_of(right).and_then(|n| n.parse().ok());
        if let (Some(columns), Some(n)) = (columns, n) {
            let exactly_one = if name == "num_nonnulls" {
                n == 1
            } else {
                n + 1 == columns.len()
            };
            if exactly_one {
                facts.push(Fact::ExactlyOne(columns));
                return true;
            }
        }
        return false;
    }
    let Some(column) = column_of(left) else {
        return false;
    };
    if matches!(right, Expr::Now) {
        facts.push(Fact::Bound {
            column,
            op,
            bound: Bound::Now,
        });
        return true;
    }
    if let Some(value) = literal_of(right) {
        facts.push(if op == Op::Eq {
            Fact::OneOf {
                column,
                values: vec![value],
            }
        } else {
            Fact::Bound {
                column,
                op,
                bound: Bound::Literal(value),
            }
        });
        return true;
    }
    if let Some(right) = plain_column(right)
        && plain_column(left).is_some()
    {
        facts.push(Fact::Cross {
            left: column,
            op,
            right,
        });
        return true;
    }
    false
}

/// A column, possibly through a cast, `upper`, `lower` or `btrim`.
fn column_of(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Column(name) => Some(name.clone()),
        Expr::Func(name, args)
            if args.len() == 1 && matches!(name.as_str(), "upper" | "lower" | "btrim") =>
        {
            column_of(&args[0])
        }
        _ => None,
    }
}

/// A column as it is (casts aside), for comparisons between two columns.
fn plain_column(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Column(name) => Some(name.clone()),
        _ => None,
    }
}

fn length_of(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Func(name, args)
            if args.len() == 1
                && matches!(name.as_str(), "length" | "char_length" | "character_length") =>
        {
            column_of(&args[0])
        }
        _ => None,
    }
}

fn literal_of(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Literal(text) => Some(text.clone()),
        _ => None,
    }
}

/// How values of an ordered type are counted: whole numbers, days, or seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ordinal {
    Integer,
    /// `numeric`, `real`, `double precision`: whole numbers are generated.
    Decimal,
    /// Days since 2000-01-01.
    Date,
    /// Seconds since 2000-01-01 00:00:00 UTC.
    Timestamp,
}

impl Ordinal {
    pub fn of(sql_type: &SqlType) -> Option<Ordinal> {
        if sql_type.array {
            return None;
        }
        Some(match &sql_type.base {
            BaseType::Int2 | BaseType::Int4 | BaseType::Int8 => Ordinal::Integer,
            BaseType::Numeric | BaseType::Float4 | BaseType::Float8 => Ordinal::Decimal,
            BaseType::Date => Ordinal::Date,
            BaseType::Timestamp | BaseType::Timestamptz => Ordinal::Timestamp,
            _ => return None,
        })
    }

    /// Where generated values start when nothing says otherwise: 1, or 2020-01-01.
    pub fn default_low(self) -> i64 {
        match self {
            Ordinal::Integer | Ordinal::Decimal => 1,
            Ordinal::Date => DAYS_2000_TO_2020,
            Ordinal::Timestamp => DAYS_2000_TO_2020 * 86_400,
        }
    }

    /// A literal in this unit, rounded towards the inside of `op`'s side.
    fn units(self, literal: &str, op: Op) -> Option<i64> {
        match self {
            Ordinal::Integer | Ordinal::Decimal => {
                let value: f64 = literal.parse().ok()?;
                if !value.is_finite() {
                    return None;
                }
                Some(match op {
                    Op::Gt => value.floor() as i64 + 1,
                    Op::Ge => value.ceil() as i64,
                    Op::Lt => value.ceil() as i64 - 1,
                    _ => value.floor() as i64,
                })
            }
            Ordinal::Date => {
                let days = i64::from(crate::transform::parse_date(literal.get(..10)?)?);
                // A timestamp literal compared with a date: its day, moved inside a strict bound.
                Some(match op {
                    Op::Gt => days + 1,
                    Op::Lt => days - 1,
                    _ => days,
                })
            }
            Ordinal::Timestamp => {
                let micros = crate::transform::parse_timestamp(literal)?;
                let seconds = micros.div_euclid(1_000_000);
                Some(match op {
                    Op::Gt => seconds + 1,
                    Op::Lt => seconds - 1,
                    _ => seconds,
                })
            }
        }
    }
}

/// Days from 2000-01-01 to 2020-01-01.
const DAYS_2000_TO_2020: i64 = 7_305;

/// How one column's values must look, from the facts about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shape {
    /// Values to pick from (IN lists, `= ANY`, list partitions, `= literal`).
    pub choices: Option<Vec<String>>,
    /// Inclusive bounds in the column's `Ordinal` units.
    pub low: Option<i64>,
    pub high: Option<i64>,
    pub min_len: Option<usize>,
    pub max_len: Option<usize>,
    /// `Some(true)`: must be NULL; `Some(false)`: must hold a value.
    pub null: Option<bool>,
    /// Steps above the other columns it is compared with (`a < b`: b is one step up).
    pub shift: i64,
    /// The largest shift among the columns compared with this one (range left free for them).
    pub shift_room: i64,
}

impl Shape {
    /// Nothing constrains the column beyond its type.
    pub fn is_free(&self) -> bool {
        self == &Shape::default()
    }
}

/// Shapes for `columns` (name and type) from `facts`; a domain's `VALUE` facts must already
/// be renamed to the column. `now` is seconds since 2000-01-01 UTC.
pub fn shapes(columns: &[(&str, &SqlType)], facts: &[Fact], now: i64) -> Vec<Shape> {
    let mut shapes = vec![Shape::default(); columns.len()];
    let position = |name: &str| columns.iter().position(|(column, _)| *column == name);
    let ordinal = |idx: usize| Ordinal::of(columns[idx].1);
    let mut cross = Vec::new();
    for fact in facts {
        match fact {
            Fact::OneOf { column, values } => {
                if let Some(idx) = position(column) {
                    let shape = &mut shapes[idx];
                    shape.choices = Some(match shape.choices.take() {
                        // Two lists: what both allow (else the newer one).
                        Some(old) => {
                            let both: Vec<String> =
                                old.iter().filter(|v| values.contains(v)).cloned().collect();
                            if both.is_empty() {
                                values.clone()
                            } else {
                                both
                            }
                        }
                        None => values.clone(),
                    });
                }
            }
            Fact::Bound { column, op, bound } => {
                let Some(idx) = position(column) else {
                    continue;
                };
                let shape = &mut shapes[idx];
                match (ordinal(idx), bound) {
                    (Some(kind), Bound::Literal(literal)) => {
                        if let Some(units) = kind.units(literal, *op) {
                            narrow(shape, *op, units);
                        }
                    }
                    (Some(kind), Bound::Now) => {
                        let (now, margin) = match kind {
                            Ordinal::Date => (now.div_euclid(86_400), 1),
                            Ordinal::Timestamp => (now, 86_400),
                            _ => continue,
                        };
                        match op {
                            Op::Lt | Op::Le => narrow(shape, Op::Le, now - margin),
                            Op::Gt | Op::Ge => narrow(shape, Op::Ge, now + margin),
                            _ => {}
                        }
                    }
                    (None, Bound::Literal(literal)) if literal.is_empty() && *op == Op::Ne => {
                        shape.min_len = Some(shape.min_len.unwrap_or(0).max(1));
                    }
                    _ => {}
                }
            }
            Fact::Length { column, op, n } => {
                let Some(idx) = position(column) else {
                    continue;
                };
                let n = (*n).max(0) as usize;
                let shape = &mut shapes[idx];
                let (min, max) = match op {
                    Op::Gt => (Some(n + 1), None),
                    Op::Ge => (Some(n), None),
                    Op::Lt => (None, Some(n.saturating_sub(1))),
                    Op::Le => (None, Some(n)),
                    Op::Eq => (Some(n), Some(n)),
                    Op::Ne => (None, None),
                };
                if let Some(min) = min {
                    shape.min_len = Some(shape.min_len.unwrap_or(0).max(min));
                }
                if let Some(max) = max {
                    shape.max_len = Some(shape.max_len.map_or(max, |old| old.min(max)));
                }
            }
            Fact::Null { column, null } => {
                if let Some(idx) = position(column) {
                    shapes[idx].null = Some(*null);
                }
            }
            Fact::ExactlyOne(names) => {
                let idxs: Vec<usize> = names.iter().filter_map(|name| position(name)).collect();
                // The first one keeps its value, unless another one is required.
                let keep = idxs
                    .iter()
                    .copied()
                    .find(|idx| shapes[*idx].null == Some(false))
                    .or(idxs.first().copied());
                for idx in idxs {
                    shapes[idx].null = Some(Some(idx) != keep);
                }
            }
            Fact::Cross { left, op, right } => {
                if let (Some(a), Some(b)) = (position(left), position(right))
                    && a != b
                    && ordinal(a).is_some()
                    && ordinal(a) == ordinal(b)
                {
                    cross.push((a, *op, b));
                }
            }
        }
    }
    order_cross(&mut shapes, &cross, |idx| {
        ordinal(idx).map(Ordinal::default_low)
    });
    shapes
}

fn narrow(shape: &mut Shape, op: Op, units: i64) {
    match op {
        Op::Gt | Op::Ge => shape.low = Some(shape.low.map_or(units, |low| low.max(units))),
        Op::Lt | Op::Le => shape.high = Some(shape.high.map_or(units, |high| high.min(units))),
        _ => {}
    }
}

/// Most steps one column is shifted above another.
const MAX_SHIFT: i64 = 4;

/// Columns compared with each other share one range and step, and are shifted so the
/// comparisons hold row by row (`a < b`: b is a step above a).
fn order_cross(
    shapes: &mut [Shape],
    cross: &[(usize, Op, usize)],
    default_low: impl Fn(usize) -> Option<i64>,
) {
    if cross.is_empty() {
        return;
    }
    for _ in 0..8 {
        for &(a, op, b) in cross {
            let (low, high, gap) = match op {
                Op::Lt => (a, b, 1),
                Op::Le => (a, b, 0),
                Op::Gt => (b, a, 1),
                Op::Ge => (b, a, 0),
                Op::Eq => (a, b, 0),
                Op::Ne => {
                    if shapes[a].shift == shapes[b].shift {
                        shapes[b].shift = (shapes[b].shift + 1).min(MAX_SHIFT);
                    }
                    continue;
                }
            };
            let wanted = (shapes[low].shift + gap).min(MAX_SHIFT);
            if shapes[high].shift < wanted {
                shapes[high].shift = wanted;
            }
            if op == Op::Eq && shapes[low].shift < shapes[high].shift {
                shapes[low].shift = shapes[high].shift;
            }
        }
    }
    // Groups of connected columns: one range and the room for the largest shift.
    let mut group: Vec<usize> = (0..shapes.len()).collect();
    fn root(group: &mut [usize], idx: usize) -> usize {
        let mut idx = idx;
        while group[idx] != idx {
            idx = group[idx];
        }
        idx
    }
    for &(a, _, b) in cross {
        let (ra, rb) = (root(&mut group, a), root(&mut group, b));
        group[ra] = rb;
    }
    let members: Vec<usize> = cross.iter().flat_map(|&(a, _, b)| [a, b]).collect();
    for &idx in &members {
        let mine = root(&mut group, idx);
        let together: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&other| root(&mut group, other) == mine)
            .collect();
        let low = together
            .iter()
            .filter_map(|&i| shapes[i].low.or(default_low(i)))
            .max();
        let high = together.iter().filter_map(|&i| shapes[i].high).min();
        let room = together.iter().map(|&i| shapes[i].shift).max().unwrap_or(0);
        for &i in &together {
            shapes[i].low = low;
            shapes[i].high = high;
            shapes[i].shift_room = room;
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// An identifier or keyword; unquoted ones are lowercased, but `VALUE` stays as written.
    Word(String),
    Quoted(String),
    Str(String),
    Number(String),
    Punct(char),
    Operator(String),
    DoubleColon,
}

fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' || ((c == 'E' || c == 'e') && chars.get(i + 1) == Some(&'\'')) {
            let escapes = c != '\'';
            if escapes {
                i += 1;
            }
            i += 1;
            let mut value = String::new();
            while i < chars.len() {
                match chars[i] {
                    '\'' if chars.get(i + 1) == Some(&'\'') => {
                        value.push('\'');
                        i += 2;
                    }
                    '\'' => {
                        i += 1;
                        break;
                    }
                    '\\' if escapes && i + 1 < chars.len() => {
                        value.push(chars[i + 1]);
                        i += 2;
                    }
                    other => {
                        value.push(other);
                        i += 1;
                    }
                }
            }
            tokens.push(Token::Str(value));
        } else if c == '"' {
            i += 1;
            let mut value = String::new();
            while i < chars.len() {
                if chars[i] == '"' {
                    if chars.get(i + 1) == Some(&'"') {
                        value.push('"');
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                value.push(chars[i]);
                i += 1;
            }
            tokens.push(Token::Quoted(value));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            tokens.push(Token::Word(if word == "VALUE" {
                word
            } else {
                word.to_lowercase()
            }));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            tokens.push(Token::Number(chars[start..i].iter().collect()));
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            tokens.push(Token::DoubleColon);
            i += 2;
        } else if "()[],.".contains(c) {
            tokens.push(Token::Punct(c));
            i += 1;
        } else {
            let start = i;
            while i < chars.len() && "+-*/<>=~!@#%^&|`?".contains(chars[i]) {
                i += 1;
            }
            if i == start {
                i += 1;
            }
            tokens.push(Token::Operator(chars[start..i].iter().collect()));
        }
    }
    tokens
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

const NOW_WORDS: &[&str] = &[
    "now",
    "current_timestamp",
    "current_date",
    "localtimestamp",
    "statement_timestamp",
    "transaction_timestamp",
    "clock_timestamp",
];

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w == word)
    }

    fn eat_punct(&mut self, c: char) -> bool {
        if self.peek() == Some(&Token::Punct(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expr(&mut self) -> Expr {
        let first = self.and();
        if !self.is_word("or") {
            return first;
        }
        let mut parts = vec![first];
        while self.is_word("or") {
            self.pos += 1;
            parts.push(self.and());
        }
        Expr::Or(parts)
    }

    fn and(&mut self) -> Expr {
        let first = self.not();
        if !self.is_word("and") {
            return first;
        }
        let mut parts = vec![first];
        while self.is_word("and") {
            self.pos += 1;
            parts.push(self.not());
        }
        Expr::And(parts)
    }

    fn not(&mut self) -> Expr {
        if self.is_word("not") {
            self.pos += 1;
            let _ = self.not();
            return Expr::Other;
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Expr {
        let left = self.additive();
        if self.is_word("is") {
            self.pos += 1;
            let negated = self.is_word("not");
            if negated {
                self.pos += 1;
            }
            if self.is_word("null") {
                self.pos += 1;
                return Expr::IsNull(Box::new(left), !negated);
            }
            let _ = self.next();
            return Expr::Other;
        }
        let op = match self.peek() {
            Some(Token::Operator(text)) => text.clone(),
            Some(Token::Word(word)) if matches!(word.as_str(), "like" | "ilike" | "similar") => {
                self.pos += 1;
                let _ = self.additive();
                return Expr::Other;
            }
            _ => return left,
        };
        self.pos += 1;
        if self.is_word("any") || self.is_word("all") || self.is_word("some") {
            let any = !self.is_word("all");
            self.pos += 1;
            let items = if self.eat_punct('(') {
                let items = self.array_items();
                self.skip_to_close();
                items
            } else {
                None
            };
            return match (Op::parse(&op), items, any) {
                (Some(op), Some(items), true) => Expr::Any(op, Box::new(left), items),
                _ => Expr::Other,
            };
        }
        let right = self.additive();
        match Op::parse(&op) {
            Some(op) => Expr::Compare(op, Box::new(left), Box::new(right)),
            None => Expr::Other,
        }
    }

    /// `ARRAY[…]` (possibly in parentheses, possibly cast), as its items.
    fn array_items(&mut self) -> Option<Vec<Expr>> {
        let expr = self.additive();
        match expr {
            Expr::Func(name, items) if name == "array" => Some(items),
            _ => None,
        }
    }

    /// Skip to the `)` closing the parenthesis already opened.
    fn skip_to_close(&mut self) {
        let mut depth = 1;
        while let Some(token) = self.next() {
            match token {
                Token::Punct('(') | Token::Punct('[') => depth += 1,
                Token::Punct(')') | Token::Punct(']') => {
                    depth -= 1;
                    if depth == 0 {
                        return;
                    }
                }
                _ => {}
            }
        }
    }

    fn additive(&mut self) -> Expr {
        let mut left = self.unary();
        while let Some(Token::Operator(op)) = self.peek() {
            if !matches!(op.as_str(), "+" | "-" | "*" | "/" | "||" | "%") {
                break;
            }
            self.pos += 1;
            let _ = self.unary();
            left = Expr::Other;
        }
        left
    }

    fn unary(&mut self) -> Expr {
        if let Some(Token::Operator(op)) = self.peek()
            && op == "-"
        {
            self.pos += 1;
            return match self.postfix() {
                Expr::Literal(text) if !text.starts_with('-') => Expr::Literal(format!("-{text}")),
                _ => Expr::Other,
            };
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Expr {
        let expr = self.primary();
        while self.peek() == Some(&Token::DoubleColon) {
            self.pos += 1;
            self.type_name();
        }
        // `'x'::text COLLATE "C"` and the like.
        if self.is_word("collate") {
            self.pos += 1;
            let _ = self.next();
        }
        expr
    }

    fn type_name(&mut self) {
        match self.next() {
            Some(Token::Word(_)) | Some(Token::Quoted(_)) => {}
            _ => return,
        }
        loop {
            if self.eat_punct('.') {
                let _ = self.next();
                continue;
            }
            if matches!(self.peek(), Some(Token::Word(w)) if matches!(w.as_str(),
                "varying" | "with" | "without" | "time" | "zone" | "precision"))
            {
                self.pos += 1;
                continue;
            }
            if self.eat_punct('(') {
                self.skip_to_close();
                continue;
            }
            if self.peek() == Some(&Token::Punct('['))
                && self.tokens.get(self.pos + 1) == Some(&Token::Punct(']'))
            {
                self.pos += 2;
                continue;
            }
            return;
        }
    }

    fn primary(&mut self) -> Expr {
        match self.next() {
            Some(Token::Punct('(')) => {
                let inner = self.expr();
                if !self.eat_punct(')') {
                    self.skip_to_close();
                    return Expr::Other;
                }
                inner
            }
            Some(Token::Str(text)) => Expr::Literal(text),
            Some(Token::Number(text)) => Expr::Literal(text),
            Some(Token::Quoted(name)) => self.after_name(name),
            Some(Token::Word(word)) => match word.as_str() {
                "array" if self.eat_punct('[') => {
                    let mut items = Vec::new();
                    if !self.eat_punct(']') {
                        loop {
                            items.push(self.expr());
                            if self.eat_punct(',') {
                                continue;
                            }
                            if !self.eat_punct(']') {
                                return Expr::Other;
                            }
                            break;
                        }
                    }
                    Expr::Func("array".into(), items)
                }
                "true" | "false" => Expr::Literal(word),
                "null" => Expr::Other,
                "case" => {
                    let mut depth = 1;
                    while let Some(token) = self.next() {
                        match token {
                            Token::Word(w) if w == "case" => depth += 1,
                            Token::Word(w) if w == "end" => {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                    }
                    Expr::Other
                }
                _ if NOW_WORDS.contains(&word.as_str()) => {
                    if self.eat_punct('(') {
                        self.skip_to_close();
                    }
                    Expr::Now
                }
                _ => self.after_name(word),
            },
            _ => Expr::Other,
        }
    }

    /// A column, a qualified column, or a function call.
    fn after_name(&mut self, name: String) -> Expr {
        let mut name = name;
        while self.eat_punct('.') {
            match self.next() {
                Some(Token::Word(part)) | Some(Token::Quoted(part)) => name = part,
                _ => return Expr::Other,
            }
        }
        if !self.eat_punct('(') {
            return Expr::Column(name);
        }
        let mut args = Vec::new();
        if self.eat_punct(')') {
            return Expr::Func(name, args);
        }
        loop {
            args.push(self.expr());
            if self.eat_punct(',') {
                continue;
            }
            if !self.eat_punct(')') {
                self.skip_to_close();
                return Expr::Other;
            }
            return Expr::Func(name, args);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(definition: &str, expected: &[Fact]) {
        assert_eq!(read(definition), expected, "{definition}");
    }

    fn one_of(column: &str, values: &[&str]) -> Fact {
        Fact::OneOf {
            column: column.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    fn bound(column: &str, op: Op, value: &str) -> Fact {
        Fact::Bound {
            column: column.into(),
            op,
            bound: Bound::Literal(value.into()),
        }
    }

    #[test]
    fn in_lists_and_any_arrays_through_casts_and_case_folding() {
        check(
            "CHECK (((status)::text = ANY ((ARRAY['new'::character varying, 'paid'::character varying])::text[])))",
            &[one_of("status", &["new", "paid"])],
        );
        check(
            "CHECK ((upper(kind) = ANY (ARRAY['X'::text, 'Y'::text])))",
            &[one_of("kind", &["X", "Y"])],
        );
        check(
            "CHECK ((lower((g)::text) = ANY (ARRAY['p'::text, 'it''s'::text])))",
            &[one_of("g", &["p", "it's"])],
        );
        check(
            "CHECK ((n = ANY (ARRAY[1, 2, '-3'::integer])))",
            &[one_of("n", &["1", "2", "-3"])],
        );
        check(
            "CHECK ((\"Weird Col\" = 'x'::text))",
            &[one_of("Weird Col", &["x"])],
        );
    }

    #[test]
    fn ranges_between_and_now() {
        check(
            "CHECK (((score >= 1) AND (score <= 5)))",
            &[bound("score", Op::Ge, "1"), bound("score", Op::Le, "5")],
        );
        check(
            "CHECK (((price > (0)::numeric) AND (price < (1000)::numeric)))",
            &[bound("price", Op::Gt, "0"), bound("price", Op::Lt, "1000")],
        );
        check("CHECK ((h >= 0.5))", &[bound("h", Op::Ge, "0.5")]);
        check("CHECK ((x > (-1)))", &[bound("x", Op::Gt, "-1")]);
        check(
            "CHECK ((f > '2020-01-01'::date))",
            &[bound("f", Op::Gt, "2020-01-01")],
        );
        check("CHECK ((0 < qty))", &[bound("qty", Op::Gt, "0")]);
        check(
            "CHECK ((created_at <= now()))",
            &[Fact::Bound {
                column: "created_at".into(),
                op: Op::Le,
                bound: Bound::Now,
            }],
        );
        check(
            "CHECK ((CURRENT_DATE >= born))",
            &[Fact::Bound {
                column: "born".into(),
                op: Op::Le,
                bound: Bound::Now,
            }],
        );
    }

    #[test]
    fn cross_columns_lengths_and_nulls() {
        check(
            "CHECK ((start_date < end_date))",
            &[Fact::Cross {
                left: "start_date".into(),
                op: Op::Lt,
                right: "end_date".into(),
            }],
        );
        check(
            "CHECK ((char_length(name) >= 3))",
            &[Fact::Length {
                column: "name".into(),
                op: Op::Ge,
                n: 3,
            }],
        );
        check(
            "CHECK (((length(VALUE) <= 6) AND (VALUE <> ''::text)))",
            &[
                Fact::Length {
                    column: "VALUE".into(),
                    op: Op::Le,
                    n: 6,
                },
                bound("VALUE", Op::Ne, ""),
            ],
        );
        check(
            "CHECK (((a IS NOT NULL) OR (b IS NOT NULL)))",
            &[Fact::Null {
                column: "a".into(),
                null: false,
            }],
        );
        check(
            "CHECK (((a IS NULL) OR (a > 0)))",
            &[bound("a", Op::Gt, "0")],
        );
        check(
            "CHECK ((num_nonnulls(c, d) = 1))",
            &[Fact::ExactlyOne(vec!["c".into(), "d".into()])],
        );
        check(
            "CHECK ((((c IS NULL) AND (d IS NOT NULL)) OR ((c IS NOT NULL) AND (d IS NULL))))",
            &[
                Fact::Null {
                    column: "c".into(),
                    null: true,
                },
                Fact::Null {
                    column: "d".into(),
                    null: false,
                },
            ],
        );
    }

    #[test]
    fn partition_constraints() {
        check(
            "((at IS NOT NULL) AND (at >= '2024-01-01'::date) AND (at < '2024-02-01'::date) AND (region IS NOT NULL) AND (region = ANY (ARRAY['eu'::text, 'us'::text])))",
            &[
                Fact::Null {
                    column: "at".into(),
                    null: false,
                },
                bound("at", Op::Ge, "2024-01-01"),
                bound("at", Op::Lt, "2024-02-01"),
                Fact::Null {
                    column: "region".into(),
                    null: false,
                },
                one_of("region", &["eu", "us"]),
            ],
        );
        // A default partition: the negated part is not understood, the rest is.
        check(
            "((at IS NOT NULL) AND (NOT ((region IS NOT NULL) AND (region = ANY (ARRAY['eu'::text])))))",
            &[Fact::Null {
                column: "at".into(),
                null: false,
            }],
        );
        check(
            "((at IS NOT NULL) AND ((at > '2024-01-01 00:00:00+00'::timestamp with time zone) OR ((at = '2024-01-01 00:00:00+00'::timestamp with time zone) AND (n >= 1))))",
            &[
                Fact::Null {
                    column: "at".into(),
                    null: false,
                },
                bound("at", Op::Gt, "2024-01-01 00:00:00+00"),
            ],
        );
    }

    #[test]
    fn what_is_not_understood_gives_nothing() {
        check("CHECK ((e ~ '^[a-z]+$'::text))", &[]);
        check("CHECK ((x > (now() - '1 day'::interval)))", &[]);
        check("CHECK (CASE WHEN a THEN b ELSE c END)", &[]);
        check("CHECK ((name ~~ 'a%'::text))", &[]);
        check(
            "((k IS NOT NULL) AND satisfies_hash_partition('16433'::oid, 2, 0, k))",
            &[Fact::Null {
                column: "k".into(),
                null: false,
            }],
        );
        check("", &[]);
        check("CHECK ((((", &[]);
    }

    fn shapes_of(columns: &[(&str, BaseType)], definitions: &[&str]) -> Vec<Shape> {
        let types: Vec<SqlType> = columns
            .iter()
            .map(|(_, base)| SqlType::simple(base.clone(), "t"))
            .collect();
        let columns: Vec<(&str, &SqlType)> = columns
            .iter()
            .zip(&types)
            .map(|((name, _), sql_type)| (*name, sql_type))
            .collect();
        let facts: Vec<Fact> = definitions.iter().flat_map(|d| read(d)).collect();
        // 2024-06-15 12:00:00 UTC, in seconds since 2000-01-01.
        shapes(&columns, &facts, 771_768_000)
    }

    #[test]
    fn shapes_from_facts() {
        let shapes = shapes_of(
            &[
                ("score", BaseType::Int4),
                ("price", BaseType::Numeric),
                ("born", BaseType::Date),
                ("at", BaseType::Timestamptz),
                ("code", BaseType::Text),
            ],
            &[
                "CHECK (((score >= 1) AND (score <= 5)))",
                "CHECK (((price > (0)::numeric) AND (price < 999.5)))",
                "CHECK ((born <= CURRENT_DATE))",
                "CHECK ((at >= '2024-01-01 00:00:00+00'::timestamp with time zone))",
                "CHECK (((length(VALUE) <= 6) AND (VALUE <> ''::text)))",
            ],
        );
        assert_eq!((shapes[0].low, shapes[0].high), (Some(1), Some(5)));
        assert_eq!((shapes[1].low, shapes[1].high), (Some(1), Some(999)));
        // 2024-06-14: the day before now, in days since 2000-01-01.
        assert_eq!(shapes[2].high, Some(8_931));
        assert_eq!(shapes[3].low, Some(8_766 * 86_400));
        // `VALUE` is not a column of the table: the domain's facts are renamed first.
        assert!(shapes[4].is_free());
        let renamed = for_column(
            &read("CHECK (((length(VALUE) <= 6) AND (VALUE <> ''::text)))"),
            "code",
        );
        let types = [SqlType::simple(BaseType::Text, "text")];
        let code = super::shapes(&[("code", &types[0])], &renamed, 0);
        assert_eq!((code[0].min_len, code[0].max_len), (Some(1), Some(6)));
    }

    #[test]
    fn compared_columns_share_a_range_and_are_shifted() {
        let shapes = shapes_of(
            &[
                ("starts_on", BaseType::Date),
                ("ends_on", BaseType::Date),
                ("low", BaseType::Int4),
                ("mid", BaseType::Int4),
                ("high", BaseType::Int4),
            ],
            &[
                "CHECK ((starts_on < ends_on))",
                "CHECK ((starts_on >= '2024-01-01'::date))",
                "CHECK (((low < mid) AND (mid < high)))",
            ],
        );
        assert_eq!((shapes[0].shift, shapes[1].shift), (0, 1));
        assert_eq!(shapes[0].low, shapes[1].low, "one range for both");
        assert_eq!(shapes[1].shift_room, 1);
        assert_eq!(
            (shapes[2].shift, shapes[3].shift, shapes[4].shift),
            (0, 1, 2)
        );
        assert_eq!(shapes[2].shift_room, 2);
    }

    #[test]
    fn exactly_one_and_choices() {
        let shapes = shapes_of(
            &[
                ("c", BaseType::Int4),
                ("d", BaseType::Int4),
                ("s", BaseType::Text),
            ],
            &[
                "CHECK ((num_nonnulls(c, d) = 1))",
                "CHECK ((upper(s) = ANY (ARRAY['A'::text, 'B'::text])))",
                "CHECK ((s = ANY (ARRAY['B'::text, 'C'::text])))",
            ],
        );
        assert_eq!((shapes[0].null, shapes[1].null), (Some(false), Some(true)));
        assert_eq!(
            shapes[2].choices,
            Some(vec!["B".to_string()]),
            "what both lists allow"
        );
    }
}
