//! Progress of a pull on the terminal: a bar per table (rows, MB/s, ETA) when stderr is a
//! terminal, one plain line per finished table otherwise; a table split into ranges is one
//! bar and one line, its ranges summed (`pipeline::copy_tables` reports it so).

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Instant;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::pipeline::{Progress, TableCopied, TablePlan};
use crate::policy::model::TableName;

/// Seconds spent in each named phase, in order.
pub type Phases = Vec<(&'static str, f64)>;

/// Shows per-table progress on stderr.
pub struct TableProgress {
    multi: Option<MultiProgress>,
    bars: Mutex<HashMap<TableName, (ProgressBar, Instant)>>,
    quiet: bool,
}

impl TableProgress {
    /// Bars on a terminal, plain lines otherwise; nothing at all when `quiet`.
    pub fn new(quiet: bool) -> TableProgress {
        let multi = (!quiet && std::io::stderr().is_terminal())
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        TableProgress {
            multi,
            bars: Mutex::new(HashMap::new()),
            quiet,
        }
    }

    /// A message line that does not tear the bars.
    pub fn line(&self, message: &str) {
        if self.quiet {
            return;
        }
        match &self.multi {
            Some(multi) => {
                let _ = multi.println(message);
            }
            None => crate::diag::status(message),
        }
    }
}

impl Progress for TableProgress {
    fn started(&self, plan: &TablePlan) {
        let bar = match &self.multi {
            Some(multi) => {
                let bar = multi.add(ProgressBar::new(plan.estimated_rows.max(1) as u64));
                bar.set_style(
                    ProgressStyle::with_template(
                        "{prefix:>28} {bar:30} {human_pos:>11} rows {msg:>10} eta {eta}",
                    )
                    .expect("the template is valid"),
                );
                bar.set_prefix(plan.table.to_string());
                bar
            }
            None => ProgressBar::hidden(),
        };
        self.bars
            .lock()
            .expect("progress lock")
            .insert(plan.table.clone(), (bar, Instant::now()));
    }

    fn advanced(&self, table: &TableName, bytes: u64, rows: u64) {
        if let Some((bar, started)) = self.bars.lock().expect("progress lock").get(table) {
            // The planner's estimate can be low: grow the bar rather than overflow it.
            if rows > bar.length().unwrap_or(0) {
                bar.set_length(rows);
            }
            bar.set_position(rows);
            let seconds = started.elapsed().as_secs_f64().max(1e-3);
            bar.set_message(format!("{:.1} MB/s", bytes as f64 / 1e6 / seconds));
        }
    }

    fn finished(&self, copied: &TableCopied) {
        let entry = self
            .bars
            .lock()
            .expect("progress lock")
            .remove(&copied.table);
        let seconds = entry
            .as_ref()
            .map(|(_, start)| start.elapsed().as_secs_f64())
            .unwrap_or(0.0);
        if let Some((bar, _)) = entry {
            bar.finish_and_clear();
        }
        let megabytes = copied.bytes as f64 / 1e6;
        let ranges = if copied.units > 1 {
            format!(", as {} ranges", copied.units)
        } else {
            String::new()
        };
        self.line(&format!(
            "copied `{}`: {} rows, {:.1} MB in {:.1}s ({:.1} MB/s{ranges})",
            copied.table,
            copied.rows,
            megabytes,
            seconds,
            if seconds > 0.0 {
                megabytes / seconds
            } else {
                0.0
            }
        ));
    }
}
