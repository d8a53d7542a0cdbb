//! The answer an SDK gets: status, content type and body. SDKs parse some of these bodies, so
//! each vendor's folder builds its own (`posthog/reply.rs`, `segment/reply.rs`, ...).

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Reply {
        Reply { status, content_type: "application/json", body: body.to_string().into_bytes() }
    }

    pub fn empty(status: u16) -> Reply {
        Reply { status, content_type: "text/plain", body: Vec::new() }
    }

    /// Plain UTF-8 text (RudderStack's and Mixpanel's short answers).
    pub fn text(status: u16, body: &str) -> Reply {
        Reply { status, content_type: "text/plain; charset=utf-8", body: body.as_bytes().to_vec() }
    }
}
