//! A request as an SDK sent it, whatever file it came from.

use std::sync::Arc;

use event_store::ImportRow;

/// The live server's own request type: one shape for what arrives and what is imported.
pub use capture_decode::Received as RawRequest;

/// The live server's decoding of one request into the rows it would store, or `None` for what
/// the server does not store (a bare `OPTIONS`). Implemented by `inspector_server::decode_raw`.
pub type Decoder = Arc<dyn Fn(&RawRequest) -> Option<ImportRow> + Send + Sync>;
