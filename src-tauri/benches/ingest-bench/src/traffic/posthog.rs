//! posthog-node-like events posted to `/batch/` as gzip.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::{gzip, Request, Row, Traffic};

pub struct Posthog;

impl Traffic for Posthog {
    fn path(&self) -> &'static str {
        "/batch/"
    }

    /// A posthog-node-like event of realistic size (about 500 bytes of JSON).
    fn event(&self, i: usize, _n: usize, now: DateTime<Utc>) -> Value {
        json!({
            "event": if i.is_multiple_of(7) { "$identify" } else { "viewed page" },
            "distinct_id": format!("user-{}", i % 5_000),
            "uuid": uuid::Uuid::now_v7().to_string(),
            "timestamp": now.to_rfc3339(),
            "properties": {
                "$lib": "posthog-node", "$lib_version": "5.70.0", "$geoip_disable": true,
                "$device_id": format!("device-{}", i % 20_000),
                "$session_id": format!("session-{}", i / 50),
                "$current_url": format!("https://app.example.com/projects/{}/settings?tab=billing", i % 977),
                "plan": "pro", "seats": i % 40, "experiment": "checkout-v2", "index": i,
                "$set": {"email": format!("user-{}@example.com", i % 5_000)}
            }
        })
    }

    fn requests(&self, events: &[Value], batch: usize, now: DateTime<Utc>) -> Vec<Request> {
        events
            .chunks(batch)
            .map(|chunk| {
                let body = json!({"api_key": "phc_bench", "batch": chunk, "sent_at": now.to_rfc3339()});
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
        let p = &e["properties"];
        Row {
            project: "phc_bench",
            source: "posthog",
            uuid: e["uuid"].as_str().map(Into::into),
            event: e["event"].as_str(),
            distinct_id: e["distinct_id"].as_str(),
            device_id: p["$device_id"].as_str(),
            session_id: p["$session_id"].as_str(),
            properties: p.to_string(),
        }
    }
}
