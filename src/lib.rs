//! pullprod: pull production PostgreSQL data into a developer's database, anonymised in
//! memory on the way. The commands live in `cli`; this file is the public API.

pub mod cli;
pub mod conn;
pub mod diag;
pub mod dumpfile;
pub mod pipeline;
pub mod policy;
pub mod progress;
pub mod pull;
pub mod rowcodec;
pub mod schema;
pub mod seed;
pub mod sqltype;
pub mod target;
pub mod transform;
