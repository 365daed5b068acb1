//! Fixture crate for check-policy tests.
