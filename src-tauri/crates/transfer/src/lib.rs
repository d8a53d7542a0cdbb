//! Export, import and replay of captured traffic.
//!
//! Formats (see docs/EXPORT-IMPORT.md):
//! - **bundle** ([`bundle`]): gzip'd NDJSON, a versioned header then one raw request per line,
//!   exactly as received, then an end line. Rebuilds everything on import.
//! - **NDJSON** ([`ndjson`]): one event per line in PostHog's capture format, ready for `/batch`.
//! - **HAR 1.2** ([`har`]): the raw HTTP requests, for browser devtools and HTTP Toolkit; import
//!   picks the analytics requests out of any HAR (e.g. one saved on a production site).
//! - **CSV** ([`csv_out`]): events for spreadsheets (export only).
//!
//! Exports are safe to share by default: [`redact`] replaces the secrets in request headers.
//!
//! Decoding is not done here: imported requests go through [`ingest::decode_raw`], the live
//! capture handler's own decision, so an import stores exactly what the server would have.
//!
//! Invariants (imports):
//! - Memory is bounded whatever a file unpacks to: NDJSON lines (16 MB) and bundle lines (60 MB)
//!   are refused past their cap before they are held whole; a HAR's strings are cut while they
//!   are read (`json_cap`: 56 MB a string, 64 MB for one entry's strings together); the HAR of a
//!   zip is unpacked to an anonymous temporary file and each attached body is read up to its
//!   route's limit only. The import-bomb test holds peak RSS under 256 MB.
//! - A body over its route's read limit is stored as live capture stores it: refused as
//!   `body_too_large`, without the body (`decode`).
//! - A file is opened once and read from that one handle (FIFOs, `/dev/stdin`); temporary files
//!   are anonymous (unlinked at creation), so a killed import leaves none behind.

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
pub mod redact;
mod replay;
pub mod scope;

pub use detect::{detect, Format};
pub use error::{EntryError, ExportError, FileError};
pub use export::{export, export_with, ExportFormat, ExportSummary};
pub use import::{
    import_file, import_open_file, import_reader, import_stream, read_file_rows, read_open_file_rows, read_rows,
    read_stream_rows, ImportOptions, Opened, Rows,
};
pub use progress::{NoProgress, Progress};
pub use redact::Secrets;
pub use replay::{replay, replay_file, ReplayError, ReplayOptions, ReplaySummary};
pub use scope::{parse_time, Scope, SelectionError, TimeError};
