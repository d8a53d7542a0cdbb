//! Each vendor's rules over one project: the project's own vendor replays its real events; the
//! others replay the neutral steps written as that vendor's SDK would send them (PostHog: one
//! event per id, `$identify`, `$create_alias`; Segment and RudderStack: one message with every
//! id; Mixpanel: what mixpanel-browser sends under the project's ID merge mode (Simplified:
//! `$device_id` + `$user_id` on events; Original: `$identify` with `$identified_id` and
//! `$anon_id`); KISSmetrics: an alias for an identify or alias, else one event per id).
//! Every replay runs under the project's settings.
//!
//! Synthetic events get `seq = step seq * SUB + k`, so their decisions map back to the step.

use serde_json::{json, Map, Value};

use super::steps::{Link, Step};
use crate::engine::Engine;
use crate::family::Family;
use crate::graph::IdKind;
use crate::settings::{MixpanelIdMerge, ProjectSettings};
use crate::types::{Decision, EventInput};

pub(crate) const SUB: i64 = 64;

/// The engine after the vendor's rules ran, and its decisions keyed by the original seq.
pub(crate) struct Replayed {
    pub engine: Engine,
    /// Sorted by seq (events are applied in seq order; synthetic seqs keep their step's order).
    pub decisions: Vec<(i64, Decision)>,
}

pub(crate) fn replay(
    vendor: Family,
    own: Family,
    project: &str,
    events: &[EventInput],
    steps: &[Step],
    settings: &ProjectSettings,
) -> Replayed {
    let mut engine = Engine::new();
    engine.set_settings(project, settings.clone());
    let native = vendor == own;
    let inputs: Vec<EventInput> = if native {
        events.iter().map(|e| EventInput { source: vendor.as_str().to_owned(), ..e.clone() }).collect()
    } else {
        let mut named = foldhash::HashSet::default();
        steps.iter().flat_map(|s| synth(vendor, project, s, settings.mixpanel_id_merge, &mut named)).collect()
    };
    for ev in &inputs {
        // Seqs increase by construction; an error would only mean an empty replay.
        let _ = engine.apply(ev);
    }
    let decisions = engine.decisions().iter().map(|d| (if native { d.seq } else { d.seq / SUB }, d.clone())).collect();
    Replayed { engine, decisions }
}

fn event(vendor: Family, project: &str, seq: i64, name: &str, id: &str, props: Value) -> EventInput {
    EventInput {
        seq,
        uuid: format!("lens-{seq}"),
        project: project.to_owned(),
        source: vendor.as_str().to_owned(),
        event: name.to_owned(),
        distinct_id: id.to_owned(),
        timestamp: chrono::DateTime::from_timestamp(seq, 0).unwrap_or_default(),
        properties: props.as_object().cloned().unwrap_or_default(),
    }
}

fn first(step: &Step, kinds: &[IdKind]) -> Option<String> {
    step.ids.iter().find(|i| kinds.contains(&i.kind)).map(|i| i.value.clone())
}

/// `named`: KISSmetrics only, the anonymous identities already identified (its JS library
/// aliases on `identify` only while the visitor is anonymous).
fn synth(
    vendor: Family,
    project: &str,
    s: &Step,
    mixpanel: MixpanelIdMerge,
    named: &mut foldhash::HashSet<String>,
) -> Vec<EventInput> {
    let seq = s.seq * SUB;
    let ev = |k: i64, name: &str, id: &str, props: Value| event(vendor, project, seq + k, name, id, props);
    let user = first(s, &[IdKind::UserId]);
    let anon = first(s, &[IdKind::AnonymousId, IdKind::DistinctId]);
    match vendor {
        Family::PostHog => match &s.link {
            Link::Identify { anon, user } => vec![ev(0, "$identify", user, json!({"$anon_distinct_id": anon}))],
            Link::Alias { previous, user } => vec![ev(0, "$create_alias", user, json!({"alias": previous}))],
            Link::Together => {
                s.ids.iter().enumerate().map(|(k, i)| ev(k as i64, "lens", &i.value, json!({}))).collect()
            }
        },
        Family::Segment | Family::RudderStack => {
            let mut m = Map::new();
            let (ty, user, extra) = match &s.link {
                Link::Identify { anon, user } => ("identify", Some(user.clone()), Some(("anonymousId", anon.clone()))),
                Link::Alias { previous, user } => ("alias", Some(user.clone()), Some(("previousId", previous.clone()))),
                Link::Together => ("track", user, anon.clone().map(|a| ("anonymousId", a))),
            };
            m.insert("type".into(), json!(ty));
            if let Some(u) = &user {
                m.insert("userId".into(), json!(u));
            }
            if let Some((k, v)) = extra {
                m.insert(k.into(), json!(v));
            }
            let email = first(s, &[IdKind::Email]);
            let device = first(s, &[IdKind::DeviceId]);
            m.insert("context".into(), json!({"traits": {"email": email}, "device": {"id": device}}));
            let id = user.or(anon).or(email).or(device).unwrap_or_default();
            vec![ev(0, ty, &id, Value::Object(m))]
        }
        Family::KissMetrics => kissmetrics_synth(s, ev, named),
        Family::Mixpanel if mixpanel == MixpanelIdMerge::Original => match &s.link {
            // mixpanel-browser's identify(user) in an Original project.
            Link::Identify { anon, user } => {
                vec![ev(0, "$identify", user, json!({"$identified_id": user, "$anon_id": anon}))]
            }
            Link::Alias { previous, user } => vec![ev(0, "$create_alias", previous, json!({"alias": user}))],
            Link::Together => {
                let id = user.or(anon).unwrap_or_else(|| s.ids[0].value.clone());
                vec![ev(0, "lens", &id, json!({}))]
            }
        },
        Family::Mixpanel => {
            let device = |a: &str| a.strip_prefix("$device:").unwrap_or(a).to_owned();
            match &s.link {
                Link::Identify { anon, user } => vec![ev(
                    0,
                    "$identify",
                    user,
                    json!({"$user_id": user, "$device_id": device(anon), "$anon_distinct_id": anon}),
                )],
                Link::Alias { previous, user } => {
                    vec![ev(0, "$create_alias", previous, json!({"alias": user, "$device_id": device(previous)}))]
                }
                Link::Together => {
                    let mut props = Map::new();
                    if let Some(u) = &user {
                        props.insert("$user_id".into(), json!(u));
                    }
                    if let Some(a) = anon.as_deref().or(first(s, &[IdKind::DeviceId]).as_deref()) {
                        props.insert("$device_id".into(), json!(device(a)));
                    }
                    let id = user.clone().or(anon.clone()).unwrap_or_else(|| s.ids[0].value.clone());
                    vec![ev(0, "lens", &id, Value::Object(props))]
                }
            }
        }
    }
}

/// KISSmetrics as its JS library would send the step, in the shape capture-decode stores it
/// (`/a` as `$alias` on `_p` with `_n` in `alias`): `identify(name)` while anonymous and
/// `alias(a, b)` both arrive as an alias of the two identities; `identify(other)` once named
/// sends no alias (KISSmetrics "Identities": the two stay two people), just the event; anything
/// else is one event per identity.
fn kissmetrics_synth(
    s: &Step,
    ev: impl Fn(i64, &str, &str, Value) -> EventInput,
    named: &mut foldhash::HashSet<String>,
) -> Vec<EventInput> {
    let alias =
        |a: &str, b: &str| ev(0, crate::kissmetrics::ALIAS_EVENT, a, json!({ crate::kissmetrics::ALIAS_OTHER: b }));
    match &s.link {
        Link::Identify { anon, user } if !named.insert(anon.clone()) => vec![ev(0, "lens", user, json!({}))],
        Link::Identify { anon: a, user: b } | Link::Alias { previous: a, user: b } => vec![alias(a, b)],
        Link::Together => s.ids.iter().enumerate().map(|(k, i)| ev(k as i64, "lens", &i.value, json!({}))).collect(),
    }
}
