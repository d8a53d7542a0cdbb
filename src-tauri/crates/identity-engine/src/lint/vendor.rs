//! Lint rules that only exist for Segment and Mixpanel traffic (the rest are shared in
//! `rules.rs`; blocked values, self-alias and the user-id limit come from engine warnings).

use super::rules::Ctx;
use super::text as t;
use super::{finding, Finding, Lint, LintRule, Severity, MAX_REFS};
use crate::engine::vendor;
use crate::graph::id_text;

impl Lint {
    /// `anonymous_id_with_many_user_ids`: one anonymousId (Segment) or `$device_id` (Mixpanel)
    /// sent with a second user id. Returns the finding to report (keyed per anonymous id).
    pub(crate) fn user_ids_of_anonymous_id(&mut self, c: &Ctx) -> Option<(String, Finding)> {
        let fields = vendor(c.family).words.many_user_ids.as_ref()?;
        // An alias message's userId is the id being aliased to, not a user of this anonymousId
        // (analytics.js and @rudderstack/analytics-js send the current anonymousId with it).
        if c.raw.prop("type").and_then(serde_json::Value::as_str) == Some("alias") {
            return None;
        }
        let (anon, user) = (id_text(c.raw.prop(fields.anonymous_field)), id_text(c.raw.prop(fields.user_field)));
        let (anon, user) = (anon.filter(|a| !a.is_empty())?, user.filter(|u| !u.is_empty())?);
        let p = &c.raw.project;
        let users = self.users_of_anon.entry((p.clone(), anon.clone())).or_default();
        if users.contains(&user) {
            return None;
        }
        if users.len() < MAX_REFS {
            users.push(user);
        }
        if users.len() < 2 {
            return None;
        }
        let message = t::many_user_ids(&anon, users, c.family, fields.anonymous_word);
        let mut f = finding(LintRule::AnonymousIdWithManyUserIds, Severity::Error, p, message, fields.fix.to_owned());
        f.event_uuids.push(c.raw.uuid.clone());
        f.distinct_ids = users.clone();
        Some((format!("anonymous_id_with_many_user_ids|{p}|{anon}"), f))
    }
}
