//! `/api/persons`, `/api/devices`, `/api/decisions`, `/api/warnings`, `/api/lens`, `/api/why`: the identity
//! model as JSON. Every handler first waits for the model to include all committed events
//! (`Identity::synced`), then reads it on the blocking pool (`Identity::read_off_workers`);
//! persons, decisions and warnings also take `wait` and `min` (`long_poll`): answer once the
//! model holds that many;
//! the lens is computed there too: no handler here keeps an async worker from capture. Every item carries its project's `source` and identity `family`, and
//! every list takes `?source=` (repeatable or comma-separated) to keep some sources only.

use axum::extract::State;
use axum::Json;
use std::collections::{BTreeMap, HashMap};

use identity_engine::{Decision, DecisionKind, DeviceLane, LintRule, Person, Severity};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use super::dto::{
    ActiveSpan, DecisionItem, DecisionsPage, DeviceResponse, DevicesPage, FindingItem, LaneRange, LensResponse,
    PersonDetail, PersonRef, PersonSummary, PersonsPage, WarningGroupsPage, WarningsPage,
};
use super::long_poll::{self, duration, Wait, WaitParams, Wake};
use super::params::{empty_as_none, person_id, whole_number, ApiPath, ApiQuery};
use super::sources::{LiveOnly, SourceFilter};
use crate::error::ApiError;
use crate::AppState;

const DEFAULT_PERSONS: usize = 500;
const MAX_PERSONS: usize = 5_000;
const MAX_DEVICES: usize = 1_000;

fn person_summary(p: &Person, model: &identity_engine::Model, flags: &PersonFlags) -> PersonSummary {
    let engine = model.engine();
    PersonSummary {
        id: p.id,
        label: engine.display_label(p),
        user_ids: model.user_like_ids(p),
        flags: flags.get(&p.id).map(|f| f.rules.clone()).unwrap_or_default(),
        project: p.project.clone(),
        source: engine.source(&p.project).to_owned(),
        family: engine.family(&p.project),
        distinct_ids: p.distinct_ids.clone(),
        is_identified: p.is_identified,
        properties: p.properties.clone(),
        created_at: p.created_at,
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PersonsQuery {
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) project: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) distinct_id: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) q: Option<String>,
    /// `newest` or `oldest` (the default).
    #[serde(default, rename = "order", deserialize_with = "newest_first")]
    pub(crate) newest_first: bool,
    #[serde(default, deserialize_with = "whole_number")]
    pub(crate) limit: Option<usize>,
    /// An offset: the previous page's `next_cursor`.
    #[serde(default, deserialize_with = "whole_number")]
    pub(crate) cursor: Option<usize>,
    /// Only persons with a finding of this rule.
    #[serde(default, deserialize_with = "lint_rule")]
    pub(crate) flagged: Option<LintRule>,
    /// `flagged`: persons with an error finding first, then as `order` says.
    #[serde(default, rename = "sort", deserialize_with = "flagged_first")]
    pub(crate) flagged_first: bool,
    /// Long poll (`handlers/long_poll.rs`): answer once `min` persons match (`total`), or after
    /// `wait`.
    #[serde(default, deserialize_with = "duration")]
    pub(crate) wait: Option<std::time::Duration>,
    #[serde(default, deserialize_with = "whole_number")]
    pub(crate) min: Option<usize>,
}

/// The rules with findings on each person, and whether one of them is an error.
#[derive(Debug, Default)]
struct Flags {
    rules: Vec<LintRule>,
    error: bool,
}

type PersonFlags = HashMap<uuid::Uuid, Flags>;

/// The findings of `projects` by the person each of their ids belongs to now (a finding names
/// ids, not persons, so merges made after it still count). O(findings × ids per finding).
fn person_flags(model: &identity_engine::Model, projects: &[&str]) -> PersonFlags {
    let engine = model.engine();
    let mut flags = PersonFlags::new();
    for project in projects {
        for f in model.findings(Some(project)) {
            for id in &f.distinct_ids {
                let Some(person) = engine.person_for(project, id) else { continue };
                let entry = flags.entry(person.id).or_default();
                if !entry.rules.contains(&f.rule) {
                    entry.rules.push(f.rule);
                }
                entry.error |= f.severity == Severity::Error;
            }
        }
    }
    flags
}

/// `flagged=<rule>`: a lint rule by its snake_case name.
fn lint_rule<'de, D: Deserializer<'de>>(d: D) -> Result<Option<LintRule>, D::Error> {
    let Some(text) = empty_as_none(d)? else { return Ok(None) };
    text.parse::<LintRule>().map(Some).map_err(|()| {
        let names: Vec<&str> = LintRule::ALL.iter().map(|r| r.as_str()).collect();
        D::Error::custom(format!("must be a lint rule ({}), not {text:?}", names.join(", ")))
    })
}

/// `sort=flagged` (persons with an error finding first); `sort=` keeps `order`'s order.
fn flagged_first<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match empty_as_none(d)?.as_deref() {
        None => Ok(false),
        Some("flagged") => Ok(true),
        Some(other) => Err(D::Error::custom(format!("must be `flagged`, not {other:?}"))),
    }
}

/// `order=newest|oldest`; `order=` is the default, oldest first.
fn newest_first<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match empty_as_none(d)?.as_deref() {
        None | Some("oldest") => Ok(false),
        Some("newest") => Ok(true),
        Some(other) => Err(D::Error::custom(format!("must be `newest` or `oldest`, not {other:?}"))),
    }
}

/// Case-insensitive substring match of `needle` (already lowercase) in a distinct id or a string
/// property value of the person.
fn person_matches(p: &Person, needle: &str) -> bool {
    p.distinct_ids.iter().any(|id| id.to_lowercase().contains(needle))
        || p.id.to_string().contains(needle)
        || p.properties.values().any(|v| v.as_str().is_some_and(|s| s.to_lowercase().contains(needle)))
}

/// Waits for the model to include every committed event, as every read here does; a read that
/// waits for `min` items (`long_poll`) waits for that no longer than its own wait.
async fn synced(state: &AppState, wait: Option<Wait>) {
    match wait {
        None => state.identity.synced(&state.store).await,
        Some(wait) => drop(tokio::time::timeout_at(wait.until(), state.identity.synced(&state.store)).await),
    }
}

pub async fn persons(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PersonsQuery>,
    sources: SourceFilter,
    live: LiveOnly,
) -> Result<Json<PersonsPage>, ApiError> {
    let wait = WaitParams { wait: q.wait, min: q.min }.wait(usize::MAX)?;
    let read = || {
        let (q, sources, state) = (q.clone(), sources.clone(), &state);
        async move {
            synced(state, wait).await;
            let page = read_persons(state, q, sources, live).await?;
            let total = page.total;
            Ok((page, total))
        }
    };
    let (mut page, waited) = long_poll::until_enough(&state, wait, || Wake::identity(&state), read).await?;
    page.waited = waited;
    Ok(Json(page))
}

/// The persons matching `q` (`GET /api/persons`, the MCP tools), a page of them.
pub(crate) async fn persons_page(
    state: &AppState,
    q: PersonsQuery,
    sources: SourceFilter,
    live: LiveOnly,
) -> Result<PersonsPage, ApiError> {
    state.identity.synced(&state.store).await;
    read_persons(state, q, sources, live).await
}

/// [`persons_page`] of the model as it is (the caller has waited for it).
async fn read_persons(
    state: &AppState,
    q: PersonsQuery,
    sources: SourceFilter,
    live: LiveOnly,
) -> Result<PersonsPage, ApiError> {
    let limit = q.limit.unwrap_or(DEFAULT_PERSONS).clamp(1, MAX_PERSONS);
    let offset = q.cursor.unwrap_or(0);
    let needle = q.q.as_ref().map(|t| t.to_lowercase());
    state
        .identity
        .read_off_workers(move |model| {
            let engine = model.engine();
            let mut projects: Vec<&str> = match &q.project {
                Some(p) => vec![p.as_str()],
                None => engine.projects(),
            };
            projects.retain(|p| sources.allows(engine.source(p)) && (q.project.is_some() || live.allows(p)));
            let mut found: Vec<&Person> = match &q.distinct_id {
                Some(id) => projects.iter().filter_map(|p| engine.person_for(p, id)).collect(),
                None => projects.iter().flat_map(|p| engine.persons(p)).collect(),
            };
            if let Some(needle) = &needle {
                found.retain(|p| person_matches(p, needle));
            }
            if q.newest_first {
                found.sort_by(|a, b| b.created_by.seq.cmp(&a.created_by.seq).then(a.id.cmp(&b.id)));
            }
            let flags = person_flags(model, &projects);
            if let Some(rule) = q.flagged {
                found.retain(|p| flags.get(&p.id).is_some_and(|f| f.rules.contains(&rule)));
            }
            if q.flagged_first {
                // Stable: persons keep `order`'s order within each group.
                found.sort_by_key(|p| !flags.get(&p.id).is_some_and(|f| f.error));
            }
            let persons: Vec<PersonSummary> =
                found.iter().skip(offset).take(limit).map(|p| person_summary(p, model, &flags)).collect();
            let next_cursor = (offset + persons.len() < found.len()).then(|| (offset + persons.len()).to_string());
            PersonsPage { total: found.len(), persons, next_cursor, waited: None }
        })
        .await
}

fn decisions_about(decisions: &[Decision], person: &Person) -> Vec<Decision> {
    let mine = |id: &Option<String>| id.as_ref().is_some_and(|id| person.distinct_ids.contains(id));
    decisions
        .iter()
        .filter(|d| {
            d.project == person.project && (d.person_id == Some(person.id) || mine(&d.source) || mine(&d.target))
        })
        .cloned()
        .collect()
}

pub async fn person(
    State(state): State<AppState>,
    ApiPath(uuid): ApiPath<uuid::Uuid>,
) -> Result<Json<PersonDetail>, ApiError> {
    Ok(Json(person_detail(&state, uuid).await?))
}

/// One person with its ids, properties, history, the decisions about it and its lanes
/// (`GET /api/persons/{id}`, the MCP tools).
pub(crate) async fn person_detail(state: &AppState, uuid: uuid::Uuid) -> Result<PersonDetail, ApiError> {
    state.identity.synced(&state.store).await;
    state
        .identity
        .read_off_workers(move |model| {
            let engine = model.engine();
            let person = engine.person(uuid).ok_or_else(|| ApiError::NotFound(format!("no person with id {uuid}")))?;
            let devices = model
                .devices(Some(&person.project))
                .into_iter()
                .filter(|lane| lane.segments.iter().any(|s| s.person_id == Some(uuid)))
                .map(|lane| lane.id.clone())
                .collect();
            let id_kinds = person
                .distinct_ids
                .iter()
                .filter_map(|id| engine.id_kind(&person.project, id).map(|k| (id.clone(), k)))
                .collect();
            Ok(PersonDetail {
                person: person.clone(),
                label: engine.display_label(person),
                decisions: decisions_about(engine.decisions(), person),
                source: engine.source(&person.project).to_owned(),
                family: engine.family(&person.project),
                id_kinds,
                devices,
                // The settings the model applied, which a read after `synced` has caught up with.
                settings_label: engine.settings(&person.project).label_for(engine.family(&person.project)),
            })
        })
        .await?
}

/// `GET /api/decisions` and `GET /api/warnings` parameters; `source` is read by [`SourceFilter`].
#[derive(Debug, Clone, Deserialize)]
pub struct ProjectQuery {
    #[serde(default, deserialize_with = "empty_as_none")]
    project: Option<String>,
    /// Decisions only: one kind of decision.
    #[serde(default, deserialize_with = "decision_kind")]
    outcome: Option<DecisionKind>,
    #[serde(default, deserialize_with = "empty_as_none")]
    event_uuid: Option<String>,
    /// Warnings only: the findings of these rules (comma-separated names), e.g. the three whose
    /// ids the events table tints red, without the megabytes of every other finding.
    #[serde(default, deserialize_with = "lint_rules")]
    rules: Option<Vec<identity_engine::LintRule>>,
    /// Warnings only: the findings first fired by an event after this seq (and those about
    /// undelivered events), so a follower fetches what is new, not every finding again.
    #[serde(default, deserialize_with = "whole_number")]
    after_seq: Option<i64>,
    /// Long poll (`handlers/long_poll.rs`): answer once `min` items match, or after `wait`.
    #[serde(default, deserialize_with = "duration")]
    wait: Option<std::time::Duration>,
    #[serde(default, deserialize_with = "whole_number")]
    min: Option<usize>,
}

/// `rules=` names lint rules by their snake_case names, separated by commas.
fn lint_rules<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<identity_engine::LintRule>>, D::Error> {
    let Some(text) = empty_as_none(d)? else { return Ok(None) };
    text.split(',')
        .map(|name| {
            name.trim().parse().map_err(|()| {
                let known: Vec<&str> = identity_engine::LintRule::ALL.iter().map(|r| r.as_str()).collect();
                D::Error::custom(format!("unknown rule {name:?}; the rules are {}", known.join(", ")))
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// `outcome=` names a [`DecisionKind`] by its serde name.
fn decision_kind<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DecisionKind>, D::Error> {
    const OUTCOMES: &str = "merged, attached, created, refused, ignored, dropped";
    let Some(text) = empty_as_none(d)? else { return Ok(None) };
    serde_json::from_value(serde_json::Value::String(text.clone()))
        .map(Some)
        .map_err(|_| D::Error::custom(format!("must be one of {OUTCOMES}, not {text:?}")))
}

/// `GET /api/devices` parameters; `source` is read by [`SourceFilter`].
#[derive(Debug, Default, Deserialize)]
pub struct DevicesQuery {
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) project: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) q: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) device_id: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) distinct_id: Option<String>,
    #[serde(default, deserialize_with = "person_id")]
    pub(crate) person_id: Option<uuid::Uuid>,
    #[serde(default, deserialize_with = "whole_number")]
    pub(crate) limit: Option<usize>,
    /// An offset: the previous page's `next_cursor`.
    #[serde(default, deserialize_with = "whole_number")]
    pub(crate) cursor: Option<usize>,
    /// `first`: lanes with an error or warning finding before the others; `only`: just those.
    #[serde(default)]
    pub(crate) flagged: Option<FlaggedLanes>,
    /// `last`: anonymous-id chain lanes (server SDKs, apps without a device id) after the device
    /// lanes; `hide`: without them.
    #[serde(default)]
    pub(crate) chains: Option<ChainLanes>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainLanes {
    Last,
    Hide,
}

/// A lane keyed by an anonymous-id chain with no user agent: what server SDKs (and apps that
/// send no device id) make, one per user rather than per device.
fn is_chain(l: &DeviceLane) -> bool {
    l.key_kind == identity_engine::LaneKey::AnonymousId && l.user_agent.is_none()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlaggedLanes {
    First,
    Only,
}

/// Known moments closer than this are one active span. The devices view collapses only gaps
/// longer than this (its `MIN_GAP`), so merging them loses nothing it draws.
const ACTIVE_MERGE_SECONDS: i64 = 30;

/// When `lanes` were active: every segment's ends, transition and session ends, sorted and
/// merged into spans (see `ActiveSpan`).
///
/// It runs on every devices page over every matching lane (10 000 in the UI benchmark), so it
/// works in whole microseconds rather than `DateTime` arithmetic, and merges each lane's moments
/// into that lane's spans before merging all lanes' spans by start. The result is the same as
/// merging every moment at once: a moment inside a lane's span is within the merge distance of
/// one of that span's moments.
fn active_spans(lanes: &[&DeviceLane]) -> Vec<ActiveSpan> {
    const NEAR: i64 = ACTIVE_MERGE_SECONDS * 1_000_000;
    let micros = |t: &chrono::DateTime<chrono::Utc>| t.timestamp_micros();
    let mut spans: Vec<(i64, i64)> = Vec::new();
    let mut moments: Vec<i64> = Vec::new();
    for lane in lanes {
        moments.clear();
        moments.extend(lane.segments.iter().flat_map(|s| [micros(&s.first_timestamp), micros(&s.last_timestamp)]));
        moments.extend(lane.transitions.iter().map(|t| micros(&t.timestamp)));
        moments.extend(lane.sessions.iter().flat_map(|s| [micros(&s.first_timestamp), micros(&s.last_timestamp)]));
        moments.sort_unstable();
        let own = spans.len();
        for &m in &moments {
            // Only this lane's spans (from `own` on) grow here; lanes are merged below.
            match spans[own..].last_mut() {
                Some(span) if m - span.1 <= NEAR => span.1 = m,
                _ => spans.push((m, m)),
            }
        }
    }
    spans.sort_unstable();
    let mut merged: Vec<(i64, i64)> = Vec::new();
    for (first, last) in spans {
        match merged.last_mut() {
            Some(span) if first - span.1 <= NEAR => span.1 = span.1.max(last),
            _ => merged.push((first, last)),
        }
    }
    let at = |us: i64| chrono::DateTime::from_timestamp_micros(us).unwrap_or_default();
    merged.into_iter().map(|(first, last)| ActiveSpan { first: at(first), last: at(last) }).collect()
}

fn lanes_range(lanes: &[&DeviceLane]) -> Option<LaneRange> {
    let first = lanes.first()?;
    let start = LaneRange {
        first_seen: first.first_seen,
        last_seen: first.last_seen,
        first_seq: first.first_seq,
        last_seq: first.last_seq,
    };
    Some(lanes.iter().fold(start, |r, l| LaneRange {
        first_seen: r.first_seen.min(l.first_seen),
        last_seen: r.last_seen.max(l.last_seen),
        first_seq: r.first_seq.min(l.first_seq),
        last_seq: r.last_seq.max(l.last_seq),
    }))
}

/// A lane with each segment's `current_person_id`: the person its distinct id belongs to now (a
/// segment's `person_id` is the one PostHog wrote at the time; later merges move ids).
fn lane_view(model: &identity_engine::Model, lane: &DeviceLane) -> DeviceLane {
    lane.with_current_persons(model.engine())
}

/// Lanes, most recently active first. Without `limit` every matching lane; with it, a page
/// (`cursor` = the previous page's `next_cursor`), so a view can window 10 000 lanes.
pub async fn devices(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<DevicesQuery>,
    sources: SourceFilter,
    live: LiveOnly,
) -> Result<Json<DevicesPage>, ApiError> {
    Ok(Json(devices_page(&state, q, sources, live).await?))
}

/// The lanes matching `q` (`GET /api/devices`, the MCP tools); see [`devices`].
pub(crate) async fn devices_page(
    state: &AppState,
    q: DevicesQuery,
    sources: SourceFilter,
    live: LiveOnly,
) -> Result<DevicesPage, ApiError> {
    let limit = q.limit.map(|n| n.clamp(1, MAX_DEVICES));
    let offset = q.cursor.unwrap_or(0);
    let needle = q.q.map(|t| t.to_lowercase());
    state.identity.synced(&state.store).await;
    let page = state
        .identity
        .read_off_workers(move |model| {
            let lanes: Vec<&DeviceLane> = model
                .devices(q.project.as_deref())
                .into_iter()
                .filter(|l| sources.allows(model.engine().source(&l.project)))
                .filter(|l| live.allows(&l.project))
                .filter(|l| q.device_id.as_ref().is_none_or(|d| &l.device_id == d))
                .filter(|l| q.distinct_id.as_ref().is_none_or(|d| l.segments.iter().any(|s| &s.distinct_id == d)))
                .filter(|l| q.person_id.is_none_or(|p| l.segments.iter().any(|s| s.person_id == Some(p))))
                .filter(|l| {
                    needle.as_ref().is_none_or(|n| {
                        l.id.to_lowercase().contains(n)
                            || l.user_agent.as_ref().is_some_and(|ua| ua.to_lowercase().contains(n))
                            || l.segments.iter().any(|s| s.distinct_id.to_lowercase().contains(n))
                    })
                })
                .collect();
            // A lane is flagged when an error or warning finding names its device (info notes,
            // such as the billing share, say nothing is wrong).
            let findings = model.findings(q.project.as_deref());
            let flagged_devices: foldhash::HashSet<(&str, &str)> = findings
                .iter()
                .filter(|f| f.severity != identity_engine::Severity::Info)
                .flat_map(|f| f.device_ids.iter().map(|d| (f.project.as_str(), d.as_str())))
                .collect();
            let is_flagged = |l: &DeviceLane| flagged_devices.contains(&(l.project.as_str(), l.device_id.as_str()));
            let flagged_total = lanes.iter().filter(|l| is_flagged(l)).count();
            let lanes: Vec<&DeviceLane> = match q.flagged {
                None => lanes,
                Some(FlaggedLanes::Only) => lanes.into_iter().filter(|l| is_flagged(l)).collect(),
                Some(FlaggedLanes::First) => {
                    let (mut first, rest): (Vec<_>, Vec<_>) = lanes.into_iter().partition(|l| is_flagged(l));
                    first.extend(rest);
                    first
                }
            };
            let chain_total = lanes.iter().filter(|l| is_chain(l)).count();
            let lanes: Vec<&DeviceLane> = match q.chains {
                None => lanes,
                Some(ChainLanes::Hide) => lanes.into_iter().filter(|l| !is_chain(l)).collect(),
                // Stable: within each group the order above (flagged first, then recency) holds.
                Some(ChainLanes::Last) => {
                    let (mut devices, chains): (Vec<_>, Vec<_>) = lanes.into_iter().partition(|l| !is_chain(l));
                    devices.extend(chains);
                    devices
                }
            };
            let start = offset.min(lanes.len());
            let end = limit.map_or(lanes.len(), |n| (start + n).min(lanes.len()));
            DevicesPage {
                devices: lanes[start..end].iter().map(|lane| lane_view(model, lane)).collect(),
                flagged: lanes[start..end].iter().filter(|l| is_flagged(l)).map(|l| l.id.clone()).collect(),
                flagged_total,
                chain_total,
                active: active_spans(&lanes),
                total: lanes.len(),
                next_cursor: (end < lanes.len()).then(|| end.to_string()),
                range: lanes_range(&lanes),
            }
        })
        .await?;
    Ok(page)
}

pub async fn device(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DeviceResponse>, ApiError> {
    Ok(Json(device_detail(&state, id).await?))
}

/// One lane by its id, each segment with the person its id belongs to now (`GET
/// /api/devices/{id}`, the MCP tools).
pub(crate) async fn device_detail(state: &AppState, id: String) -> Result<DeviceResponse, ApiError> {
    state.identity.synced(&state.store).await;
    state
        .identity
        .read_off_workers(move |model| {
            let lane = model.device(&id).ok_or_else(|| ApiError::NotFound(format!("no device lane with id {id:?}")))?;
            Ok(DeviceResponse { device: lane_view(model, lane) })
        })
        .await?
}

pub async fn decisions(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ProjectQuery>,
    sources: SourceFilter,
    live: LiveOnly,
) -> Result<Json<DecisionsPage>, ApiError> {
    let wait = WaitParams { wait: q.wait, min: q.min }.wait(usize::MAX)?;
    let read = || {
        let (q, sources, state) = (q.clone(), sources.clone(), &state);
        async move {
            synced(state, wait).await;
            let page = state
                .identity
                .read_off_workers(move |model| {
                    let engine = model.engine();
                    let decisions: Vec<DecisionItem> = engine
                        .decisions()
                        .iter()
                        .filter(|d| sources.allows(engine.source(&d.project)) && live.allows(&d.project))
                        .filter(|d| q.project.as_ref().is_none_or(|p| &d.project == p))
                        .filter(|d| q.outcome.is_none_or(|kind| d.kind == kind))
                        .filter(|d| q.event_uuid.as_ref().is_none_or(|u| &d.event_uuid == u))
                        .map(|d| DecisionItem {
                            decision: d.clone(),
                            project_source: engine.source(&d.project).to_owned(),
                            family: engine.family(&d.project),
                        })
                        .collect();
                    DecisionsPage { decisions, waited: None }
                })
                .await?;
            let matched = page.decisions.len();
            Ok((page, matched))
        }
    };
    let (mut page, waited) = long_poll::until_enough(&state, wait, || Wake::identity(&state), read).await?;
    page.waited = waited;
    Ok(Json(page))
}

pub async fn warnings(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ProjectQuery>,
    sources: SourceFilter,
    live: LiveOnly,
) -> Result<Json<WarningsPage>, ApiError> {
    let wait = WaitParams { wait: q.wait, min: q.min }.wait(usize::MAX)?;
    let read = || {
        let (q, sources, state) = (q.clone(), sources.clone(), &state);
        async move {
            synced(state, wait).await;
            let page = state
                .identity
                .read_off_workers(move |model| {
                    let engine = model.engine();
                    let after_seq = q.after_seq.unwrap_or(i64::MIN);
                    let warnings: Vec<FindingItem> = model
                        .findings_after(q.project.as_deref(), after_seq)
                        .into_iter()
                        .filter(|f| sources.allows(engine.source(&f.project)) && live.allows(&f.project))
                        .filter(|f| q.event_uuid.as_ref().is_none_or(|u| f.event_uuids.contains(u)))
                        .filter(|f| q.rules.as_ref().is_none_or(|rules| rules.contains(&f.rule)))
                        .map(|f| FindingItem {
                            source: engine.source(&f.project).to_owned(),
                            family: engine.family(&f.project),
                            finding: f.into_owned(),
                        })
                        .collect();
                    WarningsPage { warnings, waited: None }
                })
                .await?;
            let matched = page.warnings.len();
            Ok((page, matched))
        }
    };
    let (mut page, waited) = long_poll::until_enough(&state, wait, || Wake::identity(&state), read).await?;
    page.waited = waited;
    Ok(Json(page))
}

/// `GET /api/warnings/groups` parameters; `source` and `live_only` are read by their extractors.
#[derive(Debug, Default, Deserialize)]
pub struct WarningGroupsQuery {
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) project: Option<String>,
    /// Findings returned per group, newest first (20 unless given, at most 10 000); every
    /// group still counts all of its own.
    #[serde(default, deserialize_with = "whole_number")]
    pub(crate) per_group: Option<usize>,
}

/// The findings grouped by rule, severity and variant (`identity_engine::group_findings`), with
/// the newest `per_group` of each: what the warnings view shows first, without the megabytes of
/// every finding of a big project.
pub async fn warning_groups(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<WarningGroupsQuery>,
    sources: SourceFilter,
    live: LiveOnly,
) -> Result<Json<WarningGroupsPage>, ApiError> {
    Ok(Json(warning_groups_page(&state, q, sources, live).await?))
}

/// The findings matching `q` in groups (`GET /api/warnings/groups`, the MCP tools); see
/// [`warning_groups`].
pub(crate) async fn warning_groups_page(
    state: &AppState,
    q: WarningGroupsQuery,
    sources: SourceFilter,
    live: LiveOnly,
) -> Result<WarningGroupsPage, ApiError> {
    state.identity.synced(&state.store).await;
    let page = state
        .identity
        .read_off_workers(move |model| {
            let engine = model.engine();
            let findings = model
                .findings(q.project.as_deref())
                .into_iter()
                .filter(|f| sources.allows(engine.source(&f.project)) && live.allows(&f.project));
            let groups =
                identity_engine::group_findings(findings, q.per_group.unwrap_or(20).clamp(1, 10_000), |finding| {
                    FindingItem {
                        source: engine.source(&finding.project).to_owned(),
                        family: engine.family(&finding.project),
                        finding,
                    }
                });
            WarningGroupsPage { groups }
        })
        .await?;
    Ok(page)
}

/// `GET /api/lens` parameters.
#[derive(Debug, Default, Deserialize)]
pub struct LensQuery {
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) project: Option<String>,
    /// Another project (usually another vendor's) to join with by user id.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) compare: Option<String>,
    /// Mixpanel under this ID merge mode instead of the project's own (`simplified`,
    /// `original`): "what if this project were the other mode".
    #[serde(default)]
    pub(crate) mixpanel_id_merge: Option<identity_engine::MixpanelIdMerge>,
}

/// The settings the identity model applies to `project` (the defaults when never set).
async fn settings_of(state: &AppState, project: &str) -> Result<identity_engine::ProjectSettings, ApiError> {
    state.identity.synced(&state.store).await;
    let project = project.to_owned();
    state.identity.read_off_workers(move |model| model.engine().settings(&project)).await
}

/// The lens of `project` under its stored settings, Mixpanel under `mixpanel_id_merge` when given.
async fn lens_of(
    state: &AppState,
    project: String,
    mixpanel_id_merge: Option<identity_engine::MixpanelIdMerge>,
) -> Result<identity_engine::Lens, ApiError> {
    let mut settings = settings_of(state, &project).await?;
    if let Some(mode) = mixpanel_id_merge {
        settings.mixpanel_id_merge = mode;
    }
    let store = state.store.clone();
    let name = project.clone();
    let events = crate::background::run("the lens", move || ingest::project_events(&store, &name))
        .await?
        .map_err(|e| ApiError::Internal(format!("cannot read the events of project {project:?}: {e}")))?;
    if events.is_empty() {
        return Err(ApiError::NotFound(format!("no events stored for project {project:?}")));
    }
    // Replaying a big project under five vendors' rules takes seconds: in the background.
    crate::background::run("the lens", move || identity_engine::vendor_lens_with(&project, &events, &settings)).await
}

/// `GET /api/lens?project=[&compare=][&mixpanel_id_merge=]`: the project's traffic under
/// PostHog's, Segment's, RudderStack's, Mixpanel's and KISSmetrics' identity rules (see
/// `identity_engine::vendor_lens_with`), Mixpanel under the project's ID merge mode unless
/// `mixpanel_id_merge` asks for the other; with `compare`, also the user ids of both projects
/// side by side (`identity_engine::compare`) under `"compare"`.
pub async fn lens(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<LensQuery>,
) -> Result<Json<LensResponse>, ApiError> {
    Ok(Json(lens_response(&state, q).await?))
}

/// The vendor lens of `q.project`, and the comparison with `q.compare` when given (`GET
/// /api/lens`, the MCP tools); see [`lens`].
pub(crate) async fn lens_response(state: &AppState, q: LensQuery) -> Result<LensResponse, ApiError> {
    let project = q.project.ok_or_else(|| ApiError::MissingParameter {
        parameter: "project",
        message: "`project` is required: /api/lens?project=<token or write key>".into(),
    })?;
    let lens = lens_of(state, project, q.mixpanel_id_merge).await?;
    let settings_labels = super::settings::labels(&lens.settings);
    let compare = match q.compare {
        Some(other) => {
            let other = lens_of(state, other, q.mixpanel_id_merge).await?;
            let (lens, compared) = crate::background::run("the lens", move || {
                let compared = identity_engine::compare(&lens, &other);
                (lens, compared)
            })
            .await?;
            return Ok(LensResponse { lens, compare: Some(compared), settings_labels });
        }
        None => None,
    };
    Ok(LensResponse { lens, compare, settings_labels })
}

/// `GET /api/why` parameters: two distinct ids of one project.
#[derive(Debug, Default, Deserialize)]
pub struct WhyQuery {
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) project: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) a: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub(crate) b: Option<String>,
}

fn required(value: Option<String>, parameter: &'static str) -> Result<String, ApiError> {
    value.ok_or_else(|| ApiError::MissingParameter {
        parameter,
        message: format!(
            "`{parameter}` is required: /api/why?project=<token or write key>&a=<distinct id>&b=<distinct id>"
        ),
    })
}

/// The name of the last stored event of `distinct_id` before arrival `seq`, which the why
/// answer's root cause quotes ("no reset() after `logged_out`").
fn last_event_before(store: &event_store::Store, project: &str, distinct_id: &str, seq: i64) -> Option<String> {
    let filter = event_store::EventFilter {
        project: Some(project.to_owned()),
        distinct_id: Some(distinct_id.to_owned()),
        before_seq: Some(seq),
        limit: 1,
        ..Default::default()
    };
    store.events(&filter).ok()?.items.into_iter().next().map(|e| e.event)
}

/// `GET /api/why?project=&a=&b=`: why two distinct ids are one person (the shortest chain of
/// decisions that joined them, each with its event, lane, rule and sentence, and the root cause
/// when the lanes and findings show one) or not (the refusals between them). See
/// `identity_engine::Model::why`. An id the project never saw is a 404 naming the parameter.
pub async fn why(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<WhyQuery>,
) -> Result<Json<identity_engine::WhyAnswer>, ApiError> {
    let project = required(q.project, "project")?;
    let a = required(q.a, "a")?;
    let b = required(q.b, "b")?;
    Ok(Json(why_answer(&state, project, a, b).await?))
}

/// Why distinct ids `a` and `b` of `project` are one person, or not (`GET /api/why`, the MCP
/// tools); see [`why`].
pub(crate) async fn why_answer(
    state: &AppState,
    project: String,
    a: String,
    b: String,
) -> Result<identity_engine::WhyAnswer, ApiError> {
    state.identity.synced(&state.store).await;
    let store = state.store.clone();
    state
        .identity
        .read_off_workers(move |model| {
            let last_event = |id: &str, seq: i64| last_event_before(&store, &project, id, seq);
            model.why_with(&project, &a, &b, &last_event).map_err(|e| match e {
                identity_engine::WhyError::UnknownId { which, .. } => ApiError::NotFoundParameter {
                    parameter: match which {
                        identity_engine::WhichId::A => "a",
                        identity_engine::WhichId::B => "b",
                    },
                    message: e.to_string(),
                },
            })
        })
        .await?
}

/// The person each event's distinct id belongs to now, by event uuid, with its display label:
/// `(event uuid, project, distinct id)` in, one model read for the whole page. Labels are
/// computed once per person.
pub(crate) fn person_refs(
    model: &identity_engine::Model,
    events: &[(String, String, String)],
) -> BTreeMap<String, PersonRef> {
    let engine = model.engine();
    let mut labels: HashMap<uuid::Uuid, String> = HashMap::new();
    let mut out = BTreeMap::new();
    for (uuid, project, distinct_id) in events {
        let Some(person) = engine.person_for(project, distinct_id) else { continue };
        let label = labels.entry(person.id).or_insert_with(|| engine.display_label(person)).clone();
        out.insert(uuid.clone(), PersonRef { id: person.id, label });
    }
    out
}
