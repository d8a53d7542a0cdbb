//! NDJSON of events in PostHog's capture format: one event per line,
//! `{"uuid","event","distinct_id","timestamp","properties","api_key"}`, so a line can go into a
//! `/batch` request's `batch` array as it is (PostHog reads the token from an event's `api_key`).
//! Events of other vendors add `"source"` (`segment`, `rudderstack`, `mixpanel`); their
//! `properties` is what the vendor stored (a Segment line's is the whole message), and import
//! sends them back through that vendor's own route (`import_request`).
//!
//! `timestamp` is the corrected (server) time, so sending a line without `sent_at` keeps the
//! time the inspector showed. Imported data sets export under their original token.

use std::io::{BufRead, Write};

use chrono::{DateTime, Utc};
use event_store::{split_project, StoredEvent};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use capture_decode::Received;

use crate::bundle::micros_text;
use crate::json_cap::read_line_capped;
use crate::posthog_line::Line;
use crate::FileError;

/// Events per synthetic `/batch` request on import, and the byte budget of one.
const BATCH_EVENTS: usize = 100;
/// Longest event line read: PostHog refuses any event near this size, and a longer line is not
/// held in memory to find out (a gzip'd file may unpack one line to gigabytes).
const MAX_LINE: usize = 16 << 20;
const BATCH_BYTES: usize = 1 << 20;

/// Writes one event as one line.
pub fn write_event(out: &mut impl Write, event: &StoredEvent) -> std::io::Result<()> {
    let properties: &RawValue = serde_json::from_str(&event.properties).map_err(std::io::Error::other)?;
    let line = Line {
        uuid: &event.uuid,
        event: &event.event,
        distinct_id: &event.distinct_id,
        timestamp: micros_text(event.timestamp),
        properties,
        api_key: Some(split_project(&event.project).1),
        source: (event.source != "posthog").then_some(event.source.as_str()),
    };
    serde_json::to_writer(&mut *out, &line)?;
    out.write_all(b"\n")
}

/// The batch body `{"api_key": token, "batch": [lines...]}` for events of one token.
pub fn batch_body(token: Option<&str>, lines: &[Box<RawValue>]) -> Vec<u8> {
    #[derive(serde::Serialize)]
    struct Batch<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        api_key: Option<&'a str>,
        batch: &'a [Box<RawValue>],
    }
    serde_json::to_vec(&Batch { api_key: token, batch: lines }).expect("raw JSON serialises")
}

struct ParsedLine {
    line_no: usize,
    /// Lines of one key share a request: the vendor's route and the token.
    key: (Route, Option<String>),
    raw: Box<RawValue>,
}

/// Where a line goes back in: the route its vendor's SDKs send such events to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    PosthogBatch,
    /// Segment's `/v1/batch`; `rudder` marks RudderStack's messages for the decoder.
    SegmentBatch {
        rudder: bool,
    },
    MixpanelTrack,
    MixpanelEngage,
    MixpanelGroups,
}

impl Route {
    fn of(source: Option<&str>, event: &str) -> Route {
        match (source, event) {
            (Some("segment"), _) => Route::SegmentBatch { rudder: false },
            (Some("rudderstack"), _) => Route::SegmentBatch { rudder: true },
            (Some("mixpanel"), "$engage") => Route::MixpanelEngage,
            (Some("mixpanel"), "$groups") => Route::MixpanelGroups,
            (Some("mixpanel"), _) => Route::MixpanelTrack,
            _ => Route::PosthogBatch,
        }
    }
}

/// Reads NDJSON events and groups consecutive lines of the same token into `/batch` requests,
/// as posthog-node would have sent them, all received at `received_at`.
pub struct NdjsonReader<R: BufRead> {
    lines: R,
    line_no: usize,
    received_at: DateTime<Utc>,
    /// A line read but not yet placed (it started a new batch).
    pending: Option<ParsedLine>,
    done: bool,
}

impl<R: BufRead> NdjsonReader<R> {
    pub fn new(lines: R, received_at: DateTime<Utc>) -> NdjsonReader<R> {
        NdjsonReader { lines, line_no: 0, received_at, pending: None, done: false }
    }

    fn next_line(&mut self) -> Result<Option<ParsedLine>, FileError> {
        loop {
            let mut line = String::new();
            self.line_no += 1;
            let n = read_line_capped(&mut self.lines, &mut line, MAX_LINE).map_err(|e| match e.kind() {
                std::io::ErrorKind::UnexpectedEof => {
                    FileError::Truncated(format!("the compressed data ends inside line {}", self.line_no))
                }
                std::io::ErrorKind::InvalidData => {
                    FileError::Invalid(format!("line {} is not UTF-8 text", self.line_no))
                }
                std::io::ErrorKind::InvalidInput => FileError::Invalid(format!(
                    "line {} is longer than {} MB; no event is that large",
                    self.line_no,
                    MAX_LINE >> 20
                )),
                _ => FileError::Io(e),
            })?;
            if n == 0 {
                return Ok(None);
            }
            let trimmed = line.trim();
            if trimmed.is_empty() {
                continue;
            }
            let what = || format!("line {}", self.line_no);
            // A cut-off last line fails here, before anything is stored.
            let object: Map<String, Value> = serde_json::from_str(trimmed).map_err(|e| FileError::json(what(), e))?;
            if !object.get("event").is_some_and(Value::is_string) {
                return Err(FileError::Invalid(format!("{}: an event needs a string `event`", what())));
            }
            let token = ["api_key", "token"]
                .iter()
                .find_map(|k| object.get(*k).and_then(Value::as_str))
                .or_else(|| object.get("properties").and_then(|p| p.get("token")).and_then(Value::as_str))
                .map(str::to_owned);
            let source = object.get("source").and_then(Value::as_str);
            let route = Route::of(source, object["event"].as_str().unwrap_or_default());
            let raw = match route {
                Route::PosthogBatch => {
                    RawValue::from_string(trimmed.to_owned()).map_err(|e| FileError::json(what(), e))?
                }
                _ => vendor_item(route, object).map_err(|why| FileError::Invalid(format!("{}: {why}", what())))?,
            };
            return Ok(Some(ParsedLine { line_no: self.line_no, key: (route, token), raw }));
        }
    }

    fn next_batch(&mut self) -> Result<Option<NdjsonBatch>, FileError> {
        let Some(first) = self.pending.take().map(Ok).or_else(|| self.next_line().transpose()).transpose()? else {
            return Ok(None);
        };
        let (key, first_line) = (first.key, first.line_no);
        let mut last_line = first_line;
        let mut size = first.raw.get().len();
        let mut lines = vec![first.raw];
        while lines.len() < BATCH_EVENTS && size < BATCH_BYTES {
            match self.next_line()? {
                None => break,
                Some(line) if line.key == key => {
                    size += line.raw.get().len();
                    lines.push(line.raw);
                    last_line = line.line_no;
                }
                Some(other) => {
                    self.pending = Some(other);
                    break;
                }
            }
        }
        let (route, token) = key;
        let request = import_request(route, token.as_deref(), &lines, self.received_at);
        Ok(Some(NdjsonBatch { request, lines: (first_line, last_line) }))
    }
}

/// What one line becomes inside its vendor's request: a Segment message (its stored message, with
/// the line's uuid as `messageId` and its corrected time as `timestamp`, no `sentAt`, so nothing
/// is corrected twice), a Mixpanel event `{event, properties}` (with `$insert_id` and `time` from
/// the line when missing) or a Mixpanel profile or group update (with `$insert_id` and `$time`).
fn vendor_item(route: Route, line: Map<String, Value>) -> Result<Box<RawValue>, String> {
    let Some(Value::Object(mut props)) = line.get("properties").cloned() else {
        return Err("`properties` must be an object".into());
    };
    let uuid = line.get("uuid").cloned().unwrap_or(Value::Null);
    let timestamp = line.get("timestamp").and_then(Value::as_str).and_then(|t| DateTime::parse_from_rfc3339(t).ok());
    let item = match route {
        Route::SegmentBatch { .. } => {
            props.insert("messageId".into(), uuid);
            if let Some(t) = line.get("timestamp") {
                props.insert("timestamp".into(), t.clone());
            }
            props.remove("sentAt");
            Value::Object(props)
        }
        Route::MixpanelTrack => {
            props.entry("$insert_id").or_insert(uuid);
            if let Some(t) = timestamp {
                props.entry("time").or_insert(seconds(t));
            }
            serde_json::json!({"event": line.get("event").cloned().unwrap_or(Value::Null), "properties": props})
        }
        _ => {
            props.entry("$insert_id").or_insert(uuid);
            if let Some(t) = timestamp {
                props.entry("$time").or_insert(seconds(t));
            }
            Value::Object(props)
        }
    };
    serde_json::value::to_raw_value(&item).map_err(|e| e.to_string())
}

/// Fractional seconds to the microsecond (an f64 holds them exactly enough for Mixpanel's time
/// parsing to round back to the same microsecond).
fn seconds(t: DateTime<chrono::FixedOffset>) -> Value {
    Value::from(t.timestamp_micros() as f64 / 1e6)
}

/// The request a vendor's SDK would have sent with these lines, received at `received_at`.
fn import_request(route: Route, token: Option<&str>, lines: &[Box<RawValue>], received_at: DateTime<Utc>) -> Received {
    let json = ("content-type".to_owned(), "application/json".to_owned());
    let (path, query, headers, body) = match route {
        Route::PosthogBatch => ("/batch/", None, vec![json], batch_body(token, lines)),
        Route::SegmentBatch { rudder } => {
            #[derive(serde::Serialize)]
            struct Batch<'a> {
                #[serde(rename = "writeKey", skip_serializing_if = "Option::is_none")]
                write_key: Option<&'a str>,
                batch: &'a [Box<RawValue>],
            }
            // The user agent tells RudderStack's messages from Segment's, as its SDKs' do.
            let agent = if rudder { "identity-inspector-import (rudder)" } else { "identity-inspector-import" };
            let body = serde_json::to_vec(&Batch { write_key: token, batch: lines }).expect("raw JSON serialises");
            ("/v1/batch", None, vec![json, ("user-agent".to_owned(), agent.to_owned())], body)
        }
        Route::MixpanelTrack | Route::MixpanelEngage | Route::MixpanelGroups => {
            let path = match route {
                Route::MixpanelTrack => "/track",
                Route::MixpanelEngage => "/engage",
                _ => "/groups",
            };
            // `verbose=1` names the request Mixpanel's: `/track` and `/engage` are PostHog's too.
            let body = serde_json::to_vec(lines).expect("raw JSON serialises");
            (path, Some("verbose=1".to_owned()), vec![json], body)
        }
    };
    Received { received_at, method: "POST".into(), path: path.into(), query, headers, body }
}

/// A synthetic `/batch` request and the file lines its events came from.
#[derive(Debug, Clone)]
pub struct NdjsonBatch {
    pub request: Received,
    pub lines: (usize, usize),
}

impl<R: BufRead> Iterator for NdjsonReader<R> {
    type Item = Result<NdjsonBatch, FileError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.next_batch().transpose();
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
        }
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_one_token_share_a_batch() {
        let text = "{\"event\":\"a\",\"distinct_id\":\"1\",\"api_key\":\"phc_1\"}\n\n{\"event\":\"b\",\"distinct_id\":\"1\",\"api_key\":\"phc_1\"}\n{\"event\":\"c\",\"distinct_id\":\"1\",\"properties\":{\"token\":\"phc_2\"}}\n";
        let batches: Vec<NdjsonBatch> =
            NdjsonReader::new(text.as_bytes(), Utc::now()).collect::<Result<_, _>>().unwrap();
        assert_eq!(batches.iter().map(|b| b.lines).collect::<Vec<_>>(), [(1, 3), (4, 4)]);
        let requests: Vec<Received> = batches.into_iter().map(|b| b.request).collect();
        assert_eq!(requests.len(), 2);
        let first: Value = serde_json::from_slice(&requests[0].body).unwrap();
        assert_eq!(first["api_key"], "phc_1");
        assert_eq!(first["batch"].as_array().unwrap().len(), 2);
        let second: Value = serde_json::from_slice(&requests[1].body).unwrap();
        assert_eq!(second["api_key"], "phc_2");
    }

    #[test]
    fn vendor_lines_go_back_through_their_vendors_routes() {
        let text = concat!(
            r#"{"uuid":"m1","event":"identify","distinct_id":"u1","timestamp":"2026-01-01T00:00:01Z","api_key":"wk","source":"segment","properties":{"type":"identify","userId":"u1","sentAt":"2026-01-01T00:00:09Z","timestamp":"2026-01-01T00:00:08Z"}}"#,
            "\n",
            r#"{"uuid":"m2","event":"page","distinct_id":"a1","timestamp":"2026-01-01T00:00:02Z","api_key":"wk","source":"rudderstack","properties":{"type":"page","anonymousId":"a1"}}"#,
            "\n",
            r#"{"uuid":"i1","event":"Signed In","distinct_id":"u1","timestamp":"2026-01-01T00:00:03.000001Z","api_key":"mp","source":"mixpanel","properties":{"token":"mp","distinct_id":"u1"}}"#,
            "\n",
            r#"{"uuid":"e1","event":"$engage","distinct_id":"u1","timestamp":"2026-01-01T00:00:04Z","api_key":"mp","source":"mixpanel","properties":{"$token":"mp","$distinct_id":"u1","$set":{"a":1}}}"#,
            "\n",
        );
        let batches: Vec<NdjsonBatch> =
            NdjsonReader::new(text.as_bytes(), Utc::now()).collect::<Result<_, _>>().unwrap();
        let routes: Vec<(String, Option<String>)> =
            batches.iter().map(|b| (b.request.path.clone(), b.request.query.clone())).collect();
        let verbose = Some("verbose=1".to_owned());
        assert_eq!(
            routes,
            [
                ("/v1/batch".into(), None),
                ("/v1/batch".into(), None),
                ("/track".into(), verbose.clone()),
                ("/engage".into(), verbose)
            ]
        );
        let body = |i: usize| -> Value { serde_json::from_slice(&batches[i].request.body).unwrap() };
        // The stored message with the line's uuid and corrected time, no sentAt to correct twice.
        let seg = body(0);
        assert_eq!(seg["writeKey"], "wk");
        assert_eq!(
            seg["batch"][0],
            serde_json::json!({"type":"identify","userId":"u1","messageId":"m1","timestamp":"2026-01-01T00:00:01Z"})
        );
        assert!(batches[1].request.headers.iter().any(|(k, v)| k == "user-agent" && v.contains("rudder")));
        let track = body(2);
        assert_eq!(
            (track[0]["event"].clone(), track[0]["properties"]["$insert_id"].clone()),
            (serde_json::json!("Signed In"), serde_json::json!("i1"))
        );
        assert_eq!(track[0]["properties"]["time"], serde_json::json!(1767225603.000001));
        assert_eq!(body(3)[0]["$insert_id"], "e1");
    }

    #[test]
    fn a_bad_line_is_named() {
        let text = "{\"event\":\"a\",\"distinct_id\":\"1\"}\n{\"event\":\"b\",\"dist";
        let err = NdjsonReader::new(text.as_bytes(), Utc::now()).collect::<Result<Vec<_>, _>>().unwrap_err();
        assert!(err.to_string().starts_with("line 2 is not valid JSON"), "{err}");
    }
}
