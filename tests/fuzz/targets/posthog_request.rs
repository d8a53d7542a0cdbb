//! Any request to any PostHog route: decoding must answer (events or a rejection), never panic.
//! The first byte picks the route and the encoding hints; the rest is the body.
#![no_main]

use capture_decode::posthog::{handle, Route};
use capture_decode::Incoming;
use libfuzzer_sys::fuzz_target;

const PATHS: [&str; 8] =
    ["/e/", "/i/v0/e/", "/batch/", "/engage/", "/s/", "/i/v1/analytics/events", "/capture", "/track"];
const QUERIES: [Option<&str>; 4] = [None, Some("compression=gzip-js"), Some("compression=lz64"), Some("ver=1.2&_=1")];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    let path = PATHS[(pick & 7) as usize];
    let query = QUERIES[((pick >> 3) & 3) as usize];
    let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
    if pick & 0x20 != 0 {
        headers[0].1 = "application/x-www-form-urlencoded".to_owned();
    }
    if pick & 0x40 != 0 {
        headers.push(("Content-Encoding".to_owned(), "gzip".to_owned()));
    }
    if pick & 0x80 != 0 {
        headers.push(("Authorization".to_owned(), "Bearer phc_fuzz".to_owned()));
    }
    let route = Route::parse(path, query).expect("a PostHog path");
    let req = Incoming {
        method: "POST",
        path,
        query,
        headers: &headers,
        body,
        received_at: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
    };
    let _ = handle(&route, &req);
});
