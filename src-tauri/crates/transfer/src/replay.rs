//! Replay: send the events of a file (bundle, HAR or NDJSON) to any PostHog capture endpoint —
//! another inspector or a real PostHog project — as `/batch/` requests, one per original
//! request, in the original arrival order, waiting for each answer before the next (so the
//! receiver processes them in the same order and computes the same persons).
//!
//! Each event keeps its uuid (PostHog deduplicates on it), name, distinct id, properties and
//! corrected timestamp (sent without `sent_at`, so no clock-skew correction moves it again).
//! `--token` replaces the project token (the batch's `api_key`; a `token` property is dropped).
//! Rejected and non-event requests (flags, config) are not sent.

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use event_store::{split_project, NewEvent};
use serde_json::value::RawValue;

use crate::bundle::micros_text;
use crate::posthog_line::Line;
use crate::{read_rows, FileError, Progress};

pub struct ReplayOptions {
    /// The receiver's base URL (`http://127.0.0.1:28121`, `https://us.i.posthog.com`).
    pub to: String,
    /// A project token to send under instead of the original one.
    pub token: Option<String>,
    /// At most this many requests per second.
    pub rate: Option<f64>,
    pub progress: Arc<dyn Progress>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ReplaySummary {
    pub requests: u64,
    pub events: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{0}")]
    File(#[from] FileError),
    #[error("{0}")]
    Row(event_store::RowError),
    #[error("--to must be an http:// or https:// URL, not {0:?}")]
    BadUrl(String),
    #[error("cannot start the HTTP client: {0}")]
    Client(String),
    #[error("request {request} ({events} events) to {url} failed: {error}; {sent} requests were sent before it")]
    Send { request: u64, events: usize, url: String, error: String, sent: u64 },
    #[error("nothing to replay: the file holds no accepted events")]
    Nothing,
}

/// Sends every accepted request's events; stops at the first failure (the receiver's answer is
/// in the error), since going on would change the order the receiver sees.
pub fn replay(
    input: impl Read + Send + 'static,
    size: Option<u64>,
    options: ReplayOptions,
) -> Result<ReplaySummary, ReplayError> {
    let opened = read_rows(input, size, options.progress.clone())?;
    replay_rows(opened, options)
}

/// [`replay`] of a file (zip'd HARs with attached bodies included).
pub fn replay_file(path: &std::path::Path, options: ReplayOptions) -> Result<ReplaySummary, ReplayError> {
    let opened = crate::read_file_rows(path, options.progress.clone())?;
    replay_rows(opened, options)
}

fn replay_rows(opened: crate::Opened, options: ReplayOptions) -> Result<ReplaySummary, ReplayError> {
    let base = options.to.trim_end_matches('/');
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(ReplayError::BadUrl(options.to.clone()));
    }
    let url = format!("{base}/batch/");
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("identity-inspector-replay/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ReplayError::Client(e.to_string()))?;
    let gap = options.rate.filter(|r| *r > 0.0).map(|r| Duration::from_secs_f64(1.0 / r));
    let mut summary = ReplaySummary::default();
    let mut next_at = Instant::now();
    for row in opened.rows {
        let (record, events) = row.map_err(ReplayError::Row)?;
        if record.outcome != event_store::Outcome::Accepted || events.is_empty() {
            continue;
        }
        if let Some(gap) = gap {
            let now = Instant::now();
            if next_at > now {
                std::thread::sleep(next_at - now);
            }
            next_at = Instant::now() + gap;
        }
        let body = batch_of(&events, options.token.as_deref());
        let answer = client
            .post(&url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .map_err(|e| e.to_string())
            .and_then(|r| {
                let status = r.status();
                if status.is_success() {
                    Ok(())
                } else {
                    let text = r.text().unwrap_or_default();
                    Err(format!("answered {status}: {}", text.chars().take(300).collect::<String>()))
                }
            });
        if let Err(error) = answer {
            return Err(ReplayError::Send {
                request: summary.requests + 1,
                events: events.len(),
                url: url.clone(),
                error,
                sent: summary.requests,
            });
        }
        summary.requests += 1;
        summary.events += events.len() as u64;
    }
    options.progress.finish();
    if summary.requests == 0 {
        return Err(ReplayError::Nothing);
    }
    Ok(summary)
}

/// `{"api_key": token, "batch": [events]}` of one original request.
fn batch_of(events: &[NewEvent], token: Option<&str>) -> Vec<u8> {
    let api_key = token.unwrap_or_else(|| split_project(&events[0].project).1);
    let lines: Vec<Box<RawValue>> = events
        .iter()
        .map(|e| {
            let properties = match token {
                // The new token must win: drop the old one from the properties.
                Some(_) => {
                    let mut map: serde_json::Map<String, serde_json::Value> =
                        serde_json::from_str(&e.properties).unwrap_or_default();
                    map.remove("token");
                    RawValue::from_string(serde_json::Value::Object(map).to_string())
                }
                None => RawValue::from_string(e.properties.clone()),
            }
            .expect("stored properties are JSON");
            let line = Line {
                uuid: &e.uuid,
                event: &e.event,
                distinct_id: &e.distinct_id,
                timestamp: micros_text(e.timestamp),
                properties: &properties,
                api_key: None,
                source: None,
            };
            serde_json::value::to_raw_value(&line).expect("serialises")
        })
        .collect();
    crate::ndjson::batch_body(Some(api_key), &lines)
}
