//! `identity-inspector tail`: the running inspector's traffic as it arrives, one line per event
//! (time, source, project, event, distinct id, person, and the merge or refusal the event made),
//! with findings, refused requests and deletions inline; `--format json` or `logfmt` for
//! machines. Colour on a terminal only (`style.rs`).
//!
//! How it follows: `/api/stream` says when something was committed; the events themselves, with
//! their persons and decisions, come from `/api/events?after=<the last one shown>`, the page the
//! Events view reads, so a line says what the UI says. An event's decision exists once the
//! identity model has applied it: the stream's `persons`/`devices` announcements say how far the
//! model is (`applied_seq`), and new events are fetched once it has caught up with them (or after
//! `MODEL_PATIENCE`, for a server that keeps no model).
//!
//! Invariants:
//! - Every matching event committed after the start is printed once, in arrival order: the
//!   stream is opened before the starting point is read, and each fetch takes the events after
//!   the last one shown, oldest first, a page at a time, until it has shown what was announced.
//! - A stream that says it lagged, or announcements it may have missed, only cause a fetch: the
//!   events API is the record, the stream just the doorbell.
//! - A tail yields to capture: it runs at nice 10, and the server reads its pages (`after=`) at
//!   nice 10 and, while capture is live, paced (`inspector_server`'s `followers`), so under a
//!   burst it falls behind and catches up after (docs/PERFORMANCE.md, "Readers while
//!   capturing"). Its pages leave the events' properties out, which no line shows.

mod line;
mod sse;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use serde::Deserialize;
use serde_json::Value;

use self::line::{as_json, clock, human, logfmt, Line};
use self::sse::{read_stream, Announcement};
use super::attach::{AttachArgs, CliError, Inspector};
use super::query::{print, FindingItem, WarningsPage};
use super::style::Style;

/// How long new events wait for the identity model before they are shown without their
/// decisions (a server without a model never announces its progress).
const MODEL_PATIENCE: Duration = Duration::from_secs(1);
/// Events per page fetched.
const PAGE: usize = 1000;
/// What to show when the stream did not say up to which event (it lagged): everything, until a
/// page comes back short.
const UNTIL_CAUGHT_UP: i64 = i64::MAX;

#[derive(Args, Debug)]
pub struct TailArgs {
    #[command(flatten)]
    pub attach: AttachArgs,
    /// Only this project (token or write key).
    #[arg(long)]
    pub project: Option<String>,
    /// Only this source (posthog, segment, rudderstack, mixpanel, kissmetrics); repeatable.
    #[arg(long)]
    pub source: Vec<String>,
    /// Only events of this name.
    #[arg(long)]
    pub event: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Show the last N matching events first.
    #[arg(short = 'n', long, default_value_t = 0)]
    pub lines: usize,
}

/// How `tail` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One aligned line per event, for a person.
    Human,
    /// One JSON object per line (`"type"`: event, finding, rejected, project_deleted, pruned).
    Json,
    /// `key=value` pairs, one line each.
    Logfmt,
}

// ---- what tail reads of the API's answers ----

#[derive(Debug, Clone, Deserialize)]
pub struct Event {
    pub uuid: String,
    pub seq: i64,
    pub project: String,
    pub source: String,
    pub event: String,
    pub distinct_id: String,
    pub timestamp: String,
    pub received_at: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PersonRef {
    pub id: String,
    pub label: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Pill {
    pub kind: String,
    pub message: String,
}

#[derive(Debug, Deserialize)]
struct EventsPage {
    events: Vec<Event>,
    next_cursor: Option<i64>,
    #[serde(default)]
    persons: BTreeMap<String, PersonRef>,
    #[serde(default)]
    decisions: BTreeMap<String, Pill>,
}

/// A request the stream announced as refused.
#[derive(Debug, Clone, Deserialize)]
pub struct Rejected {
    pub request_id: i64,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub error: String,
}

#[derive(Debug, Deserialize)]
struct RequestAnswer {
    request: RequestOfAnswer,
}

#[derive(Debug, Deserialize)]
struct RequestOfAnswer {
    project: Option<String>,
    source: Option<String>,
    received_at: String,
}

// ---- following ----

/// What tells a finding apart and stays the same as later events update it (its ids grow):
/// project, rule, the event that fired it, its first id and device.
type FindingKey = (String, String, i64, Option<String>, Option<String>);

fn finding_key(f: &FindingItem) -> FindingKey {
    (f.project.clone(), f.rule.clone(), f.seq, f.distinct_ids.first().cloned(), f.device_ids.first().cloned())
}

/// How far the identity model is, as its announcements say (`applied_seq` and `replay`, see
/// `inspector_server`'s `IdentityChange`).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct ModelProgress {
    replay: u64,
    applied: i64,
}

impl ModelProgress {
    /// Takes in one announcement; true when it is the first of a replay, whose `applied_seq`
    /// starts again from below (the old model's highest seq is no longer what is applied).
    /// Announcements come in order; one of an older replay would change nothing.
    fn saw(&mut self, replay: u64, applied: i64) -> bool {
        if replay < self.replay {
            return false;
        }
        let first_of_replay = replay > self.replay;
        if first_of_replay {
            *self = ModelProgress { replay, applied };
        } else {
            self.applied = self.applied.max(applied);
        }
        first_of_replay
    }
}

struct Tail {
    inspector: Inspector,
    args: TailArgs,
    style: Style,
    /// The last event shown (or skipped): the next fetch starts after it.
    cursor: i64,
    seen_findings: HashSet<FindingKey>,
    /// How far the identity model announced it had applied the store.
    model: ModelProgress,
    /// `model.applied` when findings were last fetched: a finding made since was fired by a later
    /// event, so the next fetch asks only for those (`after_seq`). `None`: fetch them all (at
    /// the start, and after a replay or a gap, which may remake old ones).
    findings_after: Option<i64>,
    /// Lines not written yet (`Tail::flush`).
    out: RefCell<String>,
}

impl Tail {
    fn filters(&self) -> Vec<(&'static str, String)> {
        let mut params: Vec<(&'static str, String)> = Vec::new();
        params.extend(self.args.project.iter().map(|p| ("project", p.clone())));
        params.extend(self.args.source.iter().map(|s| ("source", s.clone())));
        params.extend(self.args.event.iter().map(|e| ("event", e.clone())));
        params
    }

    fn matches(&self, project: Option<&str>, source: Option<&str>) -> bool {
        self.args.project.as_deref().is_none_or(|p| project == Some(p))
            && (self.args.source.is_empty() || source.is_some_and(|s| self.args.source.iter().any(|x| x == s)))
    }

    /// Adds `line` to the output waiting for [`Tail::flush`].
    fn write(&self, line: &Line, at: &str) -> Result<(), CliError> {
        let text = match self.args.format {
            Format::Human => human(line, &clock(at), self.style),
            Format::Json => as_json(line, at).to_string(),
            Format::Logfmt => logfmt(line, at),
        };
        let mut out = self.out.borrow_mut();
        out.push_str(&text);
        out.push('\n');
        Ok(())
    }

    /// Writes the lines added since the last flush, in one write: a page of a burst is one
    /// system call and one wake-up of whatever reads the output, not a thousand.
    fn flush(&self) -> Result<(), CliError> {
        let mut out = self.out.borrow_mut();
        if out.is_empty() {
            return Ok(());
        }
        let mut text = std::mem::take(&mut *out);
        text.pop(); // `print` ends the last line
        print(&[text])
    }

    /// The next page of matching events after the last one shown, oldest first, without their
    /// properties (a line never shows them): a backlog is printed a page at a time as it is read.
    fn next_page(&self) -> Result<EventsPage, CliError> {
        let mut params = self.filters();
        params.push(("after", self.cursor.to_string()));
        params.push(("order", "oldest".into()));
        params.push(("properties", "0".into()));
        params.push(("limit", PAGE.to_string()));
        self.inspector.get("/api/events", &params)
    }

    /// Findings not shown yet, oldest first (marked shown).
    fn new_findings(&mut self) -> Result<Vec<FindingItem>, CliError> {
        let mut params: Vec<(&'static str, String)> = Vec::new();
        params.extend(self.args.project.iter().map(|p| ("project", p.clone())));
        params.extend(self.args.source.iter().map(|s| ("source", s.clone())));
        params.extend(self.findings_after.map(|seq| ("after_seq", seq.to_string())));
        let page: WarningsPage = self.inspector.get("/api/warnings", &params)?;
        self.findings_after = Some(self.model.applied);
        let mut fresh: Vec<FindingItem> =
            page.warnings.into_iter().filter(|f| self.seen_findings.insert(finding_key(f))).collect();
        fresh.sort_by_key(|f| f.seq);
        Ok(fresh)
    }

    /// Prints the matching events after the last one shown, up to at least `announced` (the
    /// newest the stream has told of), with `held` lines (refused requests, notices) and, when
    /// `findings_due`, the findings that are new, each after the event it names; held lines go
    /// among the events by time.
    fn show_events(&mut self, findings_due: bool, announced: i64, held: Vec<Held>) -> Result<(), CliError> {
        // By the event that fired them: each is printed after its event, or after the last
        // event when its event is not among those shown.
        let mut findings: BTreeMap<i64, Vec<FindingItem>> = BTreeMap::new();
        if findings_due {
            for f in self.new_findings()? {
                findings.entry(f.seq).or_default().push(f);
            }
        }
        let mut held = held.into_iter().peekable();
        let mut last_at = None;
        loop {
            let page = self.next_page()?;
            for event in &page.events {
                let at = instant(&event.received_at);
                while let Some(line) = held.next_if(|h| h.at < at) {
                    self.write_held(&line)?;
                }
                let (person, decision) = (page.persons.get(&event.uuid), page.decisions.get(&event.uuid));
                self.write(&Line::Event { event, person, decision }, &event.received_at)?;
                for f in findings.remove(&event.seq).unwrap_or_default() {
                    self.write(&Line::Finding(&f), &event.received_at)?;
                }
                self.cursor = self.cursor.max(event.seq);
            }
            if let Some(last) = page.events.last() {
                last_at = Some(last.received_at.clone());
            }
            self.flush()?;
            // A full page: more may follow. Past what was announced, the stream will tell again.
            if page.next_cursor.is_none() || self.cursor >= announced {
                break;
            }
        }
        for line in held {
            self.write_held(&line)?;
        }
        let at = last_at.unwrap_or_else(now_rfc3339);
        for f in findings.values().flatten() {
            self.write(&Line::Finding(f), &at)?;
        }
        self.flush()?;
        // Announced events of other projects or sources (filtered out) need no fetch again.
        if announced != UNTIL_CAUGHT_UP {
            self.cursor = self.cursor.max(announced);
        }
        Ok(())
    }

    fn write_held(&self, held: &Held) -> Result<(), CliError> {
        match &held.what {
            HeldLine::Rejected { rejected, project, source } => self.write(
                &Line::Rejected { rejected, project: project.as_deref(), source: source.as_deref() },
                &held.time,
            ),
            HeldLine::Notice { kind, text, data } => {
                self.write(&Line::Notice { kind, text: text.clone(), data }, &held.time)
            }
        }
    }

    /// A refused request to show, unless the filters leave it out.
    fn rejected(&self, data: &Value) -> Option<Held> {
        if self.args.event.is_some() {
            return None; // a refused request is no event of that name
        }
        let rejected = serde_json::from_value::<Rejected>(data.clone()).ok()?;
        let request: Option<RequestAnswer> =
            self.inspector.get(&format!("/api/requests/{}", rejected.request_id), &[]).ok();
        let project = request.as_ref().and_then(|r| r.request.project.clone());
        let source = request.as_ref().and_then(|r| r.request.source.clone());
        let filtered = self.args.project.is_some() || !self.args.source.is_empty();
        if filtered && !self.matches(project.as_deref(), source.as_deref()) {
            return None;
        }
        let time = request.map(|r| r.request.received_at).unwrap_or_else(now_rfc3339);
        Some(Held { at: instant(&time), time, what: HeldLine::Rejected { rejected, project, source } })
    }

    /// A notice to show for a deletion, a prune or an import, unless the filters leave it out.
    fn notice(&mut self, kind: &str, data: &Value) -> Option<Held> {
        let text = match kind {
            "project_deleted" => {
                let project = data["project"].as_str().unwrap_or_default();
                if self.args.project.as_deref().is_some_and(|p| p != project) {
                    return None;
                }
                format!(
                    "project {project} deleted: {} events, {} requests",
                    data["events"].as_u64().unwrap_or(0),
                    data["requests"].as_u64().unwrap_or(0)
                )
            }
            "pruned" if data["all"] == true => {
                self.cursor = 0; // arrival numbers start again from 1
                "all stored data was cleared".to_owned()
            }
            "pruned" => format!("retention removed {} old events", data["events"].as_u64().unwrap_or(0)),
            "imported" => format!("data set {} imported", data["dataset"].as_str().unwrap_or_default()),
            _ => return None,
        };
        let time = now_rfc3339();
        Some(Held {
            at: instant(&time),
            time,
            what: HeldLine::Notice { kind: kind.to_owned(), text, data: data.clone() },
        })
    }
}

/// A line that waits to be put among the events it arrived between.
struct Held {
    at: chrono::DateTime<chrono::FixedOffset>,
    time: String,
    what: HeldLine,
}

enum HeldLine {
    Rejected { rejected: Rejected, project: Option<String>, source: Option<String> },
    Notice { kind: String, text: String, data: Value },
}

/// An API time, comparable (the API writes as many fraction digits as needed, so the text is not).
fn instant(time: &str) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(time).unwrap_or_default()
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339()
}

pub fn run(args: TailArgs, before: Option<PathBuf>) -> Result<(), CliError> {
    // A viewer: under a capture burst on the same machine it lags and catches up rather than
    // take cores from capture (the server reads its pages at nice 10 too). Before any thread
    // starts, so they all inherit it.
    inspector_server::lower_priority();
    let inspector = args.attach.attach(before)?;
    let url = inspector.url().to_owned();
    // The stream first, then the starting point: nothing committed in between is missed.
    let stream = inspector.open_stream("/api/stream")?;
    let (tx, announcements) = mpsc::channel();
    std::thread::Builder::new()
        .name("stream".into())
        .spawn(move || read_stream(stream, tx))
        .map_err(|e| CliError::Usage(format!("cannot start reading the stream: {e}")))?;
    let mut tail = Tail {
        inspector,
        style: Style::detect(),
        cursor: 0,
        seen_findings: HashSet::new(),
        model: ModelProgress::default(),
        findings_after: None,
        out: RefCell::default(),
        args,
    };
    let newest: EventsPage = tail.inspector.get("/api/events", &[("limit", "1".into())])?;
    let start = newest.events.first().map_or(0, |e| e.seq);
    tail.cursor = if tail.args.lines > 0 {
        let mut params = tail.filters();
        params.push(("limit", tail.args.lines.min(PAGE).to_string()));
        let last: EventsPage = tail.inspector.get("/api/events", &params)?;
        last.events.last().map_or(start, |oldest| oldest.seq - 1)
    } else {
        start
    };
    tail.new_findings()?; // the findings so far are not news
    if tail.args.lines > 0 {
        tail.show_events(false, start, Vec::new())?;
    }

    // Announced events not shown yet: up to which seq, and since when they wait for the model.
    let mut pending: Option<(i64, Instant)> = None;
    let mut findings_due = false;
    let mut held: Vec<Held> = Vec::new();
    loop {
        let wait = match pending {
            Some((_, since)) => MODEL_PATIENCE.saturating_sub(since.elapsed()).min(Duration::from_millis(200)),
            None => Duration::from_secs(3600),
        };
        // Everything already queued is taken in before deciding: the model's announcements of
        // one step (persons, devices, warnings) come together.
        let mut batch = Vec::new();
        match announcements.recv_timeout(wait) {
            Ok(item) => batch.push(item),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                return Err(CliError::Lost { url, reason: "the stream reader stopped".into() })
            }
        }
        batch.extend(announcements.try_iter());
        for item in batch {
            let Announcement { kind, data } = item.map_err(|reason| CliError::Lost { url: url.clone(), reason })?;
            match kind.as_str() {
                "events" => {
                    let (project, source) = (data["project"].as_str(), data["source"].as_str());
                    if tail.matches(project, source) {
                        let last = data["last_seq"].as_i64().unwrap_or(UNTIL_CAUGHT_UP);
                        pending = Some(match pending {
                            Some((p, since)) => (p.max(last), since),
                            None => (last, Instant::now()),
                        });
                    }
                }
                "persons" | "devices" | "warnings" => {
                    let (replay, applied) = (data["replay"].as_u64(), data["applied_seq"].as_i64());
                    if tail.model.saw(replay.unwrap_or(0), applied.unwrap_or(0)) {
                        // A replay may remake findings of events already shown.
                        tail.findings_after = None;
                    }
                    findings_due |= kind == "warnings";
                }
                // Missed announcements: whatever they were, the events API has them.
                "lagged" => {
                    tail.findings_after = None;
                    let long_ago = Instant::now().checked_sub(MODEL_PATIENCE).unwrap_or_else(Instant::now);
                    pending = Some((UNTIL_CAUGHT_UP, long_ago));
                }
                "rejected" => held.extend(tail.rejected(&data)),
                // A replay (settings), a prune, an import or a deletion may remake findings
                // of old events.
                other => {
                    if matches!(other, "settings" | "pruned" | "imported" | "project_deleted") {
                        tail.findings_after = None;
                    }
                    held.extend(tail.notice(other, &data))
                }
            }
        }
        match pending {
            Some((last, since)) if tail.model.applied >= last || since.elapsed() >= MODEL_PATIENCE => {
                tail.show_events(std::mem::take(&mut findings_due), last, std::mem::take(&mut held))?;
                pending = None;
            }
            Some(_) => {}
            None => {
                for line in std::mem::take(&mut held) {
                    tail.write_held(&line)?;
                }
                if std::mem::take(&mut findings_due) {
                    let at = now_rfc3339();
                    for f in tail.new_findings()? {
                        tail.write(&Line::Finding(&f), &at)?;
                    }
                }
                tail.flush()?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ModelProgress;

    #[test]
    fn a_replay_starts_the_models_progress_again_and_late_old_announcements_are_ignored() {
        let mut model = ModelProgress::default();
        assert!(!model.saw(0, 500));
        assert!(!model.saw(0, 400), "an older step of the same model");
        assert_eq!(model.applied, 500);
        // Settings changed: the model replays from the first event.
        assert!(model.saw(1, 120), "the replay's first announcement");
        assert_eq!(model.applied, 120, "not the old model's 500");
        assert!(!model.saw(0, 600), "an older replay's announcement");
        assert_eq!(model.applied, 120);
        assert!(!model.saw(1, 300));
        assert_eq!(model, ModelProgress { replay: 1, applied: 300 });
    }
}
