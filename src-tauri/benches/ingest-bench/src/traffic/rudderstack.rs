//! rudder-sdk-node (`@rudderstack/rudder-sdk-node` 2.x) batches: `POST /v1/batch` with the write
//! key as Basic auth user (empty password), a gzip body `{batch, timestamp, sentAt}` and the
//! user agent `analytics-node/<version>`. Every message gets `channel: "server"` (what tells
//! RudderStack from Segment here), `context.library.name: "analytics-node"`, `_metadata`,
//! `originalTimestamp`, `sentAt` and a v4 `messageId`; an identify's traits are copied into
//! `context.traits`. See its `src/index.js` (`enqueue`, `flush`).
//!
//! Identity: anonymous tracks carry only `anonymousId`; the sign-in is an `identify` with both
//! `userId` and the device's `anonymousId`; later tracks carry both.

use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::{gzip, persons_of_visits, visit, Request, Row, Step, Traffic};

pub struct Rudderstack;

pub const WRITE_KEY: &str = "wk_rudder_bench";
const VERSION: &str = "2.1.4";

impl Traffic for Rudderstack {
    fn path(&self) -> &'static str {
        "/v1/batch"
    }

    fn event(&self, i: usize, n: usize, now: DateTime<Utc>) -> Value {
        let v = visit(i, n);
        let now = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut m = json!({
            "anonymousId": format!("anon-{}", v.device),
            "messageId": uuid::Uuid::new_v4().to_string(),
            "originalTimestamp": now,
            "sentAt": now,
            "channel": "server",
            "context": {"library": {"name": "analytics-node", "version": VERSION}},
            "_metadata": {"nodeVersion": "22.12.0"},
        });
        if v.step != Step::Anonymous {
            m["userId"] = json!(format!("user-{}", v.user));
        }
        if v.step == Step::SignIn {
            let traits = json!({"email": format!("user-{}@example.com", v.user), "plan": "pro", "seats": i % 40});
            m["type"] = json!("identify");
            m["context"]["traits"] = traits.clone();
            m["traits"] = traits;
        } else {
            m["type"] = json!("track");
            m["event"] = json!("viewed page");
            m["properties"] = json!({
                "url": format!("https://app.example.com/projects/{}/settings?tab=billing", i % 977),
                "plan": "pro", "experiment": "checkout-v2", "index": i
            });
        }
        m
    }

    fn requests(&self, events: &[Value], batch: usize, now: DateTime<Utc>) -> Vec<Request> {
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{WRITE_KEY}:"));
        let now = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        events
            .chunks(batch)
            .map(|chunk| {
                let body = json!({"batch": chunk, "timestamp": now, "sentAt": now});
                Request {
                    method: reqwest::Method::POST,
                    target: self.path().to_owned(),
                    headers: vec![
                        ("content-type", "application/json".into()),
                        ("content-encoding", "gzip".into()),
                        ("authorization", format!("Basic {auth}")),
                        ("user-agent", format!("analytics-node/{VERSION}")),
                    ],
                    body: gzip(body.to_string().as_bytes()),
                }
            })
            .collect()
    }

    fn expected_persons(&self, n: usize) -> Option<usize> {
        Some(persons_of_visits(n))
    }

    fn row<'a>(&self, e: &'a Value) -> Row<'a> {
        Row {
            project: WRITE_KEY,
            source: "rudderstack",
            uuid: e["messageId"].as_str().map(Into::into),
            event: if e["type"] == "track" { e["event"].as_str() } else { e["type"].as_str() },
            distinct_id: e["userId"].as_str().or(e["anonymousId"].as_str()),
            device_id: None,
            session_id: None,
            properties: e.to_string(),
        }
    }
}
