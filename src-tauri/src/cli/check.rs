//! `identity-inspector check --expect FILE`: a CI step that asserts what the identity model made
//! of a test's traffic (the file format, the verdict and the JUnit report are the
//! `expectations` crate's; this module asks the running inspector's `/api` and prints).
//!
//! Exit codes, so a CI step can tell a failed expectation from a broken setup:
//! - 0: every expectation holds;
//! - 1: at least one does not (the readable diff is on standard output);
//! - 2: the check could not run: a malformed file, no inspector, an API error, a failed reset.
//!
//! Invariants:
//! - Before it reads, the check waits (up to `--settle`) until the inspector's traffic and its
//!   identity model have been still for [`QUIET`]: an SDK's last flush just acknowledged is in
//!   the verdict. Every read after that is `synced` server-side (the model has applied every
//!   committed event), so the answers agree with one another.
//! - `--wait` re-checks a failing verdict until it holds or the time is up; the report printed
//!   is the last one, never a mix of two.
//! - `--reset` deletes the checked projects only after the report is written, pass or fail.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use expectations::{
    EventQuery, Expectations, FactError, Facts, Finding, Format, Person, RejectedRequest, Report, Why, WhyFact,
};
use serde::Deserialize;

use super::attach::{AttachArgs, CliError, Inspector};
use super::query::{only_project, print, WarningsPage};
use super::style::{Paint, Style};

/// Traffic and model unchanged for this long: settled.
const QUIET: Duration = Duration::from_millis(400);
/// How often the settle wait and `--wait` look again.
const POLL: Duration = Duration::from_millis(100);

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub attach: AttachArgs,
    /// The expectations file, YAML or JSON (`-` reads standard input); see the README's "Checking
    /// identity in CI" for its format.
    #[arg(long, value_name = "FILE")]
    pub expect: PathBuf,
    /// The project to check when the file names none [default: the inspector's only project].
    #[arg(long)]
    pub project: Option<String>,
    /// First wait, at most this long, until traffic stops arriving and the identity model has
    /// applied it (e.g. 10s, 500ms; 0 checks at once).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration)]
    pub settle: Duration,
    /// While an expectation fails, check again until this much time has passed (for an app still
    /// sending); the last verdict is the one reported.
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = duration)]
    pub wait: Duration,
    /// Also write the verdict as a JUnit XML report to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Afterwards, pass or fail, delete the checked projects' traffic and model (other projects
    /// are kept), so the next test starts clean.
    #[arg(long)]
    pub reset: bool,
    /// Print the verdict as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs `check`; `before` is a `--data-dir` given before the subcommand.
pub fn run(args: CheckArgs, before: Option<PathBuf>) -> ExitCode {
    match check(&args, before) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// `Ok(passed)`, or why the check could not say.
fn check(args: &CheckArgs, before: Option<PathBuf>) -> Result<bool, CliError> {
    let (name, mut expected) = read_file(&args.expect)?;
    let inspector = args.attach.attach(before)?;
    let settled = settle(&inspector, args.settle)?;
    if !settled {
        eprintln!("note: traffic was still arriving after --settle {}; checking what there is", shown(args.settle));
    }
    name_projects(&mut expected, args.project.as_deref(), &inspector)?;
    let started = Instant::now();
    let report = loop {
        let report = expectations::evaluate(&expected, &mut ApiFacts { inspector: &inspector })?;
        if report.passed() || started.elapsed() + POLL > args.wait {
            break report;
        }
        std::thread::sleep(POLL);
        settle(&inspector, args.wait.saturating_sub(started.elapsed()))?;
    };
    if let Some(path) = &args.junit {
        std::fs::write(path, expectations::junit(&report, &name))
            .map_err(|e| CliError::Usage(format!("cannot write the JUnit report {}: {e}", path.display())))?;
    }
    if args.json {
        let json = serde_json::json!({
            "passed": report.passed(),
            "checks": report.checks().count(),
            "failures": report.failures(),
            "projects": report.projects,
        });
        print(&[json.to_string()])?;
    } else {
        print(&report_text(&report, &name, Style::detect()))?;
    }
    if args.reset {
        reset(&inspector, &report)?;
    }
    Ok(report.passed())
}

impl From<FactError> for CliError {
    fn from(e: FactError) -> CliError {
        CliError::Usage(e.0)
    }
}

/// The file's name as reports show it, and its parsed expectations.
fn read_file(path: &Path) -> Result<(String, Expectations), CliError> {
    let stdin = path == Path::new("-");
    let name = if stdin { "standard input".to_owned() } else { path.display().to_string() };
    let mut text = String::new();
    let read = if stdin {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(path).map(|t| text = t)
    };
    read.map_err(|e| CliError::Usage(format!("cannot read the expectations file {name}: {e}")))?;
    let format = Format::detect(if stdin { "" } else { &name }, &text);
    let env = |key: &str| std::env::var(key).ok();
    let parsed = expectations::parse(&text, format, &env)
        .map_err(|e| CliError::Usage(format!("the expectations file {name} cannot be checked: {e}")))?;
    Ok((name, parsed))
}

/// Gives the file's unnamed project its key: `--project`, else the inspector's only project.
fn name_projects(expected: &mut Expectations, given: Option<&str>, inspector: &Inspector) -> Result<(), CliError> {
    let unnamed = expected.projects.iter().any(|p| p.project.is_none());
    if let Some(given) = given {
        if let Some(named) = expected.projects.iter().find_map(|p| p.project.as_deref()) {
            return Err(CliError::Usage(format!(
                "the file names its project ({named}); --project {given} is for a file that names none"
            )));
        }
    }
    if unnamed {
        let key = match given {
            Some(key) => key.to_owned(),
            None => only_project(inspector)?,
        };
        for p in &mut expected.projects {
            p.project.get_or_insert_with(|| key.clone());
        }
    }
    Ok(())
}

/// What `/api/health` says has arrived and been modelled.
#[derive(Debug, PartialEq, Deserialize)]
struct Progress {
    totals: serde_json::Value,
    identity: serde_json::Value,
}

/// Waits, at most `bound`, until the inspector's totals and the model's position have not moved
/// for [`QUIET`]; `false` when the bound passed first.
fn settle(inspector: &Inspector, bound: Duration) -> Result<bool, CliError> {
    let deadline = Instant::now() + bound;
    let mut last: Option<(Progress, Instant)> = None;
    loop {
        let now: Progress = inspector.get("/api/health", &[])?;
        match &last {
            Some((seen, since)) if *seen == now => {
                if since.elapsed() >= QUIET {
                    return Ok(true);
                }
            }
            _ => last = Some((now, Instant::now())),
        }
        if Instant::now() >= deadline {
            return Ok(bound.is_zero());
        }
        std::thread::sleep(POLL);
    }
}

/// Deletes each checked project (`DELETE /api/projects/{key}`), saying what went.
fn reset(inspector: &Inspector, report: &Report) -> Result<(), CliError> {
    let token = inspector.control_token()?;
    for project in &report.projects {
        match inspector.delete_project(&project.project, &token) {
            Ok(answer) => {
                let events = answer.pointer("/removed/events").and_then(|v| v.as_i64()).unwrap_or(0);
                eprintln!("reset: deleted project {} ({events} events)", project.project);
            }
            // Nothing stored: already clean.
            Err(CliError::Api { status: 404, .. }) => {
                eprintln!("reset: project {} has nothing stored", project.project)
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `10s`, `500ms`, `2m`, `1.5s`; a bare number is seconds.
fn duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration such as 10s, 500ms or 2m");
    let trimmed = text.trim();
    let at = trimmed.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(at);
    let scale = match unit {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" => 60.0,
        _ => return Err(bad()),
    };
    let seconds = number.parse::<f64>().map_err(|_| bad())? * scale;
    if !seconds.is_finite() || !(0.0..=3600.0).contains(&seconds) {
        return Err(format!("{text:?} is not a duration between 0 and 1 hour"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

fn shown(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

/// The verdict for a terminal or a CI log: each project, each check with ✓ or ✗, each failure's
/// explanation indented under it, then the count.
pub fn report_text(report: &Report, name: &str, style: Style) -> Vec<String> {
    let mut lines = vec![style.paint(Paint::Bold, &format!("Identity expectations: {name}"))];
    for project in &report.projects {
        let family = project.family.as_deref().map(|f| format!(" ({f})")).unwrap_or_default();
        lines.push(format!("project {}{family}", project.project));
        for check in &project.checks {
            if check.passed {
                lines.push(format!("  {} {}", style.paint(Paint::Green, "✓"), check.title));
                continue;
            }
            lines.push(format!("  {} {}", style.paint(Paint::Red, "✗"), style.paint(Paint::Bold, &check.title)));
            for detail in &check.details {
                let painted = if let Some(rest) = detail.strip_prefix("expected: ") {
                    format!("{} {rest}", style.paint(Paint::Green, "expected:"))
                } else if let Some(rest) = detail.strip_prefix("actual:   ") {
                    format!("{}   {rest}", style.paint(Paint::Red, "actual:"))
                } else {
                    detail.clone()
                };
                lines.push(format!("      {painted}"));
            }
        }
    }
    let (total, failures) = (report.checks().count(), report.failures());
    lines.push(if failures == 0 {
        style.paint(Paint::Green, &format!("{total} checks passed"))
    } else {
        style.paint(Paint::Red, &format!("{failures} of {total} checks failed"))
    });
    lines
}

/// [`Facts`] from the inspector's `/api` (the verdict asks each question once).
struct ApiFacts<'a> {
    inspector: &'a Inspector,
}

fn fact(e: CliError) -> FactError {
    FactError(e.to_string())
}

impl Facts for ApiFacts<'_> {
    fn projects(&mut self) -> Result<Vec<(String, String)>, FactError> {
        #[derive(Deserialize)]
        struct Page {
            projects: Vec<Item>,
        }
        #[derive(Deserialize)]
        struct Item {
            project: String,
            family: String,
        }
        let page: Page = self.inspector.get("/api/projects", &[]).map_err(fact)?;
        Ok(page.projects.into_iter().map(|p| (p.project, p.family)).collect())
    }

    fn why(&mut self, project: &str, a: &str, b: &str) -> Result<WhyFact, FactError> {
        let params = [("project", project.to_owned()), ("a", a.to_owned()), ("b", b.to_owned())];
        match self.inspector.get::<Why>("/api/why", &params) {
            Ok(why) => Ok(WhyFact::Answer(Box::new(why))),
            Err(CliError::Api { status: 404, parameter: Some(which), .. }) if which == "a" || which == "b" => {
                Ok(WhyFact::UnknownId(if which == "a" { a } else { b }.to_owned()))
            }
            Err(e) => Err(fact(e)),
        }
    }

    fn person(&mut self, person_id: &str) -> Result<Person, FactError> {
        #[derive(Deserialize)]
        struct Detail {
            label: String,
            distinct_ids: Vec<String>,
            is_identified: bool,
        }
        let d: Detail = self.inspector.get(&format!("/api/persons/{person_id}"), &[]).map_err(fact)?;
        Ok(Person { label: d.label, distinct_ids: d.distinct_ids, is_identified: d.is_identified })
    }

    fn findings(&mut self, project: &str) -> Result<Vec<Finding>, FactError> {
        let page: WarningsPage =
            self.inspector.get("/api/warnings", &[("project", project.to_owned())]).map_err(fact)?;
        Ok(page.warnings)
    }

    fn rejected_requests(&mut self, project: &str) -> Result<Vec<RejectedRequest>, FactError> {
        #[derive(Deserialize)]
        struct Page {
            requests: Vec<RejectedRequest>,
        }
        let params = [("project", project.to_owned()), ("outcome", "rejected".into()), ("limit", "1000".into())];
        let page: Page = self.inspector.get("/api/requests", &params).map_err(fact)?;
        Ok(page.requests)
    }

    fn count_events(&mut self, project: &str, query: &EventQuery, enough: u64) -> Result<u64, FactError> {
        #[derive(Deserialize)]
        struct Page {
            events: Vec<serde::de::IgnoredAny>,
            next_cursor: Option<i64>,
        }
        let mut count = 0u64;
        let mut cursor: Option<i64> = None;
        loop {
            let mut params = vec![("project", project.to_owned()), ("limit", enough.clamp(1, 1000).to_string())];
            params.extend(query.event.iter().map(|e| ("event", e.clone())));
            params.extend(query.distinct_id.iter().map(|d| ("distinct_id", d.clone())));
            params.extend(cursor.map(|c| ("cursor", c.to_string())));
            let page: Page = self.inspector.get("/api/events", &params).map_err(fact)?;
            count += page.events.len() as u64;
            match page.next_cursor {
                Some(next) if count < enough => cursor = Some(next),
                _ => return Ok(count),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_the_help_says() {
        assert_eq!(duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(duration("0"), Ok(Duration::ZERO));
        assert!(duration("10 minutes").unwrap_err().contains("not a duration such as"));
        assert!(duration("2h").is_err());
        assert!(duration("3601s").unwrap_err().contains("between 0 and 1 hour"));
    }

    #[test]
    fn a_failure_is_indented_under_its_check_and_counted() {
        let parsed = expectations::parse("project: p\nrejected_requests: none\n", Format::Yaml, &|_| None).unwrap();
        let report = Report {
            projects: vec![expectations::ProjectReport {
                project: "p".into(),
                family: Some("posthog".into()),
                checks: vec![
                    expectations::Check {
                        kind: expectations::CheckKind::Traffic,
                        title: "project p has traffic".into(),
                        passed: true,
                        details: vec![],
                    },
                    expectations::Check {
                        kind: expectations::CheckKind::RejectedRequests,
                        title: "no rejected requests".into(),
                        passed: false,
                        details: vec![
                            "expected: at most 0".into(),
                            "actual:   1 rejected request, newest first:".into(),
                        ],
                    },
                ],
            }],
        };
        assert_eq!(parsed.projects[0].rejected_requests, Some(0));
        let lines = report_text(&report, "e.yaml", Style::PLAIN);
        assert_eq!(
            lines,
            [
                "Identity expectations: e.yaml",
                "project p (posthog)",
                "  ✓ project p has traffic",
                "  ✗ no rejected requests",
                "      expected: at most 0",
                "      actual:   1 rejected request, newest first:",
                "1 of 2 checks failed",
            ]
        );
    }
}
