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
//!   stream is opened before the starting point is read, and each fetch takes everything after
//!   the last event shown (page by page when a burst is bigger than a page).
//! - A stream that says it lagged, or announcements it may have missed, only cause a fetch: the
//!   events API is the record, the stream just the doorbell.

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use serde::Deserialize;
use serde_json::{json, Value};

use super::attach::{AttachArgs, CliError, Inspector};
use super::query::{decision, print, severity, FindingItem, WarningsPage};
use super::style::{cut, first_sentence, pad, Paint, Style};

/// How long new events wait for the identity model before they are shown without their
/// decisions (a server without a model never announces its progress).
const MODEL_PATIENCE: Duration = Duration::from_secs(1);
/// Events per page fetched.
const PAGE: usize = 1000;

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

/// One announcement of `/api/stream`.
#[derive(Debug, Clone, PartialEq)]
pub struct Announcement {
    pub kind: String,
    pub data: Value,
}

/// Server-sent events, line by line: `event:` and `data:` lines up to a blank line make one
/// announcement; comments (`:`, the keep-alives) are skipped.
#[derive(Debug, Default)]
pub struct SseParser {
    kind: Option<String>,
    data: String,
}

impl SseParser {
    pub fn push(&mut self, line: &str) -> Option<Announcement> {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            let kind = self.kind.take()?;
            let data = serde_json::from_str(&std::mem::take(&mut self.data)).unwrap_or(Value::Null);
            return Some(Announcement { kind, data });
        }
        if let Some(kind) = line.strip_prefix("event:") {
            self.kind = Some(kind.trim().to_owned());
        } else if let Some(data) = line.strip_prefix("data:") {
            if !self.data.is_empty() {
                self.data.push('\n');
            }
            self.data.push_str(data.strip_prefix(' ').unwrap_or(data));
        }
        None
    }
}

/// Reads the stream on its own thread, handing announcements over; the last message is why it
/// ended.
fn read_stream(stream: impl Read, out: mpsc::Sender<Result<Announcement, String>>) {
    let mut parser = SseParser::default();
    for line in BufReader::new(stream).lines() {
        match line {
            Ok(line) => {
                if let Some(announcement) = parser.push(&line) {
                    if out.send(Ok(announcement)).is_err() {
                        return;
                    }
                }
            }
            Err(e) => {
                let _ = out.send(Err(e.to_string()));
                return;
            }
        }
    }
    let _ = out.send(Err("the server closed the stream".into()));
}

// ---- what tail writes ----

/// Something tail prints.
#[derive(Debug, Clone)]
pub enum Line<'a> {
    Event { event: &'a Event, person: Option<&'a PersonRef>, decision: Option<&'a Pill> },
    Finding(&'a FindingItem),
    Rejected { rejected: &'a Rejected, project: Option<&'a str>, source: Option<&'a str> },
    Notice { kind: &'a str, text: String, data: &'a Value },
}

/// `HH:MM:SS` of an API time (RFC 3339), in the local time zone.
pub fn clock(time: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(time)
        .map(|t| t.with_timezone(&chrono::Local).format("%H:%M:%S").to_string())
        .unwrap_or_else(|_| cut(time, 8))
}

/// The line for a person: `time` is `clock` of the event's arrival.
pub fn human(line: &Line, time: &str, style: Style) -> String {
    let time = style.paint(Paint::Dim, time);
    match line {
        Line::Event { event, person, decision: made } => {
            let mut text = format!(
                "{time}  {}  {}  {}  {}",
                style.paint(Paint::Cyan, &pad(&event.source, 11)),
                pad(&event.project, 12),
                style.paint(Paint::Bold, &pad(&event.event, 18)),
                pad(&event.distinct_id, 18),
            );
            if let Some(person) = person {
                text.push_str("  → ");
                text.push_str(&style.paint(Paint::Magenta, &cut(&person.label, 24)));
            }
            if let Some(made) = made {
                text.push_str("  ");
                text.push_str(&decision(style, &made.kind));
                text.push_str(": ");
                text.push_str(&first_sentence(&made.message, 90));
            }
            text.trim_end().to_owned()
        }
        Line::Finding(f) => format!(
            "{time}  ⚠ {} {}  {}: {}",
            severity(style, &f.severity),
            style.paint(Paint::Bold, &f.rule),
            f.project,
            first_sentence(&f.message, 100)
        ),
        Line::Rejected { rejected, project, .. } => format!(
            "{time}  {}  {} {} → {}{}: {}",
            style.paint(Paint::Red, "REJECTED"),
            rejected.method,
            rejected.path,
            rejected.status,
            project.map(|p| format!(" ({p})")).unwrap_or_default(),
            first_sentence(&rejected.error, 100)
        ),
        Line::Notice { text, .. } => format!("{time}  {}", style.paint(Paint::Yellow, text)),
    }
}

/// The line as one JSON object.
pub fn as_json(line: &Line, at: &str) -> Value {
    match line {
        Line::Event { event, person, decision } => json!({
            "type": "event",
            "received_at": event.received_at,
            "timestamp": event.timestamp,
            "seq": event.seq,
            "uuid": event.uuid,
            "source": event.source,
            "project": event.project,
            "event": event.event,
            "distinct_id": event.distinct_id,
            "person": person.map(|p| json!({"id": p.id, "label": p.label})),
            "decision": decision.map(|d| json!({"kind": d.kind, "message": d.message})),
        }),
        Line::Finding(f) => json!({
            "type": "finding",
            "at": at,
            "severity": f.severity,
            "rule": f.rule,
            "project": f.project,
            "seq": f.seq,
            "distinct_ids": f.distinct_ids,
            "device_ids": f.device_ids,
            "message": f.message,
            "fix": f.fix,
        }),
        Line::Rejected { rejected, project, source } => json!({
            "type": "rejected",
            "at": at,
            "request_id": rejected.request_id,
            "method": rejected.method,
            "path": rejected.path,
            "status": rejected.status,
            "error": rejected.error,
            "project": project,
            "source": source,
        }),
        Line::Notice { kind, data, .. } => {
            let mut out = json!({"type": kind, "at": at});
            if let (Some(out), Some(data)) = (out.as_object_mut(), data.as_object()) {
                out.extend(data.iter().filter(|(k, _)| *k != "type").map(|(k, v)| (k.clone(), v.clone())));
            }
            out
        }
    }
}

/// A logfmt value: bare when it is a plain word, else quoted with `"` and `\` escaped.
fn logfmt_value(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(items) => {
            items.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)).collect::<Vec<_>>().join(",")
        }
        other => other.to_string(),
    };
    let plain = !text.is_empty() && text.chars().all(|c| !c.is_whitespace() && !matches!(c, '"' | '=' | '\\'));
    if plain {
        return text;
    }
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// The line as `key=value` pairs: the JSON object's fields, flattened one level (`person` as
/// its label, `decision` as its kind and `reason`).
pub fn logfmt(line: &Line, at: &str) -> String {
    let object = as_json(line, at);
    let mut pairs: Vec<(String, Value)> = Vec::new();
    for (key, value) in object.as_object().into_iter().flatten() {
        match (key.as_str(), value) {
            ("person", Value::Object(p)) => {
                pairs.push(("person".into(), p.get("label").cloned().unwrap_or(Value::Null)));
                pairs.push(("person_id".into(), p.get("id").cloned().unwrap_or(Value::Null)));
            }
            ("decision", Value::Object(d)) => {
                pairs.push(("decision".into(), d.get("kind").cloned().unwrap_or(Value::Null)));
                let message = d.get("message").and_then(Value::as_str).unwrap_or_default();
                pairs.push(("reason".into(), Value::String(first_sentence(message, 200))));
            }
            (_, Value::Null) => {}
            (_, Value::Array(items)) if items.is_empty() => {}
            _ => pairs.push((key.clone(), value.clone())),
        }
    }
    // `type` first, then the time: what a reader scans for.
    pairs.sort_by_key(|(k, _)| match k.as_str() {
        "type" => 0,
        "received_at" | "at" => 1,
        _ => 2,
    });
    pairs.iter().map(|(k, v)| format!("{k}={}", logfmt_value(v))).collect::<Vec<_>>().join(" ")
}

// ---- following ----

/// What tells a finding apart and stays the same as later events update it (its ids grow):
/// project, rule, the event that fired it, its first id and device.
type FindingKey = (String, String, i64, Option<String>, Option<String>);

fn finding_key(f: &FindingItem) -> FindingKey {
    (f.project.clone(), f.rule.clone(), f.seq, f.distinct_ids.first().cloned(), f.device_ids.first().cloned())
}

struct Tail {
    inspector: Inspector,
    args: TailArgs,
    style: Style,
    /// The last event shown (or skipped): the next fetch starts after it.
    cursor: i64,
    seen_findings: HashSet<FindingKey>,
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

    fn write(&self, line: &Line, at: &str) -> Result<(), CliError> {
        let text = match self.args.format {
            Format::Human => human(line, &clock(at), self.style),
            Format::Json => as_json(line, at).to_string(),
            Format::Logfmt => logfmt(line, at),
        };
        print(&[text])
    }

    /// Every matching event after `cursor`, oldest first, with the persons and decisions the
    /// pages carried: page by page, newest first, back to the cursor.
    fn fetch_after(&self) -> Result<EventsPage, CliError> {
        let mut all =
            EventsPage { events: Vec::new(), next_cursor: None, persons: BTreeMap::new(), decisions: BTreeMap::new() };
        let mut before: Option<i64> = None;
        loop {
            let mut params = self.filters();
            params.push(("after", self.cursor.to_string()));
            params.push(("limit", PAGE.to_string()));
            params.extend(before.map(|b| ("cursor", b.to_string())));
            let page: EventsPage = self.inspector.get("/api/events", &params)?;
            all.events.extend(page.events);
            all.persons.extend(page.persons);
            all.decisions.extend(page.decisions);
            match page.next_cursor {
                Some(next) => before = Some(next),
                None => break,
            }
        }
        all.events.reverse();
        Ok(all)
    }

    /// Findings not shown yet, oldest first (marked shown).
    fn new_findings(&mut self) -> Result<Vec<FindingItem>, CliError> {
        let mut params: Vec<(&'static str, String)> = Vec::new();
        params.extend(self.args.project.iter().map(|p| ("project", p.clone())));
        params.extend(self.args.source.iter().map(|s| ("source", s.clone())));
        let page: WarningsPage = self.inspector.get("/api/warnings", &params)?;
        let mut fresh: Vec<FindingItem> =
            page.warnings.into_iter().filter(|f| self.seen_findings.insert(finding_key(f))).collect();
        fresh.sort_by_key(|f| f.seq);
        Ok(fresh)
    }

    /// Shows the events after the cursor, each followed by the findings it fired, with the
    /// `held` lines (refused requests, notices) put among them by time.
    fn show_events(&mut self, findings_due: bool, announced: i64, held: Vec<Held>) -> Result<(), CliError> {
        let page = self.fetch_after()?;
        let mut findings = if findings_due { self.new_findings()? } else { Vec::new() };
        let mut held = held.into_iter().peekable();
        for event in &page.events {
            let at = instant(&event.received_at);
            while let Some(line) = held.next_if(|h| h.at < at) {
                self.write_held(&line)?;
            }
            let line =
                Line::Event { event, person: page.persons.get(&event.uuid), decision: page.decisions.get(&event.uuid) };
            self.write(&line, &event.received_at)?;
            let (now, later): (Vec<FindingItem>, Vec<FindingItem>) =
                findings.into_iter().partition(|f| f.seq == event.seq);
            for f in &now {
                self.write(&Line::Finding(f), &event.received_at)?;
            }
            findings = later;
        }
        for line in held {
            self.write_held(&line)?;
        }
        let at = page.events.last().map(|e| e.received_at.clone()).unwrap_or_else(now_rfc3339);
        for f in &findings {
            self.write(&Line::Finding(f), &at)?;
        }
        let newest = page.events.iter().map(|e| e.seq).max().unwrap_or(0);
        // Everything up to what the stream announced is committed: no need to read it again.
        self.cursor = self.cursor.max(newest).max(announced);
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
    let inspector = args.attach.attach(before)?;
    let url = inspector.url().to_owned();
    // The stream first, then the starting point: nothing committed in between is missed.
    let stream = inspector.open_stream("/api/stream")?;
    let (tx, announcements) = mpsc::channel();
    std::thread::Builder::new()
        .name("stream".into())
        .spawn(move || read_stream(stream, tx))
        .map_err(|e| CliError::Usage(format!("cannot start reading the stream: {e}")))?;
    let mut tail = Tail { inspector, style: Style::detect(), cursor: 0, seen_findings: HashSet::new(), args };
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
    let mut applied = 0i64;
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
                        let last = data["last_seq"].as_i64().unwrap_or(i64::MAX);
                        pending = Some(match pending {
                            Some((p, since)) => (p.max(last), since),
                            None => (last, Instant::now()),
                        });
                    }
                }
                "persons" | "devices" | "warnings" => {
                    applied = applied.max(data["applied_seq"].as_i64().unwrap_or(0));
                    findings_due |= kind == "warnings";
                }
                // Missed announcements: whatever they were, the events API has them.
                "lagged" => {
                    let long_ago = Instant::now().checked_sub(MODEL_PATIENCE).unwrap_or_else(Instant::now);
                    pending = Some((pending.map_or(0, |(p, _)| p), long_ago));
                }
                "rejected" => held.extend(tail.rejected(&data)),
                other => held.extend(tail.notice(other, &data)),
            }
        }
        match pending {
            Some((last, since)) if applied >= last || since.elapsed() >= MODEL_PATIENCE => {
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
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> Event {
        Event {
            uuid: "u1".into(),
            seq: 12,
            project: "phc_a".into(),
            source: "posthog".into(),
            event: "$identify".into(),
            distinct_id: "user-1".into(),
            timestamp: "2026-11-24T12:02:00Z".into(),
            received_at: "2026-11-24T12:02:01.5Z".into(),
        }
    }

    #[test]
    fn the_stream_is_read_announcement_by_announcement() {
        let mut parser = SseParser::default();
        let text = "event: ready\ndata: {\"capture_url\":\"x\"}\n\n:\n\nevent: events\r\ndata: {\"count\":3}\r\n\r\n";
        let got: Vec<Announcement> = text.lines().filter_map(|l| parser.push(l)).collect();
        assert_eq!(
            got,
            [
                Announcement { kind: "ready".into(), data: json!({"capture_url": "x"}) },
                Announcement { kind: "events".into(), data: json!({"count": 3}) },
            ]
        );
    }

    #[test]
    fn an_event_line_names_its_person_and_the_merge_it_made() {
        let (e, person) = (event(), PersonRef { id: "p".into(), label: "ada@example.com".into() });
        let pill =
            Pill { kind: "merged".into(), message: "Merged anon-1 into user-1's person. It keeps the uuid.".into() };
        let line = Line::Event { event: &e, person: Some(&person), decision: Some(&pill) };
        assert_eq!(
            human(&line, "12:02:01", Style::PLAIN),
            "12:02:01  posthog      phc_a         $identify           user-1              → ada@example.com  merged: \
             Merged anon-1 into user-1's person"
        );
        let coloured = human(&line, "12:02:01", Style { color: true });
        assert!(coloured.contains("\x1b[32mmerged\x1b[0m"), "{coloured:?}");
        let plain = Line::Event { event: &e, person: None, decision: None };
        assert!(human(&plain, "12:02:01", Style::PLAIN).ends_with("user-1"), "no trailing blanks");
    }

    #[test]
    fn json_and_logfmt_carry_the_same_fields() {
        let e = event();
        let pill = Pill {
            kind: "refused".into(),
            message: "Refused: user-2 is already identified. PostHog keeps them apart.".into(),
        };
        let line = Line::Event { event: &e, person: None, decision: Some(&pill) };
        let object = as_json(&line, &e.received_at);
        assert_eq!(object["type"], "event");
        assert_eq!(object["decision"]["kind"], "refused");
        assert_eq!(object["person"], Value::Null);
        assert_eq!(
            logfmt(&line, &e.received_at),
            "type=event received_at=2026-11-24T12:02:01.5Z decision=refused reason=\"Refused: user-2 is already \
             identified\" distinct_id=user-1 event=$identify project=phc_a seq=12 source=posthog \
             timestamp=2026-11-24T12:02:00Z uuid=u1"
        );
        assert_eq!(logfmt_value(&json!("say \"hi\"\n")), "\"say \\\"hi\\\"\\n\"");
        assert_eq!(logfmt_value(&json!("")), "\"\"");
    }

    #[test]
    fn findings_rejections_and_notices_have_lines_of_their_own() {
        let finding: FindingItem = serde_json::from_value(json!({
            "rule": "generic_distinct_id", "severity": "warning", "project": "phc_a", "seq": 3,
            "message": "The distinct id null looks like a placeholder. Every user sending it becomes one person.",
            "fix": "Send a real id.", "distinct_ids": ["null"], "device_ids": []
        }))
        .unwrap();
        assert_eq!(
            human(&Line::Finding(&finding), "12:00:00", Style::PLAIN),
            "12:00:00  ⚠ WARNING generic_distinct_id  phc_a: The distinct id null looks like a placeholder"
        );
        let rejected = Rejected {
            request_id: 4,
            method: "POST".into(),
            path: "/e/".into(),
            status: 400,
            error: "no distinct id".into(),
        };
        let line = Line::Rejected { rejected: &rejected, project: Some("phc_a"), source: Some("posthog") };
        assert_eq!(
            human(&line, "12:00:00", Style::PLAIN),
            "12:00:00  REJECTED  POST /e/ → 400 (phc_a): no distinct id"
        );
        let data = json!({"project": "phc_a", "events": 3, "requests": 1});
        let notice = Line::Notice { kind: "project_deleted", text: "project phc_a deleted".into(), data: &data };
        assert_eq!(
            as_json(&notice, "t"),
            json!({"type": "project_deleted", "at": "t", "project": "phc_a", "events": 3, "requests": 1})
        );
    }
}
