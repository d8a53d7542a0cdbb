//! analytics-node-like Segment messages posted to `/v1/batch` as gzip (deduplicated by
//! `messageId` and resolved by Segment's rules).

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::{gzip, Request, Row, Traffic};

pub struct Segment;

impl Traffic for Segment {
    fn path(&self) -> &'static str {
        "/v1/batch"
    }

    /// An analytics-node-like Segment message of about the same size as PostHog's event.
    fn event(&self, i: usize, _n: usize, now: DateTime<Utc>) -> Value {
        let identify = i.is_multiple_of(7);
        let mut m = json!({
            "type": if identify { "identify" } else { "track" },
            "userId": format!("user-{}", i % 5_000),
            "anonymousId": format!("anon-{}", i % 20_000),
            "messageId": uuid::Uuid::now_v7().to_string(),
            "timestamp": now.to_rfc3339(),
            "context": {
                "library": {"name": "@segment/analytics-node", "version": "3.1.0"},
                "device": {"id": format!("device-{}", i % 20_000)}
            },
            "integrations": {},
        });
        if identify {
            m["traits"] = json!({"email": format!("user-{}@example.com", i % 5_000), "plan": "pro", "seats": i % 40});
        } else {
            m["event"] = json!("viewed page");
            m["properties"] = json!({
                "url": format!("https://app.example.com/projects/{}/settings?tab=billing", i % 977),
                "plan": "pro", "seats": i % 40, "experiment": "checkout-v2", "index": i
            });
        }
        m
    }

    fn requests(&self, events: &[Value], batch: usize, now: DateTime<Utc>) -> Vec<Request> {
        events
            .chunks(batch)
            .map(|chunk| {
                let body = json!({"writeKey": "wk_bench", "batch": chunk, "sentAt": now.to_rfc3339()});
                Request {
                    method: reqwest::Method::POST,
                    target: self.path().to_owned(),
                    headers: vec![("content-type", "application/json".into()), ("content-encoding", "gzip".into())],
                    body: gzip(body.to_string().as_bytes()),
                }
            })
            .collect()
    }

    fn row<'a>(&self, e: &'a Value) -> Row<'a> {
        Row {
            project: "wk_bench",
            source: "segment",
            uuid: e["messageId"].as_str().map(Into::into),
            event: if e["type"] == "track" { e["event"].as_str() } else { e["type"].as_str() },
            distinct_id: e["userId"].as_str(),
            device_id: e["context"]["device"]["id"].as_str(),
            session_id: None,
            properties: e.to_string(),
        }
    }
}
