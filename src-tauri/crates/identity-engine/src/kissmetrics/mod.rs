//! KISSmetrics identity rules, after KISSmetrics' support articles "Identities",
//! "Multiple People on the Same Browser" and "Squished Identities"
//! (<https://support.kissmetrics.io/docs/identities>,
//! <https://support.kissmetrics.io/docs/multiple-people-on-the-same-browser>,
//! <https://support.kissmetrics.io/docs/squished-identities-multiple-identities-aliased-together>).
//!
//! A stored event is one API call (see capture-decode's `kissmetrics`): `distinct_id` is `_p`,
//! an alias (`/a`, stored as `$alias`) keeps its second identity in `properties.alias`, a set
//! (`/s`, stored as `$set`) has the properties to set in `properties.$set`.
//! - Every call's `_p` is a person (created on first sight).
//! - `alias(a, b)` makes the two identities one person, permanently ("Calling alias is not
//!   reversible"), with no limit and no refusal: two named ids, or a placeholder such as
//!   `anonymous` aliased by every visitor, are squished into one person.
//! - `identify(name)` while anonymous: the JS library itself aliases the anonymous id to the
//!   name ("When you call identify with our JS library when a person is anonymous, we
//!   automatically alias their anonymous ID with the given ID"), so an `/a` call arrives and is
//!   handled as any alias. `identify(B)` while named A sends no alias: A and B stay two people,
//!   and what the browser did before B's identify stays with A.
//! - `clearIdentity()` (or `identify(null)`) makes the JS library start a new anonymous id; it
//!   sends nothing, so it shows only as the next calls' new `_p`.
//! - No id is refused: placeholders are ids like any other (the `squished_identities` finding
//!   flags them).

mod words;

use serde_json::Value;

use crate::family::Family;
use crate::graph::link::{link, GraphRules};
use crate::graph::{id_text, IdKind, Ident};
use crate::props::{apply_updates, EventUpdates};
use crate::step::{Outcome, Step, Vendor};
use crate::types::{prop, Attribution, Rule, WarningKind};
use crate::uuid::person_uuid;

/// The event name capture-decode stores an `/a` call under.
pub(crate) const ALIAS_EVENT: &str = "$alias";
/// The event name capture-decode stores an `/s` call under.
pub(crate) const SET_EVENT: &str = "$set";
/// Where an alias call keeps its second identity (its `_n`).
pub(crate) const ALIAS_OTHER: &str = "alias";

/// KISSmetrics' words for the shared identity graph. Every identity is a `distinct_id`, never a
/// `user_id`, so the graph's one-user-id rule never applies: KISSmetrics has no such limit.
const GRAPH: GraphRules = GraphRules {
    user_ids: false,
    family: Family::KissMetrics,
    carrier: "alias call (/a), which KISSmetrics never refuses or undoes",
    other_limit: None,
    user_id_rule: Rule::IdentifierLinked,
    user_id_warning: WarningKind::SelfAlias,
    second_user_id: |_, _, _| String::new(),
    resolve_conflict: None,
};

pub(crate) const VENDOR: Vendor = Vendor { apply, blocks_id: |_| false, links_event_ids: false, words: &words::WORDS };

/// The second identity of an alias call.
pub(crate) fn alias_other(props: &serde_json::Map<String, Value>) -> Option<String> {
    id_text(prop(props, ALIAS_OTHER)).filter(|v| !v.trim().is_empty())
}

fn apply(step: &mut Step) -> Outcome {
    let ev = step.ev;
    if ev.distinct_id.is_empty() {
        return Attribution::Personless(person_uuid(&ev.project, &ev.distinct_id)).into();
    }
    let mut ids = vec![Ident::new(ev.distinct_id.clone(), IdKind::DistinctId)];
    let alias = (ev.event == ALIAS_EVENT).then(|| alias_other(&ev.properties)).flatten();
    ids.extend(alias.clone().map(|other| Ident::new(other, IdKind::DistinctId)));
    let Some(pid) = link(step, &ids, &GRAPH) else {
        return Attribution::Personless(person_uuid(&ev.project, &ev.distinct_id)).into();
    };
    if alias.is_some() && !step.project.persons[&pid].is_identified {
        // An alias names the person: the JS library sends one when an anonymous visitor is
        // identified, and a direct alias links two known identities.
        let by = step.by().clone();
        let person = step.person_mut(pid);
        person.is_identified = true;
        person.identified_by = Some(by);
    }
    if ev.event == SET_EVENT {
        let ups = EventUpdates::of(ev);
        let by = step.by().clone();
        apply_updates(step.person_mut(pid), &ups, &by);
    }
    Attribution::Person(pid).into()
}
