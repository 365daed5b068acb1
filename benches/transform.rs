//! Transform throughput per strategy family, in values per second on one core.
//! Run with `cargo bench --bench transform` (release build, plain Rust, no harness).

#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use pullprod::policy::model::{
    FakeKind, FakeSpec, Generalise, JsonPath, JsonRule, JsonStep, Locale, Rule, Strategy,
};
use pullprod::sqltype::{BaseType, SqlType};
use pullprod::transform::{ColumnTransform, Format, Salt};

fn main() {
    let salt = Salt::new("bench-salt");
    let fake = |kind| {
        Strategy::Fake(FakeSpec {
            kind,
            locale: Locale::EnGb,
            min: None,
            max: None,
        })
    };
    let text = SqlType::simple(BaseType::Text, "text");
    let varchar = SqlType {
        max_chars: Some(255),
        ..SqlType::simple(BaseType::Varchar, "character varying(255)")
    };
    let int8 = SqlType::simple(BaseType::Int8, "bigint");
    let date = SqlType::simple(BaseType::Date, "date");
    let tstz = SqlType::simple(BaseType::Timestamptz, "timestamp with time zone");
    let uuid = SqlType::simple(BaseType::Uuid, "uuid");
    let citext = SqlType::simple(BaseType::Citext, "citext");
    let jsonb = SqlType::simple(BaseType::Jsonb, "jsonb");
    let cases: Vec<(&str, Strategy, bool, SqlType, Format)> = vec![
        (
            "hash text",
            Strategy::Hash,
            false,
            text.clone(),
            Format::Text,
        ),
        (
            "hash text unique",
            Strategy::Hash,
            true,
            varchar.clone(),
            Format::Binary,
        ),
        (
            "hash int8 binary",
            Strategy::Hash,
            false,
            int8.clone(),
            Format::Binary,
        ),
        (
            "hash int8 unique (feistel)",
            Strategy::Hash,
            true,
            int8.clone(),
            Format::Binary,
        ),
        (
            "hash uuid binary",
            Strategy::Hash,
            false,
            uuid,
            Format::Binary,
        ),
        (
            "fake.email",
            fake(FakeKind::Email),
            false,
            varchar.clone(),
            Format::Text,
        ),
        (
            "fake.email unique",
            fake(FakeKind::Email),
            true,
            varchar.clone(),
            Format::Text,
        ),
        (
            "fake.email unique (citext)",
            fake(FakeKind::Email),
            true,
            citext,
            Format::Text,
        ),
        (
            "json events (jsonb binary)",
            Strategy::Json(events_rules()),
            false,
            jsonb.clone(),
            Format::Binary,
        ),
        (
            "json events (jsonb text)",
            Strategy::Json(events_rules()),
            false,
            jsonb,
            Format::Text,
        ),
        (
            "fake.name",
            fake(FakeKind::Name),
            false,
            varchar.clone(),
            Format::Text,
        ),
        (
            "fake.phone",
            fake(FakeKind::Phone),
            false,
            text.clone(),
            Format::Text,
        ),
        (
            "fake.street_address",
            fake(FakeKind::StreetAddress),
            false,
            text.clone(),
            Format::Text,
        ),
        (
            "fake.postcode",
            fake(FakeKind::Postcode),
            false,
            text.clone(),
            Format::Text,
        ),
        (
            "fake.sentence",
            fake(FakeKind::Sentence),
            false,
            text.clone(),
            Format::Text,
        ),
        (
            "redact",
            Strategy::Redact,
            false,
            text.clone(),
            Format::Text,
        ),
        (
            "mask",
            Strategy::Mask { keep_last: 4 },
            false,
            text.clone(),
            Format::Text,
        ),
        (
            "generalise year (date text)",
            Strategy::Generalise(Generalise::Year),
            false,
            date.clone(),
            Format::Text,
        ),
        (
            "shift (timestamptz binary)",
            Strategy::Shift { max_days: 30 },
            false,
            tstz.clone(),
            Format::Binary,
        ),
        (
            "shift (timestamptz text)",
            Strategy::Shift { max_days: 30 },
            false,
            tstz,
            Format::Text,
        ),
    ];
    // `cargo bench --bench transform -- json email`: only the cases whose name contains a word.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    println!("{:<30} {:>14}", "strategy", "values/s/core");
    for (name, strategy, unique, column_type, format) in cases {
        if !filters.is_empty() && !filters.iter().any(|word| name.contains(word.as_str())) {
            continue;
        }
        let rule = Rule {
            strategy,
            unique,
            reason: None,
            not_sensitive: None,
        };
        let mut transform = ColumnTransform::new(&rule, &column_type, format, &salt)
            .expect("bench transform builds");
        let inputs = inputs(&column_type.base, format);
        println!("{name:<30} {:>14.0}", measure(&mut transform, &inputs));
    }
}

/// The demo's `events.payload` rule (policy/events.toml).
fn events_rules() -> Vec<JsonRule> {
    let rule = |text: &str, steps: &[&str], strategy: Strategy| JsonRule {
        path: JsonPath {
            text: text.into(),
            steps: steps
                .iter()
                .map(|step| match *step {
                    "*" => JsonStep::EveryElement,
                    key => JsonStep::Key(key.into()),
                })
                .collect(),
        },
        rule: Rule::new(strategy),
    };
    let fake = |kind| {
        Strategy::Fake(FakeSpec {
            kind,
            locale: Locale::EnGb,
            min: None,
            max: None,
        })
    };
    vec![
        rule("$.actor.email", &["actor", "email"], fake(FakeKind::Email)),
        rule("$.actor.ip", &["actor", "ip"], fake(FakeKind::Ipv4)),
        rule(
            "$.actor.user_agent",
            &["actor", "user_agent"],
            Strategy::Redact,
        ),
        rule(
            "$.items[*].email",
            &["items", "*", "email"],
            fake(FakeKind::Email),
        ),
    ]
}

/// A payload like the demo's events, in PostgreSQL's jsonb text output (keys by length).
fn event_payload(i: u64) -> String {
    let request = format!("{:08x}-1234-5678-9abc-{:012x}", i * 2_654_435_761, i);
    let actor = format!(
        r#""actor": {{"ip": "10.{}.{}.{}", "email": "Customer.{i}@Mail.example.co.uk""#,
        i % 250,
        i / 7 % 250,
        i / 3 % 250
    );
    match i % 4 {
        0 => format!(
            r#"{{"kind": "user.signed_in", "actor": {{"ip": "10.{}.{}.{}", "email": "customer.{i}@mail.example.co.uk", "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"}}, "request_id": "{request}"}}"#,
            i % 250,
            i / 7 % 250,
            i / 3 % 250
        ),
        1 => format!(
            r#"{{"kind": "order.placed", {actor}}}, "items": [{{"qty": 2, "sku": "SKU-{:06}", "email": "gift.{i}@example.org"}}, {{"qty": 1, "sku": "SKU-{:06}", "email": "customer.{i}@mail.example.co.uk"}}], "request_id": "{request}"}}"#,
            i % 5000,
            i * 7 % 5000
        ),
        2 => format!(
            r#"{{"kind": "cart.updated", {actor}}}, "items": [{{"qty": 3, "sku": "SKU-{:06}", "email": "Gift.{i}@example.net"}}, {{"qty": 1, "sku": "SKU-{:06}", "email": null}}], "request_id": "{request}"}}"#,
            i % 5000,
            i * 7 % 5000
        ),
        _ => format!(
            r#"{{"kind": "email.sent", {actor}}}, "marketing": {{"opt_in": true, "campaign": "spring-{}"}}, "request_id": "{request}"}}"#,
            i % 7
        ),
    }
}

fn inputs(base: &BaseType, format: Format) -> Vec<Vec<u8>> {
    (0..4096u64)
        .map(|i| match (base, format) {
            (BaseType::Jsonb, Format::Binary) => {
                let mut bytes = vec![1];
                bytes.extend_from_slice(event_payload(i).as_bytes());
                bytes
            }
            (BaseType::Jsonb, Format::Text) => event_payload(i).into_bytes(),
            (BaseType::Int8, Format::Binary) => (i as i64 * 7919).to_be_bytes().to_vec(),
            (BaseType::Uuid, _) => {
                let mut bytes = [0u8; 16];
                bytes[..8].copy_from_slice(&i.to_be_bytes());
                bytes.to_vec()
            }
            (BaseType::Date, _) => {
                format!("{}-{:02}-{:02}", 1950 + i % 60, 1 + i % 12, 1 + i % 28).into_bytes()
            }
            (BaseType::Timestamptz, Format::Binary) => {
                (i as i64 * 86_400_000_001).to_be_bytes().to_vec()
            }
            (BaseType::Timestamptz, Format::Text) => format!(
                "20{:02}-{:02}-{:02} 12:34:56.789+00",
                i % 30,
                1 + i % 12,
                1 + i % 28
            )
            .into_bytes(),
            _ => format!("customer.{i}@mail.example.co.uk").into_bytes(),
        })
        .collect()
}

/// Values per second of this thread's CPU time (so a busy machine does not skew the
/// figure): the best of three runs of at least 0.3 s of wall time each, after a warm-up pass.
fn measure(transform: &mut ColumnTransform, inputs: &[Vec<u8>]) -> f64 {
    let mut out = Vec::with_capacity(512);
    for input in inputs {
        out.clear();
        transform
            .apply(Some(input), &mut out)
            .expect("bench value transforms");
    }
    (0..3)
        .map(|_| measure_once(transform, inputs, &mut out))
        .fold(0.0, f64::max)
}

fn measure_once(transform: &mut ColumnTransform, inputs: &[Vec<u8>], out: &mut Vec<u8>) -> f64 {
    let start = Instant::now();
    let cpu_start = thread_cpu_ns();
    let mut count = 0u64;
    while start.elapsed() < Duration::from_millis(300) {
        for input in inputs {
            out.clear();
            black_box(
                transform
                    .apply(Some(black_box(input)), out)
                    .expect("bench value transforms"),
            );
        }
        count += inputs.len() as u64;
    }
    let seconds = match (cpu_start, thread_cpu_ns()) {
        (Some(from), Some(to)) if to > from => (to - from) as f64 / 1e9,
        _ => start.elapsed().as_secs_f64(),
    };
    count as f64 / seconds
}

/// Nanoseconds this thread has run on a CPU (Linux `schedstat`), if available.
fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}
