//! The root cause of a join, in the user's words, when the model shows one: the event that
//! joined two users (ids that each were a user id or the identified id of some lane) came from
//! a device whose lane was still identified as one of them, and the lint already found the
//! mistake there (`missing_reset_between_users` on that lane, or `alias_after_identify` on that
//! event). Nothing new is inferred: the sentence only puts together what the lane showed just
//! before the event and which finding fired. An alias at signup that adds a second id to the
//! one user (never identified on its own) is no mistake and gets no root cause.

use foldhash::HashSet;

use super::WhyStep;
use crate::graph::IdKind;
use crate::lint::{Finding, LintRule};
use crate::model::Model;

/// `last_event(id, seq)`: the name of the last event of `id` before arrival `seq`, when the
/// caller can tell (the model keeps no event names; the server asks its store).
pub(super) fn root_cause(
    model: &Model,
    project: &str,
    chain: &[WhyStep],
    last_event: &dyn Fn(&str, i64) -> Option<String>,
) -> Option<String> {
    let findings = model.findings(Some(project));
    let engine = model.engine();
    let word = engine.family(project).person_word();
    let reset = crate::lint::text::reset_call(engine.family(project));
    let person = engine.person_for(project, &chain.first()?.from)?.id;
    // Ids some lane of the project was identified as (one pass over the lanes, once).
    let identified: HashSet<&str> = model
        .devices(Some(project))
        .into_iter()
        .flat_map(|l| l.segments.iter().filter(|s| s.identified).map(|s| s.distinct_id.as_str()))
        .collect();
    let is_user = |id: &str| identified.contains(id) || engine.id_kind(project, id) == Some(IdKind::UserId);
    chain.iter().find_map(|step| {
        let lane = model.device(step.lane_id.as_deref()?)?;
        let seq = step.event.seq;
        // The segment the device was on just before the event.
        let before = lane.segments.iter().filter(|s| s.first_seq < seq).max_by_key(|s| s.first_seq)?;
        let user = before.distinct_id.as_str();
        // The device was on another user of the person this chain joined.
        if !before.identified || engine.person_for(project, user).map(|p| p.id) != Some(person) {
            return None;
        }
        let other = if step.to == user { step.from.as_str() } else { step.to.as_str() };
        if other == user || !is_user(other) {
            return None;
        }
        let fired = |f: &&std::borrow::Cow<'_, Finding>| match f.rule {
            LintRule::MissingResetBetweenUsers => {
                f.device_ids.contains(&lane.device_id) && f.distinct_ids.iter().any(|d| d == user)
            }
            LintRule::AliasAfterIdentify => f.event_uuids.contains(&step.event.event_uuid),
            _ => false,
        };
        let finding = findings.iter().find(fired)?;
        let call = match step.event.event.trim_start_matches('$') {
            "create_alias" | "alias" => format!("`alias('{other}')`"),
            "identify" => format!("`identify('{other}')`"),
            name => format!("the `{name}` event"),
        };
        let after = match last_event(user, seq) {
            Some(name) => format!("`{name}`"),
            None => "that user's last event".to_owned(),
        };
        Some(format!(
            "device '{}' was still identified as '{user}': no {reset} after {after}, then {call} joined the \
             two users '{user}' and '{other}' into one {word} ({}).",
            lane.device_id,
            finding.rule.as_str()
        ))
    })
}
