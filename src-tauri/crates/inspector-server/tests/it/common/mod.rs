//! Shared harness for the server tests: a router over a fresh store, driven with `oneshot`,
//! request builders, payload encoders and the recorded SDK traffic.
#![allow(dead_code)]

use std::io::Write;
use std::net::SocketAddr;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use base64::Engine;
use event_store::Store;
use http_body_util::BodyExt;
use inspector_server::AppState;
use serde_json::Value;
use tower::ServiceExt;

/// An accepted request of `source` to hold events a test writes straight to the store.
#[allow(unused_imports)] // tests/storage_full.rs shares this module and never uses it
pub use event_store::test_support::accepted_request;

/// The port the test state believes it listens on (nothing is bound in `oneshot` tests).
pub const PORT: u16 = 8010;
pub const HOST: &str = "127.0.0.1:8010";

pub struct App {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub router: Router,
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("response is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().expect("ASCII header"))
    }
}

pub fn app() -> App {
    app_and_state().0
}

/// The app and its `AppState`, for tests that reach past HTTP (the control token, the
/// identity model's rebuild count).
pub fn app_and_state() -> (App, AppState) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("open store");
    let state = AppState::new(store.clone(), SocketAddr::from(([127, 0, 0, 1], PORT)));
    (App { dir, store, router: inspector_server::router(state.clone()) }, state)
}

/// A request builder: `req("POST", "/e/").header(..).body(..)`.
pub fn req(method: &str, uri: &str) -> axum::http::request::Builder {
    Request::builder().method(Method::from_bytes(method.as_bytes()).unwrap()).uri(uri)
}

impl App {
    pub async fn send(&self, request: Request<Body>) -> Resp {
        let response = self.router.clone().oneshot(request).await.expect("router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.expect("body").to_bytes().to_vec();
        Resp { status, headers, body }
    }

    /// POSTs `body` to a capture path with the given headers.
    pub async fn post(&self, uri: &str, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Resp {
        let mut builder = req("POST", uri);
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        self.send(builder.body(Body::from(body.into())).unwrap()).await
    }

    pub async fn post_json(&self, uri: &str, body: &Value) -> Resp {
        self.post(uri, &[("content-type", "application/json")], body.to_string()).await
    }

    /// A GET on the API, addressed to this server.
    pub async fn get(&self, uri: &str) -> Resp {
        self.send(req("GET", uri).header("host", HOST).body(Body::empty()).unwrap()).await
    }

    /// A GET on the API that must answer 200 with JSON.
    pub async fn api(&self, uri: &str) -> Value {
        let resp = self.get(uri).await;
        assert_eq!(resp.status, StatusCode::OK, "GET {uri}: {}", resp.text());
        resp.json()
    }

    pub async fn events(&self, query: &str) -> Vec<Value> {
        let v = self.api(&format!("/api/events?{query}")).await;
        v["events"].as_array().expect("events array").clone()
    }

    pub async fn requests(&self, query: &str) -> Vec<Value> {
        let v = self.api(&format!("/api/requests?{query}")).await;
        v["requests"].as_array().expect("requests array").clone()
    }

    /// The newest stored request (of any outcome).
    pub async fn last_request(&self) -> Value {
        self.requests("limit=1").await.into_iter().next().expect("a request was stored")
    }

    /// The stored requests that were rejected, newest first.
    pub async fn rejected(&self) -> Vec<Value> {
        self.requests("outcome=rejected&limit=1000").await
    }
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn unb64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(text).expect("base64")
}

/// One recorded request from tests/fixtures/sdk-traffic.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path with query.
    pub uri: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

pub const POSTHOG_JS: &str = include_str!("../../../../../../tests/fixtures/sdk-traffic/posthog-js-browser.jsonl");
pub const POSTHOG_NODE: &str = include_str!("../../../../../../tests/fixtures/sdk-traffic/posthog-node.jsonl");
pub const POSTHOG_PYTHON: &str = include_str!("../../../../../../tests/fixtures/sdk-traffic/posthog-python.jsonl");
pub const SEGMENT_NEXT: &str =
    include_str!("../../../../../../tests/fixtures/sdk-traffic/segment-analytics-next-browser.jsonl");
pub const SEGMENT_NODE: &str =
    include_str!("../../../../../../tests/fixtures/sdk-traffic/segment-analytics-node.jsonl");
pub const SEGMENT_PYTHON: &str =
    include_str!("../../../../../../tests/fixtures/sdk-traffic/segment-analytics-python.jsonl");
pub const RUDDER_PYTHON: &str = include_str!("../../../../../../tests/fixtures/sdk-traffic/rudder-sdk-python.jsonl");
pub const MIXPANEL_BROWSER: &str = include_str!("../../../../../../tests/fixtures/sdk-traffic/mixpanel-browser.jsonl");

pub fn recorded(file: &str, line: usize) -> Recorded {
    let text = file.lines().nth(line).expect("fixture line");
    let v: Value = serde_json::from_str(text).expect("fixture JSON");
    let headers = v["headers"]
        .as_object()
        .expect("headers object")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    Recorded {
        method: v["method"].as_str().unwrap().to_owned(),
        uri: v["path"].as_str().unwrap().to_owned(),
        headers,
        body: unb64(v["body_b64"].as_str().unwrap()),
    }
}

impl Recorded {
    /// The request as the SDK sent it, except for hop-by-hop headers a router never sees.
    pub fn request(&self) -> Request<Body> {
        let mut builder = req(&self.method, &self.uri);
        for (k, v) in &self.headers {
            if !k.eq_ignore_ascii_case("content-length") && !k.eq_ignore_ascii_case("connection") {
                builder = builder.header(k.as_str(), v.as_str());
            }
        }
        builder.body(Body::from(self.body.clone())).unwrap()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// The JSON a (possibly gzipped) body carries.
pub fn decode_body(body: &[u8]) -> Value {
    let bytes = if body.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(body), &mut out).unwrap();
        out
    } else {
        body.to_vec()
    };
    serde_json::from_slice(&bytes).expect("JSON body")
}

pub fn time(v: &Value) -> chrono::DateTime<chrono::Utc> {
    let text = v.as_str().unwrap_or_else(|| panic!("not a time string: {v}"));
    chrono::DateTime::parse_from_rfc3339(text).unwrap_or_else(|e| panic!("{text}: {e}")).to_utc()
}

/// A real server's configuration: a free loopback port, `dir` as the data dir, no identity model
/// (for tests of the HTTP edge itself: connections, forwarding, open-file limits).
pub fn loopback_config(dir: &std::path::Path) -> inspector_server::ServerConfig {
    inspector_server::ServerConfig {
        bind: std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        port: 0,
        data_dir: dir.to_owned(),
        identity: false,
    }
}

/// The `i`-th event of a test's stream, to write straight to the store: uuid and times follow
/// from `i` (a millisecond apart), the rest as given.
pub fn stored_event(
    i: usize,
    (project, source): (&str, &str),
    name: &str,
    distinct_id: &str,
    device_id: Option<String>,
    props: Value,
) -> event_store::NewEvent {
    event_store::NewEvent {
        uuid: format!("00000000-0000-7000-8000-{i:012}"),
        project: project.into(),
        source: source.into(),
        event: name.into(),
        distinct_id: distinct_id.into(),
        device_id,
        session_id: None,
        timestamp: 1_800_000_000_000_000 + i as i64 * 1_000,
        original_timestamp: None,
        sent_at: None,
        received_at: 1_800_000_000_000_000,
        properties: props.to_string(),
        warnings: Vec::new(),
    }
}
