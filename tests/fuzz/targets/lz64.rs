//! posthog-js' lz-string (base64 variant) decoder on any text: a string or a rejection, never a
//! panic, never more output than the limit.
#![no_main]

use libfuzzer_sys::fuzz_target;

const LIMIT: usize = 1 << 16;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(out) = capture_decode::lz64::decompress_from_base64(&text, LIMIT) {
        assert!(out.len() <= LIMIT, "{} bytes out of a {LIMIT}-byte limit", out.len());
    }
});
