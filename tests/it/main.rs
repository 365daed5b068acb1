//! The integration tests: one binary, one module per area, each test in its own databases.
#![allow(clippy::print_stderr)]

mod check;
mod pull;
mod schema;
mod subset;
mod support;
