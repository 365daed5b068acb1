//! Everything pullprod prints: diagnostics and status lines.
#![allow(clippy::print_stderr)]

/// A status line on stderr (progress, warnings about the run). Never pass row values or secrets.
pub fn status(message: &str) {
    eprintln!("{message}");
}
