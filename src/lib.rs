//! pullprod: pull production PostgreSQL data into a developer's database, anonymised in
//! memory on the way. The commands live in `cli`; this file is the public API.
//!
//! pullprod is used through a project's `cargo xtask`: the project adds an `xtask` crate that
//! depends on pullprod, and its `main` hands the command line to [`cli::run`]:
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     pullprod::cli::run(std::env::args_os().skip(1))
//! }
//! ```
//!
//! `cargo xtask pull-prod`, `check-policy`, `seed-dev`, `policy …`, `prune-dumps` and `console`
//! then read the `[package.metadata.dump]` (or `[workspace.metadata.dump]`) table of the
//! project's `Cargo.toml` and its policy folder; the README describes both. An xtask with tasks
//! of its own parses [`cli::Command`] inside its own parser and runs it with [`cli::execute`].

pub mod cli;

// What this repository's own xtask (demo, bench) and integration tests reach into: public for
// them, hidden from the documentation and not part of the supported API.
#[doc(hidden)]
pub mod check;
#[doc(hidden)]
pub mod checkexpr;
#[doc(hidden)]
pub mod config;
#[doc(hidden)]
pub mod conn;
#[doc(hidden)]
pub mod coverage;
#[doc(hidden)]
pub mod detect;
#[doc(hidden)]
pub mod dumpfile;
#[doc(hidden)]
pub mod fault;
#[doc(hidden)]
pub mod fit;
#[doc(hidden)]
pub mod guard;
#[doc(hidden)]
pub mod pgerror;
#[doc(hidden)]
pub mod pipeline;
#[doc(hidden)]
pub mod plan;
#[doc(hidden)]
pub mod policy;
#[doc(hidden)]
pub mod postdata;
#[doc(hidden)]
pub mod pull;
#[doc(hidden)]
pub mod rowcodec;
#[doc(hidden)]
pub mod sample;
#[doc(hidden)]
pub mod schema;
#[doc(hidden)]
pub mod seed;
#[doc(hidden)]
pub mod sql;
#[doc(hidden)]
pub mod sqltype;
#[doc(hidden)]
pub mod subset;
#[doc(hidden)]
pub mod target;
#[doc(hidden)]
pub mod transform;

pub(crate) mod access;
pub(crate) mod condition;
pub(crate) mod console;
pub(crate) mod diag;
pub(crate) mod gate;
pub(crate) mod policydoc;
pub(crate) mod progress;
