//! The tools about stored traffic: `list_projects`, `search_events`, `wait_for_events`,
//! `list_rejected_requests` and `clear_project`. Each reads through the function its `/api`
//! endpoint answers with (`handlers::traffic`), and words the answer (`answer`).

use std::time::Duration;

use event_store::{EventFilter, RequestFilter, StoredEvent};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::schemars::{self, JsonSchema};
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router, RoleServer};
use serde::Deserialize;

use super::answer::{clip, count, failed, name_of, refused, time, Answer};
use super::Tools;
use crate::error::ApiError;
use crate::handlers::dto::EventsPage;
use crate::handlers::sources::SourceFilter;
use crate::handlers::traffic::{events_page, projects_page, read, requests_page, wait_for_events, MAX_EVENTS_WAIT};
use crate::AppState;

/// A page of events or requests unless the call asks for another size.
const DEFAULT_PAGE: u32 = 20;
/// The most events or requests one answer lists.
const MAX_PAGE: u32 = 100;
/// Properties of one event, as JSON, unless `full_properties` asks for more.
const PROPERTIES_CLIP: usize = 300;
const FULL_PROPERTIES_CLIP: usize = 4_000;

/// The filter fields `search_events` and `wait_for_events` share (the filters of `/api/events`),
/// written once for both argument types.
macro_rules! event_match_args {
    ($(#[$meta:meta])* $name:ident { $($extra:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, Default, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub(crate) struct $name {
            /// Only events of this project: a token or write key, as list_projects names it.
            #[serde(default)]
            pub(crate) project: Option<String>,
            /// Only events from these SDK families: posthog, segment, rudderstack, mixpanel, kissmetrics.
            #[serde(default)]
            pub(crate) source: Vec<String>,
            /// Only events of this distinct id (user id or anonymous id).
            #[serde(default)]
            pub(crate) distinct_id: Option<String>,
            /// Only events with this exact name, e.g. "$identify" or "Order Completed".
            #[serde(default)]
            pub(crate) event: Option<String>,
            /// Only events of this device id ($device_id).
            #[serde(default)]
            pub(crate) device_id: Option<String>,
            /// Only events of this session id ($session_id).
            #[serde(default)]
            pub(crate) session_id: Option<String>,
            /// Only events of this stored request (a request id from list_rejected_requests or another answer).
            #[serde(default)]
            pub(crate) request_id: Option<i64>,
            /// Text anywhere in the event: its name, ids, uuid or properties (case-insensitive).
            #[serde(default)]
            pub(crate) text: Option<String>,
            /// Only events that arrived after this seq (every answer gives the newest seq).
            #[serde(default)]
            pub(crate) after_seq: Option<i64>,
            $($extra)*
        }

        impl $name {
            /// The store's filter for these arguments, with `limit` events at most.
            fn filter(&self, limit: u32) -> Result<EventFilter, ApiError> {
                Ok(EventFilter {
                    project: self.project.clone(),
                    source: SourceFilter::of(&self.source)?.store_list(),
                    distinct_id: self.distinct_id.clone(),
                    event: self.event.clone(),
                    device_id: self.device_id.clone(),
                    session_id: self.session_id.clone(),
                    request_id: self.request_id,
                    text: self.text.clone(),
                    after_seq: self.after_seq,
                    limit,
                    ..EventFilter::default()
                })
            }

            /// The filters given, in words, for the answer's first line.
            fn described(&self) -> String {
                let fields = [
                    ("project", self.project.clone()),
                    ("source", (!self.source.is_empty()).then(|| self.source.join(","))),
                    ("distinct_id", self.distinct_id.clone()),
                    ("event", self.event.clone()),
                    ("device_id", self.device_id.clone()),
                    ("session_id", self.session_id.clone()),
                    ("request_id", self.request_id.map(|r| r.to_string())),
                    ("text", self.text.clone()),
                    ("after_seq", self.after_seq.map(|s| s.to_string())),
                ];
                let given: Vec<String> =
                    fields.into_iter().filter_map(|(k, v)| Some(format!("{k}={:?}", v?))).collect();
                if given.is_empty() { "no filter".to_owned() } else { given.join(", ") }
            }
        }
    };
}

/// `list_projects` arguments.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListProjects {
    /// Only projects of these SDK families: posthog, segment, rudderstack, mixpanel, kissmetrics.
    #[serde(default)]
    source: Vec<String>,
}

event_match_args! {
    /// `search_events` arguments.
    SearchEvents {
        /// Older events: the cursor the previous answer gave.
        #[serde(default)]
        pub(crate) cursor: Option<i64>,
        /// Events per answer: 20 unless given, at most 100.
        #[serde(default)]
        pub(crate) limit: Option<u32>,
        /// Properties up to 4 000 characters per event instead of 300.
        #[serde(default)]
        pub(crate) full_properties: bool,
    }
}

event_match_args! {
    /// `wait_for_events` arguments.
    WaitForEvents {
        /// How many matching events to wait for: 1 unless given, at most 100.
        #[serde(default)]
        pub(crate) min_count: Option<u32>,
        /// How long to wait at most, in seconds: 10 unless given, at most 55.
        #[serde(default)]
        pub(crate) timeout_seconds: Option<u64>,
    }
}

/// `list_rejected_requests` arguments.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListRejectedRequests {
    /// Only requests that named this project key (and those whose key could not be read).
    #[serde(default)]
    project: Option<String>,
    /// Only requests from these SDK families: posthog, segment, rudderstack, mixpanel, kissmetrics.
    #[serde(default)]
    source: Vec<String>,
    /// Older requests: the cursor the previous answer gave.
    #[serde(default)]
    cursor: Option<i64>,
    /// Requests per answer: 20 unless given, at most 100.
    #[serde(default)]
    limit: Option<u32>,
}

/// `clear_project` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClearProject {
    /// The project to delete: a token or write key, as list_projects names it.
    project: String,
}

#[tool_router(router = traffic_tools, vis = "pub(crate)")]
impl Tools {
    /// The projects (tokens and write keys) the inspector has seen, most recent first, with each
    /// one's SDK family, identity rules and event count, and the newest event seq (for
    /// wait_for_events).
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn list_projects(&self, Parameters(args): Parameters<ListProjects>) -> CallToolResult {
        let state = &self.state;
        let answer = async {
            let sources = SourceFilter::of(&args.source)?;
            let page = projects_page(state, &sources).await?;
            let (totals, newest) = read(state, |s| Ok((s.totals()?, s.last_seq()?))).await?;
            let mut answer = Answer::new();
            answer.line(format!(
                "{} (most recently seen first). Stored: {}, {} ({} rejected). Newest event seq: {newest}.",
                count(page.projects.len(), "project", "projects"),
                count(totals.events as usize, "event", "events"),
                count(totals.requests as usize, "request", "requests"),
                totals.rejected,
            ));
            match state.store.read_only() {
                Some(why) => answer.line(format!("Nothing new can arrive: {why}.")),
                None if page.projects.is_empty() => answer.line(format!(
                    "Nothing captured yet: point an SDK's host at {} and use the app.",
                    state.capture_url
                )),
                None => {}
            }
            for p in &page.projects {
                let settings = p.settings_label.as_deref().map(|l| format!("; settings: {l}")).unwrap_or_default();
                answer.line(format!(
                    "- {:?}: source {}, {} identity rules{settings}; {}, {} → {}",
                    p.summary.project,
                    p.summary.source,
                    p.family.vendor(),
                    count(p.summary.events as usize, "event", "events"),
                    time(p.summary.first_seen),
                    time(p.summary.last_seen),
                ));
            }
            if totals.rejected > 0 {
                answer.line("Rejected requests and why: list_rejected_requests.");
            }
            answer.line("Next: search_events, list_warnings or vendor_lens with a project.");
            Ok::<_, ApiError>(answer.done("pass source to list fewer projects"))
        };
        answer.await.unwrap_or_else(|e| failed(&e))
    }

    /// Stored events, newest first, with the filters of the inspector's Events view. Each line
    /// gives the event's seq, time, name, distinct id, the person it belongs to now (follow up
    /// with get_person), its uuid and the identity decision it made, if any.
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn search_events(&self, Parameters(args): Parameters<SearchEvents>) -> CallToolResult {
        let state = &self.state;
        let answer = async {
            known_project(state, args.project.as_deref()).await?;
            let limit = args.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
            let mut filter = args.filter(limit)?;
            filter.before_seq = args.cursor;
            let page = events_page(state, filter).await?;
            let mut answer = Answer::new();
            answer.line(format!(
                "{} (newest first; {}):",
                count(page.events.len(), "event", "events"),
                args.described()
            ));
            let clip_at = if args.full_properties { FULL_PROPERTIES_CLIP } else { PROPERTIES_CLIP };
            write_events(&mut answer, &page, clip_at);
            if let Some(cursor) = page.next_cursor {
                answer.line(format!("Older events: search_events with cursor={cursor} and the same filters."));
            }
            Ok::<_, ApiError>(answer.done("pass a smaller limit or more filters"))
        };
        answer.await.unwrap_or_else(|e| failed(&e))
    }

    /// Waits until events matching the filters arrive, then lists them: trigger an action in the
    /// app, then call this with after_seq set to the newest seq you saw before it (without it,
    /// only events arriving after this call count). Answers once min_count matching events arrived
    /// and then none for 100 ms (at most 1 s more, so one action's events come together), or at
    /// the timeout.
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn wait_for_events(&self, Parameters(args): Parameters<WaitForEvents>) -> CallToolResult {
        let state = &self.state;
        let answer = async {
            if let Some(why) = state.store.read_only() {
                return Ok(refused(format!("no new events can arrive: {why}")));
            }
            known_project(state, args.project.as_deref()).await?;
            let min = args.min_count.unwrap_or(1).clamp(1, MAX_PAGE);
            let timeout = Duration::from_secs(args.timeout_seconds.unwrap_or(10)).min(MAX_EVENTS_WAIT);
            let mut filter = args.filter(MAX_PAGE)?;
            let after = match filter.after_seq {
                Some(after) => after,
                None => read(state, |s| s.last_seq()).await?,
            };
            filter.after_seq = Some(after);
            let waited = wait_for_events(state, filter, min as usize, timeout).await?;
            let mut answer = Answer::new();
            let arrived = waited.page.events.len();
            let newest = waited.page.events.iter().map(|e| e.seq).max().unwrap_or(after);
            answer.line(if waited.arrived {
                // A full page: more may have arrived than one answer reads.
                let at_least = if waited.page.next_cursor.is_some() { "At least " } else { "" };
                format!(
                    "{at_least}{} arrived after seq {after} ({}). Newest seq: {newest}.",
                    count(arrived, "matching event", "matching events"),
                    args.described()
                )
            } else {
                format!(
                    "Timed out after {} s: {arrived} of {min} matching events arrived after seq {after} ({}). \
                     Newest seq: {newest}. Is the app sending to {}?",
                    timeout.as_secs(),
                    args.described(),
                    state.capture_url
                )
            });
            write_events(&mut answer, &waited.page, PROPERTIES_CLIP);
            answer.line(format!("Wait for the next ones: wait_for_events with after_seq={newest}."));
            Ok::<_, ApiError>(answer.done("pass more filters"))
        };
        answer.await.unwrap_or_else(|e| failed(&e))
    }

    /// Requests the inspector refused, newest first, each with its status, the vendor's error
    /// code and reason, its route and the start of its body: what an SDK sent that the vendor
    /// would also reject.
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn list_rejected_requests(&self, Parameters(args): Parameters<ListRejectedRequests>) -> CallToolResult {
        let state = &self.state;
        let answer = async {
            let filter = RequestFilter {
                outcome: Some("rejected".into()),
                source: SourceFilter::of(&args.source)?.store_list(),
                before_id: args.cursor,
                project: args.project.clone(),
                limit: args.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE),
                without_events: false,
            };
            let page = requests_page(state, filter).await?;
            let mut answer = Answer::new();
            answer.line(format!(
                "{} (newest first):",
                count(page.requests.len(), "rejected request", "rejected requests")
            ));
            for r in &page.requests {
                let code = r.error_code.as_deref().map(|c| format!(" {c}")).unwrap_or_default();
                let source = r.source.as_deref().unwrap_or("unknown source");
                let project = r.project.as_deref().map(|p| format!(", project {p:?}")).unwrap_or_default();
                answer.line(format!(
                    "- request {} · {} {} · {source}{project} · {}{code}: {} · {}",
                    r.id,
                    r.method,
                    r.path,
                    r.status,
                    clip(r.error.as_deref().unwrap_or("no reason stored"), 300),
                    time(r.received_at),
                ));
                if r.body_size > 0 {
                    answer.line(format!("  body ({} bytes): {}", r.body_size, clip(&r.body_preview, 160)));
                }
            }
            if let Some(cursor) = page.next_cursor {
                answer.line(format!("Older: list_rejected_requests with cursor={cursor}."));
            }
            Ok::<_, ApiError>(answer.done("pass a smaller limit"))
        };
        answer.await.unwrap_or_else(|e| failed(&e))
    }

    /// Deletes every stored request and event of one project, so a test can start from nothing;
    /// the identity model drops the project (other projects are untouched, its settings stay).
    /// Over HTTP it needs this launch's control token in the x-inspector-token header
    /// (identity-inspector mcp sends it).
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    async fn clear_project(
        &self,
        Parameters(args): Parameters<ClearProject>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let state = &self.state;
        let answer = async {
            // Over HTTP the request's head is in the context; over stdio there is none, and the
            // caller is the user's own process (the one that started this one).
            if let Some(parts) = context.extensions.get::<axum::http::request::Parts>() {
                state.control.check_token(&parts.headers)?;
            }
            if let Some(why) = state.store.read_only() {
                return Err(ApiError::Store(event_store::StoreError::ReadOnly(why.clone())));
            }
            known_project(state, Some(&args.project)).await?;
            let removed = clear_project(state, &args.project).await?;
            let mut answer = Answer::new();
            answer.line(format!(
                "Cleared project {:?}: {} and {} deleted.",
                args.project,
                count(removed.events as usize, "event", "events"),
                count(removed.requests as usize, "request", "requests")
            ));
            Ok(answer.done(""))
        };
        answer.await.unwrap_or_else(|e| failed(&e))
    }
}

/// Deletes one project's requests and events and drops it from the identity model: what
/// `DELETE /api/projects/{key}` does (`handlers::control::delete_project`).
pub(crate) async fn clear_project(state: &AppState, project: &str) -> Result<event_store::Removed, ApiError> {
    Ok(crate::handlers::control::delete_project(state, project.to_owned()).await?.removed)
}

/// Refuses a project nothing was ever seen of, naming the known ones: a typo must not look like
/// "no events".
pub(super) async fn known_project(state: &AppState, project: Option<&str>) -> Result<(), ApiError> {
    let Some(project) = project else { return Ok(()) };
    let projects = read(state, |s| s.projects()).await?;
    if projects.iter().any(|p| p.project == project) {
        return Ok(());
    }
    let mut known: Vec<String> = projects.iter().take(10).map(|p| format!("{:?}", p.project)).collect();
    if projects.len() > 10 {
        known.push(format!("{} more", projects.len() - 10));
    }
    let known = if known.is_empty() { "none yet".to_owned() } else { known.join(", ") };
    Err(ApiError::NotFoundParameter {
        parameter: "project",
        message: format!("no project {project:?} has been seen; known projects: {known}"),
    })
}

/// One line per event (and one of its properties), in the page's order.
fn write_events(answer: &mut Answer, page: &EventsPage, properties_clip: usize) {
    for e in &page.events {
        // Lines past the answer's limit are only counted: a full page of big events is mostly
        // cut, and formatting it would cost capture for nothing.
        answer.line_with(|| event_line(e, page));
        answer.line_with(|| format!("  properties: {}", clip(e.properties.get(), properties_clip)));
    }
}

fn event_line(e: &StoredEvent, page: &EventsPage) -> String {
    let mut line = format!(
        "- seq {} · {} · {:?} · project {:?} · distinct_id {:?}",
        e.seq,
        time(e.timestamp),
        e.event,
        e.project,
        e.distinct_id
    );
    if let Some(person) = page.persons.get(&e.uuid) {
        line.push_str(&format!(" · person {} ({:?})", person.id, person.label));
    }
    if let Some(device) = &e.device_id {
        line.push_str(&format!(" · device {device:?}"));
    }
    line.push_str(&format!(" · uuid {} · request {}", e.uuid, e.request_id));
    if let Some(pill) = page.decisions.get(&e.uuid) {
        line.push_str(&format!(" · decision {}: {}", name_of(&pill.kind), pill.message));
    }
    line
}
