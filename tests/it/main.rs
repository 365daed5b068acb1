//! The integration tests: one binary, one module per area, each test in its own databases.
#![allow(clippy::print_stderr)]

mod adoption;
mod check;
mod conditions;
mod console;
mod demo;
mod detector;
mod doc;
mod dump;
mod fit;
mod gate;
mod guarantees;
mod hardening;
mod overlap;
mod pull;
mod pull_cli;
mod realschema;
mod schema;
mod seed;
mod split;
mod subset;
mod support;
mod tidy;
mod transform;
