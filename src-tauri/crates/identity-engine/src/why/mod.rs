//! "Why are these two ids one person (or not)?", answered from what the model already
//! recorded: the decisions each vendor's rules made (`Decision`: a kind, a rule and a sentence,
//! naming the ids or the persons' labels they joined), the device lanes and the lint findings.
//! No vendor rule is restated here: every step quotes the decision it comes from.
//!
//! Main types: [`WhyAnswer`] (what `Model::why` returns), [`WhyStep`] (one decision of the
//! chain, or one refusal), [`WhySide`] (one of the two ids and its person), [`WhyError`].
//!
//! Invariants:
//! - `together` is true exactly when the engine puts both ids on one person; then `chain` is a
//!   shortest path of joining decisions from `a` to `b` (`chain.rs`), each step naming ids of
//!   that person;
//! - every step's `sentence` and `rule` are the decision's own;
//! - the query reads the engine's decisions once (and, for lanes and the root cause, the
//!   project's lanes and findings once) and walks the person's links once (breadth-first): its
//!   cost is the sum of those sizes, never a product (a 10 000-id chain is tested).

mod apart;
mod cause;
mod chain;
mod lanes;

use serde::Serialize;
use uuid::Uuid;

use crate::family::Family;
use crate::lint::MAX_REFS;
use crate::model::Model;
use crate::types::{DecisionKind, EventRef, Rule};

/// The answer for two distinct ids of one project.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WhyAnswer {
    pub project: String,
    /// Whose rules the project gets.
    pub family: Family,
    pub a: WhySide,
    pub b: WhySide,
    /// Both ids are on one person.
    pub together: bool,
    /// When together: the fewest decisions that joined `a` to `b`, in path order from `a`.
    pub chain: Vec<WhyStep>,
    /// When apart: the refused links between an id of `a`'s side and one of `b`'s, the first
    /// `MAX_REFS` of them in arrival order.
    pub refusals: Vec<WhyStep>,
    /// How many refusals there were in all (more than `refusals` holds when over `MAX_REFS`).
    pub refusals_total: usize,
    /// The mistake in the app behind the join, in the user's words, when the lanes and findings
    /// show one (a device still identified as another user, an alias after identify).
    pub root_cause: Option<String>,
    /// One sentence that answers the question.
    pub summary: String,
}

/// One of the two ids asked about, and the person it belongs to now.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WhySide {
    pub distinct_id: String,
    /// None: the id has no person (personless events only, or an id the vendor refused).
    pub person_id: Option<Uuid>,
    /// How many distinct ids that person holds (0 without a person).
    pub person_ids: usize,
    pub is_identified: bool,
}

/// One decision of the chain (or one refusal): which event, on which device lane, joined (or
/// refused to join) which two ids, under which rule, in the decision's own sentence.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WhyStep {
    /// The event (uuid, name, arrival order and time).
    pub event: EventRef,
    /// The device lane the event landed on, when the lanes show it.
    pub lane_id: Option<String>,
    /// The ids this step links, in path order (`from` nearer to `a`). For vendors that join
    /// whole profiles, an id stands for its profile as the decision's sentence names it.
    pub from: String,
    pub to: String,
    pub kind: DecisionKind,
    pub rule: Rule,
    /// The decision's sentence.
    pub sentence: String,
}

/// Which of the two ids a [`WhyError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhichId {
    A,
    B,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WhyError {
    #[error("no event of project '{project}' names the distinct id '{id}'")]
    UnknownId { which: WhichId, project: String, id: String },
}

impl Model {
    /// Why `a` and `b` (distinct ids of `project`) are one person, or not. An id no event of the
    /// project named (no person, no decision, no warning, no lane) is a `WhyError::UnknownId`,
    /// `a` checked first.
    pub fn why(&self, project: &str, a: &str, b: &str) -> Result<WhyAnswer, WhyError> {
        self.why_with(project, a, b, &|_, _| None)
    }

    /// `why`, with the names of events the root cause quotes: `last_event(id, seq)` is the name
    /// of the last event of `id` before arrival `seq` (the model keeps no event names; the
    /// server reads them from its store).
    pub fn why_with(
        &self,
        project: &str,
        a: &str,
        b: &str,
        last_event: &dyn Fn(&str, i64) -> Option<String>,
    ) -> Result<WhyAnswer, WhyError> {
        let engine = self.engine();
        for (which, id) in [(WhichId::A, a), (WhichId::B, b)] {
            if !self.knows(project, id) {
                return Err(WhyError::UnknownId { which, project: project.to_owned(), id: id.to_owned() });
            }
        }
        let family = engine.family(project);
        let (side_a, side_b) = (self.side(project, a), self.side(project, b));
        let together = side_a.person_id.is_some() && side_a.person_id == side_b.person_id;
        let mut answer = WhyAnswer {
            project: project.to_owned(),
            family,
            a: side_a,
            b: side_b,
            together,
            chain: Vec::new(),
            refusals: Vec::new(),
            refusals_total: 0,
            root_cause: None,
            summary: String::new(),
        };
        let word = family.person_word();
        if together {
            answer.chain = chain::shortest(engine, project, a, b);
            lanes::place(self, project, &mut answer.chain);
            answer.root_cause = cause::root_cause(self, project, &answer.chain, last_event);
            answer.summary = match answer.chain.len() {
                0 => format!("'{a}' and '{b}' are the same id."),
                1 => format!("'{a}' and '{b}' are one {word}: one event joined them."),
                n => format!("'{a}' and '{b}' are one {word}: {n} events joined them, one after the other."),
            };
        } else {
            answer.refusals = apart::refusals(engine, project, a, b);
            answer.refusals_total = answer.refusals.len();
            answer.refusals.truncate(MAX_REFS);
            lanes::place(self, project, &mut answer.refusals);
            answer.summary = match answer.refusals_total {
                0 => format!("'{a}' and '{b}' are not one {word}: no event ever linked '{a}' and '{b}'."),
                1 => format!("'{a}' and '{b}' are not one {word}: {} refused to link them.", family.vendor()),
                n => format!("'{a}' and '{b}' are not one {word}: {} refused to link them {n} times.", family.vendor()),
            };
        }
        Ok(answer)
    }

    fn side(&self, project: &str, id: &str) -> WhySide {
        let person = self.engine().person_for(project, id);
        WhySide {
            distinct_id: id.to_owned(),
            person_id: person.map(|p| p.id),
            person_ids: person.map_or(0, |p| p.distinct_ids.len()),
            is_identified: person.is_some_and(|p| p.is_identified),
        }
    }

    /// Some event of the project named `id`: it has a person, or a decision, a warning or a
    /// lane names it. Only ids without a person pay for the scans.
    fn knows(&self, project: &str, id: &str) -> bool {
        let engine = self.engine();
        if engine.person_for(project, id).is_some() {
            return true;
        }
        let named = |s: &Option<String>| s.as_deref() == Some(id);
        engine.decisions().iter().any(|d| d.project == project && (named(&d.source) || named(&d.target)))
            || engine.warnings().iter().any(|w| w.project == project && w.distinct_ids.iter().any(|d| d == id))
            || self.devices(Some(project)).iter().any(|l| l.segments.iter().any(|s| s.distinct_id == id))
    }
}
