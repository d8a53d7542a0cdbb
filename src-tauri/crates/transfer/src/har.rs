//! HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/): export of the raw requests, and
//! import of the analytics requests found in any HAR (browser devtools, Playwright's
//! `recordHar`, HTTP Toolkit).
//!
//! Import is streaming: `entries` is walked one entry at a time (a HAR of a long session can be
//! hundreds of megabytes). An entry is an analytics request when its path, after any proxy
//! prefix (`/ingest/e/` → `/e/`), is a PostHog route; on hosts other than PostHog's own it must
//! also decode into events (`looks_like_capture`), so a site's own `/e` endpoint is not taken.
//!
//! Bodies: HAR's `postData.text` is text. Binary bodies (gzip) are written as base64 with
//! `"_encoding": "base64"` (HAR's custom-field convention; `encoding` is also read, as
//! `content.encoding` spells it).

use std::fmt;
use std::io::{BufRead, Write};

use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use event_store::ExportedRequest;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use capture_decode::Received;

use crate::{EntryError, FileError};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NameValue {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PostData {
    #[serde(rename = "mimeType", default)]
    pub mime_type: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(rename = "_encoding", alias = "encoding", default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// Playwright's `content: 'attach'`: the body is this file of the HAR's zip.
    #[serde(rename = "_file", default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HarRequest {
    pub method: String,
    pub url: String,
    #[serde(rename = "httpVersion", default)]
    pub http_version: String,
    #[serde(default)]
    pub cookies: Vec<IgnoredJson>,
    #[serde(default)]
    pub headers: Vec<NameValue>,
    #[serde(rename = "queryString", default)]
    pub query_string: Vec<NameValue>,
    #[serde(rename = "postData", default, skip_serializing_if = "Option::is_none")]
    pub post_data: Option<PostData>,
    #[serde(rename = "headersSize", default = "minus_one")]
    pub headers_size: i64,
    #[serde(rename = "bodySize", default = "minus_one")]
    pub body_size: i64,
}

/// Any JSON, skipped on read and never written (HAR arrays we leave empty).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IgnoredJson(serde_json::Value);

fn minus_one() -> i64 {
    -1
}

#[derive(Debug, Clone, Deserialize)]
pub struct HarEntry {
    #[serde(rename = "startedDateTime")]
    pub started: String,
    pub request: HarRequest,
    /// Written by the inspector's own HAR export: what the request became.
    #[serde(rename = "_inspector", default)]
    pub inspector: Option<InspectorExtra>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct InspectorExtra {
    /// Stored event uuids in order, so events an SDK sent without a uuid get theirs back.
    #[serde(default)]
    pub event_uuids: Vec<String>,
    /// What the exporting inspector did with it (`accepted`, `rejected`, `faulted`) and answered.
    #[serde(default)]
    pub outcome: Option<String>,
    #[serde(default)]
    pub status: Option<u16>,
}

/// Writes a HAR one entry at a time: `{"log":{…,"entries":[` … `]}}`.
pub struct HarWriter<W: Write> {
    out: W,
    base_url: String,
    entries: usize,
}

impl<W: Write> HarWriter<W> {
    /// `base_url` (`http://127.0.0.1:28120`) prefixes paths whose request had no `Host` header.
    pub fn new(mut out: W, base_url: &str) -> std::io::Result<HarWriter<W>> {
        let creator = serde_json::json!({"name": "Identity Inspector", "version": env!("CARGO_PKG_VERSION")});
        write!(out, "{{\"log\":{{\"version\":\"1.2\",\"creator\":{creator},\"pages\":[],\"entries\":[")?;
        Ok(HarWriter { out, base_url: base_url.trim_end_matches('/').to_owned(), entries: 0 })
    }

    pub fn request(&mut self, request: &ExportedRequest) -> std::io::Result<()> {
        let host = request.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("host")).map(|(_, v)| v.as_str());
        let base = host.map_or_else(|| self.base_url.clone(), |h| format!("http://{h}"));
        let url = match &request.query {
            Some(q) if !q.is_empty() => format!("{base}{}?{q}", request.path),
            _ => format!("{base}{}", request.path),
        };
        let query_string = request
            .query
            .as_deref()
            .map(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .map(|(n, v)| NameValue { name: n.into(), value: v.into() })
                    .collect()
            })
            .unwrap_or_default();
        let mime = request
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map_or_else(String::new, |(_, v)| v.clone());
        let post_data = (!request.body.is_empty()).then(|| match std::str::from_utf8(&request.body) {
            Ok(text) => PostData { mime_type: mime.clone(), text: Some(text.to_owned()), encoding: None, file: None },
            Err(_) => PostData {
                mime_type: mime.clone(),
                text: Some(base64::engine::general_purpose::STANDARD.encode(&request.body)),
                encoding: Some("base64".into()),
                file: None,
            },
        });
        let har_request = HarRequest {
            method: request.method.clone(),
            url,
            http_version: "HTTP/1.1".into(),
            cookies: Vec::new(),
            headers: request.headers.iter().map(|(n, v)| NameValue { name: n.clone(), value: v.clone() }).collect(),
            query_string,
            post_data,
            headers_size: -1,
            body_size: request.body.len() as i64,
        };
        let started = DateTime::<Utc>::from_timestamp_micros(request.received_at)
            .unwrap_or_default()
            .to_rfc3339_opts(SecondsFormat::Micros, true);
        let entry = serde_json::json!({
            "startedDateTime": started,
            "time": 0,
            "request": har_request,
            "response": {
                "status": request.status,
                "statusText": "",
                "httpVersion": "HTTP/1.1",
                "cookies": [],
                "headers": [],
                "content": {"size": 0, "mimeType": "application/json"},
                "redirectURL": "",
                "headersSize": -1,
                "bodySize": -1,
            },
            "cache": {},
            "timings": {"send": 0, "wait": 0, "receive": 0},
            "_inspector": {
                "request_id": request.id, "outcome": request.outcome, "status": request.status,
                "event_uuids": request.event_uuids,
            },
        });
        if self.entries > 0 {
            self.out.write_all(b",")?;
        }
        serde_json::to_writer(&mut self.out, &entry)?;
        self.entries += 1;
        Ok(())
    }

    pub fn finish(mut self) -> std::io::Result<W> {
        self.out.write_all(b"]}}\n")?;
        Ok(self.out)
    }
}

/// An entry of a HAR turned into a request the capture routes understand.
#[derive(Debug, Clone)]
pub struct HarCandidate {
    pub raw: Received,
    /// The URL as recorded (with the proxy prefix and host), for the request's note.
    pub url: String,
    /// Whether the host is PostHog's own cloud (then every PostHog route is taken).
    pub vendor_host: bool,
    /// From an inspector's own HAR: the uuids its events had, what it did with the request and
    /// answered (see `InspectorExtra`).
    pub event_uuids: Vec<String>,
    pub outcome: Option<String>,
    pub status: Option<u16>,
    /// The body was over the route's read limit and was dropped (`raw.body` is empty): it is
    /// stored refused as `body_too_large`, as live capture would.
    pub body_too_large: bool,
}

/// The error that ends parsing when `each` asks to stop.
const STOPPED: &str = "stopped early";

/// Calls `each` for every entry of a HAR, in file order, without holding them all. `each`
/// returns false to stop early.
pub fn read_entries(input: impl BufRead, mut each: impl FnMut(usize, HarEntry) -> bool) -> Result<usize, FileError> {
    let mut de = serde_json::Deserializer::from_reader(input);
    let mut count = 0;
    let mut stopped = false;
    let mut each = |index, entry| {
        let going = each(index, entry);
        stopped |= !going;
        going
    };
    let result = de.deserialize_map(HarRoot { each: &mut each, count: &mut count });
    match result {
        Err(_) if stopped => return Ok(count),
        Ok(true) => {}
        Ok(false) => return Err(FileError::Invalid("the HAR has no `log.entries` array".into())),
        Err(e) if e.is_eof() => {
            return Err(FileError::Truncated(format!("the HAR ends early, after {count} entries ({e})")))
        }
        Err(e) => return Err(FileError::json("the HAR", e)),
    }
    de.end().map_err(|e| FileError::json("the end of the HAR", e))?;
    Ok(count)
}

struct HarRoot<'a, F> {
    each: &'a mut F,
    count: &'a mut usize,
}

impl<'de, F: FnMut(usize, HarEntry) -> bool> Visitor<'de> for HarRoot<'_, F> {
    /// Whether `log.entries` was found.
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a HAR object with `log`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut found = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "log" {
                found |= map.next_value_seed(HarLog { each: &mut *self.each, count: &mut *self.count })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

struct HarLog<'a, F> {
    each: &'a mut F,
    count: &'a mut usize,
}

impl<'de, F: FnMut(usize, HarEntry) -> bool> DeserializeSeed<'de> for HarLog<'_, F> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F: FnMut(usize, HarEntry) -> bool> Visitor<'de> for HarLog<'_, F> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the HAR's `log` object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut found = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "entries" {
                map.next_value_seed(HarEntries { each: &mut *self.each, count: &mut *self.count })?;
                found = true;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

struct HarEntries<'a, F> {
    each: &'a mut F,
    count: &'a mut usize,
}

impl<'de, F: FnMut(usize, HarEntry) -> bool> DeserializeSeed<'de> for HarEntries<'_, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(usize, HarEntry) -> bool> Visitor<'de> for HarEntries<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the HAR's `entries` array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(entry) = seq.next_element::<HarEntry>()? {
            let index = *self.count;
            *self.count += 1;
            if !(self.each)(index, entry) {
                // Stop parsing here: the rest of the file may be gigabytes nobody reads.
                return Err(serde::de::Error::custom(STOPPED));
            }
        }
        Ok(())
    }
}

/// PostHog's own cloud hosts (`us.i.posthog.com`, `eu.posthog.com`, `*.posthog.com`).
fn is_vendor_host(host: &str) -> bool {
    let host = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
    host == "posthog.com" || host.ends_with(".posthog.com")
}

/// The capture-route part of a recorded path: the path itself when it is a PostHog route,
/// else the path with leading segments removed (a reverse proxy under `/ingest` or `/ph`),
/// at most three of them. `is_route` says what a route is (the decoder's `Route::parse`).
pub fn route_path(path: &str, is_route: impl Fn(&str) -> bool) -> Option<String> {
    let mut rest = path;
    for _ in 0..=3 {
        if is_route(rest) {
            return Some(rest.to_owned());
        }
        let next = rest.strip_prefix('/')?.find('/')?;
        rest = &rest[next + 1..];
    }
    None
}

/// Reads an attached body (`postData._file`) from the HAR's zip by its file name, up to a limit: `None` when it is longer.
pub type Attachments = Box<dyn FnMut(&str, usize) -> std::io::Result<Option<Vec<u8>>> + Send>;

/// The entry as a request for the capture routes, if its path is (or ends in) one.
pub fn candidate(
    entry: &HarEntry,
    is_route: impl Fn(&str) -> bool,
    attachments: Option<&mut Attachments>,
) -> Result<Option<HarCandidate>, EntryError> {
    let request = &entry.request;
    if request.method.eq_ignore_ascii_case("OPTIONS") {
        return Ok(None);
    }
    let Some((host, path, query)) = split_url(&request.url) else { return Ok(None) };
    let Some(path) = route_path(&path, is_route) else { return Ok(None) };
    let received_at = DateTime::parse_from_rfc3339(&entry.started)
        .map_err(|e| EntryError::StartedAt(entry.started.clone(), e))?
        .with_timezone(&Utc);
    let headers = request
        .headers
        .iter()
        // HTTP/2 pseudo-headers (`:authority`) are not headers the server would have seen.
        .filter(|h| !h.name.starts_with(':'))
        .map(|h| (h.name.to_ascii_lowercase(), h.value.clone()))
        .collect();
    let limit = ingest::read_limit(&path, query.as_deref());
    let mut body_too_large = false;
    let body = match &request.post_data {
        None => Vec::new(),
        Some(PostData { file: Some(file), .. }) => match attachments {
            Some(read) => read(file, limit)
                .map_err(|error| EntryError::MissingAttachment { url: request.url.clone(), file: file.clone(), error })?
                .unwrap_or_else(|| {
                    body_too_large = true;
                    Vec::new()
                }),
            None => return Err(EntryError::AttachedBody { url: request.url.clone(), file: file.clone() }),
        },
        Some(data) => {
            let text = data.text.as_deref().unwrap_or("");
            let base64 = data.encoding.as_deref().is_some_and(|e| e.eq_ignore_ascii_case("base64"));
            // Cut by the reader (see `json_cap`), or over the limit once decoded: not kept.
            let decoded_len = if base64 { text.len() / 4 * 3 } else { text.len() };
            if crate::json_cap::was_cut(text) || decoded_len > limit + 3 {
                body_too_large = true;
                Vec::new()
            } else if base64 {
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .map_err(|error| EntryError::PostDataBase64 { url: request.url.clone(), error })?
            } else {
                text.as_bytes().to_vec()
            }
        }
    };
    // A recorder that kept a gzip body as text replaced its binary bytes (1f 8b...) with U+FFFD:
    // the body cannot be decoded any more, and the decoder's error would not say why.
    if body.starts_with("\u{1f}\u{FFFD}".as_bytes()) {
        return Err(EntryError::GzipStoredAsText(request.url.clone()));
    }
    Ok(Some(HarCandidate {
        raw: Received { received_at, method: request.method.to_ascii_uppercase(), path, query, headers, body },
        url: request.url.clone(),
        vendor_host: is_vendor_host(&host),
        event_uuids: entry.inspector.as_ref().map(|i| i.event_uuids.clone()).unwrap_or_default(),
        outcome: entry.inspector.as_ref().and_then(|i| i.outcome.clone()),
        status: entry.inspector.as_ref().and_then(|i| i.status),
        body_too_large,
    }))
}

/// `(host, path, query)` of an absolute http(s) URL.
fn split_url(url: &str) -> Option<(String, String, Option<String>)> {
    let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"))?;
    let rest = rest.split('#').next().unwrap_or(rest);
    let (host, path_query) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (path, query) = match path_query.split_once('?') {
        Some((p, q)) => (p, Some(q.to_owned())),
        None => (path_query, None),
    };
    Some((host.to_owned(), path.to_owned(), query))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_route(p: &str) -> bool {
        matches!(p.trim_end_matches('/'), "/e" | "/i/v0/e" | "/batch" | "/flags")
    }

    #[test]
    fn proxy_prefixes_are_looked_through() {
        assert_eq!(route_path("/e/", is_route).as_deref(), Some("/e/"));
        assert_eq!(route_path("/ingest/i/v0/e/", is_route).as_deref(), Some("/i/v0/e/"));
        assert_eq!(route_path("/a/b/c/batch", is_route).as_deref(), Some("/batch"));
        assert_eq!(route_path("/a/b/c/d/batch", is_route), None);
        assert_eq!(route_path("/static/app.js", is_route), None);
    }

    #[test]
    fn urls_split() {
        assert_eq!(
            split_url("https://us.i.posthog.com/e/?ip=1&_=2#x"),
            Some(("us.i.posthog.com".into(), "/e/".into(), Some("ip=1&_=2".into())))
        );
        assert_eq!(split_url("https://example.com"), Some(("example.com".into(), "/".into(), None)));
        assert_eq!(split_url("data:text/plain,hi"), None);
        assert!(is_vendor_host("us.i.posthog.com:443"));
        assert!(!is_vendor_host("notposthog.com"));
    }

    #[test]
    fn entries_stream_and_bad_hars_are_named() {
        let har = r#"{"log":{"version":"1.2","creator":{"name":"x"},"entries":[
            {"startedDateTime":"2026-01-01T00:00:00.000Z","request":{"method":"POST","url":"https://us.i.posthog.com/e/","headers":[{"name":":authority","value":"x"}],"postData":{"mimeType":"text/plain","text":"{}"}}},
            {"startedDateTime":"2026-01-01T00:00:01.000Z","request":{"method":"GET","url":"https://example.com/app.js"}}
        ]}}"#;
        let mut seen = Vec::new();
        let n = read_entries(har.as_bytes(), |i, e| {
            seen.push((i, e.request.url));
            true
        })
        .unwrap();
        assert_eq!(n, 2);
        assert_eq!(seen[1].1, "https://example.com/app.js");

        let cut = &har[..har.len() - 10];
        let err = read_entries(cut.as_bytes(), |_, _| true).unwrap_err();
        assert!(matches!(err, FileError::Truncated(_)), "{err}");
        let err = read_entries(r#"{"log":{"version":"1.2"}}"#.as_bytes(), |_, _| true).unwrap_err();
        assert!(err.to_string().contains("no `log.entries`"), "{err}");
    }
}
