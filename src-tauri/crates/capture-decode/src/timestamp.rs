//! Client time to server time, the way PostHog's ingestion does it.
//!
//! Clients' clocks are wrong all the time; what they report relative to their own `sent_at` is
//! trusted, the absolute value is not. The original value is always kept beside the result.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde_json::Value;

/// What the client said about time, as found in the request.
#[derive(Debug, Clone, Default)]
pub struct ClientTime {
    pub timestamp: Option<Value>,
    pub sent_at: Option<String>,
    pub offset_ms: Option<i64>,
    pub ignore_sent_at: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Corrected {
    pub timestamp: DateTime<Utc>,
    /// Why the corrected value is not simply the client's, when that is worth telling the user.
    pub warning: Option<String>,
}

/// ISO 8601 as SDKs send it: with an offset or `Z`, or without one (taken as UTC).
pub fn parse_iso(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f%z"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc());
        }
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Some(t.with_timezone(&Utc));
        }
    }
    None
}

fn as_time(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::String(s) => parse_iso(s),
        _ => None,
    }
}

/// Applies, in order: `offset`, then `timestamp` corrected by `sent_at`, then `timestamp` alone,
/// then the arrival time. Anything more than 23 hours ahead of arrival becomes the arrival time.
pub fn correct(client: &ClientTime, received_at: DateTime<Utc>) -> Corrected {
    let mut warning = None;
    let timestamp = client.timestamp.as_ref().filter(|v| !v.is_null());
    let parsed = timestamp.and_then(as_time);
    if timestamp.is_some() && parsed.is_none() {
        warning = Some(format!(
            "timestamp {} is not an ISO 8601 date; used the arrival time",
            timestamp.map(Value::to_string).unwrap_or_default()
        ));
    }
    let sent_at = if client.ignore_sent_at { None } else { client.sent_at.as_deref().and_then(parse_iso) };

    // Checked arithmetic: an absurd offset or date (`offset: 2^63`, year 200000) must fall back
    // to the arrival time, not overflow into a panic.
    let shifted = |base: DateTime<Utc>, delta: Option<Duration>| delta.and_then(|d| base.checked_add_signed(d));
    let mut result = if let Some(offset) = client.offset_ms {
        shifted(received_at, Duration::try_milliseconds(offset).map(|d| -d)).unwrap_or_else(|| {
            warning = Some(format!("offset {offset} ms is out of range; used the arrival time"));
            received_at
        })
    } else if let (Some(ts), Some(sent)) = (parsed, sent_at) {
        shifted(ts, Some(received_at - sent)).unwrap_or_else(|| {
            warning = Some("timestamp and sent_at are too far apart to correct; used the arrival time".into());
            received_at
        })
    } else if let Some(ts) = parsed {
        ts
    } else {
        received_at
    };

    if result > received_at + Duration::hours(23) {
        warning = Some(format!(
            "timestamp {} is more than 23 hours in the future; PostHog uses the arrival time",
            result.to_rfc3339()
        ));
        result = received_at;
    }
    Corrected { timestamp: result, warning }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: &str) -> DateTime<Utc> {
        parse_iso(s).unwrap()
    }

    #[test]
    fn skew_is_removed_using_sent_at() {
        // The client clock is 10 minutes fast: it says sent at 12:10, the server got it at 12:00.
        let client = ClientTime {
            timestamp: Some(json!("2026-01-01T12:09:00Z")),
            sent_at: Some("2026-01-01T12:10:00Z".into()),
            ..Default::default()
        };
        let c = correct(&client, at("2026-01-01T12:00:00Z"));
        assert_eq!(c.timestamp, at("2026-01-01T11:59:00Z"));
        assert!(c.warning.is_none());
    }

    #[test]
    fn ignore_sent_at_keeps_the_client_value() {
        let client = ClientTime {
            timestamp: Some(json!("2026-01-01T12:09:00Z")),
            sent_at: Some("2026-01-01T12:10:00Z".into()),
            ignore_sent_at: true,
            ..Default::default()
        };
        assert_eq!(correct(&client, at("2026-01-01T12:00:00Z")).timestamp, at("2026-01-01T12:09:00Z"));
    }

    #[test]
    fn offset_wins() {
        let client =
            ClientTime { timestamp: Some(json!("2020-01-01T00:00:00Z")), offset_ms: Some(1500), ..Default::default() };
        let c = correct(&client, at("2026-01-01T12:00:00Z"));
        assert_eq!(c.timestamp, at("2026-01-01T11:59:58.500Z"));
    }

    #[test]
    fn far_future_becomes_arrival_time() {
        let client = ClientTime { timestamp: Some(json!("2099-01-01T00:00:00Z")), ..Default::default() };
        let c = correct(&client, at("2026-01-01T12:00:00Z"));
        assert_eq!(c.timestamp, at("2026-01-01T12:00:00Z"));
        assert!(c.warning.unwrap().contains("23 hours"));
    }

    #[test]
    fn unparseable_falls_back_with_a_warning() {
        let client = ClientTime { timestamp: Some(json!(12345)), ..Default::default() };
        let c = correct(&client, at("2026-01-01T12:00:00Z"));
        assert_eq!(c.timestamp, at("2026-01-01T12:00:00Z"));
        assert!(c.warning.unwrap().contains("not an ISO 8601"));
    }

    #[test]
    fn python_style_and_naive_timestamps_parse() {
        assert_eq!(at("2026-11-24T03:32:35.562833+00:00"), at("2026-11-24T03:32:35.562833Z"));
        assert_eq!(at("2026-11-24T03:32:35.5"), at("2026-11-24T03:32:35.500Z"));
    }
}

#[cfg(test)]
mod overflow_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn absurd_offsets_and_dates_fall_back_instead_of_overflowing() {
        let received = parse_iso("2026-01-01T12:00:00Z").unwrap();
        for offset in [i64::MAX, i64::MIN, -i64::MAX, 9_000_000_000_000_000] {
            let c = correct(&ClientTime { offset_ms: Some(offset), ..Default::default() }, received);
            assert_eq!(c.timestamp, received, "offset {offset}");
        }
        let client = ClientTime {
            timestamp: Some(json!("+200000-01-01T00:00:00Z")),
            sent_at: Some("-200000-01-01T00:00:00Z".into()),
            ..Default::default()
        };
        assert_eq!(correct(&client, received).timestamp, received);
    }
}
