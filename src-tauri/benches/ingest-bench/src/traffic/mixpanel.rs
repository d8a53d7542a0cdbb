//! Mixpanel for Node (`mixpanel` on npm, 0.24) `track_batch()`: `POST /track?ip=0&verbose=0`
//! with the form body `data=<base64 of the JSON array>` (the library neither escapes the base64
//! nor gzips it), at most 50 events a request (its `MAX_BATCH_SIZE`), and it takes a reply as
//! success only if the body is exactly `1` (`verbose=0`). See its `lib/mixpanel-node.js`
//! (`send_request`, `send_batch_requests`).
//!
//! Identity, as a server sends it in a Simplified ID Merge project (the inspector's default for
//! a new project): anonymous events carry `distinct_id: "$device:<id>"` and `$device_id`; the
//! sign-in is a `$identify` event with `$identified_id` (the user) and `$anon_id` (the device's
//! distinct id), as mixpanel-browser's `identify()` sends it; later events carry the user as
//! `distinct_id` and `$user_id` next to `$device_id`.

use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::{persons_of_visits, visit, Request, Row, Step, Traffic};

pub struct Mixpanel;

pub const TOKEN: &str = "mp_bench";
/// mixpanel-node's `MAX_BATCH_SIZE`.
const MAX_BATCH: usize = 50;

impl Traffic for Mixpanel {
    fn path(&self) -> &'static str {
        "/track"
    }

    fn event(&self, i: usize, n: usize, now: DateTime<Utc>) -> Value {
        let v = visit(i, n);
        let device = format!("device-{}", v.device);
        let anonymous = format!("$device:{device}");
        let user = format!("user-{}", v.user);
        let mut properties = json!({
            "token": TOKEN,
            "time": now.timestamp_millis(),
            "$insert_id": uuid::Uuid::now_v7().to_string(),
            "$device_id": device,
            "mp_lib": "node", "$lib_version": "0.24.0",
            "$current_url": format!("https://app.example.com/projects/{}/settings?tab=billing", i % 977),
            "referrer": "https://www.example.com/blog/how-we-price?utm_source=newsletter",
            "plan": "pro", "seats": i % 40, "experiment": "checkout-v2", "index": i,
        });
        let event = match v.step {
            Step::Anonymous => {
                properties["distinct_id"] = json!(anonymous);
                "viewed page"
            }
            Step::SignIn => {
                properties["distinct_id"] = json!(user);
                properties["$user_id"] = json!(user);
                properties["$identified_id"] = json!(user);
                properties["$anon_id"] = json!(anonymous);
                "$identify"
            }
            Step::SignedIn => {
                properties["distinct_id"] = json!(user);
                properties["$user_id"] = json!(user);
                "viewed page"
            }
        };
        json!({"event": event, "properties": properties})
    }

    fn events_per_request(&self, batch: usize) -> usize {
        batch.min(MAX_BATCH)
    }

    fn requests(&self, events: &[Value], batch: usize, _now: DateTime<Utc>) -> Vec<Request> {
        events
            .chunks(self.events_per_request(batch))
            .map(|chunk| {
                let data = base64::engine::general_purpose::STANDARD.encode(Value::from(chunk.to_vec()).to_string());
                Request {
                    method: reqwest::Method::POST,
                    target: "/track?ip=0&verbose=0".to_owned(),
                    headers: vec![("content-type", "application/x-www-form-urlencoded".into())],
                    body: format!("data={data}").into_bytes(),
                }
            })
            .collect()
    }

    fn accepts(&self, body: &[u8]) -> bool {
        body == b"1"
    }

    fn expected_persons(&self, n: usize) -> Option<usize> {
        Some(persons_of_visits(n))
    }

    fn row<'a>(&self, e: &'a Value) -> Row<'a> {
        let p = &e["properties"];
        Row {
            project: TOKEN,
            source: "mixpanel",
            uuid: p["$insert_id"].as_str().map(Into::into),
            event: e["event"].as_str(),
            distinct_id: p["distinct_id"].as_str(),
            device_id: p["$device_id"].as_str(),
            session_id: None,
            properties: p.to_string(),
        }
    }
}
