//! The tools about identity: `get_person`, `why`, `device_timeline`, `list_warnings` and
//! `vendor_lens`. Each reads through the function its `/api` endpoint answers with
//! (`handlers::identity`), so an agent and the UI see the same persons, decisions and findings;
//! here they are only worded.

use identity_engine::{DeviceLane, LintRule, WhyAnswer, WhyStep};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::schemars::{self, JsonSchema};
use rmcp::{tool, tool_router};
use serde::Deserialize;

use super::answer::{clip, count, failed, json_preview, moment, name_of, refused, rest, Answer};
use super::traffic::known_project;
use super::Tools;
use crate::error::ApiError;
use crate::handlers::dto::PersonDetail;
use crate::handlers::identity::{
    device_detail, devices_page, lens_response, person_detail, persons_page, warning_groups_page, why_answer,
    DevicesQuery, LensQuery, PersonsQuery, WarningGroupsQuery,
};
use crate::handlers::sources::{LiveOnly, SourceFilter};

/// Ids, properties and decisions of a person listed before "N more".
const PERSON_IDS: usize = 40;
const PERSON_PROPERTIES: usize = 40;
const PERSON_DECISIONS: usize = 25;
/// Entries of a device timeline shown from its start, and from its end.
const TIMELINE_HEAD: usize = 20;
const TIMELINE_TAIL: usize = 40;
/// Lanes listed besides the one whose timeline is shown.
const OTHER_LANES: usize = 10;
/// Findings shown per warnings group unless `per_group` asks for more, and at most.
const DEFAULT_PER_GROUP: usize = 3;
const MAX_PER_GROUP: usize = 20;
/// Disagreements and compared users a lens answer lists.
const LENS_DISAGREEMENTS: usize = 10;
const LENS_USERS: usize = 20;

/// `get_person` arguments.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GetPerson {
    /// The person's id (a UUID, as other answers give it). Or give distinct_id instead.
    #[serde(default)]
    person_id: Option<String>,
    /// A distinct id (user id or anonymous id): the person it belongs to now.
    #[serde(default)]
    distinct_id: Option<String>,
    /// The project of distinct_id (needed when the id is used in several projects).
    #[serde(default)]
    project: Option<String>,
}

/// `why` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Why {
    /// The project both ids belong to: a token or write key.
    project: String,
    /// One distinct id.
    a: String,
    /// The other distinct id.
    b: String,
}

/// `device_timeline` arguments: one of `lane_id`, `device_id` or `distinct_id`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeviceTimeline {
    /// A lane id as other answers give it ("<project>/<device id>").
    #[serde(default)]
    lane_id: Option<String>,
    /// A device id as events carry it ($device_id, or the anonymous id of an SDK without one).
    #[serde(default)]
    device_id: Option<String>,
    /// A distinct id: the lanes (devices) that used it.
    #[serde(default)]
    distinct_id: Option<String>,
    /// Only lanes of this project.
    #[serde(default)]
    project: Option<String>,
}

/// `list_warnings` arguments.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListWarnings {
    /// Only findings of this project.
    #[serde(default)]
    project: Option<String>,
    /// Only findings of this rule (its snake_case name, as answers give it).
    #[serde(default)]
    rule: Option<String>,
    /// Only projects of these SDK families: posthog, segment, rudderstack, mixpanel, kissmetrics.
    #[serde(default)]
    source: Vec<String>,
    /// Findings shown per group, newest first: 3 unless given, at most 20.
    #[serde(default)]
    per_group: Option<usize>,
}

/// Mixpanel's ID merge mode for the lens.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum IdMerge {
    Simplified,
    Original,
}

/// `vendor_lens` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VendorLens {
    /// The project whose traffic to replay under every vendor's rules.
    project: String,
    /// Another project (usually another vendor's, fed by the same app) to compare users with.
    #[serde(default)]
    compare: Option<String>,
    /// Replay Mixpanel under this ID merge mode instead of the project's own.
    #[serde(default)]
    mixpanel_id_merge: Option<IdMerge>,
}

#[tool_router(router = identity_tools, vis = "pub(crate)")]
impl Tools {
    /// A person as the vendor's identity rules made it: its distinct ids (and what each is), its
    /// properties, the persons merged into it, every decision about it with the vendor's reason,
    /// and its device lanes. Give person_id, or distinct_id (and project).
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn get_person(&self, Parameters(args): Parameters<GetPerson>) -> CallToolResult {
        let state = &self.state;
        let answer = async {
            known_project(state, args.project.as_deref()).await?;
            let id = match (&args.person_id, &args.distinct_id) {
                (Some(id), _) => uuid::Uuid::parse_str(id).map_err(|_| {
                    ApiError::invalid_parameter("person_id", format!("person_id must be a UUID, not {id:?}"))
                })?,
                (None, Some(distinct_id)) => {
                    let query = PersonsQuery {
                        project: args.project.clone(),
                        distinct_id: Some(distinct_id.clone()),
                        limit: Some(10),
                        ..PersonsQuery::default()
                    };
                    let page = persons_page(state, query, SourceFilter::default(), LiveOnly::default()).await?;
                    match page.persons.as_slice() {
                        [] => {
                            return Err(ApiError::NotFoundParameter {
                                parameter: "distinct_id",
                                message: format!(
                                    "no person has the distinct id {distinct_id:?}{}: the id was never seen, or its \
                                     events made no person (personless events, or refused); \
                                     search_events with distinct_id shows its events",
                                    args.project.as_deref().map(|p| format!(" in project {p:?}")).unwrap_or_default()
                                ),
                            })
                        }
                        [one] => one.id,
                        several => {
                            let mut answer = Answer::new();
                            answer.line(format!(
                                "{distinct_id:?} is an id of {} in different projects; call get_person with one \
                                 person_id or with project:",
                                count(several.len(), "person", "persons")
                            ));
                            for p in several {
                                answer.line(format!("- person {} ({:?}) in project {:?}", p.id, p.label, p.project));
                            }
                            return Ok(answer.done("pass project"));
                        }
                    }
                }
                (None, None) => return Ok(refused("give person_id, or distinct_id (and project)")),
            };
            let person = person_detail(state, id).await?;
            Ok(person_answer(&person))
        };
        answer.await.unwrap_or_else(|e| failed(&e))
    }

    /// Why two distinct ids of a project are one person (the shortest chain of events that
    /// joined them, each with the vendor's rule and reason, and the mistake in the app behind
    /// it when one shows) or why they are not (the times the vendor refused to join them).
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn why(&self, Parameters(args): Parameters<Why>) -> CallToolResult {
        let state = &self.state;
        let answer = async {
            known_project(state, Some(&args.project)).await?;
            let why = why_answer(state, args.project, args.a, args.b).await?;
            Ok(why_answer_text(&why))
        };
        answer.await.unwrap_or_else(|e: ApiError| failed(&e))
    }

    /// One device's timeline (a lane): which distinct ids it used in turn, the person each
    /// belongs to now, and every identify, alias, reset and switch between them with the
    /// vendor's reading of it. Give lane_id, device_id or distinct_id.
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn device_timeline(&self, Parameters(args): Parameters<DeviceTimeline>) -> CallToolResult {
        let state = &self.state;
        let answer = async {
            known_project(state, args.project.as_deref()).await?;
            if let Some(lane_id) = args.lane_id {
                let lane = device_detail(state, lane_id).await?.device;
                let mut answer = Answer::new();
                write_timeline(&mut answer, &lane);
                return Ok(answer.done("ask for one lane_id"));
            }
            if args.device_id.is_none() && args.distinct_id.is_none() {
                return Ok(refused("give lane_id, device_id or distinct_id"));
            }
            let query = DevicesQuery {
                project: args.project.clone(),
                device_id: args.device_id.clone(),
                distinct_id: args.distinct_id.clone(),
                limit: Some(OTHER_LANES + 1),
                ..DevicesQuery::default()
            };
            let page = devices_page(state, query, SourceFilter::default(), LiveOnly::default()).await?;
            let Some((lane, others)) = page.devices.split_first() else {
                let which = match (&args.device_id, &args.distinct_id) {
                    (Some(d), _) => format!("the device id {d:?}"),
                    (None, d) => format!("the distinct id {:?}", d.as_deref().unwrap_or_default()),
                };
                return Err(ApiError::NotFound(format!(
                    "no device lane has {which}; search_events shows the events that carry it"
                )));
            };
            let mut answer = Answer::new();
            if page.total > 1 {
                answer.line(format!(
                    "{} match; the most recently active first, the others after it.",
                    count(page.total, "lane", "lanes")
                ));
            }
            write_timeline(&mut answer, lane);
            if !others.is_empty() {
                answer.line("Other matching lanes (device_timeline with lane_id):");
                for other in others {
                    answer.line(format!(
                        "- lane {:?}: {}, last seen {}",
                        other.id,
                        count(other.event_count, "event", "events"),
                        moment(other.last_seen)
                    ));
                }
                if let Some(more) = rest(others.len() + 1, page.total, "pass project or device_id to narrow") {
                    answer.line(more);
                }
            }
            Ok(answer.done("ask for one lane_id"))
        };
        answer.await.unwrap_or_else(|e: ApiError| failed(&e))
    }

    /// Identity mistakes the inspector found in the traffic (the lint rules), grouped by rule
    /// with the fix for each group, errors first: what the vendor will do with the data, which
    /// ids and devices show it, and how to change the app.
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn list_warnings(&self, Parameters(args): Parameters<ListWarnings>) -> CallToolResult {
        let state = &self.state;
        let answer = async {
            known_project(state, args.project.as_deref()).await?;
            let rule = match &args.rule {
                None => None,
                Some(name) => Some(name.parse::<LintRule>().map_err(|()| {
                    let known: Vec<&str> = LintRule::ALL.iter().map(|r| r.as_str()).collect();
                    ApiError::invalid_parameter(
                        "rule",
                        format!("unknown rule {name:?}; the rules are {}", known.join(", ")),
                    )
                })?),
            };
            let per_group = args.per_group.unwrap_or(DEFAULT_PER_GROUP).clamp(1, MAX_PER_GROUP);
            let query = WarningGroupsQuery { project: args.project.clone(), per_group: Some(per_group) };
            let page = warning_groups_page(state, query, SourceFilter::of(&args.source)?, LiveOnly::default()).await?;
            let groups: Vec<_> = page.groups.into_iter().filter(|g| rule.is_none_or(|r| g.rule == r)).collect();
            let findings: usize = groups.iter().map(|g| g.total).sum();
            let mut answer = Answer::new();
            answer.line(format!(
                "{} in {} (most severe and biggest first):",
                count(findings, "finding", "findings"),
                count(groups.len(), "group", "groups")
            ));
            for (n, group) in groups.iter().enumerate() {
                answer.line(format!(
                    "{}. {} · {}{} · {}",
                    n + 1,
                    group.severity.as_str(),
                    group.rule.as_str(),
                    group.variant.map(|v| format!(" ({})", name_of(&v))).unwrap_or_default(),
                    count(group.total, "finding", "findings"),
                ));
                if !group.fix.is_empty() {
                    answer.line(format!("   Fix: {}", group.fix));
                }
                for item in &group.findings {
                    let f = &item.finding;
                    answer.line(format!("   - seq {} · project {:?}: {}", f.seq, f.project, f.message));
                    if f.fix != group.fix && !f.fix.is_empty() {
                        answer.line(format!("     Fix: {}", f.fix));
                    }
                    answer.line(format!(
                        "     ids: {} · devices: {} · events: {}",
                        quoted(&f.distinct_ids, 5),
                        quoted(&f.device_ids, 3),
                        quoted(&f.event_uuids, 3)
                    ));
                }
                if let Some(more) = rest(
                    group.findings.len(),
                    group.total,
                    &format!("list_warnings with rule={:?} and a larger per_group", group.rule.as_str()),
                ) {
                    answer.line(format!("   {more}"));
                }
            }
            if groups.is_empty() {
                answer.line("No identity mistakes found in this traffic.");
            }
            Ok(answer.done("pass project or rule"))
        };
        answer.await.unwrap_or_else(|e: ApiError| failed(&e))
    }

    /// One project's traffic replayed under PostHog's, Segment's, RudderStack's, Mixpanel's and
    /// KISSmetrics' identity rules: how many persons each vendor ends with, what each refuses,
    /// and every pair of ids the vendors disagree on with each vendor's reason. With compare,
    /// also the users of two projects side by side.
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn vendor_lens(&self, Parameters(args): Parameters<VendorLens>) -> CallToolResult {
        let state = &self.state;
        let answer = async {
            known_project(state, Some(&args.project)).await?;
            known_project(state, args.compare.as_deref()).await?;
            let query = LensQuery {
                project: Some(args.project.clone()),
                compare: args.compare.clone(),
                mixpanel_id_merge: args.mixpanel_id_merge.map(|m| match m {
                    IdMerge::Simplified => identity_engine::MixpanelIdMerge::Simplified,
                    IdMerge::Original => identity_engine::MixpanelIdMerge::Original,
                }),
            };
            let lens = lens_response(state, query).await?;
            let mut answer = Answer::new();
            let l = &lens.lens;
            answer.line(format!(
                "Vendor lens of {:?} (source {}, {} rules, {}): the same traffic under each vendor's identity rules.",
                l.project,
                l.source,
                l.family.vendor(),
                count(l.events, "event", "events")
            ));
            for v in &l.vendors {
                let with_user = v.clusters.iter().filter(|c| c.user_id.is_some()).count();
                let label = v.label.as_deref().map(|l| format!(" ({l})")).unwrap_or_default();
                answer.line(format!(
                    "- {}{label}: {} {}s ({with_user} with a user id), {}",
                    v.vendor.vendor(),
                    v.clusters.len(),
                    v.vendor.person_word(),
                    count(v.refusals.len(), "refusal", "refusals")
                ));
                for r in v.refusals.iter().take(3) {
                    answer.line(format!("  refused at seq {} ({}): {}", r.seq, r.rule, clip(&r.sentence, 400)));
                }
            }
            answer.line(format!(
                "{} (pairs of ids some vendors join and others do not; two user ids first):",
                count(l.disagreements.len(), "disagreement", "disagreements")
            ));
            for d in l.disagreements.iter().take(LENS_DISAGREEMENTS) {
                let names =
                    |fs: &[identity_engine::Family]| fs.iter().map(|f| f.vendor()).collect::<Vec<_>>().join(", ");
                answer.line(format!(
                    "- {:?} + {:?} (seq {}): together under {}; apart under {}",
                    d.ids[0],
                    d.ids[1],
                    d.seq,
                    names(&d.together),
                    names(&d.apart)
                ));
                for (vendor, why) in &d.why {
                    answer.line(format!("  {vendor}: {}", clip(why, 400)));
                }
            }
            if let Some(more) = rest(
                LENS_DISAGREEMENTS.min(l.disagreements.len()),
                l.disagreements.len(),
                "the Lens view of the inspector's UI lists them all",
            ) {
                answer.line(more);
            }
            if let Some(compared) = &lens.compare {
                answer.line(format!(
                    "Compared with {:?} ({} rules): {}",
                    compared.project,
                    compared.family.vendor(),
                    count(compared.users.len(), "user id", "user ids")
                ));
                for u in compared.users.iter().take(LENS_USERS) {
                    answer.line(format!("- {}", u.sentence));
                }
                if let Some(more) =
                    rest(LENS_USERS.min(compared.users.len()), compared.users.len(), "the Lens view lists them all")
                {
                    answer.line(more);
                }
            }
            Ok(answer.done("use the Lens view of the inspector's UI for the whole comparison"))
        };
        answer.await.unwrap_or_else(|e: ApiError| failed(&e))
    }
}

/// `ids` quoted, the first `max` of them and how many more ("none" when empty).
fn quoted(ids: &[String], max: usize) -> String {
    if ids.is_empty() {
        return "none".to_owned();
    }
    let mut out: Vec<String> = ids.iter().take(max).map(|id| format!("{:?}", clip(id, 80))).collect();
    if ids.len() > max {
        out.push(format!("+{} more", ids.len() - max));
    }
    out.join(", ")
}

fn person_answer(detail: &PersonDetail) -> CallToolResult {
    let p = &detail.person;
    let mut answer = Answer::new();
    let settings = detail.settings_label.as_deref().map(|l| format!("; settings: {l}")).unwrap_or_default();
    answer.line(format!(
        "Person {} ({:?}) in project {:?} (source {}, {} rules{settings}).",
        p.id,
        detail.label,
        p.project,
        detail.source,
        detail.family.vendor()
    ));
    answer.line(match &p.identified_by {
        Some(by) => format!("Identified by {:?} at seq {} (event {}).", by.event, by.seq, by.event_uuid),
        None if p.is_identified => "Identified.".to_owned(),
        None => "Anonymous: never identified.".to_owned(),
    });
    answer.line(format!(
        "Created {} by {:?} at seq {} (event {}).",
        moment(p.created_at),
        p.created_by.event,
        p.created_by.seq,
        p.created_by.event_uuid
    ));
    let ids: Vec<String> = p
        .distinct_ids
        .iter()
        .take(PERSON_IDS)
        .map(|id| match detail.id_kinds.get(id) {
            Some(kind) => format!("{:?} ({})", id, kind.as_str()),
            None => format!("{id:?}"),
        })
        .collect();
    answer.line(format!("Distinct ids ({}): {}", p.distinct_ids.len(), ids.join(", ")));
    if let Some(more) = rest(ids.len(), p.distinct_ids.len(), "search_events with project and text narrows them") {
        answer.line(more);
    }
    answer.line(format!("Properties ({}):", p.properties.len()));
    for (key, value) in p.properties.iter().take(PERSON_PROPERTIES) {
        answer.line(format!("- {key} = {}", json_preview(value, 160)));
    }
    if let Some(more) =
        rest(PERSON_PROPERTIES.min(p.properties.len()), p.properties.len(), "the Persons view shows them all")
    {
        answer.line(more);
    }
    for merged in &p.merged_from {
        answer.line(format!(
            "Merged into it: person {} (ids {}) by {:?} at seq {}.",
            merged.id,
            quoted(&merged.distinct_ids, 5),
            merged.by.event,
            merged.by.seq
        ));
    }
    let decisions = &detail.decisions;
    let skipped = decisions.len().saturating_sub(PERSON_DECISIONS);
    answer.line(format!("Decisions about it ({}, oldest first):", decisions.len()));
    if skipped > 0 {
        answer.line(format!("… {skipped} earlier decisions left out; the newest {PERSON_DECISIONS} follow."));
    }
    for d in &decisions[skipped..] {
        let ids = match (&d.source, &d.target) {
            (Some(s), Some(t)) => format!(" · {s:?} → {t:?}"),
            (None, Some(t)) => format!(" · {t:?}"),
            _ => String::new(),
        };
        answer.line(format!(
            "- seq {} · {:?} · {} · rule {}{ids}: {} (event {})",
            d.seq,
            d.event,
            name_of(&d.kind),
            d.rule.as_str(),
            d.message,
            d.event_uuid
        ));
    }
    if detail.devices.is_empty() {
        answer.line("No device lane carried it.");
    } else {
        answer.line(format!("Device lanes (device_timeline with lane_id): {}", quoted(&detail.devices, 10)));
    }
    answer.line(format!("Why two ids are together or apart: why with project {:?} and two ids.", p.project));
    answer.done("search_events with the person's ids shows the rest")
}

fn why_answer_text(why: &WhyAnswer) -> CallToolResult {
    let mut answer = Answer::new();
    answer.line(&why.summary);
    for (name, side) in [("a", &why.a), ("b", &why.b)] {
        answer.line(match side.person_id {
            Some(person) => format!(
                "{name}: {:?} → person {person} ({}, {})",
                side.distinct_id,
                count(side.person_ids, "id", "ids"),
                if side.is_identified { "identified" } else { "anonymous" }
            ),
            None => format!("{name}: {:?} has no person (personless events, or refused)", side.distinct_id),
        });
    }
    if why.together && !why.chain.is_empty() {
        answer.line(format!("Chain from a to b ({}):", count(why.chain.len(), "step", "steps")));
        write_steps(&mut answer, &why.chain);
    }
    if !why.together && !why.refusals.is_empty() {
        answer.line(format!("Refusals ({} of {}, in arrival order):", why.refusals.len(), why.refusals_total));
        write_steps(&mut answer, &why.refusals);
    }
    if let Some(cause) = &why.root_cause {
        answer.line(format!("Root cause: {cause}"));
    }
    answer.line(format!(
        "Follow up: get_person with person_id, device_timeline with a lane_id, search_events with project {:?} and \
         distinct_id.",
        why.project
    ));
    answer.done("ask about ids nearer to each other")
}

fn write_steps(answer: &mut Answer, steps: &[WhyStep]) {
    for (n, step) in steps.iter().enumerate() {
        let lane = step.lane_id.as_deref().map(|l| format!(" on lane {l:?}")).unwrap_or_default();
        answer.line(format!(
            "{}. seq {} · {:?} at {}{lane}: {:?} → {:?} · {} · rule {}",
            n + 1,
            step.event.seq,
            step.event.event,
            moment(step.event.timestamp),
            step.from,
            step.to,
            name_of(&step.kind),
            step.rule.as_str()
        ));
        answer.line(format!("   {} (event {})", step.sentence, step.event.event_uuid));
    }
}

/// "seq 3", or "seq 3–9" for a range.
fn seqs(first: i64, last: i64) -> String {
    if first == last {
        format!("seq {first}")
    } else {
        format!("seq {first}–{last}")
    }
}

/// One line of a timeline: a stretch on one distinct id, or a move between ids.
struct Entry {
    seq: i64,
    /// Moves sort before the stretch they start at the same seq.
    order: u8,
    text: String,
}

fn write_timeline(answer: &mut Answer, lane: &DeviceLane) {
    answer.line(format!(
        "Lane {:?} in project {:?} (source {}, {} rules): key {} {:?}{}{}",
        lane.id,
        lane.project,
        lane.source,
        lane.family.vendor(),
        lane.key_kind.as_str(),
        lane.device_id,
        lane.lib.as_deref().map(|l| format!(", SDK {l}")).unwrap_or_default(),
        lane.user_agent.as_deref().map(|ua| format!(", user agent {:?}", clip(ua, 100))).unwrap_or_default(),
    ));
    answer.line(format!(
        "Seen {} → {} ({}), {}, {}.",
        moment(lane.first_seen),
        moment(lane.last_seen),
        seqs(lane.first_seq, lane.last_seq),
        count(lane.event_count, "event", "events"),
        count(lane.sessions.len(), "session", "sessions")
    ));
    if let Some(link) = &lane.linked_from {
        answer.line(format!(
            "{} lane {:?}: {}",
            if link.possible { "Possibly continues" } else { "Continues" },
            link.lane_id,
            link.evidence
        ));
    }
    let mut entries: Vec<Entry> = Vec::new();
    for s in &lane.segments {
        let person = match (&s.current_person_id, &s.current_person_label) {
            (Some(id), Some(label)) => format!("person {id} ({label:?})"),
            (Some(id), None) => format!("person {id}"),
            _ => "no person".to_owned(),
        };
        entries.push(Entry {
            seq: s.first_seq,
            order: 1,
            text: format!(
                "- {} · distinct id {:?} ({}) · {} · {}",
                seqs(s.first_seq, s.last_seq),
                s.distinct_id,
                if s.identified { "identified" } else { "anonymous" },
                person,
                count(s.event_count, "event", "events")
            ),
        });
    }
    for t in &lane.transitions {
        // The explanation is written when the transition is serialised (under the lane's rules).
        let json = serde_json::to_value(t).unwrap_or_default();
        let explanation = json.get("explanation").and_then(|e| e.as_str()).unwrap_or_default();
        let ids = match (&t.from, &t.to) {
            (Some(f), Some(to)) => format!(" {f:?} → {to:?}"),
            (None, Some(to)) => format!(" → {to:?}"),
            (Some(f), None) => format!(" from {f:?}"),
            (None, None) => String::new(),
        };
        let event = t.event_uuid.as_deref().map(|u| format!(" (event {u})")).unwrap_or_default();
        entries.push(Entry {
            seq: t.seq,
            order: 0,
            text: format!(
                "- seq {} · {}{}{ids}: {explanation}{event}",
                t.seq,
                t.kind.as_str(),
                if t.inferred { " (inferred)" } else { "" }
            ),
        });
    }
    entries.sort_by_key(|e| (e.seq, e.order));
    answer.line("Timeline (arrival order):");
    let total = entries.len();
    for (n, entry) in entries.iter().enumerate() {
        if total > TIMELINE_HEAD + TIMELINE_TAIL && n == TIMELINE_HEAD {
            answer.line(format!(
                "… {} entries left out; search_events with device_id {:?} lists the events between.",
                total - TIMELINE_HEAD - TIMELINE_TAIL,
                lane.device_id
            ));
        }
        if total > TIMELINE_HEAD + TIMELINE_TAIL && (TIMELINE_HEAD..total - TIMELINE_TAIL).contains(&n) {
            continue;
        }
        answer.line(&entry.text);
    }
}
