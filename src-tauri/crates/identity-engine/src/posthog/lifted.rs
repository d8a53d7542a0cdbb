//! What PostHog does to an event's person properties before and after person processing,
//! beyond `$set`/`$set_once`/`$unset` (`props.rs`):
//! - lifting: `personInitialAndUTMProperties` (`nodejs/src/common/utils/db/utils.ts`, called
//!   from `normalizeEvent`) copies browser, device, page and campaign properties of the event into
//!   `$set` and, as `$initial_<key>`, into `$set_once`; the key list is `eventToPersonProperties`
//!   in `nodejs/src/common/persons/person-property-utils.ts`;
//! - filtered writes: `getPersonUpdateOutcome` (`batch-writing-person-store.ts`) skips writing a
//!   person whose only changes are to existing keys of `FILTERED_PERSON_UPDATE_PROPERTIES`
//!   (same file as the key list), unless the event is one of `PERSON_EVENTS`
//!   (`person-update.ts`).
//!
//! Invariants: lifting never overrides a key the event's own `$set` (or `$set_once`) has; a null
//! value is lifted into `$set` but never into `$set_once` (it would block the real first touch).

use serde_json::Value;

use crate::js::js_equal;
use crate::props::EventUpdates;
use crate::types::{EventInput, Person};

/// `EVENT_TO_PERSON_PROPERTIES` then `CAMPAIGN_PROPERTIES`, in PostHog's order.
pub(crate) const LIFTED_KEYS: &[&str] = &[
    "$app_build",
    "$app_name",
    "$app_namespace",
    "$app_version",
    "$browser",
    "$browser_version",
    "$device_type",
    "$current_url",
    "$pathname",
    "$os",
    "$os_name",
    "$os_version",
    "$referring_domain",
    "$referrer",
    "$screen_height",
    "$screen_width",
    "$viewport_height",
    "$viewport_width",
    "$raw_user_agent",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_name",
    "utm_term",
    "gclid",
    "gad_source",
    "gclsrc",
    "dclid",
    "gbraid",
    "wbraid",
    "fbclid",
    "msclkid",
    "twclid",
    "li_fat_id",
    "mc_cid",
    "igshid",
    "ttclid",
    "rdt_cid",
    "irclid",
    "_kx",
    "epik",
    "qclid",
    "sccid",
];

/// Keys whose change alone does not make PostHog write a person (`FILTERED_PERSON_UPDATE_PROPERTIES`).
/// A `match` rather than a list: asked for every key a known person's event would set, and a
/// match compares only against names of the key's length, inline.
pub(crate) fn is_filtered_key(key: &str) -> bool {
    matches!(
        key,
        "$current_url"
            | "$pathname"
            | "$referring_domain"
            | "$referrer"
            | "$screen_height"
            | "$screen_width"
            | "$viewport_height"
            | "$viewport_width"
            | "$browser"
            | "$browser_version"
            | "$device_type"
            | "$raw_user_agent"
            | "$os"
            | "$os_name"
            | "$os_version"
            | "$geoip_postal_code"
            | "$geoip_time_zone"
            | "$geoip_latitude"
            | "$geoip_longitude"
            | "$geoip_accuracy_radius"
            | "$geoip_subdivision_1_code"
            | "$geoip_subdivision_1_name"
            | "$geoip_subdivision_2_code"
            | "$geoip_subdivision_2_name"
            | "$geoip_subdivision_3_code"
            | "$geoip_subdivision_3_name"
            | "$geoip_city_confidence"
            | "$geoip_country_confidence"
            | "$geoip_postal_code_confidence"
            | "$geoip_subdivision_1_confidence"
            | "$geoip_subdivision_2_confidence"
    )
}

/// `LIFTED_KEYS`, each with its first-touch name (`$initial_<key without its first $>`, as
/// PostHog names the copy), for `lift`'s per-property lookups: the names are made once, not for
/// every event.
static LIFTED: std::sync::LazyLock<foldhash::HashMap<&'static str, String>> = std::sync::LazyLock::new(|| {
    LIFTED_KEYS.iter().map(|&k| (k, format!("$initial_{}", k.replacen('$', "", 1)))).collect()
});

/// Events whose person update is always written (`PERSON_EVENTS` in `person-update.ts`).
pub(crate) fn forces_write(event: &str) -> bool {
    matches!(event, "$identify" | "$create_alias" | "$merge_dangerously" | "$set")
}

/// Adds the lifted properties of `ev` to `ups`. Server SDKs (`$is_server: true`, exactly) keep
/// their host's `$os`/`$os_version` off the person; nothing else is skipped for them.
///
/// `own` is the person the updates will be applied to without a merge, when it exists: a lifted
/// value it already has (a `$set` of an equal value, a `$set_once` of a key it has) would change
/// nothing (`props::planned_updates` skips exactly these), so it is left out rather than cloned
/// for every event of a known browser. With a merge the receiving person is not known yet, so
/// everything is lifted.
pub(crate) fn lift(ev: &EventInput, ups: &mut EventUpdates, own: Option<&Person>) {
    let has = |key: &str| own.is_some_and(|p| p.properties.contains_key(key));
    let holds = |key: &str, value: &Value| own.and_then(|p| p.properties.get(key)).is_some_and(|v| js_equal(v, value));
    let props = &ev.properties;
    let server = ev.prop("$is_server") == Some(&Value::Bool(true));
    // PostHog's `normalizeOsAlias` fills a missing `$os` from `$os_name` before lifting.
    let os_alias = match (ev.prop("$os"), ev.prop("$os_name")) {
        (None, Some(name)) => Some(name),
        _ => None,
    };
    // Walks the event's own properties (a dozen) against the lifted names as a set, not the
    // ~80 names against the event: this runs for every PostHog event of a rebuild.
    let alias = os_alias.and_then(|v| LIFTED.get_key_value("$os").map(|(k, initial)| (*k, initial, v)));
    let lifted =
        props.iter().filter_map(|(k, v)| LIFTED.get_key_value(k.as_str()).map(|(k, initial)| (*k, initial, v)));
    for (key, initial, value) in lifted.chain(alias) {
        if server && (key == "$os" || key == "$os_version") {
            continue;
        }
        if key == "$os_name" && !server {
            // `$os_name` only stands in for `$os`; it never becomes a person property itself
            // (PostHog removes it again, except on server events, where it stays as lifted).
            if !value.is_null() && !has("$initial_os") && !ups.set_once.contains_key("$initial_os") {
                ups.set_once.insert("$initial_os".to_owned(), value.clone());
            }
            continue;
        }
        if !ups.set.contains_key(key) && !holds(key, value) {
            ups.set.insert(key.to_owned(), value.clone());
        }
        if !value.is_null() && !has(initial) && !ups.set_once.contains_key(initial) {
            ups.set_once.insert(initial.clone(), value.clone());
        }
    }
}
