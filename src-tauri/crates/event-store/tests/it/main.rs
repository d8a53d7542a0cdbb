//! The event-store integration tests, one module per area, built as one test binary (one link
//! instead of seven).

mod changes;
mod common;
mod dedup;
mod delete;
mod faults;
mod imports;
mod prune;
mod queries;
mod read_only;
mod settings;
mod sources;
mod store;
