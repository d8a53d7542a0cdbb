//! NDJSON of events in PostHog's capture format: one event per line,
//! `{"uuid","event","distinct_id","timestamp","properties","api_key"}`, so a line can go into a
//! `/batch` request's `batch` array as it is (PostHog reads the token from an event's `api_key`).
//!
//! `timestamp` is the corrected (server) time, so sending a line without `sent_at` keeps the
//! time the inspector showed. Imported data sets export under their original token.

use std::io::{BufRead, Write};

use chrono::{DateTime, Utc};
use event_store::{split_project, ExportedEvent};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::bundle::micros_text;
use crate::{FileError, RawRequest};

/// Events per synthetic `/batch` request on import, and the byte budget of one.
const BATCH_EVENTS: usize = 100;
const BATCH_BYTES: usize = 1 << 20;

#[derive(serde::Serialize)]
struct Line<'a> {
    uuid: &'a str,
    event: &'a str,
    distinct_id: &'a str,
    timestamp: String,
    properties: &'a RawValue,
    api_key: &'a str,
}

/// Writes one event as one line.
pub fn write_event(out: &mut impl Write, event: &ExportedEvent) -> std::io::Result<()> {
    let properties: &RawValue = serde_json::from_str(&event.properties).map_err(std::io::Error::other)?;
    let line = Line {
        uuid: &event.uuid,
        event: &event.event,
        distinct_id: &event.distinct_id,
        timestamp: micros_text(event.timestamp),
        properties,
        api_key: split_project(&event.project).1,
    };
    serde_json::to_writer(&mut *out, &line)?;
    out.write_all(b"\n")
}

/// The batch body `{"api_key": token, "batch": [lines...]}` for events of one token.
pub fn batch_body(token: Option<&str>, lines: &[Box<RawValue>]) -> Vec<u8> {
    #[derive(serde::Serialize)]
    struct Batch<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        api_key: Option<&'a str>,
        batch: &'a [Box<RawValue>],
    }
    serde_json::to_vec(&Batch { api_key: token, batch: lines }).expect("raw JSON serialises")
}

struct ParsedLine {
    line_no: usize,
    token: Option<String>,
    raw: Box<RawValue>,
}

/// Reads NDJSON events and groups consecutive lines of the same token into `/batch` requests,
/// as posthog-node would have sent them, all received at `received_at`.
pub struct NdjsonReader<R: BufRead> {
    lines: R,
    line_no: usize,
    received_at: DateTime<Utc>,
    /// A line read but not yet placed (it started a new batch).
    pending: Option<ParsedLine>,
    done: bool,
}

impl<R: BufRead> NdjsonReader<R> {
    pub fn new(lines: R, received_at: DateTime<Utc>) -> NdjsonReader<R> {
        NdjsonReader { lines, line_no: 0, received_at, pending: None, done: false }
    }

    fn next_line(&mut self) -> Result<Option<ParsedLine>, FileError> {
        loop {
            let mut line = String::new();
            self.line_no += 1;
            let n = self.lines.read_line(&mut line).map_err(|e| match e.kind() {
                std::io::ErrorKind::UnexpectedEof => FileError::Truncated(format!("the compressed data ends inside line {}", self.line_no)),
                std::io::ErrorKind::InvalidData => FileError::Invalid(format!("line {} is not UTF-8 text", self.line_no)),
                _ => FileError::Io(e),
            })?;
            if n == 0 {
                return Ok(None);
            }
            let trimmed = line.trim();
            if trimmed.is_empty() {
                continue;
            }
            let what = || format!("line {}", self.line_no);
            // A cut-off last line fails here, before anything is stored.
            let object: Map<String, Value> = serde_json::from_str(trimmed).map_err(|e| FileError::json(what(), e))?;
            if !object.get("event").is_some_and(Value::is_string) {
                return Err(FileError::Invalid(format!("{}: an event needs a string `event`", what())));
            }
            let token = ["api_key", "token"]
                .iter()
                .find_map(|k| object.get(*k).and_then(Value::as_str))
                .or_else(|| object.get("properties").and_then(|p| p.get("token")).and_then(Value::as_str))
                .map(str::to_owned);
            let raw = RawValue::from_string(trimmed.to_owned()).map_err(|e| FileError::json(what(), e))?;
            return Ok(Some(ParsedLine { line_no: self.line_no, token, raw }));
        }
    }

    fn next_batch(&mut self) -> Result<Option<NdjsonBatch>, FileError> {
        let Some(first) = self.pending.take().map(Ok).or_else(|| self.next_line().transpose()).transpose()? else {
            return Ok(None);
        };
        let (token, first_line) = (first.token, first.line_no);
        let mut last_line = first_line;
        let mut size = first.raw.get().len();
        let mut lines = vec![first.raw];
        while lines.len() < BATCH_EVENTS && size < BATCH_BYTES {
            match self.next_line()? {
                None => break,
                Some(line) if line.token == token => {
                    size += line.raw.get().len();
                    lines.push(line.raw);
                    last_line = line.line_no;
                }
                Some(other) => {
                    self.pending = Some(other);
                    break;
                }
            }
        }
        let request = RawRequest {
            received_at: self.received_at,
            method: "POST".into(),
            path: "/batch/".into(),
            query: None,
            headers: vec![("content-type".into(), "application/json".into())],
            body: batch_body(token.as_deref(), &lines),
        };
        Ok(Some(NdjsonBatch { request, lines: (first_line, last_line) }))
    }
}

/// A synthetic `/batch` request and the file lines its events came from.
#[derive(Debug, Clone)]
pub struct NdjsonBatch {
    pub request: RawRequest,
    pub lines: (usize, usize),
}

impl<R: BufRead> Iterator for NdjsonReader<R> {
    type Item = Result<NdjsonBatch, FileError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.next_batch().transpose();
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
        }
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_one_token_share_a_batch() {
        let text = "{\"event\":\"a\",\"distinct_id\":\"1\",\"api_key\":\"phc_1\"}\n\n{\"event\":\"b\",\"distinct_id\":\"1\",\"api_key\":\"phc_1\"}\n{\"event\":\"c\",\"distinct_id\":\"1\",\"properties\":{\"token\":\"phc_2\"}}\n";
        let batches: Vec<NdjsonBatch> = NdjsonReader::new(text.as_bytes(), Utc::now()).collect::<Result<_, _>>().unwrap();
        assert_eq!(batches.iter().map(|b| b.lines).collect::<Vec<_>>(), [(1, 3), (4, 4)]);
        let requests: Vec<RawRequest> = batches.into_iter().map(|b| b.request).collect();
        assert_eq!(requests.len(), 2);
        let first: Value = serde_json::from_slice(&requests[0].body).unwrap();
        assert_eq!(first["api_key"], "phc_1");
        assert_eq!(first["batch"].as_array().unwrap().len(), 2);
        let second: Value = serde_json::from_slice(&requests[1].body).unwrap();
        assert_eq!(second["api_key"], "phc_2");
    }

    #[test]
    fn a_bad_line_is_named() {
        let text = "{\"event\":\"a\",\"distinct_id\":\"1\"}\n{\"event\":\"b\",\"dist";
        let err = NdjsonReader::new(text.as_bytes(), Utc::now()).collect::<Result<Vec<_>, _>>().unwrap_err();
        assert!(err.to_string().starts_with("line 2 is not valid JSON"), "{err}");
    }
}
