//! Transform throughput per strategy family, in values per second on one core.
//! Run with `cargo bench --bench transform` (release build, plain Rust, no harness).

#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use pullprod::policy::model::{FakeKind, FakeSpec, Generalise, Locale, Rule, Strategy};
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
    println!("{:<30} {:>14}", "strategy", "values/s/core");
    for (name, strategy, unique, column_type, format) in cases {
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

fn inputs(base: &BaseType, format: Format) -> Vec<Vec<u8>> {
    (0..4096u64)
        .map(|i| match (base, format) {
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
/// figure) over at least half a second of wall time, after a warm-up pass.
fn measure(transform: &mut ColumnTransform, inputs: &[Vec<u8>]) -> f64 {
    let mut out = Vec::with_capacity(256);
    for input in inputs {
        out.clear();
        transform
            .apply(Some(input), &mut out)
            .expect("bench value transforms");
    }
    let start = Instant::now();
    let cpu_start = thread_cpu_ns();
    let mut count = 0u64;
    while start.elapsed() < Duration::from_millis(500) {
        for input in inputs {
            out.clear();
            black_box(
                transform
                    .apply(Some(black_box(input)), &mut out)
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
