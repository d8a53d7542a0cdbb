//! Segment or RudderStack? Both speak the same API; the stored `source` says which SDK spoke.
//!
//! The rule, in order (the first that applies decides):
//! 1. a RudderStack-only route (`/sourceConfig`, `/beacon/v1/batch`): RudderStack;
//! 2. the User-Agent contains `rudder` (RudderStack's JS and mobile SDKs): RudderStack;
//! 3. any message's `context.library.name` contains `rudder` (`RudderLabs JavaScript SDK`,
//!    `com.rudderstack.android.sdk.core`, ...): RudderStack;
//! 4. any message has a top-level `channel` string: RudderStack. Every RudderStack SDK stamps
//!    `channel` (`server`, `web`, `mobile`) on its messages; Segment's SDKs never send it (Segment
//!    adds it server-side). This is what tells rudder-sdk-python apart: it reports
//!    `analytics-python` as its library and `analytics-python/<v>` as User-Agent, exactly like
//!    Segment's python library (see the recordings `rudder-sdk-python.jsonl` and
//!    `segment-analytics-python.jsonl`). Its gzip body is *not* used: Segment's python library
//!    gzips too when `gzip=True`.
//! 5. otherwise: Segment (the API's owner; "segment-compatible" when unsure).

use serde_json::Value;

use super::Route;
use crate::{Incoming, Source};

pub fn source_of(route: &Route, req: &Incoming<'_>, messages: &[Value]) -> Source {
    if route.is_rudder_only() || user_agent_says_rudder(req) || messages.iter().any(message_says_rudder) {
        Source::Rudderstack
    } else {
        Source::Segment
    }
}

/// The source guessed before the body is read (for refusals of unreadable bodies).
pub fn source_before_body(route: &Route, req: &Incoming<'_>) -> Source {
    source_of(route, req, &[])
}

fn user_agent_says_rudder(req: &Incoming<'_>) -> bool {
    req.header("user-agent").is_some_and(|ua| ua.to_ascii_lowercase().contains("rudder"))
}

fn message_says_rudder(message: &Value) -> bool {
    let library = message.pointer("/context/library/name").and_then(Value::as_str);
    library.is_some_and(|name| name.to_ascii_lowercase().contains("rudder"))
        || message.get("channel").is_some_and(Value::is_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req<'a>(headers: &'a [(String, String)]) -> Incoming<'a> {
        Incoming { method: "POST", path: "/v1/batch", query: None, headers, body: b"", received_at: chrono::Utc::now() }
    }

    #[test]
    fn python_libraries_are_told_apart_by_channel() {
        let ua = [("User-Agent".to_owned(), "analytics-python/2.1.9".to_owned())];
        let batch = Route::Batch { import: false, beacon: false };
        let rudder =
            json!({"type": "track", "channel": "server", "context": {"library": {"name": "analytics-python"}}});
        let segment = json!({"type": "track", "context": {"library": {"name": "analytics-python"}}});
        assert_eq!(source_of(&batch, &req(&ua), &[rudder]), Source::Rudderstack);
        assert_eq!(source_of(&batch, &req(&ua), &[segment]), Source::Segment);
    }

    #[test]
    fn library_name_user_agent_and_routes_say_rudder() {
        let batch = Route::Batch { import: false, beacon: false };
        let js = json!({"context": {"library": {"name": "RudderLabs JavaScript SDK"}}});
        assert_eq!(source_of(&batch, &req(&[]), &[js]), Source::Rudderstack);
        let ua = [("user-agent".to_owned(), "RudderAndroidClient/1.2".to_owned())];
        assert_eq!(source_of(&batch, &req(&ua), &[]), Source::Rudderstack);
        assert_eq!(source_of(&Route::SourceConfig, &req(&[]), &[]), Source::Rudderstack);
        assert_eq!(source_of(&Route::Batch { import: false, beacon: true }, &req(&[]), &[]), Source::Rudderstack);
        assert_eq!(source_of(&batch, &req(&[]), &[json!({"channel": 5})]), Source::Segment);
    }
}
