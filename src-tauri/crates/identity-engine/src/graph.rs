//! Identifiers of a kind (`IdKind`, `Ident`), the nodes of every vendor that links the
//! identifiers an event carries (Segment's `segment/`, RudderStack's `rudderstack/`, Mixpanel's
//! `mixpanel/`, KISSmetrics' `kissmetrics/`); `graph/link.rs` is the linking with at most one
//! user id per person that KISSmetrics uses, parameterised by its `GraphRules` (Segment Unify's
//! per-name limits and priorities live in `segment/unify.rs`, Mixpanel's clusters in
//! `mixpanel/cluster.rs`).
//!
//! Invariant: an identifier keeps the kind it was first seen with (`Project::kinds`).

// Not re-exported: `link` uses `Step`, which uses `IdKind` from here; callers name
// `graph::link::...` so no file imports in a circle.
pub(crate) mod link;

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    UserId,
    AnonymousId,
    Email,
    DeviceId,
    DistinctId,
}

impl IdKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IdKind::UserId => "user_id",
            IdKind::AnonymousId => "anonymous_id",
            IdKind::Email => "email",
            IdKind::DeviceId => "device_id",
            IdKind::DistinctId => "distinct_id",
        }
    }
}

/// One identifier an event carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ident {
    pub value: String,
    pub kind: IdKind,
}

impl Ident {
    pub fn new(value: impl Into<String>, kind: IdKind) -> Ident {
        Ident { value: value.into(), kind }
    }
}

/// An identifier field as the vendor reads it: strings as they are, numbers as their JSON
/// text; null, absent and other types carry no identifier.
pub(crate) fn id_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
