//! Mixpanel or PostHog? `/track` and `/engage` are legacy PostHog routes and Mixpanel's main
//! ones; `/decide` and `/flags` are PostHog's flag routes and Mixpanel's too. The request's
//! query and body decide, by what each SDK family always sends and the other never does.

use serde_json::{Map, Value};

use crate::{payload, Incoming};

/// Mixpanel's query parameters that no PostHog SDK sends.
const MIXPANEL_QUERY: &[&str] = &["verbose"];
/// Property keys only Mixpanel's SDKs put on events.
const MIXPANEL_PROPERTIES: &[&str] = &["mp_lib", "$mp_api_endpoint", "$insert_id", "time", "mp_sent_by_lib_version"];
/// Top-level event keys PostHog SDKs send and Mixpanel's never do.
const POSTHOG_EVENT_KEYS: &[&str] =
    &["api_key", "token", "uuid", "distinct_id", "$distinct_id", "timestamp", "offset", "$set", "$set_once"];
/// Keys of a Mixpanel profile update that PostHog's `/engage` (a plain `$set` identify) lacks.
const MIXPANEL_ENGAGE_KEYS: &[&str] = &[
    "$device_id",
    "$user_id",
    "$time",
    "$ip",
    "$ignore_time",
    "$ignore_alias",
    "$add",
    "$append",
    "$union",
    "$remove",
    "$delete",
];

/// Whether a request on `/track` or `/engage` is Mixpanel's:
/// - the query has `verbose` (mixpanel-browser always sends `verbose=1`), or
/// - on `/track`, the first event has `properties.token`, at least one Mixpanel-only property
///   (`mp_lib`, `$mp_api_endpoint`, `$insert_id`, `time`, `mp_sent_by_lib_version`), no `$lib`
///   property (every posthog-js event has `$lib`), and none of PostHog's top-level keys
///   (`api_key`, `token`, `uuid`, `distinct_id`, `timestamp`, `offset`, `$set`, ...), or
/// - on `/engage`, the first update has `$token` and `$distinct_id` and a key only Mixpanel's
///   updates carry (`$device_id`, `$user_id`, `$time`, `$ip`, `$add`, `$union`, ...).
///
/// Anything else, including bodies that do not decode, stays PostHog's (today's behaviour).
pub fn is_mixpanel_capture(engage: bool, req: &Incoming<'_>) -> bool {
    if MIXPANEL_QUERY.iter().any(|k| req.query_param(k).is_some()) {
        return true;
    }
    let Some(first) = first_item(req) else { return false };
    if engage {
        first.contains_key("$token")
            && first.contains_key("$distinct_id")
            && MIXPANEL_ENGAGE_KEYS.iter().any(|k| first.contains_key(*k))
    } else {
        let Some(Value::Object(properties)) = first.get("properties") else { return false };
        properties.get("token").is_some_and(Value::is_string)
            && !properties.contains_key("$lib")
            && MIXPANEL_PROPERTIES.iter().any(|k| properties.contains_key(*k))
            && !POSTHOG_EVENT_KEYS.iter().any(|k| first.contains_key(*k))
    }
}

/// Whether a `/decide` or `/flags` request is Mixpanel's: no `v` (PostHog SDKs always say which
/// version of the flags API they want) and Mixpanel's `token` or `lib`/`mp_lib` in the query.
pub fn is_mixpanel_flags(req: &Incoming<'_>) -> bool {
    req.query_param("v").is_none() && ["token", "lib", "mp_lib"].iter().any(|k| req.query_param(k).is_some())
}

fn first_item(req: &Incoming<'_>) -> Option<Map<String, Value>> {
    let unwrapped = payload::unwrap(req, true, crate::posthog::MB * 2).ok()?;
    match payload::parse_json(&unwrapped.bytes).ok()? {
        Value::Array(items) => match items.into_iter().next()? {
            Value::Object(map) => Some(map),
            _ => None,
        },
        Value::Object(map) if !map.contains_key("batch") => Some(map),
        _ => None,
    }
}
