//! Decodes a recorded SDK traffic file (tests/fixtures/sdk-traffic) of any vendor with
//! capture-decode exactly as the server stores it, in recorded (arrival) order.

use base64::Engine as _;
use capture_decode::{Incoming, Outcome, Protocol};
use chrono::{DateTime, Duration, Utc};
use identity_engine::*;
use serde_json::Value;

/// Every stored event of one recording, in arrival order, as the engine's input (each with the
/// source the server would store).
pub fn events(file: &str) -> Vec<EventInput> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures/sdk-traffic");
    let text = std::fs::read_to_string(dir.join(file)).expect("fixture readable");
    let received: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-11-24T03:31:58Z").unwrap().into();
    let mut out = Vec::new();
    for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let raw: Value = serde_json::from_str(line).unwrap();
        let body = base64::engine::general_purpose::STANDARD.decode(raw["body_b64"].as_str().unwrap()).unwrap();
        let url = raw["path"].as_str().unwrap();
        let (path, query) = match url.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (url, None),
        };
        let headers: Vec<(String, String)> = raw["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect();
        let req = Incoming {
            method: raw["method"].as_str().unwrap(),
            path,
            query,
            headers: &headers,
            body: &body,
            // 100 ms apart, about the scripts' pace: clock-skew correction then keeps the client's
            // order (a millisecond apart, differing send delays would reorder events).
            received_at: received + Duration::milliseconds(i as i64 * 100),
        };
        let protocol = Protocol::recognise(&req).expect("a route some vendor's SDK sends to");
        if let Outcome::Capture(capture, _) = protocol.handle(&req).map_err(|r| r.rejection).expect("accepted") {
            for ev in capture.events {
                out.push(EventInput {
                    seq: out.len() as i64 + 1,
                    uuid: ev.uuid,
                    project: ev.project,
                    source: ev.source.as_str().into(),
                    event: ev.event,
                    distinct_id: ev.distinct_id,
                    timestamp: ev.timestamp,
                    properties: ev.properties,
                });
            }
        }
    }
    out
}
