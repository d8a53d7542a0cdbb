//! The JSON bodies `/api` answers with, one type per answer, grouped by endpoint. With the `ts`
//! feature each derives `ts_rs::TS`, and `tests/gen_types.rs` writes them (with the store's and
//! the engine's types they contain) to `ui/src/lib/gen/`, which the UI imports: these structs are
//! the one description of the API's shapes.
//!
//! Invariants: handlers answer `Json<one of these>` (errors: [`crate::error::ErrorBody`]); a
//! field added here reaches the UI's types by regenerating (`tests/check-generated.sh` fails on a
//! stale `ui/src/lib/gen/`). Times are RFC 3339 UTC strings.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use event_store::{
    DatasetSummary, Delivery, ImportSummary, ProjectSummary, Removed, RequestDetail, Retention, StoredEvent,
    StoredRequest, Totals,
};
use fault_rules::FaultView;
use identity_engine::{Decision, DecisionKind, DeviceLane, Family, Finding, Forgotten, LintRule, Person};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::control::{CaptureStatus, Notice, UiTheme};

#[cfg(feature = "ts")]
use ts_rs::TS;

// ---- /api/health ----

/// `GET /api/health`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct Health {
    /// Always `"ok"`.
    pub status: &'static str,
    pub version: &'static str,
    /// Where SDKs should send (`http://127.0.0.1:<port>`).
    pub capture_url: String,
    /// RFC 3339 with a `+00:00` offset.
    pub started_at: String,
    /// The data dir's database file (lossy where the path is not UTF-8).
    pub database: String,
    pub totals: Totals,
    pub identity: IdentityProgress,
    /// Paused capture answers SDKs as usual but stores nothing.
    pub capture: CaptureStatus,
    /// This run's notices: port taken, network exposure, settings problems.
    pub notices: Vec<Notice>,
    /// Every source value and whose identity rules its projects get (`Family::of_source`), so the
    /// UI never keeps a copy of that map.
    pub families: BTreeMap<String, Family>,
    /// Fault rules in force (`GET /api/faults` lists them): capture is answering like a failing
    /// vendor.
    pub faults: usize,
}

/// How far the identity model has read.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct IdentityProgress {
    /// The arrival seq of the last event the model includes.
    pub applied_seq: i64,
}

// ---- /api/events, /api/requests, /api/projects ----

/// `GET /api/events`: newest first; `next_cursor` is the `cursor` of the next (older) page.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct EventsPage {
    pub events: Vec<StoredEvent>,
    pub next_cursor: Option<i64>,
    /// Event uuid -> the person its distinct id belongs to now, for the events whose id the
    /// identity model has a person for (personless and not yet applied events are absent).
    pub persons: BTreeMap<String, PersonRef>,
    /// Event uuid -> the decision the grid shows as a pill, for the merge-type events of this
    /// page (identify, alias, merge: the decisions that name an id merged away); when an event
    /// made several, the one that matters most to a reader (`decision_pill::rank`). Other events,
    /// and events the model has not applied yet, are absent.
    pub decisions: BTreeMap<String, DecisionPill>,
    /// With `wait`: how the wait ended. Absent on a plain read.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub waited: Option<Waited>,
}

/// How a read with `wait` ended (see `handlers/long_poll.rs`).
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct Waited {
    /// How long the read waited, in milliseconds.
    pub ms: u64,
    /// The wait ended before `min` items matched: the answer holds what there was.
    pub timed_out: bool,
}

/// The decision an event's row names: its kind (the UI words it) and the engine's sentence.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct DecisionPill {
    pub kind: DecisionKind,
    pub message: String,
}

/// `GET /api/events/{uuid}`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct EventResponse {
    pub event: StoredEvent,
    /// The person the event's distinct id belongs to now; null when it has none.
    pub person: Option<PersonRef>,
    /// Every copy of this event the SDK sent, when a fault rule answered one of them; null
    /// otherwise.
    pub delivery: Option<Delivery>,
}

/// A person as other items point to it: its id and its display label (the same label the
/// persons list and the person page show).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct PersonRef {
    pub id: uuid::Uuid,
    pub label: String,
}

/// `GET /api/requests`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct RequestsPage {
    pub requests: Vec<StoredRequest>,
    pub next_cursor: Option<i64>,
}

/// `GET /api/requests/{id}`: one request in full.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct RequestResponse {
    pub request: RequestDetail,
    /// The body exactly as received.
    pub body_base64: String,
    /// What the SDK meant to send, with the decoding steps taken; `error` when it does not
    /// decode; `null` for requests without a body to decode.
    #[cfg_attr(feature = "ts", ts(type = "{ steps: string[]; json: unknown } | { error: string } | null"))]
    pub decoded: Value,
    /// The delivery of each of its events that a fault rule touched (in this request or another
    /// copy of the same uuid), in the request's order: "sent 3 times, stored once".
    pub deliveries: Vec<Delivery>,
}

/// One project with the identity family whose rules apply to it.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct ProjectItem {
    #[serde(flatten)]
    pub summary: ProjectSummary,
    pub family: Family,
    /// The project settings its identity results depend on, in words ("Mixpanel, Original ID
    /// Merge"); null when no setting applies to its family.
    pub settings_label: Option<String>,
}

/// `GET /api/projects`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct ProjectsPage {
    pub projects: Vec<ProjectItem>,
}

// ---- identity: /api/persons, /api/devices, /api/decisions, /api/warnings, /api/lens ----

/// A person in a list: what it is, without its history.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct PersonSummary {
    pub id: uuid::Uuid,
    /// The person's one display label (`Engine::display_label`): the id it was identified as,
    /// else its first user-like id, else its first id.
    pub label: String,
    /// Its ids that name a user (`Model::user_like_ids`), the label first: "user-a + user-b".
    pub user_ids: Vec<String>,
    /// The lint rules with a finding that names one of the person's ids, in finding order.
    pub flags: Vec<LintRule>,
    pub project: String,
    pub source: String,
    pub family: Family,
    pub distinct_ids: Vec<String>,
    pub is_identified: bool,
    pub properties: Map<String, Value>,
    pub created_at: DateTime<Utc>,
}

/// `GET /api/persons`: `next_cursor` is an offset, as text.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct PersonsPage {
    pub persons: Vec<PersonSummary>,
    pub total: usize,
    pub next_cursor: Option<String>,
    /// With `wait`: how the wait ended. Absent on a plain read.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub waited: Option<Waited>,
}

/// `GET /api/persons/{id}`: the person with its history, the decisions about it and its lanes.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct PersonDetail {
    #[serde(flatten)]
    pub person: Person,
    /// The same display label as the persons list's.
    pub label: String,
    pub decisions: Vec<Decision>,
    pub source: String,
    pub family: Family,
    /// What each distinct id is (user id, anonymous id, email, ...), where the rules know it.
    pub id_kinds: BTreeMap<String, identity_engine::IdKind>,
    /// Ids of the device lanes that ever carried the person.
    pub devices: Vec<String>,
    /// The project settings the person was made under, in words; null when none applies.
    pub settings_label: Option<String>,
}

/// Where the matching lanes lie in client time and in arrival order: the shared axis of the
/// devices view, whichever page of lanes it shows.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct LaneRange {
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub first_seq: i64,
    pub last_seq: i64,
}

/// A stretch of client time in which some matching lane was active: known moments (segment
/// ends, transitions, session ends) no more than `ACTIVE_MERGE_SECONDS` apart, merged.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct ActiveSpan {
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
}

/// `GET /api/devices`: lanes, most recently active first.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct DevicesPage {
    pub devices: Vec<DeviceLane>,
    pub total: usize,
    pub next_cursor: Option<String>,
    /// `null` when no lane matches.
    pub range: Option<LaneRange>,
    /// Ids of the lanes on this page that an error or warning finding names.
    pub flagged: Vec<String>,
    /// How many of all matching lanes are flagged (before `flagged=only` filters).
    pub flagged_total: usize,
    /// How many matching lanes are anonymous-id chains (before `chains=hide` filters).
    pub chain_total: usize,
    /// When the matching lanes were active, in time order: the devices view cuts its idle gaps
    /// from these, so a page not loaded yet cannot hide activity inside a collapsed gap.
    pub active: Vec<ActiveSpan>,
}

/// `GET /api/devices/{id}`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct DeviceResponse {
    pub device: DeviceLane,
}

/// A decision with its project's source and family. A decision's own `source` is the id merged
/// away, so the project's source goes under `project_source`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct DecisionItem {
    #[serde(flatten)]
    pub decision: Decision,
    pub project_source: String,
    /// The identity family whose rule decided.
    pub family: Family,
}

/// `GET /api/decisions`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct DecisionsPage {
    pub decisions: Vec<DecisionItem>,
    /// With `wait`: how the wait ended. Absent on a plain read.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub waited: Option<Waited>,
}

/// A finding with its project's source and family.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct FindingItem {
    #[serde(flatten)]
    pub finding: Finding,
    pub source: String,
    pub family: Family,
}

/// `GET /api/warnings`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct WarningsPage {
    pub warnings: Vec<FindingItem>,
    /// With `wait`: how the wait ended. Absent on a plain read.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub waited: Option<Waited>,
}

/// `GET /api/warnings/groups`: findings by rule, severity and variant, most severe and biggest
/// group first, each with its size, its fix and its newest findings.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct WarningGroupsPage {
    pub groups: Vec<identity_engine::FindingGroup<FindingItem>>,
}

/// `GET /api/lens?project=[&compare=]`: the project's traffic under each vendor's identity rules;
/// with `compare`, also the user ids of both projects side by side.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct LensResponse {
    #[serde(flatten)]
    pub lens: identity_engine::Lens,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub compare: Option<identity_engine::Comparison>,
    /// The project's settings in words, one per family they apply to (Mixpanel's ID merge
    /// mode, Segment's blocked values): the lens replays the traffic under several vendors.
    pub settings_labels: Vec<FamilyLabel>,
}

// ---- /api/projects/{key}/settings ----

/// What a project's settings mean for one family's rules, in words.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct FamilyLabel {
    pub family: Family,
    pub label: String,
}

/// `GET`/`PUT /api/projects/{key}/settings`: one project's identity settings.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct ProjectSettingsResponse {
    pub project: String,
    /// The stored settings, or the vendors' defaults when never configured.
    pub settings: identity_engine::ProjectSettings,
    /// False when the project was never configured (the defaults apply).
    pub configured: bool,
    /// The label of every family a setting applies to (see [`FamilyLabel`]).
    pub labels: Vec<FamilyLabel>,
}

/// `GET /api/projects/settings`: every configured project.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct ProjectSettingsPage {
    pub projects: Vec<ProjectSettingsResponse>,
}

// ---- /api/control, /api/data ----

/// The control state every control call answers with.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct ControlStatus {
    pub capture: CaptureStatus,
    pub retention: Retention,
    pub theme: UiTheme,
    pub notices: Vec<Notice>,
    /// The desktop smoke test's probe is on (`--test-probe`).
    pub test_probe: bool,
}

/// `GET /api/control`: the state and the token for state-changing calls.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct ControlInfo {
    #[serde(flatten)]
    pub status: ControlStatus,
    /// Send it as `x-inspector-token` on every call that changes something.
    pub token: String,
}

/// `DELETE /api/data`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct Cleared {
    pub removed: Removed,
}

// ---- /api/faults, /api/deliveries ----

/// `GET /api/faults`: the rules in force, in the order capture checks them, then the expired
/// ones (the newest 20), newest first.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct FaultsPage {
    /// How many rules are in force.
    pub active: usize,
    pub rules: Vec<FaultView>,
}

/// `POST /api/faults` (201) and `DELETE /api/faults/{id}`: the rule put in force, or removed.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct FaultResponse {
    pub rule: FaultView,
}

/// `DELETE /api/faults`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct FaultsCleared {
    /// Rules that were in force.
    pub removed: usize,
}

/// `GET /api/deliveries`: the event uuids a fault touched, the most recently faulted first.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct DeliveriesPage {
    pub deliveries: Vec<Delivery>,
    pub next_cursor: Option<i64>,
}

/// `DELETE /api/projects/{key}`: what went of one project.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct ProjectDeleted {
    pub project: String,
    /// Stored rows: its events, and its requests (those that carried the events, refused ones,
    /// and accepted ones without events such as flags calls).
    pub removed: Removed,
    /// What the identity model dropped (persons, lanes, decisions, findings); null when the
    /// server keeps no model, or the model was still rebuilding after 10 s (it drops the project
    /// when it gets there; reads wait for it).
    pub identity: Option<Forgotten>,
    /// The project's identity settings were stored and stay (they are configuration, not
    /// traffic: the project's next events get them; `PUT` its settings to change them).
    pub settings_kept: bool,
}

// ---- /api/import, /api/datasets ----

/// `POST /api/import`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct Imported {
    pub imported: ImportSummary,
}

/// `GET /api/datasets`: newest first.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct DatasetsPage {
    pub datasets: Vec<DatasetSummary>,
}

// ---- /api/test (desktop smoke test) ----

/// `POST /api/test/probe`: a navigation the test asked for, if any.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct ProbeReply {
    pub navigate: Option<String>,
}

/// `GET /api/test/probe`: the page's latest report.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct ProbeLatest {
    #[cfg_attr(feature = "ts", ts(type = "unknown"))]
    pub report: Option<Value>,
    pub reports: u64,
}

/// `POST /api/test/navigate`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(TS))]
pub struct NavigateQueued {
    pub queued: bool,
}
