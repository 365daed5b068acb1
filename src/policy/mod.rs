//! The policy language: TOML files parsed with spans and validated into `model::Policy`.

pub mod model;
pub mod validate;

pub use validate::{Parsed, PolicyFile, parse};
