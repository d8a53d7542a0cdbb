//! Converts the Segment, RudderStack and Mixpanel recordings (tests/fixtures/sdk-traffic) into
//! stored events following the shared contract (capture-decode cannot decode them yet): one
//! Segment message = one event whose properties are the whole message (batch `context` merged
//! one level deep, message keys winning); one Mixpanel `/track` event = its properties, one
//! `/engage` update = `$engage` with the whole update. Arrival order = recorded order.

use std::io::Read;

use base64::Engine as _;
use chrono::{DateTime, TimeZone, Utc};
use identity_engine::EventInput;
use serde_json::{Map, Value};

fn b64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(text.trim()).unwrap()
}

fn body(raw: &Value) -> Vec<u8> {
    let bytes = b64(raw["body_b64"].as_str().unwrap());
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut out).unwrap();
        return out;
    }
    bytes
}

fn id_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn time(v: Option<&Value>, fallback: DateTime<Utc>) -> DateTime<Utc> {
    match v {
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(s).map(Into::into).unwrap_or(fallback),
        Some(Value::Number(n)) => {
            let secs = n.as_f64().unwrap();
            let ms = if secs > 1e11 { secs } else { secs * 1000.0 };
            Utc.timestamp_millis_opt(ms as i64).single().unwrap_or(fallback)
        }
        _ => fallback,
    }
}

/// Every event of one recording, in arrival order; `source` is `segment`, `rudderstack` or
/// `mixpanel` (from the file name).
pub fn events(file: &str) -> Vec<EventInput> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures/sdk-traffic");
    let text = std::fs::read_to_string(dir.join(file)).expect("fixture readable");
    let received: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-11-24T03:31:58Z").unwrap().into();
    let source = if file.starts_with("rudder") {
        "rudderstack"
    } else if file.starts_with("mixpanel") {
        "mixpanel"
    } else {
        "segment"
    };
    let mut out: Vec<EventInput> = Vec::new();
    let mut push = |project: String, event: String, distinct_id: String, uuid: Option<String>, timestamp, properties| {
        let seq = out.len() as i64 + 1;
        out.push(EventInput {
            seq,
            uuid: uuid.unwrap_or_else(|| format!("generated-{seq}")),
            project,
            source: source.to_owned(),
            event,
            distinct_id,
            timestamp,
            properties,
        });
    };
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let raw: Value = serde_json::from_str(line).unwrap();
        if raw["method"] != "POST" {
            continue;
        }
        let path = raw["path"].as_str().unwrap();
        let body = body(&raw);
        if source == "mixpanel" {
            let data = form_urlencoded::parse(&body).find(|(k, _)| k == "data").map(|(_, v)| v.into_owned()).unwrap();
            let items: Vec<Value> = serde_json::from_slice(&b64(&data)).unwrap();
            for item in items {
                let Value::Object(item) = item else { continue };
                if path.starts_with("/engage") {
                    let project = item["$token"].as_str().unwrap().to_owned();
                    let id = id_text(item.get("$distinct_id")).unwrap_or_default();
                    push(project, "$engage".into(), id, None, received, item);
                } else {
                    let Some(Value::Object(props)) = item.get("properties").cloned() else { continue };
                    let project = props["token"].as_str().unwrap().to_owned();
                    let id = id_text(props.get("distinct_id")).unwrap_or_default();
                    let ts = time(props.get("time"), received);
                    let uuid = id_text(props.get("$insert_id"));
                    push(project, item["event"].as_str().unwrap().to_owned(), id, uuid, ts, props);
                }
            }
            continue;
        }
        let json: Value = serde_json::from_slice(&body).unwrap();
        let basic = raw["headers"].get("Authorization").and_then(Value::as_str).and_then(|h| h.strip_prefix("Basic "));
        let key_from_auth = basic.map(|b| String::from_utf8(b64(b)).unwrap().trim_end_matches(':').to_owned());
        let (messages, batch) = match json.get("batch").and_then(Value::as_array) {
            Some(list) => (list.clone(), json.as_object().cloned().unwrap_or_default()),
            None => (vec![json.clone()], Map::new()),
        };
        for message in messages {
            let Value::Object(mut m) = message else { continue };
            for key in ["context", "integrations"] {
                if let Some(Value::Object(outer)) = batch.get(key) {
                    let inner = m.entry(key).or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(inner) = inner {
                        for (k, v) in outer {
                            inner.entry(k.clone()).or_insert_with(|| v.clone());
                        }
                    }
                }
            }
            let project = id_text(m.get("writeKey"))
                .or_else(|| id_text(batch.get("writeKey")))
                .or_else(|| key_from_auth.clone())
                .unwrap();
            let ty = m.get("type").and_then(Value::as_str).unwrap_or("track").to_owned();
            let event = if ty == "track" { m["event"].as_str().unwrap_or("track").to_owned() } else { ty };
            let id = id_text(m.get("userId")).or_else(|| id_text(m.get("anonymousId"))).unwrap_or_default();
            let ts = time(m.get("timestamp"), received);
            let uuid = id_text(m.get("messageId"));
            push(project, event, id, uuid, ts, m);
        }
    }
    out
}
