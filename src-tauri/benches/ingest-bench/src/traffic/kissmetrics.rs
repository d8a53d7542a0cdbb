//! py-KISSmetrics (`KISSmetrics.Client`): one `GET` per call, its parameters in the query in the
//! order the library's `create_query` builds them (`_k`, `_p`, then `_n`, then the
//! properties), over a urllib3 `PoolManager` that keeps the connection alive for the next call.
//! `record()` calls `/e`, `alias(person, identity)` calls `/a` with the identity as `_n`. There is
//! no batch route, so `--batch` does not apply. The inspector answers with a 1x1 GIF.
//!
//! Identity: a device's calls use an anonymous id as `_p` until the sign-in, an alias of that id
//! to the user's; later calls use the user's id.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::{persons_of_visits, visit, Request, Row, Step, Traffic};

pub struct Kissmetrics;

pub const API_KEY: &str = "km_bench";

impl Traffic for Kissmetrics {
    fn path(&self) -> &'static str {
        "/e"
    }

    /// The call's parameters (`_path` says which route; it is not sent as a parameter).
    fn event(&self, i: usize, n: usize, _now: DateTime<Utc>) -> Value {
        let v = visit(i, n);
        let anonymous = format!("anon-{}", v.device);
        let user = format!("user-{}@example.com", v.user);
        match v.step {
            Step::SignIn => json!({"_path": "/a", "_k": API_KEY, "_p": anonymous, "_n": user}),
            step => {
                let person = if step == Step::Anonymous { anonymous } else { user };
                json!({
                    "_path": "/e", "_k": API_KEY, "_p": person, "_n": "viewed page",
                    "url": format!("https://app.example.com/projects/{}/settings?tab=billing", i % 977),
                    "plan": "pro", "seats": (i % 40).to_string(), "experiment": "checkout-v2",
                    "index": i.to_string(), "device": format!("device-{}", v.device),
                    "referrer": "https://www.example.com/blog/how-we-price?utm_source=newsletter",
                    "title": "Billing settings - Example App", "utm_campaign": "spring-pricing",
                    "utm_medium": "email", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
                })
            }
        }
    }

    fn events_per_request(&self, _batch: usize) -> usize {
        1
    }

    fn requests(&self, events: &[Value], _batch: usize, _now: DateTime<Utc>) -> Vec<Request> {
        events
            .iter()
            .map(|e| {
                let mut query = form_urlencoded::Serializer::new(String::new());
                for key in ["_k", "_p", "_n"] {
                    query.append_pair(key, e[key].as_str().unwrap_or_default());
                }
                for (key, value) in e.as_object().into_iter().flatten().filter(|(k, _)| !k.starts_with('_')) {
                    query.append_pair(key, value.as_str().unwrap_or_default());
                }
                Request {
                    method: reqwest::Method::GET,
                    target: format!("{}?{}", e["_path"].as_str().unwrap_or("/e"), query.finish()),
                    headers: vec![("user-agent", "python-urllib3/2.2.3".into())],
                    body: Vec::new(),
                }
            })
            .collect()
    }

    fn accepts(&self, body: &[u8]) -> bool {
        body.starts_with(b"GIF8")
    }

    fn expected_persons(&self, n: usize) -> Option<usize> {
        Some(persons_of_visits(n))
    }

    fn row<'a>(&self, e: &'a Value) -> Row<'a> {
        let alias = e["_path"] == "/a";
        let mut properties = serde_json::Map::new();
        for (key, value) in e.as_object().into_iter().flatten().filter(|(k, _)| !k.starts_with('_')) {
            properties.insert(key.clone(), value.clone());
        }
        if alias {
            properties.insert("alias".into(), e["_n"].clone());
        }
        Row {
            project: API_KEY,
            source: "kissmetrics",
            uuid: None,
            event: if alias { Some("$alias") } else { e["_n"].as_str() },
            distinct_id: e["_p"].as_str(),
            device_id: None,
            session_id: None,
            properties: Value::Object(properties).to_string(),
        }
    }
}
