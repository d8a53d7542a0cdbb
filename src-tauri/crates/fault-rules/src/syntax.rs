//! The text syntax of a rule, for `serve --fault` and anyone typing one: the keys of
//! [`FaultSpec`] as `key=value` items separated by `,` or `:`, plus bare words for the common
//! ones.
//!
//! ```text
//! posthog:503:count=3                          source=posthog, status=503, count=3
//! route=/batch,status=429,retry_after=2,share=0.5
//! segment:drop:count=1
//! posthog:delay_ms=2000                        slow, then the normal answer
//! route=/i/v1/analytics/events:v1_retry:count=2
//! ```
//!
//! Bare words: a source name (`posthog`), a status (`503`), a route (`/batch`), `drop`,
//! `v1_retry`. `family` is another name for `source` and `delay` for `delay_ms`. A `project=`
//! value runs to the next `,` (keys may hold `:`).

use crate::error::FaultError;
use crate::rule::FaultSpec;

/// The spec a rule's text asks for (validate it with [`FaultSpec::validate`]).
pub fn parse(text: &str) -> Result<FaultSpec, FaultError> {
    let mut spec = FaultSpec::default();
    let mut seen: Vec<&'static str> = Vec::new();
    let mut items = 0;
    for piece in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let words: Vec<&str> = if piece.starts_with("project=") { vec![piece] } else { piece.split(':').collect() };
        for word in words.into_iter().map(str::trim).filter(|w| !w.is_empty()) {
            items += 1;
            let key = match word.split_once('=') {
                Some((key, value)) => set(&mut spec, key.trim(), value.trim())?,
                None => bare(&mut spec, word)?,
            };
            if seen.contains(&key) {
                return Err(FaultError::Repeated(key));
            }
            seen.push(key);
        }
    }
    if items == 0 {
        return Err(FaultError::Empty);
    }
    Ok(spec)
}

/// A word without `=`; returns the key it set.
fn bare(spec: &mut FaultSpec, word: &str) -> Result<&'static str, FaultError> {
    let lower = word.to_ascii_lowercase();
    if capture_decode::Source::ALL.iter().any(|s| s.as_str() == lower) {
        spec.source = Some(lower);
        Ok("source")
    } else if word.starts_with('/') {
        spec.route = Some(word.to_owned());
        Ok("route")
    } else if let Ok(status) = word.parse::<u16>() {
        spec.status = Some(status);
        Ok("status")
    } else if lower == "drop" {
        spec.drop = true;
        Ok("drop")
    } else if lower == "v1_retry" {
        spec.v1_retry = true;
        Ok("v1_retry")
    } else {
        Err(FaultError::UnknownWord(word.to_owned()))
    }
}

/// `key=value`; returns the key it set.
fn set(spec: &mut FaultSpec, key: &str, value: &str) -> Result<&'static str, FaultError> {
    let bad =
        |key: &'static str, expected: &'static str| FaultError::BadValue { key, expected, value: value.to_owned() };
    Ok(match key.to_ascii_lowercase().as_str() {
        "source" | "family" => {
            spec.source = Some(value.to_owned());
            "source"
        }
        "route" => {
            spec.route = Some(value.to_owned());
            "route"
        }
        "project" => {
            spec.project = Some(value.to_owned());
            "project"
        }
        "status" => {
            spec.status = Some(value.parse().map_err(|_| bad("status", "an HTTP status such as 503"))?);
            "status"
        }
        "retry_after" => {
            spec.retry_after = Some(value.parse().map_err(|_| bad("retry_after", "a whole number of seconds"))?);
            "retry_after"
        }
        "delay_ms" | "delay" => {
            spec.delay_ms = Some(value.parse().map_err(|_| bad("delay_ms", "a whole number of milliseconds"))?);
            "delay_ms"
        }
        "count" => {
            spec.count = Some(value.parse().map_err(|_| bad("count", "a whole number of requests"))?);
            "count"
        }
        "share" => {
            let share: f64 = value.parse().map_err(|_| bad("share", "a number between 0 and 1"))?;
            if !share.is_finite() {
                return Err(bad("share", "a number between 0 and 1"));
            }
            spec.share = Some(share);
            "share"
        }
        "drop" => {
            spec.drop = flag(value).ok_or_else(|| bad("drop", "true or false"))?;
            "drop"
        }
        "v1_retry" => {
            spec.v1_retry = flag(value).ok_or_else(|| bad("v1_retry", "true or false"))?;
            "v1_retry"
        }
        _ => return Err(FaultError::UnknownKey(key.to_owned())),
    })
}

fn flag(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}
