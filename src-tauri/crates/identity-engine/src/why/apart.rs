//! The refusals that keep two ids apart: refused decisions (PostHog's illegal ids and
//! already-identified sources, Segment's limits and merge protection, Mixpanel's one user id per
//! cluster, ...) that name an id of `a`'s side and one of `b`'s. A side is the person the id
//! belongs to, or the id alone when it has none.
//!
//! Some refusals name only one id in the decision and the rest in the warning written with it
//! (Segment names the identifier it dropped; the warning lists the user ids that collided), so
//! the ids of a refusal are those of its decision and of its event's warnings with the same
//! sentence.

use foldhash::{HashMap, HashMapExt};
use uuid::Uuid;

use super::chain::{id_named, step_of};
use super::WhyStep;
use crate::engine::Engine;
use crate::types::DecisionKind;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    A,
    B,
}

pub(super) fn refusals(engine: &Engine, project: &str, a: &str, b: &str) -> Vec<WhyStep> {
    let person = |id: &str| engine.person_for(project, id).map(|p| p.id);
    let (pa, pb) = (person(a), person(b));
    let side = |text: &str| -> Option<(Side, String)> {
        let id = id_named(engine, project, text).unwrap_or(text);
        let owner: Option<Uuid> = person(id);
        let on = |want: Option<Uuid>, own: &str| if want.is_some() { owner == want } else { id == own };
        if on(pa, a) {
            Some((Side::A, id.to_owned()))
        } else if on(pb, b) {
            Some((Side::B, id.to_owned()))
        } else {
            None
        }
    };
    // (seq, sentence) -> the ids its warnings name.
    let mut warned: HashMap<(i64, &str), Vec<&str>> = HashMap::new();
    for w in engine.warnings().iter().filter(|w| w.project == project) {
        warned.entry((w.seq, w.message.as_str())).or_default().extend(w.distinct_ids.iter().map(String::as_str));
    }
    let mut out = Vec::new();
    for d in engine.decisions().iter().filter(|d| d.project == project && d.kind == DecisionKind::Refused) {
        let named = [d.source.as_deref(), d.target.as_deref()].into_iter().flatten();
        let also = warned.get(&(d.seq, d.message.as_str())).into_iter().flatten().copied();
        let sides: Vec<(Side, String)> = named.chain(also).filter_map(side).collect();
        let on_a = sides.iter().find(|(s, _)| *s == Side::A);
        let on_b = sides.iter().find(|(s, _)| *s == Side::B);
        if let (Some((_, x)), Some((_, y))) = (on_a, on_b) {
            out.push(step_of(d, x, y));
        }
    }
    out
}
