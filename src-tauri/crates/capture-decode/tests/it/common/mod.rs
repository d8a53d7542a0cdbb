//! Shared helpers for the integration tests: builders for the crate's own [`Received`], fixture
//! loading, and small encoders (gzip, base64) to build payloads.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;

use base64::Engine;
use capture_decode::posthog::{self, Route};
use capture_decode::{Capture, Event, Outcome, Protocol, Received, Refusal, Rejection, Reply};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// A fixed arrival time for tests that do not care about clock skew.
pub const RECEIVED: &str = "2026-11-24T12:00:00Z";

pub fn at(text: &str) -> DateTime<Utc> {
    capture_decode::timestamp::parse_iso(text).unwrap_or_else(|| panic!("bad time in test: {text}"))
}

/// The tests' requests are the crate's own owned request; [`Build`] adds builders for them.
pub type Req = Received;

/// Builders for test requests, and the decoding shortcuts the tests use.
pub trait Build: Sized {
    /// `url` is a path with an optional `?query`.
    fn new(method: &str, url: &str, body: impl Into<Vec<u8>>) -> Self;
    fn post(url: &str, body: impl Into<Vec<u8>>) -> Self {
        Self::new("POST", url, body)
    }
    fn get(url: &str) -> Self {
        Self::new("GET", url, Vec::new())
    }
    fn json(url: &str, body: &Value) -> Self {
        Self::post(url, body.to_string()).header("Content-Type", "application/json")
    }
    fn form(url: &str, body: &str) -> Self {
        Self::post(url, body).header("Content-Type", "application/x-www-form-urlencoded")
    }
    fn header(self, name: &str, value: &str) -> Self;
    fn received(self, time: &str) -> Self;

    fn route(&self) -> Route;
    /// Handles the request on its PostHog route.
    fn handle(&self) -> Result<Outcome, Rejection>;
    /// The decoded capture and its reply; panics with the rejection otherwise.
    fn capture(&self) -> (Capture, Reply) {
        match self.handle() {
            Ok(Outcome::Capture(c, r)) => (c, r),
            Ok(Outcome::Answer(_, r)) => panic!("expected a capture, got an answer {r:?}"),
            Err(e) => panic!("expected a capture, got {e}"),
        }
    }
    fn events(&self) -> Vec<Event> {
        self.capture().0.events
    }
    /// A reply that stores nothing (flags, config, HEAD).
    fn answer(&self) -> Reply {
        match self.handle() {
            Ok(Outcome::Answer(_, r)) => r,
            Ok(Outcome::Capture(c, _)) => panic!("expected an answer, got {} events", c.events.len()),
            Err(e) => panic!("expected an answer, got {e}"),
        }
    }
    fn reject(&self) -> Rejection {
        match self.handle() {
            Err(e) => e,
            Ok(Outcome::Capture(c, _)) => panic!("expected a rejection, got {} events: {:?}", c.events.len(), c.events),
            Ok(Outcome::Answer(_, r)) => panic!("expected a rejection, got answer {r:?}"),
        }
    }

    fn protocol(&self) -> Option<Protocol>;
    /// Recognises the protocol and handles the request as the server would.
    fn wire(&self) -> Result<Outcome, Refusal>;
    fn wire_capture(&self) -> (Capture, Reply) {
        match self.wire() {
            Ok(Outcome::Capture(c, r)) => (c, r),
            Ok(Outcome::Answer(_, r)) => panic!("expected a capture, got an answer {r:?}"),
            Err(e) => panic!("expected a capture, got {}", e.rejection),
        }
    }
    fn wire_answer(&self) -> Reply {
        match self.wire() {
            Ok(Outcome::Answer(_, r)) => r,
            Ok(Outcome::Capture(c, _)) => panic!("expected an answer, got {} events", c.events.len()),
            Err(e) => panic!("expected an answer, got {}", e.rejection),
        }
    }
    fn wire_refusal(&self) -> Refusal {
        match self.wire() {
            Err(e) => e,
            Ok(Outcome::Capture(c, _)) => panic!("expected a refusal, got {:?}", c.events),
            Ok(Outcome::Answer(_, r)) => panic!("expected a refusal, got answer {r:?}"),
        }
    }
}

impl Build for Received {
    fn new(method: &str, url: &str, body: impl Into<Vec<u8>>) -> Received {
        let (path, query) = match url.split_once('?') {
            Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
            None => (url.to_owned(), None),
        };
        Received {
            method: method.to_owned(),
            path,
            query,
            headers: Vec::new(),
            body: body.into(),
            received_at: at(RECEIVED),
        }
    }
    fn header(mut self, name: &str, value: &str) -> Received {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
    fn received(mut self, time: &str) -> Received {
        self.received_at = at(time);
        self
    }

    fn route(&self) -> Route {
        Route::parse(&self.path, self.query.as_deref())
            .unwrap_or_else(|| panic!("{} is not a PostHog route", self.path))
    }
    fn handle(&self) -> Result<Outcome, Rejection> {
        posthog::handle(&self.route(), &self.incoming()).map_err(|refusal| refusal.rejection)
    }

    fn protocol(&self) -> Option<Protocol> {
        Protocol::recognise(&self.incoming())
    }
    fn wire(&self) -> Result<Outcome, Refusal> {
        match self.protocol() {
            Some(p @ (Protocol::Segment(_) | Protocol::Mixpanel(_) | Protocol::Kissmetrics(_))) => {
                p.handle(&self.incoming())
            }
            other => {
                panic!("{} {} is not a Segment, Mixpanel or KISSmetrics request: {other:?}", self.method, self.path)
            }
        }
    }
}

/// The project every event of a PostHog capture carries: the request's token.
pub fn token(capture: &Capture) -> &str {
    let first = capture.events.first().expect("a capture with events");
    assert!(capture.events.iter().all(|e| e.project == first.project), "one token per request");
    &first.project
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

pub fn body_text(reply: &Reply) -> String {
    String::from_utf8(reply.body.clone()).expect("reply body is UTF-8")
}
