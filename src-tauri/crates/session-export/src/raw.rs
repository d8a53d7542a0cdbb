//! A request as an SDK sent it, whatever file it came from.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use event_store::ImportRow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRequest {
    pub received_at: DateTime<Utc>,
    pub method: String,
    /// Path without the query, as the capture routes see it (proxy prefixes already removed).
    pub path: String,
    /// The raw query string, without `?`.
    pub query: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The live server's decoding of one request into the rows it would store, or `None` for what
/// the server does not store (a bare `OPTIONS`). Implemented by `inspector_server::decode_raw`.
pub type Decoder = Arc<dyn Fn(&RawRequest) -> Option<ImportRow> + Send + Sync>;
