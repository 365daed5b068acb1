//! The demo "production" shop database: `cargo xtask demo-prod --scale N` (re)creates it from
//! `migrations/` and fills it server-side with deterministic synthetic rows (same scale, same bytes).

use anyhow::{Context, bail};
use postgres::Client;
use pullprod::pgerror::PgContext;
use pullprod::sql::quote_ident;

use pullprod::conn::{self, Settings};

/// The demo schema, in the order it is applied. A test checks this matches `migrations/`.
pub const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_shop.sql",
        include_str!("../../migrations/0001_shop.sql"),
    ),
    (
        "0002_orders.sql",
        include_str!("../../migrations/0002_orders.sql"),
    ),
    (
        "0003_events.sql",
        include_str!("../../migrations/0003_events.sql"),
    ),
];

/// The database `demo-prod` creates when no `--database-url` is given (local server, libpq defaults).
pub const DEFAULT_DATABASE_URL: &str = "dbname=shop_prod";

/// The tables `demo_prod` fills, in load order (partitions of `events` are counted under `events`).
pub const TABLES: &[&str] = &[
    "countries",
    "users",
    "addresses",
    "products",
    "orders",
    "order_items",
    "events",
    "sessions",
];

const SCALE_COMMENT_PREFIX: &str = "pullprod demo scale=";
const LOADING_COMMENT: &str = "pullprod demo (loading)";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOptions {
    /// Number of users; every other table grows in proportion.
    pub scale: u64,
    /// The database to (re)create: a URL or key=value conninfo naming it. Default `dbname=shop_prod`.
    pub database_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    /// The database that was created.
    pub database: String,
    /// Rows per table, in `TABLES` order.
    pub rows: Vec<(String, u64)>,
    /// `pg_database_size` after loading.
    pub bytes: u64,
}

/// Drop and recreate the demo database, apply `MIGRATIONS`, fill it at `opts.scale` users, then
/// ANALYZE, refresh materialized views, set sequences and record the scale as the database comment.
///
/// Refuses to drop an existing database unless it is empty or was made by `demo-prod`.
pub fn demo_prod(opts: &DemoOptions) -> anyhow::Result<DemoSummary> {
    if opts.scale == 0 {
        bail!("`--scale` must be at least 1");
    }
    let conninfo = opts.database_url.as_deref().unwrap_or(DEFAULT_DATABASE_URL);
    let settings = Settings::parse(conninfo)
        .with_context(|| format!("invalid connection settings `{}`", conn::redact(conninfo)))?;
    let database = settings.dbname.clone();
    if ["postgres", "template0", "template1"].contains(&database.as_str()) {
        bail!("refusing to recreate the system database `{database}`");
    }
    recreate_database(&settings)?;

    let mut client = conn::connect_settings(&settings, "the demo database")?;
    for (name, sql) in MIGRATIONS {
        client
            .batch_execute(sql)
            .pg_with_context(|| format!("failed to apply migration `{name}` to `{database}`"))?;
    }
    // `users` first; then two connections: the order tables, and the tables that only need users.
    let (users, rest): (Vec<_>, Vec<_>) = fill_statements(opts.scale)
        .into_iter()
        .partition(|(table, _)| *table == "users");
    let (second_lane, first_lane): (Vec<_>, Vec<_>) = rest
        .into_iter()
        .partition(|(table, _)| ["events", "sessions"].contains(table));
    run_fill(&mut client, &database, &users)?;
    std::thread::scope(|scope| {
        let second = scope.spawn(|| -> anyhow::Result<()> {
            let mut client = conn::connect_settings(&settings, "the demo database")?;
            run_fill(&mut client, &database, &second_lane)
        });
        let first = run_fill(&mut client, &database, &first_lane);
        let second = second.join().expect("the fill thread does not panic");
        first.and(second)
    })?;
    client
        .batch_execute(FINISH_SQL)
        .pg_with_context(|| format!("failed to analyse and refresh `{database}`"))?;

    let mut rows = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let count: i64 = client
            .query_one(&format!("SELECT count(*) FROM public.{table}"), &[])
            .pg_with_context(|| format!("failed to count rows of `public.{table}`"))?
            .get(0);
        rows.push((table.to_string(), count as u64));
    }
    let bytes: i64 = client
        .query_one("SELECT pg_database_size(current_database())", &[])
        .pg_context("failed to read the database size")?
        .get(0);
    // Written last: a database with this comment is complete at this scale.
    client
        .batch_execute(&format!(
            "COMMENT ON DATABASE {} IS '{SCALE_COMMENT_PREFIX}{}'",
            quote_ident(&database),
            opts.scale
        ))
        .pg_with_context(|| format!("failed to record the scale of `{database}`"))?;
    Ok(DemoSummary {
        database,
        rows,
        bytes: bytes as u64,
    })
}

/// The scale a complete demo database was filled at, from its comment. `None` when the
/// database does not exist, or was not (completely) made by `demo-prod`.
pub fn demo_scale(conninfo: &str) -> anyhow::Result<Option<u64>> {
    comment_number(conninfo, SCALE_COMMENT_PREFIX)
}

/// The number after `prefix` in the database's comment (how `demo-prod` and the skewed
/// database record what they were made with, once complete).
fn comment_number(conninfo: &str, prefix: &str) -> anyhow::Result<Option<u64>> {
    let settings = Settings::parse(conninfo)
        .with_context(|| format!("invalid connection settings `{}`", conn::redact(conninfo)))?;
    let mut admin = connect_maintenance(&settings)?;
    let comment: Option<String> = admin
        .query_opt(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
            &[&settings.dbname],
        )
        .pg_with_context(|| format!("failed to read the comment of `{}`", settings.dbname))?
        .and_then(|row| row.get(0));
    Ok(comment
        .as_deref()
        .and_then(|comment| comment.strip_prefix(prefix))
        .and_then(|number| number.trim().parse().ok()))
}

/// Rows `demo_prod` creates per table at `scale`, in `TABLES` order.
pub fn planned_rows(scale: u64) -> Vec<(&'static str, u64)> {
    let sizes = Sizes::new(scale);
    // Order `o` has `1 + o % 5` lines: a full cycle of five orders has 15.
    let remainder = sizes.orders % 5;
    let items = sizes.orders / 5 * 15 + (1..=remainder).map(|j| 1 + j).sum::<u64>();
    vec![
        ("countries", COUNTRIES),
        ("users", sizes.users),
        ("addresses", sizes.addresses),
        ("products", sizes.products),
        ("orders", sizes.orders),
        ("order_items", items),
        ("events", sizes.events),
        ("sessions", sizes.sessions),
    ]
}

/// Run fill statements in order on one connection, with bulk-load session settings.
fn run_fill(
    client: &mut Client,
    database: &str,
    statements: &[(&'static str, String)],
) -> anyhow::Result<()> {
    client
        .batch_execute(
            "SET synchronous_commit = off; SET work_mem = '64MB'; \
             SET maintenance_work_mem = '256MB'; SET TIME ZONE 'UTC'",
        )
        .context("failed to set session settings")?;
    // Like `pg_restore --disable-triggers`: skip the per-row foreign key checks when the role
    // may (superusers); the rows are valid by construction and the tests check every key.
    let _ = client.batch_execute("SET session_replication_role = replica");
    for (table, sql) in statements {
        client
            .batch_execute(sql)
            .pg_with_context(|| format!("failed to fill `public.{table}` in `{database}`"))?;
    }
    Ok(())
}

/// The `postgres` maintenance database of the same server, where databases are dropped and created.
fn connect_maintenance(settings: &Settings) -> anyhow::Result<Client> {
    conn::connect_settings(
        &settings.with_dbname("postgres"),
        "the `postgres` maintenance database",
    )
}

/// Drop (if it is safe) and create the database `settings` names.
fn recreate_database(settings: &Settings) -> anyhow::Result<()> {
    let database = settings.dbname.as_str();
    let mut admin = connect_maintenance(settings)?;
    let existing = admin
        .query_opt(
            "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database \
             WHERE datname = $1",
            &[&database],
        )
        .pg_with_context(|| format!("failed to look up database `{database}`"))?;
    if let Some(row) = existing {
        let comment: String = row.get(0);
        if !comment.starts_with("pullprod demo") && has_relations(settings)? {
            bail!(
                "refusing to drop `{database}`: it has tables and was not made by `demo-prod`; \
                 drop it yourself or choose another `--database-url`"
            );
        }
    }
    let quoted = quote_ident(database);
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
        .pg_with_context(|| format!("failed to drop database `{database}`"))?;
    admin
        .batch_execute(&format!("CREATE DATABASE {quoted}"))
        .pg_with_context(|| format!("failed to create database `{database}`"))?;
    admin
        .batch_execute(&format!(
            "COMMENT ON DATABASE {quoted} IS '{LOADING_COMMENT}'"
        ))
        .pg_with_context(|| format!("failed to comment on database `{database}`"))?;
    Ok(())
}

fn has_relations(settings: &Settings) -> anyhow::Result<bool> {
    let database = settings.dbname.as_str();
    let mut client = conn::connect_settings(settings, "the demo database")?;
    let n_relations: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') \
             AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
             AND n.nspname NOT LIKE 'pg\\_toast%'",
            &[],
        )
        .pg_with_context(|| format!("failed to list the relations of `{database}`"))?
        .get(0);
    Ok(n_relations > 0)
}

/// Rows in `countries`, inserted by the first migration.
const COUNTRIES: u64 = 16;

/// Row counts derived from the scale (the number of users).
struct Sizes {
    users: u64,
    addresses: u64,
    products: u64,
    orders: u64,
    events: u64,
    sessions: u64,
}

impl Sizes {
    fn new(scale: u64) -> Sizes {
        Sizes {
            users: scale,
            // Every user has a home address; the first half also a work address.
            addresses: scale + scale / 2,
            products: (scale * 20 / 1000).max(50),
            orders: scale * 3,
            events: scale * 8,
            sessions: scale,
        }
    }
}

const FIRST_NAMES: &[(&str, &str)] = &[
    ("Oliver", "oliver"),
    ("Amelia", "amelia"),
    ("George", "george"),
    ("Isla", "isla"),
    ("Harry", "harry"),
    ("Ava", "ava"),
    ("Noah", "noah"),
    ("Mia", "mia"),
    ("Jack", "jack"),
    ("Grace", "grace"),
    ("Mohammed", "mohammed"),
    ("Priya", "priya"),
    ("Zoë", "zoe"),
    ("José", "jose"),
    ("Siobhán", "siobhan"),
    ("Björn", "bjorn"),
    ("Łukasz", "lukasz"),
    ("Renée", "renee"),
    ("陽菜", "hina"),
    ("Chloé", "chloe"),
    ("Thomas", "thomas"),
    ("Sophie", "sophie"),
    ("James", "james"),
    ("Emily", "emily"),
    ("William", "william"),
    ("Charlotte", "charlotte"),
    ("Aarav", "aarav"),
    ("Fatima", "fatima"),
    ("Dylan", "dylan"),
    ("Ffion", "ffion"),
    ("Callum", "callum"),
    ("Eilidh", "eilidh"),
    ("Kwame", "kwame"),
    ("Ngozi", "ngozi"),
    ("Wei", "wei"),
    ("Anna", "anna"),
    ("Jürgen", "jurgen"),
    ("Aoife", "aoife"),
    ("Rhys", "rhys"),
    ("Lucy", "lucy"),
    ("Samuel", "samuel"),
];

const LAST_NAMES: &[(&str, &str)] = &[
    ("Smith", "smith"),
    ("Jones", "jones"),
    ("Williams", "williams"),
    ("Taylor", "taylor"),
    ("Brown", "brown"),
    ("Davies", "davies"),
    ("Evans", "evans"),
    ("Wilson", "wilson"),
    ("Thomas", "thomas"),
    ("Johnson", "johnson"),
    ("Roberts", "roberts"),
    ("Robinson", "robinson"),
    ("Wright", "wright"),
    ("Patel", "patel"),
    ("Khan", "khan"),
    ("O'Brien", "obrien"),
    ("McDonald", "mcdonald"),
    ("Groß", "gross"),
    ("Müller", "muller"),
    ("Núñez", "nunez"),
    ("山田", "yamada"),
    ("Nguyen", "nguyen"),
    ("Kowalski", "kowalski"),
    ("Okafor", "okafor"),
    ("Singh", "singh"),
    ("Campbell", "campbell"),
    ("Hughes", "hughes"),
    ("Edwards", "edwards"),
    ("Green", "green"),
    ("Hall", "hall"),
    ("Lewis", "lewis"),
    ("Walker", "walker"),
    ("Clarke", "clarke"),
    ("Jackson", "jackson"),
    ("Ahmed", "ahmed"),
    ("Dubois", "dubois"),
    ("Rossi", "rossi"),
    ("Fernández", "fernandez"),
    ("Chen", "chen"),
    ("Morgan", "morgan"),
    ("Fraser", "fraser"),
    ("Ó Súilleabháin", "osullivan"),
    ("Bennett", "bennett"),
];

const EMAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "hotmail.co.uk",
    "yahoo.co.uk",
    "outlook.com",
    "btinternet.com",
    "icloud.com",
    "sky.com",
    "live.co.uk",
    "protonmail.com",
    "virginmedia.com",
    "googlemail.com",
    "nhs.net",
    "ntlworld.com",
];

/// Cities with their postcode area.
const CITIES: &[(&str, &str)] = &[
    ("London", "SW"),
    ("London", "E"),
    ("London", "N"),
    ("Manchester", "M"),
    ("Birmingham", "B"),
    ("Leeds", "LS"),
    ("Glasgow", "G"),
    ("Edinburgh", "EH"),
    ("Cardiff", "CF"),
    ("Bristol", "BS"),
    ("Oxford", "OX"),
    ("Cambridge", "CB"),
    ("Liverpool", "L"),
    ("Newcastle upon Tyne", "NE"),
    ("Belfast", "BT"),
    ("Sheffield", "S"),
    ("Nottingham", "NG"),
    ("Brighton", "BN"),
    ("York", "YO"),
    ("Aberdeen", "AB"),
    ("Norwich", "NR"),
    ("Swansea", "SA"),
    ("Exeter", "EX"),
];

const STREETS: &[&str] = &[
    "High",
    "Station",
    "Church",
    "Victoria",
    "Mill",
    "Park",
    "Queen's",
    "King",
    "Green",
    "Manor",
    "Albert",
    "St John's",
    "Windsor",
    "Chapel",
    "Grange",
    "Kingsway",
    "Meadow",
    "Orchard",
    "Beech",
    "Springfield",
    "Highfield",
    "Castle",
];

const STREET_SUFFIXES: &[&str] = &[
    "Road", "Street", "Lane", "Avenue", "Close", "Crescent", "Gardens", "Way", "Drive", "Terrace",
];

const TAGS: &[&str] = &[
    "garden", "kitchen", "outdoors", "books", "tech", "kids", "pets", "fashion",
];

const PRODUCT_ADJECTIVES: &[&str] = &[
    "Organic",
    "Classic",
    "Recycled",
    "Handmade",
    "Vintage",
    "Compact",
    "Deluxe",
    "Everyday",
    "Waterproof",
    "Slim",
];

const PRODUCT_MATERIALS: &[&str] = &[
    "Cotton", "Oak", "Ceramic", "Steel", "Wool", "Bamboo", "Leather", "Linen", "Glass",
];

const PRODUCT_NOUNS: &[&str] = &[
    "T-Shirt",
    "Mug",
    "Chopping Board",
    "Water Bottle",
    "Scarf",
    "Desk Lamp",
    "Backpack",
    "Teapot",
    "Notebook",
    "Plant Pot",
    "Blanket",
];

const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:129.0) Gecko/20100101 Firefox/129.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0 Mobile Safari/537.36",
    "ShopApp/4.2.1 (iOS 17.5; iPhone15,2)",
];

/// Event kinds for events with a user; events without one are `system.health`.
const EVENT_KINDS: &[&str] = &[
    "user.signed_in",
    "order.placed",
    "cart.updated",
    "email.sent",
    "password.reset_requested",
];

/// After the data: statistics, the materialized view, and sequences past the loaded keys.
const FINISH_SQL: &str = "
ANALYZE;
REFRESH MATERIALIZED VIEW daily_sales;
SELECT setval(pg_get_serial_sequence('public.users', 'id'), max(id)) FROM users;
SELECT setval(pg_get_serial_sequence('public.addresses', 'id'), max(id)) FROM addresses;
SELECT setval(pg_get_serial_sequence('public.products', 'id'), max(id)) FROM products;
SELECT setval(pg_get_serial_sequence('public.orders', 'id'), max(id)) FROM orders;
SELECT setval(pg_get_serial_sequence('public.events', 'id'), max(id)) FROM events;
SELECT setval('public.invoice_number_seq', max(invoice_number)) FROM orders;
";

/// A SQL array literal of text values.
fn text_array(values: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    let quoted: Vec<String> = values
        .into_iter()
        .map(|value| pullprod::sql::quote_literal(value.as_ref()))
        .collect();
    format!("ARRAY[{}]::text[]", quoted.join(", "))
}

/// A deterministic pseudo-random number in `0..2^32` from an expression and a tag.
fn hash_expr(expr: &str, tag: &str) -> String {
    format!("('x' || substr(md5('{tag}' || ({expr})::text), 1, 8))::bit(32)::bigint")
}

/// `arr[(expr) % len + 1]` for an array of `len` elements.
fn pick(array: &str, len: usize, expr: &str) -> String {
    format!("({array})[(({expr}) % {len}) + 1]")
}

/// The product of order `o`'s line `l` (both SQL expressions).
fn product_expr(order: &str, line: &str, n_products: u64) -> String {
    format!("((({order}) * 7919 + ({line}) * 104729) % {n_products}) + 1")
}

fn quantity_expr(order: &str, line: &str) -> String {
    format!(
        "(CASE WHEN (({order}) + ({line})) % 23 = 0 THEN 10 ELSE 1 + (({order}) + ({line})) % 3 END)"
    )
}

/// An IPv4 address in ranges UK broadband providers use, from a column holding `hash_expr(…)`
/// (computed once per row in a subquery: PostgreSQL would evaluate a repeated md5 every time).
fn ipv4_expr(hash: &str) -> String {
    let first = "ARRAY[81, 86, 92, 109, 176, 212, 31, 2, 5, 90, 82, 94]";
    format!(
        "(({first})[({hash} % 12) + 1] || '.' || ({hash} / 12 % 256) || '.' \
         || ({hash} / 3072 % 256) || '.' || ({hash} / 786432 % 254 + 1))::inet"
    )
}

/// One `INSERT … SELECT … FROM generate_series` per table, in `TABLES` order (countries come
/// with the migration). Every value is a function of the row number: no `random()`.
fn fill_statements(scale: u64) -> Vec<(&'static str, String)> {
    let sizes = Sizes::new(scale);
    let n_users = sizes.users;
    let n_products = sizes.products;
    let n_orders = sizes.orders;
    let n_events = sizes.events;
    let second_addresses = sizes.addresses - sizes.users;

    let first = text_array(FIRST_NAMES.iter().map(|(name, _)| name));
    let first_ascii = text_array(FIRST_NAMES.iter().map(|(_, ascii)| ascii));
    let last = text_array(LAST_NAMES.iter().map(|(name, _)| name));
    let last_ascii = text_array(LAST_NAMES.iter().map(|(_, ascii)| ascii));
    let domains = text_array(EMAIL_DOMAINS);
    let cities = text_array(CITIES.iter().map(|(city, _)| city));
    let areas = text_array(CITIES.iter().map(|(_, area)| area));
    let streets = text_array(STREETS);
    let suffixes = text_array(STREET_SUFFIXES);
    let tags = text_array(TAGS);
    let agents = text_array(USER_AGENTS);
    let kinds = text_array(EVENT_KINDS);
    let (nf, nl, nd, nc) = (
        FIRST_NAMES.len(),
        LAST_NAMES.len(),
        EMAIL_DOMAINS.len(),
        CITIES.len(),
    );
    let (ns, nx, nt, na) = (
        STREETS.len(),
        STREET_SUFFIXES.len(),
        TAGS.len(),
        USER_AGENTS.len(),
    );
    let letters = "'ABDEFGHJLNPQRSTUWXYZ'";
    let b64url =
        |bytes: &str| format!("rtrim(translate(encode({bytes}, 'base64'), '+/', '-_'), '=')");

    let users = format!(
        "
INSERT INTO users (id, email, full_name, phone, password_digest, api_token, date_of_birth,
                   last_sign_in_ip, postcode, bio, referred_by, tags, avatar, status, created_at)
OVERRIDING SYSTEM VALUE
SELECT i, email, first_name || ' ' || last_name, phone,
    '$2a$12$' || substr(translate(encode(decode(md5('pw' || i) || md5('salt' || i) || md5('digest' || i), 'hex'), 'base64'), '+', '.'), 1, 53),
    CASE WHEN i % 5 = 0 THEN NULL ELSE
        'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.'
        || {token_payload} || '.' || {token_signature} END,
    CASE WHEN i % 11 = 0 THEN NULL ELSE date '1950-01-01' + ((i * 7919) % 20075)::int END,
    CASE WHEN status = 'pending' THEN NULL
         WHEN i % 50 = 7 THEN ('2a00:23c4:' || to_hex(i % 65536) || ':' || to_hex(i * 7 % 65536) || '::' || to_hex(i * 13 % 65535 + 1))::inet
         ELSE {ip} END,
    CASE WHEN i % 9 = 0 THEN NULL ELSE postcode END,
    CASE i % 8
        WHEN 3 THEN 'Keen gardener from ' || city || '.' || E'\\n' || 'Ask me about tomatoes!'
        WHEN 4 THEN E'Work:\\t' || last_name || ' & Co' || E'\\tHome:\\t' || city || E'\\r\\n'
        WHEN 5 THEN 'Backups live in C:\\Users\\' || first_ascii || '\\Documents\\shop\\ (don''t ask)'
        WHEN 6 THEN '日本語を少し話します。Café lover in ' || city || ' — naïve about Straße names'
        WHEN 7 THEN 'Call me on ' || coalesce(phone, '07700 900461') || ' after 6pm, or email ' || email
        ELSE NULL END,
    CASE WHEN i > 10 AND i % 4 = 0 THEN {referrer} % (i - 1) + 1 END,
    CASE i % 5 WHEN 0 THEN '{{}}'::text[]
               WHEN 1 THEN ARRAY[{tag1}]
               ELSE ARRAY[{tag1}, {tag2}] END,
    CASE WHEN i % 10 = 0 THEN '\\x89504e470d0a1a0a0000000d49484452'::bytea || decode(repeat(md5(i::text), 24), 'hex') END,
    status,
    timestamptz '2019-01-01 00:00:00+00' + (i::float8 / {n_users} * 2400) * interval '1 day' + (i * 7919 % 86400) * interval '1 second'
FROM (
    SELECT i, first_name, last_name, first_ascii, city, postcode, status, ip_hash,
        CASE i % 4
            WHEN 0 THEN first_ascii || '.' || last_ascii || i || '@' || domain
            WHEN 1 THEN substr(first_ascii, 1, 1) || last_ascii || i || '@' || domain
            WHEN 2 THEN last_ascii || '_' || first_ascii || i || '@' || domain
            ELSE initcap(first_ascii) || '.' || initcap(last_ascii) || i || '@' || initcap(domain)
        END AS email,
        CASE WHEN i % 7 = 0 THEN NULL
             WHEN i % 3 = 0 THEN '07' || substr(digits, 1, 3) || ' ' || substr(digits, 4, 6)
             ELSE '+44 7' || substr(digits, 1, 3) || ' ' || substr(digits, 4, 6) END AS phone
    FROM (
        SELECT i,
            {first_pick} AS first_name, {first_ascii_pick} AS first_ascii,
            {last_pick} AS last_name, {last_ascii_pick} AS last_ascii,
            {domain_pick} AS domain, {city_pick} AS city,
            {area_pick} || (i % 19 + 1) || ' ' || (i % 10) || substr({letters}, (i / 3 % 20)::int + 1, 1) || substr({letters}, (i / 11 % 20)::int + 1, 1) AS postcode,
            lpad(({phone} % 1000000000)::text, 9, '0') AS digits,
            (CASE WHEN i % 20 = 3 THEN 'pending' WHEN i % 20 = 7 THEN 'suspended'
                  WHEN i % 50 = 11 THEN 'deleted' ELSE 'active' END)::user_status AS status,
            {ip_hash} AS ip_hash
        FROM generate_series(1::bigint, {n_users}) AS g (i)
        OFFSET 0 -- keeps the subquery: its columns are computed once per row
    ) AS base
    OFFSET 0
) AS u
ORDER BY i",
        token_payload = b64url(
            "convert_to('{\"sub\":' || i || ',\"iat\":' || (1600000000 + i * 97) || ',\"scope\":\"api\"}', 'UTF8')"
        ),
        token_signature = b64url("sha256(convert_to('token:' || i, 'UTF8'))"),
        ip = ipv4_expr("ip_hash"),
        ip_hash = hash_expr("i", "ip"),
        phone = hash_expr("i", "phone"),
        referrer = hash_expr("i", "ref"),
        tag1 = pick(&tags, nt, "i"),
        tag2 = pick(&tags, nt, &format!("i + 1 + i / {nt} % {}", nt - 1)),
        first_pick = pick(&first, nf, "i"),
        first_ascii_pick = pick(&first_ascii, nf, "i"),
        last_pick = pick(&last, nl, &format!("i / {nf} + i * 5")),
        last_ascii_pick = pick(&last_ascii, nl, &format!("i / {nf} + i * 5")),
        domain_pick = pick(&domains, nd, "i * 3"),
        city_pick = pick(&cities, nc, "i * 7"),
        area_pick = pick(&areas, nc, "i * 7"),
    );

    let addresses = format!(
        "
INSERT INTO addresses (id, user_id, label, line1, line2, city, postcode, country_code, created_at)
SELECT a, user_id, CASE WHEN a <= {n_users} THEN 'home' ELSE 'work' END,
    ({house} % 180 + 1) || ' ' || {street} || ' ' || {suffix},
    CASE WHEN a % 4 = 0 THEN 'Flat ' || (a % 30 + 1) WHEN a % 13 = 0 THEN 'c/o ' || {first} END,
    {city},
    {area} || (a % 19 + 1) || ' ' || (a % 10) || substr({letters}, (a / 7 % 20)::int + 1, 1) || substr({letters}, (a / 3 % 20)::int + 1, 1),
    CASE WHEN a % 97 = 0 THEN 'IE' ELSE 'GB' END,
    timestamptz '2019-01-01 00:00:00+00' + (user_id::float8 / {n_users} * 2400) * interval '1 day' + (a % 90) * interval '1 day'
FROM (
    SELECT a, CASE WHEN a <= {n_users} THEN a ELSE a - {n_users} END AS user_id
    FROM generate_series(1::bigint, {n_addresses}) AS g (a)
) AS base
ORDER BY a",
        n_addresses = sizes.addresses,
        house = hash_expr("a", "house"),
        street = pick(&streets, ns, "a * 5"),
        suffix = pick(&suffixes, nx, "a / 3"),
        first = pick(&first, nf, "a * 11"),
        city = pick(&cities, nc, "a * 3"),
        area = pick(&areas, nc, "a * 3"),
    );

    let products = format!(
        "
INSERT INTO products (id, sku, name, description, price, stock, created_at)
SELECT p, 'SKU-' || lpad(p::text, 6, '0'), name,
    CASE WHEN p % 3 = 0 THEN NULL ELSE 'A ' || lower(name) || ' for everyday use. Ships in 2–3 days.' END,
    ({price} % 20000 + 199) / 100.0,
    (p * 37) % 500,
    timestamptz '2018-06-01 09:00:00+00' + p * interval '7 hours'
FROM (
    SELECT p, {adjective} || ' ' || {material} || ' ' || {noun} AS name
    FROM generate_series(1, {n_products}) AS g (p)
) AS base
ORDER BY p",
        price = hash_expr("p", "price"),
        adjective = pick(&text_array(PRODUCT_ADJECTIVES), PRODUCT_ADJECTIVES.len(), "p"),
        material = pick(&text_array(PRODUCT_MATERIALS), PRODUCT_MATERIALS.len(), "p / 3"),
        noun = pick(&text_array(PRODUCT_NOUNS), PRODUCT_NOUNS.len(), "p * 7"),
    );

    let orders = format!(
        "
INSERT INTO orders (id, invoice_number, user_id, shipping_address_id, status, placed_at, total,
                    currency, delivery_notes)
SELECT o, 100000 + o, user_id,
    CASE WHEN status = 'basket' THEN NULL
         WHEN user_id <= {second_addresses} AND o % 3 = 0 THEN {n_users} + user_id
         ELSE user_id END,
    status,
    CASE WHEN status = 'basket' THEN NULL ELSE
        timestamptz '2023-01-01 00:00:00+00' + (o::float8 / {n_orders} * 1000) * interval '1 day' + (o * 7919 % 86400) * interval '1 second' END,
    (SELECT sum({quantity} * p.price) FROM generate_series(1, 1 + o % 5) AS l (l)
        JOIN products p ON p.id = {product}),
    CASE WHEN o % 25 = 0 THEN 'EUR' ELSE 'GBP' END,
    CASE o % 10
        WHEN 0 THEN 'Leave with neighbour at no. ' || (o % 40 + 1) || ' if out'
        WHEN 1 THEN 'Ring 07' || lpad((o * 7907 % 1000000000)::text, 9, '0') || ' on arrival'
        WHEN 2 THEN E'Gate code 4' || (o % 1000) || E'\\nBehind the bins'
        ELSE NULL END
FROM (
    SELECT o, {user} % {n_users} + 1 AS user_id,
        (CASE o % 20 WHEN 0 THEN 'basket' WHEN 1 THEN 'cancelled' WHEN 2 THEN 'refunded'
                     WHEN 3 THEN 'placed' WHEN 4 THEN 'placed'
                     WHEN 5 THEN 'paid' WHEN 6 THEN 'paid' WHEN 7 THEN 'paid' WHEN 8 THEN 'paid'
                     WHEN 9 THEN 'shipped' WHEN 10 THEN 'shipped' WHEN 11 THEN 'shipped'
                     ELSE 'delivered' END)::order_status AS status
    FROM generate_series(1::bigint, {n_orders}) AS g (o)
) AS base
ORDER BY o",
        user = hash_expr("o", "order-user"),
        quantity = quantity_expr("o", "l"),
        product = product_expr("o", "l", n_products),
    );

    let order_items = format!(
        "
INSERT INTO order_items (order_id, line_no, product_id, quantity, unit_price)
SELECT o, l, p.id, {quantity}, p.price
FROM generate_series(1::bigint, {n_orders}) AS g (o)
CROSS JOIN LATERAL generate_series(1, (1 + o % 5)::int) AS l (l)
JOIN products p ON p.id = {product}
ORDER BY o, l",
        quantity = quantity_expr("o", "l"),
        product = product_expr("o", "l", n_products),
    );

    let events = format!(
        "
INSERT INTO events (id, occurred_at, user_id, kind, payload)
SELECT e, occurred_at, user_id, kind,
    CASE WHEN user_id IS NULL THEN
        jsonb_build_object('kind', kind, 'request_id', md5('req' || e)::uuid,
                           'host', 'web-' || (e % 4 + 1), 'latency_ms', e % 300,
                           'checks', jsonb_build_array('db', 'cache', 'queue'))
    ELSE
        jsonb_build_object(
            'kind', kind,
            'request_id', md5('req' || e)::uuid,
            'actor', jsonb_build_object('email', u.email, 'ip', host({ip})))
        || CASE
            WHEN kind = 'user.signed_in' THEN
                jsonb_build_object('actor', jsonb_build_object('email', u.email, 'ip', host({ip}), 'user_agent', {agent}))
            WHEN kind IN ('order.placed', 'cart.updated') THEN jsonb_build_object('items',
                jsonb_build_array(
                    jsonb_build_object('sku', 'SKU-' || lpad((e % {n_products} + 1)::text, 6, '0'), 'qty', e % 3 + 1,
                                       'email', {gift_first} || '.' || {gift_last} || '@' || {gift_domain}),
                    jsonb_build_object('sku', 'SKU-' || lpad((e * 7 % {n_products} + 1)::text, 6, '0'), 'qty', 1,
                                       'email', CASE WHEN e % 3 = 0 THEN NULL ELSE u.email::text END)))
            WHEN kind = 'email.sent' THEN
                jsonb_build_object('marketing', jsonb_build_object('opt_in', e % 2 = 0, 'campaign', 'spring-' || (e % 7)))
            ELSE '{{}}'::jsonb END
    END
FROM (
    SELECT e,
        timestamptz '2023-01-01 00:00:00+00' + (e::float8 / {n_events} * 1003) * interval '1 day' AS occurred_at,
        CASE WHEN e % 10 = 0 THEN NULL ELSE {user} % {n_users} + 1 END AS user_id,
        CASE WHEN e % 10 = 0 THEN 'system.health' ELSE {kind} END AS kind,
        {ip_hash} AS ip_hash
    FROM generate_series(1::bigint, {n_events}) AS g (e)
    OFFSET 0 -- keeps the subquery: its columns are computed once per row
) AS base
LEFT JOIN users u ON u.id = base.user_id",
        ip = ipv4_expr("ip_hash"),
        ip_hash = hash_expr("e / 3", "ip"),
        agent = pick(&agents, na, "e / 10"),
        gift_first = pick(&first_ascii, nf, "e * 3"),
        gift_last = pick(&last_ascii, nl, "e / 5"),
        gift_domain = pick(&domains, nd, "e"),
        user = hash_expr("e", "event-user"),
        kind = pick(&kinds, EVENT_KINDS.len(), "e"),
    );

    let sessions = format!(
        "
INSERT INTO sessions (token, user_id, user_agent, ip, created_at, expires_at)
SELECT encode(sha256(convert_to('session:' || s, 'UTF8')), 'hex'), s, {agent}, {ip},
    timestamptz '2025-09-01 00:00:00+00' + (s % 720) * interval '1 hour',
    timestamptz '2025-10-01 00:00:00+00' + (s % 720) * interval '1 hour'
FROM (SELECT s, {ip_hash} AS ip_hash FROM generate_series(1::bigint, {n_sessions}) AS g (s) OFFSET 0) AS base
ORDER BY s",
        n_sessions = sizes.sessions,
        agent = pick(&agents, na, "s"),
        ip = ipv4_expr("ip_hash"),
        ip_hash = hash_expr("s * 5", "ip"),
    );

    vec![
        ("users", users),
        ("addresses", addresses),
        ("products", products),
        ("orders", orders),
        ("order_items", order_items),
        ("events", events),
        ("sessions", sessions),
    ]
}

/// The table of the skewed database that holds 90 % of its rows.
pub const SKEW_BIG_TABLE: &str = "readings";

const SKEW_COMMENT_PREFIX: &str = "pullprod demo skew rows=";

/// The skewed database's schema: a few small tables and `readings`, loaded before the keys.
const SKEW_SCHEMA: &str = "
CREATE TABLE sites (id integer NOT NULL, label text NOT NULL, contact_email text NOT NULL,
    opened_at timestamptz NOT NULL);
CREATE TABLE sensors (id integer NOT NULL, site_id integer NOT NULL, serial text NOT NULL,
    installed_by text, installed_at timestamptz NOT NULL);
CREATE TABLE readings (id bigint NOT NULL, sensor_id integer NOT NULL,
    taken_at timestamptz NOT NULL, value double precision NOT NULL, operator_email text,
    note text);
CREATE TABLE alerts (id bigint NOT NULL, sensor_id integer NOT NULL,
    raised_at timestamptz NOT NULL, level text NOT NULL, operator_email text, message text);
";

const SKEW_KEYS: &str = "
ALTER TABLE sites ADD PRIMARY KEY (id);
ALTER TABLE sensors ADD PRIMARY KEY (id), ADD UNIQUE (serial),
    ADD FOREIGN KEY (site_id) REFERENCES sites (id);
ALTER TABLE readings ADD PRIMARY KEY (id), ADD FOREIGN KEY (sensor_id) REFERENCES sensors (id);
CREATE INDEX readings_sensor_taken_idx ON readings (sensor_id, taken_at);
ALTER TABLE alerts ADD PRIMARY KEY (id), ADD FOREIGN KEY (sensor_id) REFERENCES sensors (id);
ANALYZE;
";

/// The skewed database's policy (one file): emails and people faked, free text redacted.
pub const SKEW_POLICY: &[(&str, &str)] = &[(
    "skew.toml",
    "# The benchmark's skewed database: `readings` holds 90 % of the rows.

[sites]
id = \"keep\"
label = \"keep\"
contact_email = \"fake.email\"
opened_at = \"keep\"

[sensors]
id = \"keep\"
site_id = \"keep\"
serial = \"keep\"
installed_by = \"fake.name\"
installed_at = \"keep\"

[readings]
id = \"keep\"
sensor_id = \"keep\"
taken_at = \"keep\"
value = \"keep\"
operator_email = \"fake.email\"
note = \"redact\"

[alerts]
id = \"keep\"
sensor_id = \"keep\"
raised_at = \"keep\"
level = \"keep\"
operator_email = \"fake.email\"
message = \"redact\"
",
)];

/// Rows per table of the skewed database with `rows` in all: `readings` 90 %, `alerts` 6 %,
/// `sensors` 3 %, `sites` the rest (at least one each).
pub fn skew_sizes(rows: u64) -> Vec<(&'static str, u64)> {
    let readings = rows * 9 / 10;
    let alerts = rows * 6 / 100;
    let sensors = (rows * 3 / 100).max(1);
    let sites = rows.saturating_sub(readings + alerts + sensors).max(1);
    vec![
        ("sites", sites),
        ("sensors", sensors),
        (SKEW_BIG_TABLE, readings),
        ("alerts", alerts),
    ]
}

/// (Re)create the skewed benchmark database: `rows` rows in all, 90 % of them in `readings`,
/// rows of about the same width in every table, deterministic values.
pub fn skew_prod(conninfo: &str, rows: u64) -> anyhow::Result<DemoSummary> {
    if rows < 100 {
        bail!("the skewed database needs at least 100 rows");
    }
    let settings = Settings::parse(conninfo)
        .with_context(|| format!("invalid connection settings `{}`", conn::redact(conninfo)))?;
    let database = settings.dbname.clone();
    recreate_database(&settings)?;
    let mut client = conn::connect_settings(&settings, "the skewed database")?;
    let sizes = skew_sizes(rows);
    let size = |table: &str| sizes.iter().find(|(name, _)| *name == table).unwrap().1;
    let (sites, sensors, readings, alerts) = (
        size("sites"),
        size("sensors"),
        size(SKEW_BIG_TABLE),
        size("alerts"),
    );
    let fill = format!(
        "
INSERT INTO sites SELECT s, 'Site ' || s, 'site' || s || '@plant.example.com',
    timestamptz '2015-01-01 00:00:00+00' + s * interval '1 day'
FROM generate_series(1, {sites}) AS g (s);
INSERT INTO sensors SELECT i, i % {sites} + 1, 'SN-' || lpad(i::text, 9, '0'),
    CASE WHEN i % 3 = 0 THEN NULL ELSE 'Engineer ' || (i % 97) END,
    timestamptz '2020-01-01 00:00:00+00' + i * interval '1 hour'
FROM generate_series(1, {sensors}) AS g (i);
INSERT INTO readings SELECT r, (r * 7919) % {sensors} + 1,
    timestamptz '2024-01-01 00:00:00+00' + r * interval '1 second',
    (r * 7907 % 100000) / 100.0,
    CASE WHEN r % 4 = 0 THEN NULL ELSE 'operator' || (r % 5000) || '@plant.example.com' END,
    CASE WHEN r % 5 = 0 THEN 'checked by hand ' || left(md5(r::text), 12) ELSE 'ok' END
FROM generate_series(1::bigint, {readings}) AS g (r);
INSERT INTO alerts SELECT a, (a * 104729) % {sensors} + 1,
    timestamptz '2024-01-01 00:00:00+00' + a * interval '1 minute',
    (ARRAY['info', 'warning', 'critical'])[a % 3 + 1],
    CASE WHEN a % 2 = 0 THEN NULL ELSE 'operator' || (a % 5000) || '@plant.example.com' END,
    'threshold crossed on sensor ' || ((a * 104729) % {sensors} + 1)
FROM generate_series(1::bigint, {alerts}) AS g (a);
"
    );
    client
        .batch_execute(
            "SET synchronous_commit = off; SET maintenance_work_mem = '256MB'; SET TIME ZONE 'UTC'",
        )
        .context("failed to set session settings")?;
    for (step, sql) in [
        ("schema", SKEW_SCHEMA),
        ("rows", &fill),
        ("keys", SKEW_KEYS),
    ] {
        client
            .batch_execute(sql)
            .pg_with_context(|| format!("failed to create the {step} of `{database}`"))?;
    }
    let bytes: i64 = client
        .query_one("SELECT pg_database_size(current_database())", &[])
        .pg_context("failed to read the database size")?
        .get(0);
    // Written last: a database with this comment is complete with this many rows.
    client
        .batch_execute(&format!(
            "COMMENT ON DATABASE {} IS '{SKEW_COMMENT_PREFIX}{rows}'",
            quote_ident(&database)
        ))
        .pg_with_context(|| format!("failed to record the size of `{database}`"))?;
    Ok(DemoSummary {
        database,
        rows: sizes.iter().map(|(t, n)| (t.to_string(), *n)).collect(),
        bytes: bytes as u64,
    })
}

/// The rows a complete skewed database was made with, from its comment.
pub fn skew_rows(conninfo: &str) -> anyhow::Result<Option<u64>> {
    comment_number(conninfo, SKEW_COMMENT_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planned_rows_follow_the_scale() {
        let rows = planned_rows(1000);
        let get = |table: &str| rows.iter().find(|(name, _)| *name == table).unwrap().1;
        assert_eq!(get("users"), 1000);
        assert_eq!(get("addresses"), 1500);
        assert_eq!(get("products"), 50);
        assert_eq!(get("orders"), 3000);
        assert_eq!(get("order_items"), 9000);
        assert_eq!(get("events"), 8_000);
        assert_eq!(
            planned_rows(7)
                .iter()
                .find(|(n, _)| *n == "order_items")
                .unwrap()
                .1,
            62
        );
        assert_eq!(
            rows.iter().map(|(name, _)| *name).collect::<Vec<_>>(),
            TABLES
        );
    }

    #[test]
    fn the_skewed_database_holds_ninety_percent_in_one_table() {
        for rows in [100, 4_000_000, 1_234_567] {
            let sizes = skew_sizes(rows);
            assert_eq!(sizes.iter().map(|(_, n)| n).sum::<u64>(), rows);
            let big = sizes.iter().find(|(t, _)| *t == SKEW_BIG_TABLE).unwrap().1;
            assert!((big as f64 / rows as f64 - 0.9).abs() < 0.01, "{sizes:?}");
            assert!(sizes.iter().all(|(_, n)| *n >= 1), "{sizes:?}");
        }
    }
}
