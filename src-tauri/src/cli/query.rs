//! `persons`, `devices`, `warnings` and `why A B`: what the UI's views show, read from the running
//! inspector's `/api` (the same answers, so no rule is repeated here: only formatting) and
//! printed as aligned columns that fit 80 characters, or with `--json` as the API's JSON for
//! scripts.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use serde::Deserialize;

// The `/api/why` answer and the findings, read as `check` reads them.
pub use expectations::{Finding as FindingItem, Why as WhyAnswer, WhySide, WhyStep};

use super::attach::{AttachArgs, CliError, Inspector};
use super::style::{cut, wrap, Paint, Style, Table, WIDTH};

/// What every query takes.
#[derive(Args, Debug, Clone, Default)]
pub struct QueryArgs {
    #[command(flatten)]
    pub attach: AttachArgs,
    /// Only this project (token or write key).
    #[arg(long)]
    pub project: Option<String>,
    /// Only projects of this source (posthog, segment, rudderstack, mixpanel, kissmetrics);
    /// repeatable.
    #[arg(long)]
    pub source: Vec<String>,
    /// Print the API's JSON answer as it is, for scripts.
    #[arg(long)]
    pub json: bool,
}

impl QueryArgs {
    /// `project` and `source` as query parameters.
    fn params(&self) -> Vec<(&'static str, String)> {
        let mut params: Vec<(&'static str, String)> = Vec::new();
        params.extend(self.project.iter().map(|p| ("project", p.clone())));
        params.extend(self.source.iter().map(|s| ("source", s.clone())));
        params
    }
}

#[derive(Args, Debug)]
pub struct PersonsArgs {
    #[command(flatten)]
    pub query: QueryArgs,
    /// At most this many persons (the API's page; the total is printed).
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    /// Only persons with this text in a distinct id or a property value.
    #[arg(long)]
    pub search: Option<String>,
}

#[derive(Args, Debug)]
pub struct DevicesArgs {
    #[command(flatten)]
    pub query: QueryArgs,
    /// At most this many device lanes, most recently active first.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Only lanes an error or warning finding names.
    #[arg(long)]
    pub flagged: bool,
}

#[derive(Args, Debug)]
pub struct WarningsArgs {
    #[command(flatten)]
    pub query: QueryArgs,
    /// Only findings of this rule (e.g. missing_reset_between_users); repeatable.
    #[arg(long)]
    pub rule: Vec<String>,
}

#[derive(Args, Debug)]
pub struct WhyArgs {
    #[command(flatten)]
    pub query: QueryArgs,
    /// One distinct id.
    pub a: String,
    /// The other distinct id.
    pub b: String,
}

// ---- what the commands read of the API's answers (`inspector-server/src/handlers/dto.rs`) ----

#[derive(Debug, Deserialize)]
pub struct PersonsPage {
    pub persons: Vec<PersonSummary>,
    pub total: usize,
}

#[derive(Debug, Deserialize)]
pub struct PersonSummary {
    pub label: String,
    pub project: String,
    pub distinct_ids: Vec<String>,
    pub is_identified: bool,
    #[serde(default)]
    pub flags: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct DevicesPage {
    pub devices: Vec<Lane>,
    pub total: usize,
    #[serde(default)]
    pub flagged: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct Lane {
    pub id: String,
    pub project: String,
    pub device_id: String,
    pub event_count: u64,
    pub segments: Vec<LaneSegment>,
}

#[derive(Debug, Deserialize)]
pub struct LaneSegment {
    pub distinct_id: String,
}

#[derive(Debug, Deserialize)]
pub struct WarningsPage {
    pub warnings: Vec<FindingItem>,
}

#[derive(Debug, Deserialize)]
struct ProjectsPage {
    projects: Vec<ProjectItem>,
}

#[derive(Debug, Deserialize)]
struct ProjectItem {
    project: String,
}

// ---- the commands ----

/// Writes `lines` to standard output; a closed pipe (`| head`) ends quietly.
pub(super) fn print(lines: &[String]) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    for line in lines {
        if let Err(e) = writeln!(out, "{line}") {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            return Err(CliError::Usage(format!("cannot write the output: {e}")));
        }
    }
    out.flush().ok();
    Ok(())
}

pub fn persons(args: PersonsArgs, before: Option<PathBuf>) -> Result<(), CliError> {
    let inspector = args.query.attach.attach(before)?;
    let mut params = args.query.params();
    params.push(("limit", args.limit.to_string()));
    params.extend(args.search.iter().map(|q| ("q", q.clone())));
    if args.query.json {
        return print(&[inspector.get_text("/api/persons", &params)?]);
    }
    let page: PersonsPage = inspector.get("/api/persons", &params)?;
    print(&persons_text(&page, args.query.project.as_deref(), Style::detect()))
}

pub fn devices(args: DevicesArgs, before: Option<PathBuf>) -> Result<(), CliError> {
    let inspector = args.query.attach.attach(before)?;
    let mut params = args.query.params();
    params.push(("limit", args.limit.to_string()));
    if args.flagged {
        params.push(("flagged", "only".into()));
    }
    if args.query.json {
        return print(&[inspector.get_text("/api/devices", &params)?]);
    }
    let page: DevicesPage = inspector.get("/api/devices", &params)?;
    print(&devices_text(&page, Style::detect()))
}

pub fn warnings(args: WarningsArgs, before: Option<PathBuf>) -> Result<(), CliError> {
    let inspector = args.query.attach.attach(before)?;
    let mut params = args.query.params();
    if !args.rule.is_empty() {
        params.push(("rules", args.rule.join(",")));
    }
    if args.query.json {
        return print(&[inspector.get_text("/api/warnings", &params)?]);
    }
    let page: WarningsPage = inspector.get("/api/warnings", &params)?;
    print(&warnings_text(&page, Style::detect()))
}

pub fn why(args: WhyArgs, before: Option<PathBuf>) -> Result<(), CliError> {
    let inspector = args.query.attach.attach(before)?;
    let project = match &args.query.project {
        Some(p) => p.clone(),
        None => only_project(&inspector)?,
    };
    let params = [("project", project), ("a", args.a.clone()), ("b", args.b.clone())];
    if args.query.json {
        return print(&[inspector.get_text("/api/why", &params)?]);
    }
    let answer: WhyAnswer = inspector.get("/api/why", &params)?;
    print(&why_text(&answer, Style::detect()))
}

/// The project to ask about when none was given: the inspector's only one.
pub(super) fn only_project(inspector: &Inspector) -> Result<String, CliError> {
    let page: ProjectsPage = inspector.get("/api/projects", &[])?;
    let mut keys: Vec<String> = page.projects.into_iter().map(|p| p.project).collect();
    keys.dedup();
    match keys.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(CliError::Usage("the inspector has no traffic yet, so no project to ask about".into())),
        many => Err(CliError::Usage(format!(
            "pass --project: the inspector has {} projects ({}{})",
            many.len(),
            many.iter().take(5).cloned().collect::<Vec<_>>().join(", "),
            if many.len() > 5 { ", …" } else { "" }
        ))),
    }
}

// ---- formatting (pure) ----

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The persons list: one row per person, then how many there are.
pub fn persons_text(page: &PersonsPage, project: Option<&str>, style: Style) -> Vec<String> {
    if page.persons.is_empty() {
        return vec![match project {
            Some(p) => format!("no persons in project {p}"),
            None => "no persons".to_owned(),
        }];
    }
    let mut table = Table::new(&["PERSON", "PROJECT", "IDENTIFIED", "DISTINCT IDS", "FINDINGS"]);
    for p in &page.persons {
        table.row(vec![
            p.label.clone(),
            p.project.clone(),
            if p.is_identified { "yes" } else { "no" }.into(),
            p.distinct_ids.join(", "),
            p.flags.join(", "),
        ]);
    }
    let mut lines = table.render(WIDTH, style);
    lines.push(if page.total > page.persons.len() {
        format!("{} of {} persons (--limit for more)", page.persons.len(), page.total)
    } else {
        plural(page.total, "person", "persons")
    });
    lines
}

/// The device lanes: one row per lane with the ids it used in order, then how many there are.
pub fn devices_text(page: &DevicesPage, style: Style) -> Vec<String> {
    if page.devices.is_empty() {
        return vec!["no device lanes".to_owned()];
    }
    let mut table = Table::new(&["DEVICE", "PROJECT", "EVENTS", "FLAGGED", "DISTINCT IDS IN ORDER"]).numeric(2);
    for lane in &page.devices {
        let ids: Vec<&str> = lane.segments.iter().map(|s| s.distinct_id.as_str()).collect();
        table.row(vec![
            lane.device_id.clone(),
            lane.project.clone(),
            lane.event_count.to_string(),
            if page.flagged.contains(&lane.id) { "yes" } else { "" }.into(),
            ids.join(" → "),
        ]);
    }
    let mut lines = table.render(WIDTH, style);
    lines.push(if page.total > page.devices.len() {
        format!("{} of {} device lanes (--limit for more)", page.devices.len(), page.total)
    } else {
        plural(page.total, "device lane", "device lanes")
    });
    lines
}

/// A severity word, coloured by how bad it is.
pub fn severity(style: Style, severity: &str) -> String {
    let paint = match severity {
        "error" => Paint::Red,
        "warning" => Paint::Yellow,
        _ => Paint::Blue,
    };
    style.paint(paint, &severity.to_uppercase())
}

/// The findings: for each, a heading (severity, rule, project), the ids and devices it names,
/// and its message and fix wrapped at 80 columns.
pub fn warnings_text(page: &WarningsPage, style: Style) -> Vec<String> {
    if page.warnings.is_empty() {
        return vec!["no findings".to_owned()];
    }
    let mut lines = Vec::new();
    for f in &page.warnings {
        lines.push(format!("{}  {}  {}", severity(style, &f.severity), style.paint(Paint::Bold, &f.rule), f.project));
        let mut names = Vec::new();
        if !f.distinct_ids.is_empty() {
            names.push(format!("ids: {}", f.distinct_ids.join(", ")));
        }
        if !f.device_ids.is_empty() {
            names.push(format!("devices: {}", f.device_ids.join(", ")));
        }
        if !names.is_empty() {
            lines.push(format!("  {}", cut(&names.join(" · "), WIDTH - 2)));
        }
        lines.extend(wrap(&f.message, 2, WIDTH));
        lines.extend(wrap(&format!("Fix: {}", f.fix), 2, WIDTH));
        lines.push(String::new());
    }
    lines.push(plural(page.warnings.len(), "finding", "findings"));
    lines
}

fn side(s: &WhySide) -> String {
    match &s.person_id {
        None => format!("{}: no person", s.distinct_id),
        Some(_) => format!(
            "{}: a person of {}, {}",
            s.distinct_id,
            plural(s.person_ids, "id", "ids"),
            if s.is_identified { "identified" } else { "anonymous" }
        ),
    }
}

fn step_lines(n: usize, step: &WhyStep, style: Style) -> Vec<String> {
    let time = step.event.timestamp.get(..19).unwrap_or(&step.event.timestamp).replace('T', " ");
    let lane = step.lane_id.as_deref().map(|l| format!(" on {l}")).unwrap_or_default();
    let kind = decision(style, &step.kind);
    let mut lines = vec![
        cut(&format!("{n:>3}. {time}  {} (#{}){lane}", step.event.event, step.event.seq), WIDTH),
        format!("     {} → {}: {kind} ({})", step.from, step.to, step.rule),
    ];
    lines.extend(wrap(&step.sentence, 5, WIDTH));
    lines
}

/// A decision kind, coloured: joins green, refusals and drops red, the rest plain.
pub fn decision(style: Style, kind: &str) -> String {
    let paint = match kind {
        "merged" => Paint::Green,
        "refused" | "dropped" => Paint::Red,
        _ => Paint::Yellow,
    };
    style.paint(paint, kind)
}

/// Why two ids are one person or not: the answer's summary, both ids, then the chain of
/// decisions that joined them or the refusals that kept them apart, and the root cause.
pub fn why_text(answer: &WhyAnswer, style: Style) -> Vec<String> {
    let mut lines = wrap(&answer.summary, 0, WIDTH);
    lines.push(format!("  project {} ({})", answer.project, answer.family));
    lines.push(format!("  {}", side(&answer.a)));
    lines.push(format!("  {}", side(&answer.b)));
    if answer.together {
        lines.push(
            style.paint(Paint::Bold, &format!("Joined by {}:", plural(answer.chain.len(), "decision", "decisions"))),
        );
        for (i, step) in answer.chain.iter().enumerate() {
            lines.extend(step_lines(i + 1, step, style));
        }
    } else if !answer.refusals.is_empty() {
        let shown = if answer.refusals_total > answer.refusals.len() {
            format!("{} of {} refusals", answer.refusals.len(), answer.refusals_total)
        } else {
            plural(answer.refusals_total, "refusal", "refusals")
        };
        lines.push(style.paint(Paint::Bold, &format!("Kept apart by {shown}:")));
        for (i, step) in answer.refusals.iter().enumerate() {
            lines.extend(step_lines(i + 1, step, style));
        }
    }
    if let Some(cause) = &answer.root_cause {
        lines.push(style.paint(Paint::Bold, "Root cause:"));
        lines.extend(wrap(cause, 2, WIDTH));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::style::width;

    fn from<T: serde::de::DeserializeOwned>(json: serde_json::Value) -> T {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn persons_are_columns_that_fit_80() {
        let page: PersonsPage = from(serde_json::json!({
            "total": 3,
            "next_cursor": "2",
            "persons": [
                {"id": "x", "label": "ada@example.com", "project": "phc_a", "is_identified": true,
                 "distinct_ids": ["anon-1", "ada@example.com"], "flags": ["email_as_distinct_id"], "user_ids": []},
                {"id": "y", "label": "anon-7", "project": "phc_a", "is_identified": false,
                 "distinct_ids": ["anon-7"], "flags": []},
            ]
        }));
        let lines = persons_text(&page, None, Style::PLAIN);
        assert_eq!(lines[0], "PERSON           PROJECT  IDENTIFIED  DISTINCT IDS          FINDINGS");
        // 83 columns wide: the widest column gives way.
        assert_eq!(lines[1], "ada@example.com  phc_a    yes         anon-1, ada@example…  email_as_distinct_id");
        assert_eq!(lines[2], "anon-7           phc_a    no          anon-7");
        assert_eq!(lines[3], "2 of 3 persons (--limit for more)");
        assert!(lines.iter().all(|l| width(l) <= WIDTH));
        let empty: PersonsPage = from(serde_json::json!({"total": 0, "persons": []}));
        assert_eq!(persons_text(&empty, Some("phc_x"), Style::PLAIN), ["no persons in project phc_x"]);
    }

    #[test]
    fn devices_show_their_ids_in_order_and_flags() {
        let page: DevicesPage = from(serde_json::json!({
            "total": 1, "flagged": ["phc_a/dev-2"],
            "devices": [{"id": "phc_a/dev-2", "project": "phc_a", "device_id": "dev-2", "event_count": 4,
                "segments": [{"distinct_id": "anon-2"}, {"distinct_id": "null"}, {"distinct_id": "user-2"}]}]
        }));
        let lines = devices_text(&page, Style::PLAIN);
        assert_eq!(lines[1], "dev-2   phc_a         4  yes      anon-2 → null → user-2");
        assert_eq!(lines[2], "1 device lane");
    }

    #[test]
    fn findings_wrap_their_message_and_fix_under_a_heading() {
        let page: WarningsPage = from(serde_json::json!({"warnings": [{
            "rule": "missing_reset_between_users", "severity": "error", "project": "phc_a", "seq": 5,
            "message": "Device dev-2 was used by null, then by user-2, without reset() between them: PostHog puts both users' events on one person.",
            "fix": "Call posthog.reset() at logout.", "distinct_ids": ["null", "user-2"], "device_ids": ["dev-2"],
            "event_uuids": []
        }]}));
        let lines = warnings_text(&page, Style::PLAIN);
        assert_eq!(lines[0], "ERROR  missing_reset_between_users  phc_a");
        assert_eq!(lines[1], "  ids: null, user-2 · devices: dev-2");
        assert!(lines[2].starts_with("  Device dev-2 was used by null"));
        assert!(lines.iter().any(|l| l == "  Fix: Call posthog.reset() at logout."), "{lines:#?}");
        assert_eq!(lines.last().unwrap(), "1 finding");
        assert!(lines.iter().all(|l| width(l) <= WIDTH));
        let coloured = warnings_text(&page, Style { color: true });
        assert!(coloured[0].starts_with("\x1b[31mERROR\x1b[0m"), "{:?}", coloured[0]);
    }

    #[test]
    fn why_lists_the_chain_that_joined_two_ids() {
        let answer: WhyAnswer = from(serde_json::json!({
            "project": "phc_a", "family": "posthog", "together": true,
            "a": {"distinct_id": "anon-1", "person_id": "p", "person_ids": 2, "is_identified": true},
            "b": {"distinct_id": "user-1", "person_id": "p", "person_ids": 2, "is_identified": true},
            "chain": [{"event": {"seq": 12, "event_uuid": "u", "event": "$identify", "timestamp": "2026-11-24T12:02:00Z"},
                "lane_id": "phc_a/dev-1", "from": "anon-1", "to": "user-1", "kind": "merged", "rule": "merge_into_target",
                "sentence": "$identify merged anon-1 into user-1's person."}],
            "refusals": [], "refusals_total": 0, "root_cause": null,
            "summary": "anon-1 and user-1 are one person: the $identify of 12:02 joined them."
        }));
        let lines = why_text(&answer, Style::PLAIN);
        assert_eq!(lines[0], "anon-1 and user-1 are one person: the $identify of 12:02 joined them.");
        assert_eq!(lines[2], "  anon-1: a person of 2 ids, identified");
        assert_eq!(lines[4], "Joined by 1 decision:");
        assert_eq!(lines[5], "  1. 2026-11-24 12:02:00  $identify (#12) on phc_a/dev-1");
        assert_eq!(lines[6], "     anon-1 → user-1: merged (merge_into_target)");
        assert_eq!(lines[7], "     $identify merged anon-1 into user-1's person.");
    }
}
