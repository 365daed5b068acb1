//! The integration tests: one binary, one module per area, each test in its own databases.

mod support;
mod transform;
