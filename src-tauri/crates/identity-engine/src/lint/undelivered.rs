//! `undelivered_identify`: an identify or alias that never reached the vendor. The inspector's
//! fault rules can answer a request with an error or drop it; when every copy of an event that
//! joins two ids (PostHog `$identify`, `$create_alias`, `$merge_dangerously`; Segment and
//! RudderStack `identify` with an anonymousId, `alias`; Mixpanel `$identify`, `$create_alias`;
//! KISSmetrics alias) was faulted, the vendor would not join them, and who the user is changes.
//!
//! These findings are not made as events are applied: an undelivered event has no place in the
//! arrival order (it was never stored), and it stops being undelivered when a retry gets
//! through. The server hands the model the events that are undelivered now
//! ([`Model::set_undelivered`](crate::Model::set_undelivered)), and the findings are made again
//! from them and the persons as they stand, each time.

use serde_json::Value;

use super::{finding, Finding, LintRule, Severity};
use crate::engine::Engine;
use crate::family::Family;
use crate::graph::id_text;
use crate::posthog_shape::lane_view;
use crate::types::EventInput;

/// An event only ever seen in requests a fault rule answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Undelivered {
    /// As it would have been stored; `seq` is the last stored event's before its first attempt
    /// (where it would have arrived).
    pub event: EventInput,
    /// How many times the SDK sent it.
    pub attempts: u32,
}

const FIX: &str = "Nothing is wrong with the call itself: the vendor was failing (a fault rule answered it). Check \
    that your SDK setup keeps what it could not send: flush and wait before the process exits (posthog-node: \
    await shutdown(); analytics-node: await closeAndFlush()), keep the SDK's retry queue, and call identify again \
    on the next start or login so a lost one is made up for.";

/// The two ids an identity-joining event joins (target first), in the PostHog-shaped view.
fn joined_ids(view: &EventInput) -> Option<(String, String)> {
    let other = match view.event.as_str() {
        "$identify" => view.prop("$anon_distinct_id"),
        "$create_alias" | "$merge_dangerously" => view.prop("alias"),
        _ => return None,
    };
    let other = id_text(other.filter(|v| !matches!(v, Value::Null)))?;
    (!other.is_empty() && !view.distinct_id.is_empty() && other != view.distinct_id)
        .then(|| (view.distinct_id.clone(), other))
}

fn sent(attempts: u32) -> String {
    match attempts {
        1 => "sent once and not retried".to_owned(),
        2 => "sent twice, both copies faulted".to_owned(),
        n => format!("sent {n} times, every copy faulted"),
    }
}

/// The findings of `undelivered`, against the persons `engine` holds now.
pub(crate) fn findings(engine: &Engine, undelivered: &[Undelivered]) -> Vec<Finding> {
    let mut out = Vec::new();
    for u in undelivered {
        let ev = &u.event;
        let family = Family::of_source(&ev.source);
        let view = lane_view(ev, family);
        let Some((target, other)) = joined_ids(&view) else { continue };
        let vendor = family.vendor();
        let person = family.person_word();
        let same = match (engine.person_for(&ev.project, &target), engine.person_for(&ev.project, &other)) {
            (Some(a), Some(b)) => a.id == b.id,
            _ => false,
        };
        let call = format!("{}('{target}')", ev.event);
        let (severity, message) = if same {
            (
                Severity::Info,
                format!(
                    "{call} never reached {vendor} ({}), but '{other}' and '{target}' are one {person} anyway: \
                     another event joined them.",
                    sent(u.attempts)
                ),
            )
        } else {
            (
                Severity::Error,
                format!(
                    "{call} never reached {vendor}: it was {}, so the {person} would not be merged. {vendor} \
                     keeps '{other}' and '{target}' apart: what was captured as '{other}' stays with another \
                     {person} than the user's.",
                    sent(u.attempts)
                ),
            )
        };
        let mut f = finding(LintRule::UndeliveredIdentify, severity, &ev.project, message, FIX.to_owned());
        f.event_uuids.push(ev.uuid.clone());
        f.distinct_ids.extend([other, target]);
        if let Some(device) = view.prop("$device_id").and_then(Value::as_str).filter(|d| !d.is_empty()) {
            f.device_ids.push(device.to_owned());
        }
        f.seq = ev.seq;
        out.push(f);
    }
    out
}
