//! The integration tests: one binary, one module per area, each test in its own databases.

mod schema;
mod check;
mod support;
