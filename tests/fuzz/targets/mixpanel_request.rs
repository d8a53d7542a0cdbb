//! Any request on Mixpanel's paths, recognised as the server does (`/track` and `/engage` are
//! shared with PostHog and told apart by body): an answer or a refusal, never a panic; stored
//! events have a project and a time between 1970 and 9999.
//! The first byte picks path, content type and query; the rest is the body.
#![no_main]

use capture_decode::{Incoming, Outcome, Protocol};
use libfuzzer_sys::fuzz_target;

const PATHS: [&str; 8] = ["/track/", "/engage/", "/groups/", "/import", "/track", "/decide", "/flags", "/record"];
const QUERIES: [Option<&str>; 4] =
    [None, Some("verbose=1&ip=1&_=1795491131481"), Some("strict=1&project_id=7"), Some("token=t&lib=web")];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    let path = PATHS[(pick & 7) as usize];
    let query = QUERIES[((pick >> 3) & 3) as usize];
    let content_type = if pick & 0x20 != 0 { "application/x-www-form-urlencoded" } else { "application/json" };
    let mut headers = vec![("Content-Type".to_owned(), content_type.to_owned())];
    if pick & 0x40 != 0 {
        headers.push(("Content-Encoding".to_owned(), "gzip".to_owned()));
    }
    let req = Incoming {
        method: if pick & 0x80 != 0 { "GET" } else { "POST" },
        path,
        query,
        headers: &headers,
        body,
        received_at: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
    };
    match Protocol::recognise(&req).expect("every path here is known") {
        protocol @ Protocol::Mixpanel(_) => {
            if let Ok(Outcome::Capture(capture, _)) = protocol.handle(&req) {
                for e in &capture.events {
                    assert!(!e.project.is_empty());
                    let year = chrono::Datelike::year(&e.timestamp);
                    assert!((1970..=9999).contains(&year), "time {} out of range", e.timestamp);
                }
            }
        }
        // `/e` and `/s` with KISSmetrics' `_k`/`_p`/`_n` parameters are KISSmetrics' calls.
        protocol @ (Protocol::Posthog(_) | Protocol::Kissmetrics(_)) => {
            let _ = protocol.handle(&req);
        }
        Protocol::Segment(route) => panic!("{path} recognised as Segment {route:?}"),
    }
});
