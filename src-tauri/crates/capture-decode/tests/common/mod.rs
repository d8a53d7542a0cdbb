//! Shared helpers for the integration tests: an owned request that lends out an [`Incoming`],
//! fixture loading, and small encoders (gzip, base64) to build payloads.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;

use base64::Engine;
use capture_decode::posthog::{self, Capture, Outcome, Reply, Route};
use capture_decode::{Incoming, Rejection};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// A fixed arrival time for tests that do not care about clock skew.
pub const RECEIVED: &str = "2026-11-24T12:00:00Z";

pub fn at(text: &str) -> DateTime<Utc> {
    capture_decode::timestamp::parse_iso(text).unwrap_or_else(|| panic!("bad time in test: {text}"))
}

/// A request that owns its parts, as the server would hold them.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub received_at: DateTime<Utc>,
}

impl Req {
    /// `url` is a path with an optional `?query`.
    pub fn new(method: &str, url: &str, body: impl Into<Vec<u8>>) -> Req {
        let (path, query) = match url.split_once('?') {
            Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
            None => (url.to_owned(), None),
        };
        Req {
            method: method.to_owned(),
            path,
            query,
            headers: Vec::new(),
            body: body.into(),
            received_at: at(RECEIVED),
        }
    }
    pub fn post(url: &str, body: impl Into<Vec<u8>>) -> Req {
        Req::new("POST", url, body)
    }
    pub fn get(url: &str) -> Req {
        Req::new("GET", url, Vec::new())
    }
    pub fn json(url: &str, body: &Value) -> Req {
        Req::post(url, body.to_string()).header("Content-Type", "application/json")
    }
    pub fn header(mut self, name: &str, value: &str) -> Req {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
    pub fn received(mut self, time: &str) -> Req {
        self.received_at = at(time);
        self
    }
    pub fn form(url: &str, body: &str) -> Req {
        Req::post(url, body).header("Content-Type", "application/x-www-form-urlencoded")
    }

    pub fn incoming(&self) -> Incoming<'_> {
        Incoming {
            method: &self.method,
            path: &self.path,
            query: self.query.as_deref(),
            headers: &self.headers,
            body: &self.body,
            received_at: self.received_at,
        }
    }

    pub fn route(&self) -> Route {
        Route::parse(&self.path, self.query.as_deref())
            .unwrap_or_else(|| panic!("{} is not a PostHog route", self.path))
    }

    pub fn handle(&self) -> Result<Outcome, Rejection> {
        posthog::handle(&self.route(), &self.incoming())
    }

    /// The decoded capture and its reply; panics with the rejection otherwise.
    pub fn capture(&self) -> (Capture, Reply) {
        match self.handle() {
            Ok(Outcome::Capture(c, r)) => (c, r),
            Ok(Outcome::Answer(r)) => panic!("expected a capture, got an answer {r:?}"),
            Err(e) => panic!("expected a capture of {} {}, got {e}", self.method, self.path),
        }
    }

    pub fn events(&self) -> Vec<posthog::Event> {
        self.capture().0.events
    }

    /// A reply that stores nothing (flags, config, HEAD).
    pub fn answer(&self) -> Reply {
        match self.handle() {
            Ok(Outcome::Answer(r)) => r,
            Ok(Outcome::Capture(c, _)) => panic!("expected an answer, got {} events", c.events.len()),
            Err(e) => panic!("expected an answer, got {e}"),
        }
    }

    pub fn reject(&self) -> Rejection {
        match self.handle() {
            Err(e) => e,
            Ok(Outcome::Capture(c, _)) => panic!("expected a rejection, got {} events: {:?}", c.events.len(), c.events),
            Ok(Outcome::Answer(r)) => panic!("expected a rejection, got answer {r:?}"),
        }
    }
}

/// Asserts status and code, and that the message contains every fragment.
#[track_caller]
pub fn assert_rejected(e: &Rejection, status: u16, code: &str, fragments: &[&str]) {
    assert_eq!((e.status, e.code), (status, code), "unexpected rejection: {e}");
    for f in fragments {
        assert!(e.message.contains(f), "message {:?} should contain {f:?}", e.message);
    }
}

pub fn body_json(reply: &Reply) -> Value {
    serde_json::from_slice(&reply.body).expect("reply body is JSON")
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Gzip of `len` zero bytes, written in chunks so the test never holds the plain data.
pub fn gzip_zeros(len: usize) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len());
        enc.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    enc.finish().unwrap()
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// One minimal valid event for building requests.
pub fn event(name: &str, distinct_id: &str) -> Value {
    serde_json::json!({"event": name, "distinct_id": distinct_id, "properties": {}})
}

// ---- recorded SDK traffic ----

pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures/sdk-traffic")
}

/// Every request of one recording, in order, as sent by the SDK.
pub fn load_fixture(file: &str) -> Vec<Req> {
    let path = fixture_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let raw: Value = serde_json::from_str(line).expect("fixture line is JSON");
            let body = base64::engine::general_purpose::STANDARD
                .decode(raw["body_b64"].as_str().expect("body_b64"))
                .expect("body_b64 is base64");
            let mut req = Req::new(raw["method"].as_str().unwrap(), raw["path"].as_str().unwrap(), body);
            req.headers = raw["headers"]
                .as_object()
                .expect("headers object")
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect();
            req
        })
        .collect()
}

// ---- Segment, RudderStack, Mixpanel ----

impl Req {
    pub fn family(&self) -> Option<capture_decode::family::Family> {
        capture_decode::family::recognise(&self.incoming())
    }

    /// Recognises the family and handles the request as the server would.
    pub fn wire(&self) -> Result<capture_decode::wire::WireOutcome, capture_decode::wire::WireRefusal> {
        use capture_decode::family::Family;
        match self.family() {
            Some(Family::Segment(route)) => capture_decode::segment::handle(&route, &self.incoming()),
            Some(Family::Mixpanel(route)) => capture_decode::mixpanel::handle(route, &self.incoming()),
            other => panic!("{} {} is not a Segment or Mixpanel request: {other:?}", self.method, self.path),
        }
    }

    pub fn wire_capture(&self) -> (capture_decode::wire::WireCapture, Reply) {
        match self.wire() {
            Ok(capture_decode::wire::WireOutcome::Capture(c, r)) => (c, r),
            Ok(capture_decode::wire::WireOutcome::Answer(_, r)) => panic!("expected a capture, got an answer {r:?}"),
            Err(e) => panic!("expected a capture of {} {}, got {}", self.method, self.path, e.rejection),
        }
    }

    pub fn wire_answer(&self) -> Reply {
        match self.wire() {
            Ok(capture_decode::wire::WireOutcome::Answer(_, r)) => r,
            Ok(capture_decode::wire::WireOutcome::Capture(c, _)) => {
                panic!("expected an answer, got {} events", c.events.len())
            }
            Err(e) => panic!("expected an answer, got {}", e.rejection),
        }
    }

    pub fn wire_refusal(&self) -> capture_decode::wire::WireRefusal {
        match self.wire() {
            Err(e) => e,
            Ok(capture_decode::wire::WireOutcome::Capture(c, _)) => panic!("expected a refusal, got {:?}", c.events),
            Ok(capture_decode::wire::WireOutcome::Answer(_, r)) => panic!("expected a refusal, got answer {r:?}"),
        }
    }
}

pub fn body_text(reply: &Reply) -> String {
    String::from_utf8(reply.body.clone()).expect("reply body is UTF-8")
}
