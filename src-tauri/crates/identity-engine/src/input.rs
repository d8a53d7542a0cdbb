//! Reading a stored event's properties for the model.
//!
//! The model reads a dozen properties; a posthog-js event carries fifty or more (URLs, screen
//! sizes, feature flags). Parsing only the keys in [`MODEL_KEYS`] and skipping the rest without
//! allocating is what makes a rebuild from SQLite fast.
//!
//! Invariant: every property the engine, the lanes or the lint read is listed in `MODEL_KEYS`
//! (checked by the `model_traffic` integration tests, which compares a model fed full properties with one fed
//! through `model_properties`).

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

/// The path of the request a Mixpanel event arrived in (e.g. `/import`, `/track`). Never a
/// vendor field: the inspector adds it to the model's input when it reads a stored Mixpanel
/// event back (`ingest::model_input`), and it is not stored in the event. Not in `MODEL_KEYS`,
/// so a client sending a property of that name cannot set it.
pub const INSPECTOR_ROUTE: &str = "$inspector_route";

/// The event properties the identity model reads.
pub(crate) const MODEL_KEYS: [&str; 46] = [
    "$set",
    "$set_once",
    "$unset",
    "$anon_distinct_id",
    "alias",
    "$process_person_profile",
    "$is_identified",
    "$device_id",
    "$session_id",
    "$last_posthog_reset",
    "$raw_user_agent",
    "$user_agent",
    // The SDK and, for SDKs without `$device_id` (mobile), the device a lane's events describe.
    "$lib",
    "$device_model",
    "$device_name",
    "$app_namespace",
    "$app_version",
    // Segment / RudderStack messages (the whole message is stored as properties).
    "type",
    "userId",
    "anonymousId",
    "previousId",
    "context",
    "traits",
    // Segment Unify reads `groupId` as an identifier and drops messages by their `messageId`
    // length and their number of `properties`.
    "groupId",
    "messageId",
    "properties",
    // RudderStack: the client's own time orders a device's lane.
    "originalTimestamp",
    // Mixpanel events and /engage updates.
    "$user_id",
    "$distinct_ids",
    "$browser",
    "$browser_version",
    "$os",
    "distinct_id",
    "$distinct_id",
    "$identified_id",
    "$anon_id",
    "$add",
    "$append",
    "$union",
    "$remove",
    // PostHog: server events keep `$os` off the person; group keys over 400 characters drop.
    "$is_server",
    "$group_key",
    // PostHog cookieless: the hash's inputs (`posthog/cookieless.rs`).
    "$cookieless_mode",
    "$cookieless_extra",
    "$host",
    "$ip",
];

/// The model keys (the properties the engine, lanes and lint read) of a JSON object, as
/// `serde_json` would give them (a repeated key keeps its last value). Anything but a JSON
/// object gives an empty map.
pub fn model_properties(json: &str) -> Map<String, Value> {
    let mut de = serde_json::Deserializer::from_str(json);
    match de.deserialize_map(ModelKeys) {
        Ok(map) if de.end().is_ok() => map,
        _ => Map::new(),
    }
}

struct ModelKeys;

impl<'de> Visitor<'de> for ModelKeys {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object of event properties")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = access.next_key_seed(WantedKey)? {
            match key {
                Some(key) => {
                    out.insert(key.to_owned(), access.next_value::<Value>()?);
                }
                None => {
                    access.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
}

/// A key, mapped to its `MODEL_KEYS` entry or `None`, without allocating for the keys skipped.
struct WantedKey;

impl<'de> DeserializeSeed<'de> for WantedKey {
    type Value = Option<&'static str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for WantedKey {
    type Value = Option<&'static str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a property name")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok(WANTED.get(key).copied())
    }
}

/// `MODEL_KEYS` and the browser, page and campaign properties PostHog lifts onto persons
/// (`posthog::LIFTED_KEYS`), as one set: every property of every event is looked up here, so a
/// linear scan of ~100 names would cost the rebuild more than the JSON parsing.
static WANTED: std::sync::LazyLock<foldhash::HashSet<&'static str>> =
    std::sync::LazyLock::new(|| MODEL_KEYS.iter().chain(crate::posthog::LIFTED_KEYS).copied().collect());

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_only_model_keys_with_their_values() {
        let text = r#"{"$pageview_id":"x","$set":{"a":[1,{"b":null}]},"alias":7,"$lib":"web","$device_id":"d\u00e9v"}"#;
        assert_eq!(
            Value::Object(model_properties(text)),
            json!({"$set": {"a": [1, {"b": null}]}, "alias": 7, "$lib": "web", "$device_id": "dév"})
        );
    }

    #[test]
    fn a_repeated_key_keeps_its_last_value_as_serde_json_does() {
        let text = r#"{"$device_id":"a","$device_id":"b"}"#;
        let full: Map<String, Value> = serde_json::from_str(text).unwrap();
        assert_eq!(model_properties(text), full);
    }

    #[test]
    fn escaped_keys_are_recognised() {
        assert_eq!(Value::Object(model_properties(r#"{"\u0024set":{"k":1}}"#)), json!({"$set": {"k": 1}}));
    }

    #[test]
    fn non_objects_and_broken_json_give_nothing() {
        for text in ["[]", "null", "\"$set\"", "{\"$set\":", "{} trailing", ""] {
            assert!(model_properties(text).is_empty(), "{text}");
        }
    }
}
