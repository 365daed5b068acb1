//! pullprod: pull production PostgreSQL data into a developer's database, anonymised in
//! memory on the way. The commands live in `cli`; this file is the public API.

pub mod bench;
pub mod check;
pub mod checkexpr;
pub mod cli;
pub mod condition;
pub mod config;
pub mod conn;
pub mod coverage;
pub mod demo;
pub mod detect;
pub mod diag;
pub mod dumpfile;
pub mod fault;
pub mod fit;
pub mod gate;
pub mod guard;
pub mod pgerror;
pub mod pipeline;
pub mod plan;
pub mod policy;
pub mod policydoc;
pub mod progress;
pub mod pull;
pub mod rowcodec;
pub mod sample;
pub mod schema;
pub mod seed;
pub mod sql;
pub mod sqltype;
pub mod subset;
pub mod target;
pub mod transform;
