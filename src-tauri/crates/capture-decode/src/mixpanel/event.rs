//! One Mixpanel event or profile update as Mixpanel would store it (the crate's [`Event`](crate::Event)).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::capture::id_text;
use crate::posthog::kind_of;
use crate::{Event, Rejection, Source};

/// Mixpanel's rule for `$insert_id`: at most 36 characters of `[A-Za-z0-9-]`.
pub const MAX_INSERT_ID_CHARS: usize = 36;
/// Above this a `time` is in milliseconds (1e11 seconds is the year 5138).
const MILLIS_THRESHOLD: f64 = 1e11;
/// 9999-12-31T23:59:59Z: later (or negative) times are nonsense Mixpanel refuses.
const LATEST_SECONDS: f64 = 253_402_300_799.0;

fn bad(code: &'static str, message: String) -> Rejection {
    Rejection::bad_request(code, message)
}

/// A `/track` or `/import` event. `fallback_project` is used when it has no `properties.token`
/// (`/import` authenticates with a project id or service account instead).
pub fn track(
    raw: Map<String, Value>,
    place: &str,
    fallback_project: Option<&str>,
    require_time: bool,
    received_at: DateTime<Utc>,
) -> Result<Event, Rejection> {
    let event = match raw.get("event") {
        Some(Value::String(name)) if !name.trim().is_empty() => name.clone(),
        None | Some(Value::Null) | Some(Value::String(_)) => {
            return Err(bad("missing_event_name", format!("{place}: has no `event` name")))
        }
        Some(other) => {
            return Err(bad(
                "invalid_event_name",
                format!("{place}: `event` must be a string, found {}", kind_of(other)),
            ))
        }
    };
    let place = format!("{place} ({event})");
    let properties = match raw.get("properties") {
        Some(Value::Object(p)) => p.clone(),
        None | Some(Value::Null) => Map::new(),
        Some(other) => {
            return Err(bad(
                "invalid_properties",
                format!("{place}: `properties` must be an object, found {}", kind_of(other)),
            ))
        }
    };
    let project = match properties.get("token") {
        Some(Value::String(t)) if !t.trim().is_empty() => t.trim().to_owned(),
        None | Some(Value::Null) | Some(Value::String(_)) => fallback_project.map(str::to_owned).ok_or_else(|| {
            Rejection::unauthorized("no_token", format!("{place}: no project token in `properties.token`"))
        })?,
        Some(other) => {
            return Err(bad(
                "invalid_token",
                format!("{place}: `properties.token` must be a string, found {}", kind_of(other)),
            ))
        }
    };

    // Merge Identities (<https://developer.mixpanel.com/reference/identity-merge>) is sent to
    // /import with `$distinct_ids` alone: no `time`, no `distinct_id` (mixpanel-python's
    // `merge()` sends exactly that).
    let is_merge = event == "$merge";
    let mut warnings = Vec::new();
    let distinct_id = match properties.get("distinct_id") {
        None | Some(Value::Null) => {
            if !is_merge {
                warnings.push("no distinct_id: Mixpanel keeps the event but ties it to no user".into());
            }
            String::new()
        }
        Some(Value::String(s)) if s.contains('\0') => {
            return Err(bad("invalid_distinct_id", format!("{place}: `distinct_id` contains a NUL character")))
        }
        Some(v @ (Value::String(_) | Value::Number(_))) => id_text(Some(v)).unwrap_or_default(),
        Some(other) => {
            return Err(bad(
                "invalid_distinct_id",
                format!("{place}: `distinct_id` must be a string or a number, found {}", kind_of(other)),
            ))
        }
    };
    let uuid = match properties.get("$insert_id") {
        Some(Value::String(id)) if valid_insert_id(id) => id.clone(),
        None | Some(Value::Null) => uuid::Uuid::now_v7().to_string(),
        Some(other) => {
            warnings.push(format!(
                "$insert_id {} is not 1 to {MAX_INSERT_ID_CHARS} characters of A-Z, a-z, 0-9 and -; Mixpanel cannot deduplicate this event",
                short(other)
            ));
            uuid::Uuid::now_v7().to_string()
        }
    };
    let (timestamp, original) = match properties.get("time") {
        None | Some(Value::Null) if require_time && !is_merge => {
            return Err(bad("missing_time", format!("{place}: `properties.time` is required on /import")))
        }
        None | Some(Value::Null) => (received_at, None),
        Some(value) => (
            event_time(value).map_err(|why| bad("invalid_time", format!("{place}: `properties.time` {why}")))?,
            Some(value.to_string()),
        ),
    };
    Ok(Event {
        uuid,
        project,
        source: Source::Mixpanel,
        event,
        distinct_id,
        device_id: id_text(properties.get("$device_id")),
        session_id: None,
        timestamp,
        original_timestamp: original,
        sent_at: None,
        offset_ms: None,
        properties,
        warnings,
    })
}

/// A `/engage` profile update (`groups: false`) or a `/groups` update.
pub fn update(
    raw: Map<String, Value>,
    place: &str,
    groups: bool,
    received_at: DateTime<Utc>,
) -> Result<Event, Rejection> {
    let project = match raw.get("$token") {
        Some(Value::String(t)) if !t.trim().is_empty() => t.trim().to_owned(),
        Some(other @ (Value::Number(_) | Value::Bool(_) | Value::Array(_) | Value::Object(_))) => {
            return Err(bad("invalid_token", format!("{place}: `$token` must be a string, found {}", kind_of(other))))
        }
        _ => return Err(Rejection::unauthorized("no_token", format!("{place}: profile update has no `$token`"))),
    };
    let id_key = if groups { "$group_key" } else { "$distinct_id" };
    let distinct_id = match raw.get(id_key) {
        Some(Value::String(s)) if s.contains('\0') => {
            return Err(bad("invalid_distinct_id", format!("{place}: `{id_key}` contains a NUL character")))
        }
        Some(v @ (Value::String(_) | Value::Number(_))) => id_text(Some(v)),
        None | Some(Value::Null) => None,
        Some(other) => {
            return Err(bad(
                "invalid_distinct_id",
                format!("{place}: `{id_key}` must be a string or a number, found {}", kind_of(other)),
            ))
        }
    }
    .ok_or_else(|| bad("missing_distinct_id", format!("{place}: update has no `{id_key}`")))?;
    if groups && raw.get("$group_id").is_none_or(Value::is_null) {
        return Err(bad("missing_group_id", format!("{place}: group update has no `$group_id`")));
    }
    let (timestamp, original) = match raw.get("$time") {
        None | Some(Value::Null) => (received_at, None),
        Some(value) => (
            event_time(value).map_err(|why| bad("invalid_time", format!("{place}: `$time` {why}")))?,
            Some(value.to_string()),
        ),
    };
    // Profile updates have no dedup key at Mixpanel; one that carries a valid `$insert_id` (the
    // inspector's NDJSON export writes it, so a re-import keeps the update's uuid) keeps it.
    let uuid = match raw.get("$insert_id") {
        Some(Value::String(id)) if valid_insert_id(id) => id.clone(),
        _ => uuid::Uuid::now_v7().to_string(),
    };
    Ok(Event {
        uuid,
        project,
        source: Source::Mixpanel,
        event: if groups { "$groups" } else { "$engage" }.to_owned(),
        distinct_id,
        device_id: if groups { None } else { id_text(raw.get("$device_id")) },
        session_id: None,
        timestamp,
        original_timestamp: original,
        sent_at: None,
        offset_ms: None,
        properties: raw,
        warnings: Vec::new(),
    })
}

fn valid_insert_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_INSERT_ID_CHARS && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 40 {
        format!("{}…", text.chars().take(40).collect::<String>())
    } else {
        text
    }
}

/// Seconds since the epoch, or milliseconds when above 1e11; fractions allowed.
pub fn event_time(value: &Value) -> Result<DateTime<Utc>, String> {
    let Value::Number(n) = value else {
        return Err(format!("must be a number of seconds or milliseconds, found {}", kind_of(value)));
    };
    let raw = n.as_f64().ok_or_else(|| format!("{n} is not a usable number"))?;
    let seconds = if raw > MILLIS_THRESHOLD { raw / 1000.0 } else { raw };
    if !(0.0..=LATEST_SECONDS).contains(&seconds) {
        return Err(format!("{n} is not a time between 1970 and 9999"));
    }
    let micros = (seconds * 1e6).round() as i64;
    DateTime::from_timestamp_micros(micros).ok_or_else(|| format!("{n} is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn seconds_milliseconds_and_fractions() {
        let s = event_time(&json!(1795491131.164)).unwrap();
        assert_eq!(s.timestamp_millis(), 1_795_491_131_164);
        let ms = event_time(&json!(1795491131164u64)).unwrap();
        assert_eq!(ms, s);
        assert!(event_time(&json!(-5)).unwrap_err().contains("between 1970 and 9999"));
        assert!(event_time(&json!(1e300)).is_err());
        assert!(event_time(&json!("1795491131")).unwrap_err().contains("found a string"));
    }

    #[test]
    fn insert_ids_follow_mixpanels_alphabet() {
        assert!(valid_insert_id("f4p3fku7bocqthay"));
        assert!(valid_insert_id("c30f4386-90bc-4046-8523-61526539bee5"));
        assert!(!valid_insert_id("has space"));
        assert!(!valid_insert_id(&"a".repeat(37)));
        assert!(!valid_insert_id(""));
    }
}
