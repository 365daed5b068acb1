//! This repository's own tasks, beside pullprod's commands: the demo "production" database and
//! the benchmark. They live here, not in the library, so a user's `cargo xtask` never shows them.

pub mod bench;
pub mod demo;
pub mod servertime;
