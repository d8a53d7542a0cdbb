//! The transfer crate's integration tests, one binary. `tests/import_bombs.rs` is its own: it
//! measures the whole process's peak memory.

mod pipes;
