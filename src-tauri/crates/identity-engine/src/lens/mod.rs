//! The vendor lens (`GET /api/lens?project=`): one project's traffic under PostHog's, Segment's,
//! RudderStack's, Mixpanel's and KISSmetrics' identity rules side by side, and every pair of ids
//! the vendors disagree on, with each vendor's reason in a sentence. Pure: a function of the
//! project's events and its settings (`ProjectSettings`: Mixpanel's ID merge mode, Segment's
//! blocked values and limits), which every vendor's replay gets as the project would have them.
//!
//! How: the events become family-neutral steps (`steps.rs`); each vendor replays them with its
//! real rules (`replay.rs`: the project's own vendor replays the real events). Clusters are each
//! vendor's persons at the end; a pair of ids is compared when one step linked (or showed) them
//! together, and is a disagreement when some vendors end with both in one cluster and others not.

mod compare;
mod replay;
pub(crate) mod steps;

pub use compare::{compare, Comparison, UserMatch};

use std::collections::BTreeMap;

use foldhash::HashMap;
use serde::Serialize;

use crate::family::Family;
use crate::graph::IdKind;
use crate::settings::ProjectSettings;
use crate::types::{DecisionKind, EventInput};

pub const VENDORS: [Family; 5] =
    [Family::PostHog, Family::Segment, Family::RudderStack, Family::Mixpanel, Family::KissMetrics];

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Lens {
    pub project: String,
    pub source: String,
    pub family: Family,
    pub events: usize,
    /// The settings every vendor's replay ran under.
    pub settings: ProjectSettings,
    pub vendors: Vec<VendorView>,
    pub disagreements: Vec<Disagreement>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VendorView {
    pub vendor: Family,
    /// The setting the vendor's result depends on ("Mixpanel, Original ID Merge"), if any.
    pub label: Option<String>,
    pub clusters: Vec<Cluster>,
    pub refusals: Vec<Refusal>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Cluster {
    pub ids: Vec<String>,
    pub user_id: Option<String>,
    pub kinds: BTreeMap<String, &'static str>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Refusal {
    pub seq: i64,
    pub ids: Vec<String>,
    pub rule: &'static str,
    pub sentence: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Disagreement {
    pub ids: [String; 2],
    pub together: Vec<Family>,
    pub apart: Vec<Family>,
    /// The step (event seq) that linked or showed the two ids together.
    pub seq: i64,
    /// Both ids are user ids (as the steps end up knowing them): some vendor joined two users.
    /// Such pairs are listed first.
    pub two_user_ids: bool,
    pub why: BTreeMap<&'static str, String>,
}

/// The lens of one project under the vendors' default settings; `events` are that project's,
/// in arrival order, all of one source.
pub fn vendor_lens(project: &str, events: &[EventInput]) -> Lens {
    vendor_lens_with(project, events, &ProjectSettings::default())
}

/// The lens of one project under its settings (to see Mixpanel under the other ID merge mode,
/// pass settings with that mode).
pub fn vendor_lens_with(project: &str, events: &[EventInput], settings: &ProjectSettings) -> Lens {
    let source = events.first().map(|e| e.source.clone()).unwrap_or_else(|| "posthog".into());
    let own = Family::of_source(&source);
    let (steps, kinds) = steps::steps(events, own, settings);
    let replays: Vec<replay::Replayed> =
        VENDORS.iter().map(|&v| replay::replay(v, own, project, events, &steps, settings)).collect();

    let vendors = VENDORS
        .iter()
        .zip(&replays)
        .map(|(&vendor, r)| VendorView {
            vendor,
            label: settings.label_for(vendor),
            clusters: clusters(r, project, &kinds),
            refusals: refusals(r),
        })
        .collect();

    let mut seen: std::collections::HashSet<(String, String)> = Default::default();
    let mut disagreements = Vec::new();
    for step in &steps {
        for (i, a) in step.ids.iter().enumerate() {
            for b in &step.ids[i + 1..] {
                let key = if a.value < b.value {
                    (a.value.clone(), b.value.clone())
                } else {
                    (b.value.clone(), a.value.clone())
                };
                if a.value == b.value || !seen.insert(key) {
                    continue;
                }
                let joined = |r: &replay::Replayed| {
                    let e = &r.engine;
                    e.person_for(project, &a.value)
                        .zip(e.person_for(project, &b.value))
                        .is_some_and(|(x, y)| x.id == y.id)
                };
                let (together, apart): (Vec<usize>, Vec<usize>) =
                    (0..VENDORS.len()).partition(|&v| joined(&replays[v]));
                if together.is_empty() || apart.is_empty() {
                    continue;
                }
                let why = (0..VENDORS.len())
                    .map(|v| {
                        (
                            VENDORS[v].as_str(),
                            reason(VENDORS[v], &replays[v], step.seq, [&a.value, &b.value], together.contains(&v)),
                        )
                    })
                    .collect();
                let user = |id: &str| kinds.get(id) == Some(&IdKind::UserId);
                disagreements.push(Disagreement {
                    ids: [a.value.clone(), b.value.clone()],
                    together: together.iter().map(|&v| VENDORS[v]).collect(),
                    apart: apart.iter().map(|&v| VENDORS[v]).collect(),
                    seq: step.seq,
                    two_user_ids: user(&a.value) && user(&b.value),
                    why,
                });
            }
        }
    }
    // Two users joined is the disagreement that matters most; otherwise step order (stable).
    disagreements.sort_by_key(|d| !d.two_user_ids);
    Lens {
        project: project.to_owned(),
        source,
        family: own,
        events: events.len(),
        settings: settings.clone(),
        vendors,
        disagreements,
    }
}

fn clusters(r: &replay::Replayed, project: &str, kinds: &HashMap<String, IdKind>) -> Vec<Cluster> {
    r.engine
        .persons(project)
        .into_iter()
        .map(|p| {
            let kind = |id: &str| {
                r.engine.id_kind(project, id).or_else(|| kinds.get(id).copied()).unwrap_or(IdKind::DistinctId)
            };
            let kinds: BTreeMap<String, &'static str> =
                p.distinct_ids.iter().map(|id| (id.clone(), kind(id).as_str())).collect();
            let user_id = p.distinct_ids.iter().find(|id| kind(id) == IdKind::UserId).cloned();
            Cluster { ids: p.distinct_ids.clone(), user_id, kinds }
        })
        .collect()
}

fn refusals(r: &replay::Replayed) -> Vec<Refusal> {
    r.decisions
        .iter()
        .filter(|(_, d)| d.kind == DecisionKind::Refused || (d.kind == DecisionKind::Ignored && d.source.is_some()))
        .map(|(seq, d)| Refusal {
            seq: *seq,
            ids: d.source.iter().chain(d.target.iter()).cloned().collect(),
            rule: d.rule.as_str(),
            sentence: d.message.clone(),
        })
        .collect()
}

/// Why `vendor` has the two ids together or apart: its own decision at that step when one
/// names either id, else the general rule.
fn reason(vendor: Family, r: &replay::Replayed, seq: i64, ids: [&String; 2], together: bool) -> String {
    let wanted = |k: DecisionKind| {
        if together {
            k != DecisionKind::Refused && k != DecisionKind::Ignored
        } else {
            k == DecisionKind::Refused || k == DecisionKind::Ignored
        }
    };
    let names = |d: &crate::types::Decision| {
        ids.iter().any(|id| {
            d.source.as_ref() == Some(*id) || d.target.as_ref() == Some(*id) || d.message.contains(id.as_str())
        })
    };
    // Decisions are in seq order (engines apply events strictly in seq order): the step's own
    // are found by binary search, so a lens with many disagreements stays n·log n.
    let from = r.decisions.partition_point(|(s, _)| *s < seq);
    let mut at_step = r.decisions[from..].iter().take_while(|(s, _)| *s == seq);
    if let Some((_, d)) = at_step.find(|(_, d)| wanted(d.kind) && names(d)) {
        return d.message.clone();
    }
    match (vendor, together) {
        (_, true) => format!("{} has '{}' and '{}' in one {}.", vendor.vendor(), ids[0], ids[1], vendor.person_word()),
        (Family::PostHog, false) => format!(
            "PostHog links ids only through $identify (with $anon_distinct_id), alias or merge events; '{}' and '{}' \
             only appear on the same event, so they stay separate persons.",
            ids[0], ids[1]
        ),
        (_, false) => format!(
            "{} keeps '{}' and '{}' in separate {}s: no event links them under its rules.",
            vendor.vendor(),
            ids[0],
            ids[1],
            vendor.person_word()
        ),
    }
}
