//! seed-dev (placeholder while being written).
