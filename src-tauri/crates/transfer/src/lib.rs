//! Export, import and replay of captured traffic.
//!
//! Formats (see the README's "Export, import and replay"):
//! - **bundle** ([`bundle`]): gzip'd NDJSON, a versioned header then one raw request per line,
//!   exactly as received, then an end line. Rebuilds everything on import.
//! - **NDJSON** ([`ndjson`]): one event per line in PostHog's capture format, ready for `/batch`.
//! - **HAR 1.2** ([`har`]): the raw HTTP requests, for browser devtools and HTTP Toolkit; import
//!   picks the analytics requests out of any HAR (e.g. one saved on a production site).
//! - **CSV** ([`csv_out`]): events for spreadsheets (export only).
//!
//! Decoding is not done here: imported requests go through [`ingest::decode_raw`], the live
//! capture handler's own decision, so an import stores exactly what the server would have.

pub mod bundle;
pub mod csv_out;
mod decode;
mod detect;
mod error;
pub mod export;
pub mod har;
mod har_zip;
pub mod import;
mod json_cap;
pub mod ndjson;
mod posthog_line;
mod progress;
mod replay;
pub mod scope;

pub use detect::{detect, Format};
pub use error::{EntryError, ExportError, FileError};
pub use export::{export, ExportFormat, ExportSummary};
pub use import::{
    import_file, import_open_file, import_reader, read_file_rows, read_open_file_rows, read_rows, ImportOptions,
    Opened, Rows,
};
pub use progress::{NoProgress, Progress};
pub use replay::{replay, replay_file, ReplayError, ReplayOptions, ReplaySummary};
pub use scope::{parse_time, Scope, SelectionError, TimeError};
