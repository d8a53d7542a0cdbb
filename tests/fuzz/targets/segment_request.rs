//! Any request to any Segment/RudderStack route: an answer or a refusal, never a panic, and
//! every stored event keeps the contract (an id, a project, a dedup key Segment would accept).
//! The first byte picks the route and the headers; the rest is the body.
#![no_main]

use capture_decode::segment::{handle, Route, MAX_MESSAGE_ID_CHARS};
use capture_decode::{Incoming, Outcome};
use libfuzzer_sys::fuzz_target;

const PATHS: [&str; 16] = [
    "/v1/batch",
    "/v1/b",
    "/v1/import",
    "/v1/track",
    "/v1/t",
    "/v1/i",
    "/v1/p",
    "/v1/s",
    "/v1/g",
    "/v1/a",
    "/v1/identify",
    "/beacon/v1/batch",
    "/v1/m",
    "/sourceConfig",
    "/v1/projects/wk/settings",
    "/v1/alias",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    let path = PATHS[(pick & 15) as usize];
    let mut headers = vec![("Content-Type".to_owned(), "text/plain".to_owned())];
    if pick & 0x10 != 0 {
        headers.push(("Authorization".to_owned(), "Basic d2tfZnV6ejo=".to_owned()));
    }
    if pick & 0x20 != 0 {
        headers.push(("User-Agent".to_owned(), "RudderLabs JavaScript SDK".to_owned()));
    }
    if pick & 0x40 != 0 {
        headers.push(("Content-Encoding".to_owned(), "gzip".to_owned()));
    }
    let query = (pick & 0x80 != 0).then_some("writeKey=wk_query");
    let route = Route::parse(path).expect("a Segment path");
    let method = if matches!(route, Route::SourceConfig | Route::Settings { .. }) { "GET" } else { "POST" };
    let req = Incoming {
        method,
        path,
        query,
        headers: &headers,
        body,
        received_at: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
    };
    if let Ok(Outcome::Capture(capture, reply)) = handle(&route, &req) {
        assert_eq!(reply.status, 200);
        assert!(!capture.events.is_empty(), "a capture has events, else it is refused");
        for e in &capture.events {
            assert!(!e.distinct_id.is_empty() && !e.project.is_empty());
            assert!(e.uuid.chars().count() <= MAX_MESSAGE_ID_CHARS.max(36));
            assert!(e.properties.contains_key("type"));
        }
    }
});
