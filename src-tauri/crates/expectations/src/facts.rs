//! What the verdict asks of the inspector. The types read the `/api` answers as they are
//! (`GET /api/why`, `/api/persons/{id}`, `/api/warnings`, `/api/requests`), keeping what a
//! verdict or its explanation shows; the command line's `why`, `warnings` and `tail` read the
//! same answers with the same types.

use serde::{Deserialize, Serialize};

/// The inspector could not answer (unreachable, an error reply): the check cannot say pass or
/// fail, which the command line reports apart from failed expectations.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct FactError(pub String);

/// Answers about one inspector's identity model and stored traffic. Implementations may cache:
/// the verdict asks each question of a project once per distinct argument, within one settled
/// model.
pub trait Facts {
    /// Every project with traffic, as `(key, identity family)` (`posthog`, `segment`, …).
    fn projects(&mut self) -> Result<Vec<(String, String)>, FactError>;
    /// Why ids `a` and `b` of `project` are one person or not (`a == b` asks for `a`'s person).
    fn why(&mut self, project: &str, a: &str, b: &str) -> Result<WhyFact, FactError>;
    /// A person by its id (a [`WhySide::person_id`]).
    fn person(&mut self, person_id: &str) -> Result<Person, FactError>;
    /// Every finding of `project`.
    fn findings(&mut self, project: &str) -> Result<Vec<Finding>, FactError>;
    /// The rejected requests that named `project` or no readable project, newest first.
    fn rejected_requests(&mut self, project: &str) -> Result<Vec<RejectedRequest>, FactError>;
    /// How many events of `project` match `query`; counting may stop at `enough`.
    fn count_events(&mut self, project: &str, query: &EventQuery, enough: u64) -> Result<u64, FactError>;
}

/// Which events to count.
#[derive(Debug, Clone, PartialEq)]
pub struct EventQuery {
    pub event: Option<String>,
    pub distinct_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WhyFact {
    Answer(Box<Why>),
    /// The project never saw this id.
    UnknownId(String),
}

/// `GET /api/why` (`identity_engine::WhyAnswer`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Why {
    pub project: String,
    /// Whose identity rules the project gets (`posthog`, `segment`, …).
    pub family: String,
    pub together: bool,
    pub a: WhySide,
    pub b: WhySide,
    #[serde(default)]
    pub chain: Vec<WhyStep>,
    #[serde(default)]
    pub refusals: Vec<WhyStep>,
    #[serde(default)]
    pub refusals_total: usize,
    #[serde(default)]
    pub root_cause: Option<String>,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct WhySide {
    pub distinct_id: String,
    pub person_id: Option<String>,
    /// How many ids the person holds.
    pub person_ids: usize,
    pub is_identified: bool,
}

/// One decision of a why answer's chain or refusals.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct WhyStep {
    pub event: WhyEvent,
    #[serde(default)]
    pub lane_id: Option<String>,
    pub from: String,
    pub to: String,
    pub kind: String,
    pub rule: String,
    pub sentence: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct WhyEvent {
    pub seq: i64,
    pub event: String,
    /// RFC 3339.
    pub timestamp: String,
}

/// A person: its display label and every id it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub label: String,
    pub distinct_ids: Vec<String>,
    pub is_identified: bool,
}

/// `GET /api/warnings`'s items.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Finding {
    pub rule: String,
    pub severity: String,
    pub project: String,
    pub message: String,
    pub fix: String,
    #[serde(default)]
    pub distinct_ids: Vec<String>,
    #[serde(default)]
    pub device_ids: Vec<String>,
    /// The arrival of the event that fired it.
    pub seq: i64,
}

/// `GET /api/requests?outcome=rejected`'s items.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct RejectedRequest {
    pub id: i64,
    pub method: String,
    pub path: String,
    pub status: u16,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub project: Option<String>,
}
