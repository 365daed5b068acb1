//! The integration tests: one binary, one module per area, each test in its own databases.
#![allow(clippy::print_stderr)]

mod hardening;
mod pull;
mod schema;
mod support;
