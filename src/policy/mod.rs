//! The policy language: TOML files parsed with spans and validated into `model::Policy`.

pub mod model;
