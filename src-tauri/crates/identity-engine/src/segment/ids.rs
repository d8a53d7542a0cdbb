//! The identifiers Segment Unify reads from a message ("externalIDs"), with their Unify names
//! and default priorities, after Segment's "Identity Resolution Settings" page
//! (<https://segment.com/docs/unify/identity-resolution/identity-resolution-settings/>, the
//! table "Message Location in Track or Identify Call" and "Priority").
//!
//! Invariants:
//! - a device id counts only with its device type: `context.device.id` is `android.id` when
//!   `context.device.type` is `android` and `ios.id` when it is `ios`, and nothing otherwise;
//! - an empty string is no identifier (`userId: ""` is "no user id", as
//!   @rudderstack/analytics-js v3 sends it on every anonymous message);
//! - `alias.previousId` is not read: "Alias calls can't be used to merge profiles in Unify";
//! - a custom identifier (`context.externalIds`) counts only when the project names it in its
//!   identifier settings, as a Unify space reads only the identifiers added to it ("To create
//!   your own custom externalID, click on Add Identifier. These custom identifiers must be sent
//!   in the custom externalIds in the context object"), and only with `collection: "users"`.

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};

use serde_json::{Map, Value};

use crate::settings::ProjectSettings;

use crate::graph::{id_text, IdKind, Ident};
use crate::types::prop;

/// One identifier of a message under its Unify name (`user_id`, `email`, `ios.id`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnifyId {
    pub value: String,
    pub name: &'static str,
}

impl UnifyId {
    /// The engine's coarser kind of a Unify name (what the lens, lanes and API show).
    pub fn kind(&self) -> IdKind {
        kind_of_name(self.name)
    }
}

pub(crate) fn kind_of_name(name: &str) -> IdKind {
    match name {
        "user_id" => IdKind::UserId,
        "email" => IdKind::Email,
        "anonymous_id" => IdKind::AnonymousId,
        "android.id" | "ios.id" | "android.idfa" | "ios.idfa" | "android.push_token" | "ios.push_token" => {
            IdKind::DeviceId
        }
        _ => IdKind::DistinctId,
    }
}

/// Unify's default priority: `user_id` 1, `email` 2, every other identifier alphabetically from
/// 3 ("By default, Segment explicitly orders user_id and email as rank 1 and 2, respectively.
/// All other identifiers are in alphabetical order beginning from rank 3"). Lower sorts first,
/// i.e. ranks higher.
pub(crate) fn priority(name: &str) -> (u8, &str) {
    match name {
        "user_id" => (1, ""),
        "email" => (2, ""),
        other => (3, other),
    }
}

/// A field as an identifier value: strings and numbers as the vendor reads them, never empty.
fn text(v: Option<&Value>) -> Option<String> {
    id_text(v).filter(|s| !s.is_empty())
}

/// The message's type: `properties.type`, never inferred from the event name (contract).
pub(crate) fn message_type(props: &Map<String, Value>) -> &str {
    prop(props, "type").and_then(Value::as_str).unwrap_or("track")
}

/// The names of custom identifiers, made `'static` once each. Identifier names are `'static`
/// everywhere in Unify's code (they are mostly Unify's own); custom ones come from project
/// settings, a handful per project, so keeping each for the process's life costs bytes.
static CUSTOM_NAMES: LazyLock<Mutex<HashSet<&'static str>>> = LazyLock::new(Default::default);

fn custom_name(name: &str) -> &'static str {
    let mut names = CUSTOM_NAMES.lock().unwrap_or_else(|e| e.into_inner());
    match names.get(name) {
        Some(&known) => known,
        None => {
            let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
            names.insert(leaked);
            leaked
        }
    }
}

/// The identifiers Unify promotes from one message, sorted by priority (message order within
/// one name), each value once. `settings` says which custom identifiers the space reads.
pub(crate) fn unify_ids(props: &Map<String, Value>, settings: &ProjectSettings) -> Vec<UnifyId> {
    let ctx = |p: &str| prop(props, "context").and_then(|c| c.pointer(p));
    let mut ids: Vec<UnifyId> = Vec::new();
    let mut add = |name: &'static str, v: Option<String>| {
        if let Some(value) = v {
            if !ids.iter().any(|i| i.value == value) {
                ids.push(UnifyId { value, name });
            }
        }
    };
    add("user_id", text(prop(props, "userId")));
    // "email: traits.email, context.traits.email or properties.email" (Segment docs "Identity
    // Resolution ExternalIDs"). A group call's `traits` describe the group (an account), not
    // the user.
    if message_type(props) != "group" {
        add("email", text(prop(props, "traits").and_then(|t| t.get("email"))));
    }
    add("email", text(ctx("/traits/email")));
    add("email", text(prop(props, "properties").and_then(|p| p.get("email"))));
    add("anonymous_id", text(prop(props, "anonymousId")));
    let device_type = ctx("/device/type").and_then(Value::as_str);
    let (id_name, idfa, token) = match device_type {
        Some("android") => ("android.id", "android.idfa", "android.push_token"),
        Some("ios") => ("ios.id", "ios.idfa", "ios.push_token"),
        _ => ("", "", ""),
    };
    if !id_name.is_empty() {
        add(id_name, text(ctx("/device/id")));
        // "context.device.advertisingId when context.device.type = ... AND
        // context.device.adTrackingEnabled = true"
        if ctx("/device/adTrackingEnabled") == Some(&Value::Bool(true)) {
            add(idfa, text(ctx("/device/advertisingId")));
        }
        add(token, text(ctx("/device/token")));
    }
    // "context.integrations['Google Analytics'].clientId when explicitly captured by users"
    add("ga_client_id", text(ctx("/integrations/Google Analytics/clientId")));
    add("group_id", text(prop(props, "groupId")));
    // `context.externalIds: [{id, type, collection, encoding}]`: user-level ones whose type the
    // space has as an identifier.
    for external in ctx("/externalIds").and_then(Value::as_array).into_iter().flatten() {
        let field = |k: &str| external.get(k).and_then(Value::as_str);
        match (field("type"), field("collection")) {
            (Some(ty), Some("users")) if settings.segment_identifier_limits.contains_key(ty) => {
                add(custom_name(ty), text(external.get("id")));
            }
            _ => {}
        }
    }
    ids.sort_by(|a, b| priority(a.name).cmp(&priority(b.name)));
    ids
}

/// The same identifiers as the shared graph's `Ident`s (for the lens).
pub(crate) fn segment_ids(props: &Map<String, Value>, settings: &ProjectSettings) -> Vec<Ident> {
    unify_ids(props, settings).into_iter().map(|i| Ident::new(i.value.clone(), i.kind())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(v: Value) -> Vec<(String, &'static str)> {
        unify_ids(v.as_object().unwrap(), &ProjectSettings::default()).into_iter().map(|i| (i.value, i.name)).collect()
    }

    #[test]
    fn device_ids_need_their_device_type() {
        assert_eq!(
            names(json!({"anonymousId": "a", "context": {"device": {"id": "d"}}})),
            [("a".into(), "anonymous_id")]
        );
        assert_eq!(
            names(json!({"anonymousId": "a", "context": {"device": {"id": "d", "type": "android"}}})),
            [("d".into(), "android.id"), ("a".into(), "anonymous_id")]
        );
    }

    /// Segment docs "Identity Resolution ExternalIDs": "email: traits.email, context.traits.email or
    /// properties.email".
    #[test]
    fn email_is_read_from_properties_too() {
        assert_eq!(
            names(json!({"type": "track", "anonymousId": "a", "properties": {"email": "e@x.io"}})),
            [("e@x.io".into(), "email"), ("a".into(), "anonymous_id")]
        );
    }

    /// Segment docs "Identity Resolution Settings": custom identifiers are added to the space and
    /// sent as `context.externalIds`; a type the space does not have is not an identifier.
    #[test]
    fn custom_external_ids_need_the_space_to_have_them() {
        let msg = json!({"anonymousId": "a", "context": {"externalIds": [
            {"id": "+1 555", "type": "phone", "collection": "users", "encoding": "none"},
            {"id": "acct-9", "type": "account_no", "collection": "accounts", "encoding": "none"},
        ]}});
        let plain = unify_ids(msg.as_object().unwrap(), &ProjectSettings::default());
        assert_eq!(plain.iter().map(|i| i.name).collect::<Vec<_>>(), ["anonymous_id"]);
        let mut settings = ProjectSettings::default();
        settings.segment_identifier_limits.insert("phone".into(), 2);
        settings.segment_identifier_limits.insert("account_no".into(), 2);
        let with = unify_ids(msg.as_object().unwrap(), &settings);
        let got: Vec<(&str, &str)> = with.iter().map(|i| (i.value.as_str(), i.name)).collect();
        assert_eq!(got, [("a", "anonymous_id"), ("+1 555", "phone")], "accounts-level ids are not the user's");
    }

    #[test]
    fn empty_user_id_is_no_identifier() {
        assert_eq!(names(json!({"userId": "", "anonymousId": "a"})), [("a".into(), "anonymous_id")]);
    }
}
