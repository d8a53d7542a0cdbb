//! From request bytes to JSON bytes: `data=` query and form fields, base64, gzip and lz64.
//!
//! Every step that can grow the data is capped while it runs, so a compression bomb is refused
//! after reading at most `limit + 1` bytes of output.

use std::io::Read;

use base64::Engine;

use crate::{lz64, Incoming, Rejection};

const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];

/// How the payload was unwrapped, in order, for showing the user what the SDK did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unwrapped {
    pub bytes: Vec<u8>,
    pub steps: Vec<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hint {
    Gzip,
    Lz64,
    Base64,
}

fn parse_hint(value: &str) -> Option<Hint> {
    match value.trim().to_ascii_lowercase().as_str() {
        "gzip" | "gzip-js" => Some(Hint::Gzip),
        "lz64" | "lz-string" => Some(Hint::Lz64),
        "base64" | "b64" => Some(Hint::Base64),
        _ => None,
    }
}

pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

/// Strict base64: only `A-Za-z0-9+/=`, padding only at the end, length a multiple of 4.
pub fn is_strict_base64(bytes: &[u8]) -> bool {
    if bytes.is_empty() || !bytes.len().is_multiple_of(4) {
        return false;
    }
    let body_end = bytes.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
    bytes.len() - body_end <= 2
        && bytes[..body_end].iter().all(|&b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

fn is_form(req: &Incoming<'_>) -> bool {
    req.header("content-type")
        .map(|ct| ct.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"))
        .unwrap_or(false)
}

/// Base64 inside a form or query arrives with `+` decoded as a space; put them back. Only base64
/// (or lz64) text: JSON sent as `data=` (posthog-js without compression) keeps its real spaces.
fn restore_plus(value: String) -> Vec<u8> {
    let base64_like =
        value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=') || b.is_ascii_whitespace());
    if base64_like {
        value.replace(' ', "+").into_bytes()
    } else {
        value.into_bytes()
    }
}

/// Standard alphabet; padding optional, because some SDKs and proxies strip it.
const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

pub fn base64_decode(bytes: &[u8], step: &str) -> Result<Vec<u8>, Rejection> {
    let trimmed: Vec<u8> = bytes.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    BASE64
        .decode(&trimmed)
        .map_err(|e| Rejection::bad_request("invalid_base64", format!("{step}: not valid base64 ({e})")))
}

/// Gunzip at most `limit` bytes; more is a 413, a broken stream a 400.
pub fn gunzip(bytes: &[u8], limit: usize) -> Result<Vec<u8>, Rejection> {
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(4).min(limit));
    let mut decoder = flate2::read::MultiGzDecoder::new(bytes).take(limit as u64 + 1);
    decoder
        .read_to_end(&mut out)
        .map_err(|e| Rejection::bad_request("invalid_gzip", format!("gzip body could not be decompressed: {e}")))?;
    if out.len() > limit {
        return Err(Rejection::too_large(limit));
    }
    Ok(out)
}

/// Runs decoding steps 1 to 5 of the capture protocol and returns the JSON bytes.
///
/// `legacy` is true on the old routes (`/e`, `/capture`, `/track`, `/engage`), where a payload
/// that is still base64 after decompression is decoded once more.
pub fn unwrap(req: &Incoming<'_>, legacy: bool, limit: usize) -> Result<Unwrapped, Rejection> {
    let mut steps = Vec::new();
    let form = is_form(req);
    let query_data = req.query_param("data").filter(|d| !d.is_empty());

    let mut form_hint = None;
    let mut bytes: Vec<u8> = if let Some(data) = query_data {
        steps.push("query data=");
        restore_plus(data)
    } else if form {
        let mut data = None;
        for (key, value) in form_urlencoded::parse(req.body) {
            match key.as_ref() {
                "data" if data.is_none() => data = Some(value.into_owned()),
                "compression" => form_hint = Some(value.into_owned()),
                _ => {}
            }
        }
        steps.push("form data=");
        match data {
            Some(d) => restore_plus(d),
            None => return Err(Rejection::bad_request("missing_form_data", "form-encoded body has no `data` field")),
        }
    } else {
        req.body.to_vec()
    };
    if bytes.is_empty() {
        return Err(Rejection::bad_request("empty_payload", "empty request: no body and no `data` query parameter"));
    }

    let hint = req
        .query_param("compression")
        .and_then(|h| parse_hint(&h))
        .or_else(|| form_hint.as_deref().and_then(parse_hint))
        .or_else(|| req.header("content-encoding").and_then(parse_hint));

    match hint {
        Some(Hint::Lz64) => {
            let text = std::str::from_utf8(&bytes)
                .map_err(|_| Rejection::bad_request("invalid_lz64", "lz64 payload is not ASCII text"))?;
            let decoded = lz64::decompress_from_base64(text.trim(), limit)?;
            steps.push("lz64");
            bytes = decoded.into_bytes();
        }
        Some(Hint::Base64) if !is_gzip(&bytes) => {
            bytes = base64_decode(&bytes, "base64 payload")?;
            steps.push("base64");
        }
        Some(Hint::Gzip) if !is_gzip(&bytes) && is_strict_base64(&bytes) => {
            bytes = base64_decode(&bytes, "base64 payload")?;
            steps.push("base64");
        }
        _ if !is_gzip(&bytes) && is_strict_base64(&bytes) => {
            bytes = base64_decode(&bytes, "base64 payload")?;
            steps.push("base64");
        }
        _ => {}
    }

    if is_gzip(&bytes) {
        bytes = gunzip(&bytes, limit)?;
        steps.push("gzip");
    } else if hint == Some(Hint::Gzip) {
        return Err(Rejection::bad_request(
            "invalid_gzip",
            "compression says gzip but the payload does not start with the gzip magic bytes 1f 8b 08",
        ));
    }

    if legacy && is_strict_base64(&bytes) {
        bytes = base64_decode(&bytes, "base64 inside the decompressed payload")?;
        steps.push("base64");
    }
    if bytes.len() > limit {
        return Err(Rejection::too_large(limit));
    }
    Ok(Unwrapped { bytes, steps })
}

/// Parses JSON with a clear message for the usual failures (not UTF-8, nesting, truncation).
pub fn parse_json(bytes: &[u8]) -> Result<serde_json::Value, Rejection> {
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(Rejection::bad_request(
            "invalid_utf8",
            format!("payload is not valid UTF-8 (first bad byte at offset {})", e.valid_up_to()),
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        let what = if e.to_string().contains("recursion limit") {
            "JSON is nested too deeply (more than 128 levels)".to_string()
        } else if e.is_eof() {
            format!("JSON ends too early ({e})")
        } else {
            format!("payload is not valid JSON ({e})")
        };
        Rejection::bad_request("invalid_json", what)
    })
}
