//! The inspector bundle: one gzip'd NDJSON file holding raw requests exactly as received.
//!
//! ```text
//! {"format":"identity-inspector-bundle","version":1,"created_at":…,"app_version":…,"selection":{…},"counts":{"requests":N,"events":M}}
//! {"type":"request","id":…,"received_at":…,"method":…,"path":…,"query":…,"headers":[[name,value]…],"body_base64":…,"outcome":…,"status":…,"error_code":…,"event_uuids":[…]}
//! …
//! {"type":"end","requests":N,"events":M}
//! ```
//!
//! Version rule: `version` is an integer. Adding fields or line types does not change it
//! (readers ignore what they do not know); anything an older reader would misread does, and a
//! reader refuses a version above [`VERSION`] with a clear error. The end line is required: a
//! file without it (or whose counts differ) was cut short and is refused whole.

use std::io::{BufRead, Write};

use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use event_store::{ExportedRequest, Selection, SelectionCounts};
use serde::{Deserialize, Serialize};

use capture_decode::Received;

use crate::{EntryError, FileError};

pub const FORMAT: &str = "identity-inspector-bundle";
/// The newest bundle version this build writes and reads.
pub const VERSION: u64 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u64,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub app_version: Option<String>,
    /// What was exported (free JSON, for people).
    #[serde(default)]
    pub selection: serde_json::Value,
    #[serde(default)]
    pub counts: Option<Counts>,
    /// The identity settings of the exported projects that were configured, by project key
    /// (without any data-set prefix): an import applies them to its own `import:<name>/<key>`
    /// projects, so the data set replays under the settings it was captured with.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub settings: std::collections::BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub requests: i64,
    pub events: i64,
}

/// One request line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestLine {
    /// The request's id in the exporting inspector (for reference only).
    #[serde(default)]
    pub id: Option<i64>,
    pub received_at: String,
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub query: Option<String>,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    #[serde(default)]
    pub body_base64: String,
    #[serde(default)]
    pub outcome: Option<String>,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub error_code: Option<String>,
    /// Stored event uuids in order: events an SDK sent without a uuid get theirs back.
    #[serde(default)]
    pub event_uuids: Vec<String>,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum LineOut<'a> {
    Request(&'a RequestLine),
    End(Counts),
}

/// Writes a bundle, one request at a time.
pub struct BundleWriter<W: Write> {
    out: flate2::write::GzEncoder<W>,
    counts: Counts,
}

impl<W: Write> BundleWriter<W> {
    pub fn new(
        out: W,
        selection: &Selection,
        expected: SelectionCounts,
        settings: std::collections::BTreeMap<String, serde_json::Value>,
    ) -> std::io::Result<BundleWriter<W>> {
        let mut out = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
        let header = Header {
            format: FORMAT.into(),
            version: VERSION,
            created_at: Some(Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)),
            app_version: Some(env!("CARGO_PKG_VERSION").into()),
            selection: serde_json::to_value(selection).unwrap_or_default(),
            counts: Some(Counts { requests: expected.requests, events: expected.events }),
            settings,
        };
        serde_json::to_writer(&mut out, &header)?;
        out.write_all(b"\n")?;
        Ok(BundleWriter { out, counts: Counts::default() })
    }

    pub fn request(&mut self, request: &ExportedRequest) -> std::io::Result<()> {
        let line = RequestLine {
            id: Some(request.id),
            received_at: micros_text(request.received_at),
            method: request.method.clone(),
            path: request.path.clone(),
            query: request.query.clone(),
            headers: request.headers.clone(),
            body_base64: base64::engine::general_purpose::STANDARD.encode(&request.body),
            outcome: Some(request.outcome.clone()),
            status: Some(request.status),
            error_code: request.error_code.clone(),
            event_uuids: request.event_uuids.clone(),
        };
        serde_json::to_writer(&mut self.out, &LineOut::Request(&line))?;
        self.out.write_all(b"\n")?;
        self.counts.requests += 1;
        self.counts.events += request.event_uuids.len() as i64;
        Ok(())
    }

    /// Writes the end line and the gzip trailer; returns what was written.
    pub fn finish(mut self) -> std::io::Result<(W, Counts)> {
        serde_json::to_writer(&mut self.out, &LineOut::End(self.counts))?;
        self.out.write_all(b"\n")?;
        Ok((self.out.finish()?, self.counts))
    }
}

pub(crate) fn micros_text(micros: i64) -> String {
    DateTime::<Utc>::from_timestamp_micros(micros).unwrap_or_default().to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A request of a bundle, with the uuids its events had and what the exporting inspector did
/// with it (`outcome`, `status`; absent in older bundles).
#[derive(Debug, Clone)]
pub struct BundleRequest {
    pub raw: Received,
    pub event_uuids: Vec<String>,
    pub outcome: Option<String>,
    pub status: Option<u16>,
}

/// Reads a bundle (gzip'd or plain) line by line. The header is read by `open`; iterate for the
/// requests. The last item is an error if the file is cut short or a line is bad.
pub struct BundleReader<R: BufRead> {
    lines: R,
    pub header: Header,
    line_no: usize,
    seen: Counts,
    done: bool,
}

impl<R: BufRead> BundleReader<R> {
    pub fn open(mut lines: R) -> Result<BundleReader<R>, FileError> {
        let mut first = String::new();
        read_line(&mut lines, &mut first, 1)?;
        if first.trim().is_empty() {
            return Err(FileError::Empty);
        }
        let value: serde_json::Value =
            serde_json::from_str(&first).map_err(|e| FileError::json("the bundle header (line 1)", e))?;
        if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Err(FileError::UnknownFormat(format!("line 1 is not an {FORMAT} header")));
        }
        let found = value
            .get("version")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| FileError::Invalid("the bundle header has no integer `version`".into()))?;
        if found > VERSION {
            return Err(FileError::NewerVersion { found, known: VERSION });
        }
        let header: Header =
            serde_json::from_value(value).map_err(|e| FileError::json("the bundle header (line 1)", e))?;
        Ok(BundleReader { lines, header, line_no: 1, seen: Counts::default(), done: false })
    }

    fn next_request(&mut self) -> Result<Option<BundleRequest>, FileError> {
        loop {
            let mut line = String::new();
            self.line_no += 1;
            if read_line(&mut self.lines, &mut line, self.line_no)? == 0 {
                return Err(FileError::Truncated(format!(
                    "it ends after {} requests without its end line",
                    self.seen.requests
                )));
            }
            if line.trim().is_empty() {
                continue;
            }
            let what = || format!("line {}", self.line_no);
            let value: serde_json::Value = serde_json::from_str(&line).map_err(|e| FileError::json(what(), e))?;
            match value.get("type").and_then(|t| t.as_str()) {
                Some("request") => {
                    let line: RequestLine = serde_json::from_value(value).map_err(|e| FileError::json(what(), e))?;
                    let raw = raw_of(&line).map_err(|e| FileError::Invalid(format!("{}: {e}", what())))?;
                    self.seen.requests += 1;
                    self.seen.events += line.event_uuids.len() as i64;
                    let RequestLine { event_uuids, outcome, status, .. } = line;
                    return Ok(Some(BundleRequest { raw, event_uuids, outcome, status }));
                }
                Some("end") => {
                    let end: Counts = serde_json::from_value(value).map_err(|e| FileError::json(what(), e))?;
                    if end != self.seen {
                        return Err(FileError::Truncated(format!(
                            "its end line counts {} requests and {} events, but {} and {} were read",
                            end.requests, end.events, self.seen.requests, self.seen.events
                        )));
                    }
                    return Ok(None);
                }
                // A line type from a newer minor revision: skipped, as the version rule says.
                Some(_) => continue,
                None => return Err(FileError::Invalid(format!("{}: a bundle line without `type`", what()))),
            }
        }
    }
}

/// Longest bundle line read: a request with a body at the largest route limit (40 MB), base64'd,
/// and its headers. A longer line is refused before it is held whole.
const MAX_LINE: usize = 60 << 20;

fn read_line(lines: &mut impl BufRead, into: &mut String, line_no: usize) -> Result<usize, FileError> {
    crate::json_cap::read_line_capped(lines, into, MAX_LINE).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidInput => {
            FileError::Invalid(format!("line {line_no} is longer than {} MB, more than any request", MAX_LINE >> 20))
        }
        std::io::ErrorKind::UnexpectedEof => {
            FileError::Truncated(format!("the compressed data ends inside line {line_no}"))
        }
        std::io::ErrorKind::InvalidData => {
            FileError::Invalid(format!("line {line_no} is not UTF-8 text, or the gzip data is corrupt: {e}"))
        }
        _ => FileError::Io(e),
    })
}

fn raw_of(line: &RequestLine) -> Result<Received, EntryError> {
    let received_at = DateTime::parse_from_rfc3339(&line.received_at)
        .map_err(|e| EntryError::ReceivedAt(line.received_at.clone(), e))?
        .with_timezone(&Utc);
    let body = base64::engine::general_purpose::STANDARD.decode(&line.body_base64).map_err(EntryError::BodyBase64)?;
    Ok(Received {
        received_at,
        method: line.method.clone(),
        path: line.path.clone(),
        query: line.query.clone(),
        headers: line.headers.clone(),
        body,
    })
}

impl<R: BufRead> Iterator for BundleReader<R> {
    type Item = Result<BundleRequest, FileError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_request() {
            Ok(Some(request)) => Some(Ok(request)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
