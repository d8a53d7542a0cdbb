//! `ProjectSettings`: what a project's traffic cannot tell the inspector, set by the user per
//! project (stored by the server, `GET`/`PUT /api/projects/{key}/settings`) and handed to the
//! engine before the project's events are replayed.
//!
//! Invariant: a project's persons are a function of its events **and** its settings; changing
//! a setting means replaying the project (the server rebuilds the model), never patching it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Mixpanel's ID merge mode: a project setting chosen in Mixpanel, which cannot be told from the
/// traffic (Mixpanel's SDKs send `$device_id` in Original projects too). Simplified is the
/// default for projects created since April 2024 (Mixpanel docs "ID management overview").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum MixpanelIdMerge {
    #[default]
    Simplified,
    Original,
}

impl MixpanelIdMerge {
    /// For sentences: "Simplified ID Merge", "Original ID Merge".
    pub fn label(self) -> &'static str {
        match self {
            MixpanelIdMerge::Simplified => "Simplified ID Merge",
            MixpanelIdMerge::Original => "Original ID Merge",
        }
    }
}

/// PostHog's cookieless server hash mode (the team setting `cookieless_server_hash_mode`:
/// Disabled, Stateless, Stateful; `nodejs/src/ingestion/cookieless/cookieless-manager.ts` in
/// <https://github.com/PostHog/posthog>). Traffic with `$posthog_cookieless` shows the project
/// turned it on, so the inspector assumes Stateful, the only mode that keeps `$identify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum PostHogCookieless {
    Disabled,
    Stateless,
    #[default]
    Stateful,
}

/// One project's identity settings. Every field has the vendor's default, so a project nobody
/// configured behaves as a new project at the vendor would.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default, deny_unknown_fields)]
pub struct ProjectSettings {
    /// Mixpanel projects only.
    pub mixpanel_id_merge: MixpanelIdMerge,
    /// Segment projects: use Unify's suggested blocked values (`^[0-]*$`, `-1`, `null`,
    /// `anonymous`). Opt-in at Segment, so off by default.
    pub segment_blocked_values: bool,
    /// Segment projects: Unify identifier limits per profile that differ from the defaults
    /// (1 `user_id`, 5 of every other identifier), keyed by identifier name (`user_id`,
    /// `email`, `anonymous_id`, `android.id`, ...).
    #[cfg_attr(feature = "ts", ts(type = "Record<string, number>"))]
    pub segment_identifier_limits: BTreeMap<String, u32>,
    /// PostHog projects: the cookieless server hash mode.
    pub posthog_cookieless: PostHogCookieless,
}

impl ProjectSettings {
    /// Unify's limit for one identifier name: the project's own, else the default (1 `user_id`,
    /// 5 of any other).
    pub fn segment_limit(&self, identifier: &str) -> u32 {
        self.segment_identifier_limits.get(identifier).copied().unwrap_or(if identifier == "user_id" { 1 } else { 5 })
    }

    /// What the settings change for a project of `family`, for the label next to a result
    /// ("Mixpanel, Original ID Merge"); None when no setting applies to that vendor.
    pub fn label_for(&self, family: crate::Family) -> Option<String> {
        match family {
            crate::Family::Mixpanel => Some(format!("Mixpanel, {}", self.mixpanel_id_merge.label())),
            crate::Family::Segment => {
                Some(format!("Segment, blocked values {}", if self.segment_blocked_values { "on" } else { "off" }))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_vendors_and_unknown_fields_are_refused() {
        let s: ProjectSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(s.mixpanel_id_merge, MixpanelIdMerge::Simplified);
        assert!(!s.segment_blocked_values);
        assert_eq!((s.segment_limit("user_id"), s.segment_limit("email")), (1, 5));
        let s: ProjectSettings = serde_json::from_str(r#"{"mixpanel_id_merge":"original"}"#).unwrap();
        assert_eq!(s.mixpanel_id_merge, MixpanelIdMerge::Original);
        assert!(serde_json::from_str::<ProjectSettings>(r#"{"mixpanel_mode":"original"}"#).is_err());
        assert!(serde_json::from_str::<ProjectSettings>(r#"{"mixpanel_id_merge":"guess"}"#).is_err());
    }
}
