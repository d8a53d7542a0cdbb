//! The verdict: each expectation checked against the inspector's answers, and each failure
//! explained with what was expected, what is, and the decisions or findings behind what is.
//!
//! Invariants: one [`Check`] per expectation (plus one per project saying it has traffic, so a
//! misspelt project key fails instead of passing every "must not fire"); a check passes only on
//! an answer that shows it, never for want of one (an id the project never saw fails both
//! "together" and "apart"); explanations are capped so one bad id on 10 000 devices stays
//! readable.

use std::collections::HashMap;

use serde::Serialize;

use crate::facts::{EventQuery, FactError, Facts, Finding, Person, Why, WhyFact, WhyStep};
use crate::file::{EventExpectation, Expectations, FindingMatch, PersonExpectation, ProjectExpectations};

/// At most this many ids of one person, findings, steps or requests in an explanation.
const SHOWN: usize = 5;
/// At most this many rejected requests listed.
const SHOWN_REQUESTS: usize = 10;

/// Every check of a file, by project in file order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub projects: Vec<ProjectReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectReport {
    pub project: String,
    /// Whose identity rules the project gets; `None` when it has no traffic.
    pub family: Option<String>,
    pub checks: Vec<Check>,
}

/// One expectation's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub kind: CheckKind,
    /// The expectation in words ("anon-1 and user-1 are one person").
    pub title: String,
    pub passed: bool,
    /// For a failure: `expected: …`, `actual: …`, then why, one line each.
    pub details: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    Traffic,
    Person,
    Apart,
    MustFire,
    MustNotFire,
    RejectedRequests,
    Events,
}

impl CheckKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::Traffic => "traffic",
            CheckKind::Person => "person",
            CheckKind::Apart => "apart",
            CheckKind::MustFire => "must_fire",
            CheckKind::MustNotFire => "must_not_fire",
            CheckKind::RejectedRequests => "rejected_requests",
            CheckKind::Events => "events",
        }
    }
}

impl Report {
    pub fn checks(&self) -> impl Iterator<Item = &Check> {
        self.projects.iter().flat_map(|p| &p.checks)
    }

    pub fn failures(&self) -> usize {
        self.checks().filter(|c| !c.passed).count()
    }

    pub fn passed(&self) -> bool {
        self.failures() == 0
    }
}

impl Check {
    fn pass(kind: CheckKind, title: String) -> Check {
        Check { kind, title, passed: true, details: Vec::new() }
    }

    fn fail(kind: CheckKind, title: String, details: Vec<String>) -> Check {
        Check { kind, title, passed: false, details }
    }
}

/// Checks every expectation of `expectations`; each project must be named (the caller fills in
/// the project of a file that names none). An `Err` is an inspector that could not answer.
pub fn evaluate(expectations: &Expectations, facts: &mut dyn Facts) -> Result<Report, FactError> {
    let projects = facts.projects()?;
    let mut out = Vec::new();
    for expected in &expectations.projects {
        let project = expected.project.clone().unwrap_or_default();
        let family = projects.iter().find(|(key, _)| *key == project).map(|(_, family)| family.clone());
        let mut verdict = Verdict { project: &project, facts, persons: HashMap::new() };
        let checks = verdict.project(expected, family.is_some(), &projects)?;
        out.push(ProjectReport { project, family, checks });
    }
    Ok(Report { projects: out })
}

struct Verdict<'a> {
    project: &'a str,
    facts: &'a mut dyn Facts,
    persons: HashMap<String, Person>,
}

/// `a, b and c`.
fn listed(ids: &[String]) -> String {
    match ids {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// At most `SHOWN` of `items`, then how many more.
fn capped(items: &[String], most: usize) -> String {
    let mut text = items.iter().take(most).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > most {
        text.push_str(&format!(" … and {} more", items.len() - most));
    }
    text
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn step_line(n: usize, step: &WhyStep) -> String {
    let lane = step.lane_id.as_deref().map(|l| format!(" on {l}")).unwrap_or_default();
    format!(
        "  {n}. {} (#{}){lane}: {} → {}: {} ({}). {}",
        step.event.event, step.event.seq, step.from, step.to, step.kind, step.rule, step.sentence
    )
}

fn never_arrived(id: &str, project: &str) -> String {
    format!("actual:   {id} never arrived in project {project} (a typo, or its events were not sent yet)")
}

impl Verdict<'_> {
    fn project(
        &mut self,
        expected: &ProjectExpectations,
        has_traffic: bool,
        projects: &[(String, String)],
    ) -> Result<Vec<Check>, FactError> {
        let mut checks = vec![self.traffic(has_traffic, projects)];
        for person in &expected.persons {
            checks.push(self.person(person)?);
        }
        for group in &expected.apart {
            checks.push(self.apart(group)?);
        }
        let findings = if expected.findings.must_fire.is_empty() && expected.findings.must_not_fire.is_empty() {
            Vec::new()
        } else {
            self.facts.findings(self.project)?
        };
        for m in &expected.findings.must_fire {
            checks.push(must_fire(m, &findings));
        }
        for m in &expected.findings.must_not_fire {
            checks.push(must_not_fire(m, &findings));
        }
        if let Some(most) = expected.rejected_requests {
            checks.push(self.rejected(most)?);
        }
        for e in &expected.events {
            checks.push(self.events(e)?);
        }
        Ok(checks)
    }

    fn traffic(&self, has_traffic: bool, projects: &[(String, String)]) -> Check {
        let title = format!("project {} has traffic", self.project);
        if has_traffic {
            return Check::pass(CheckKind::Traffic, title);
        }
        let known: Vec<String> = projects.iter().map(|(key, _)| key.clone()).collect();
        let mut details = vec![format!(
            "actual:   the inspector has no events of {}: check the key the SDK was given, and its host",
            self.project
        )];
        details.push(match known.as_slice() {
            [] => "          the inspector has no traffic at all".to_owned(),
            _ => format!("          its projects: {}", capped(&known, SHOWN)),
        });
        Check::fail(CheckKind::Traffic, title, details)
    }

    fn why(&mut self, a: &str, b: &str) -> Result<WhyFact, FactError> {
        self.facts.why(self.project, a, b)
    }

    fn person_of(&mut self, person_id: &str) -> Result<Person, FactError> {
        if let Some(p) = self.persons.get(person_id) {
            return Ok(p.clone());
        }
        let person = self.facts.person(person_id)?;
        self.persons.insert(person_id.to_owned(), person.clone());
        Ok(person)
    }

    /// `label (3 ids, identified): a, b, c`.
    fn describe_person(&mut self, person_id: &str) -> Result<String, FactError> {
        let p = self.person_of(person_id)?;
        Ok(format!(
            "{} ({}, {}): {}",
            p.label,
            plural(p.distinct_ids.len(), "id", "ids"),
            if p.is_identified { "identified" } else { "anonymous" },
            capped(&p.distinct_ids, SHOWN)
        ))
    }

    fn person(&mut self, expected: &PersonExpectation) -> Result<Check, FactError> {
        let ids = &expected.ids;
        let only = if expected.only { " with no other id" } else { "" };
        let title = match ids.as_slice() {
            [one] => format!("{one} is a person{only}"),
            _ => format!("{} are one person{only}", listed(ids)),
        };
        let first = &ids[0];
        let mut answers: Vec<Why> = Vec::new();
        let mut unknown = Vec::new();
        for id in ids {
            match self.why(first, id)? {
                WhyFact::Answer(why) => answers.push(*why),
                WhyFact::UnknownId(id) => unknown.push(id),
            }
        }
        let expected_line = format!("expected: one person holding {}{only}", listed(ids));
        if !unknown.is_empty() {
            unknown.dedup();
            let mut details = vec![expected_line];
            details.extend(unknown.iter().map(|id| never_arrived(id, self.project)));
            return Ok(Check::fail(CheckKind::Person, title, details));
        }
        let Some(person_id) = answers[0].a.person_id.clone() else {
            return Ok(Check::fail(
                CheckKind::Person,
                title,
                vec![
                    expected_line,
                    format!("actual:   {first} has no person (only personless events, or the vendor refused the id)"),
                ],
            ));
        };
        let apart: Vec<&Why> = answers.iter().filter(|w| !w.together).collect();
        if !apart.is_empty() {
            let mut details = vec![expected_line];
            // Each person the ids are on, once, then why each id is not on the first's.
            let mut seen: Vec<Option<String>> = Vec::new();
            let mut actual = Vec::new();
            for why in &answers {
                let side = &why.b;
                if seen.contains(&side.person_id) {
                    continue;
                }
                seen.push(side.person_id.clone());
                actual.push(match &side.person_id {
                    Some(pid) => format!("{} → {}", side.distinct_id, self.describe_person(pid)?),
                    None => format!("{} → no person", side.distinct_id),
                });
            }
            for (i, line) in actual.into_iter().enumerate() {
                details.push(format!("{}{line}", if i == 0 { "actual:   " } else { "          " }));
            }
            for why in apart {
                details.push(format!("why:      {}", why.summary));
                details.extend(refusal_lines(why));
            }
            return Ok(Check::fail(CheckKind::Person, title, details));
        }
        if expected.only {
            let person = self.person_of(&person_id)?;
            let extra: Vec<String> = person.distinct_ids.iter().filter(|id| !ids.contains(id)).cloned().collect();
            if !extra.is_empty() {
                let description = self.describe_person(&person_id)?;
                return Ok(Check::fail(
                    CheckKind::Person,
                    title,
                    vec![
                        expected_line,
                        format!("actual:   {description}"),
                        format!("          also holds {}", capped(&extra, SHOWN)),
                    ],
                ));
            }
        }
        Ok(Check::pass(CheckKind::Person, title))
    }

    fn apart(&mut self, ids: &[String]) -> Result<Check, FactError> {
        let title = match ids {
            [a, b] => format!("{a} and {b} are different persons"),
            _ => format!("{} are each a different person", listed(ids)),
        };
        let mut details = vec![format!("expected: {} on different persons", listed(ids))];
        let mut failed = false;
        let mut unknown: Vec<String> = Vec::new();
        for (i, a) in ids.iter().enumerate() {
            for b in &ids[i + 1..] {
                match self.why(a, b)? {
                    WhyFact::UnknownId(id) => {
                        if !unknown.contains(&id) {
                            unknown.push(id);
                        }
                    }
                    WhyFact::Answer(why) if why.together => {
                        failed = true;
                        let person = match &why.a.person_id {
                            Some(pid) => self.describe_person(pid)?,
                            None => String::new(),
                        };
                        details.push(format!("actual:   {a} and {b} are one person, {person}"));
                        details.push(format!("why:      {}", why.summary));
                        details.extend(chain_lines(&why));
                    }
                    WhyFact::Answer(_) => {}
                }
            }
        }
        details.extend(unknown.iter().map(|id| never_arrived(id, self.project)));
        Ok(if failed || !unknown.is_empty() {
            Check::fail(CheckKind::Apart, title, details)
        } else {
            Check::pass(CheckKind::Apart, title)
        })
    }

    fn rejected(&mut self, most: u64) -> Result<Check, FactError> {
        let title = match most {
            0 => "no rejected requests".to_owned(),
            n => format!("at most {}", plural(n as usize, "rejected request", "rejected requests")),
        };
        let rejected = self.facts.rejected_requests(self.project)?;
        if rejected.len() as u64 <= most {
            return Ok(Check::pass(CheckKind::RejectedRequests, title));
        }
        let mut details = vec![
            format!("expected: at most {most}"),
            format!("actual:   {}, newest first:", plural(rejected.len(), "rejected request", "rejected requests")),
        ];
        for r in rejected.iter().take(SHOWN_REQUESTS) {
            let code = r.error_code.as_deref().map(|c| format!(" {c}")).unwrap_or_default();
            let error = r.error.as_deref().map(|e| format!(": {e}")).unwrap_or_default();
            let unnamed = if r.project.is_none() { " (no project readable)" } else { "" };
            details.push(format!("  #{} {} {} → {}{code}{error}{unnamed}", r.id, r.method, r.path, r.status));
        }
        if rejected.len() > SHOWN_REQUESTS {
            details.push(format!("  … and {} more", rejected.len() - SHOWN_REQUESTS));
        }
        details.push("  (each in full: the UI's Requests view, or GET /api/requests/{id})".to_owned());
        Ok(Check::fail(CheckKind::RejectedRequests, title, details))
    }

    fn events(&mut self, expected: &EventExpectation) -> Result<Check, FactError> {
        let (least, most) = expected.range();
        let what = match &expected.event {
            Some(name) => format!("`{name}` event"),
            None => "event".to_owned(),
        };
        let what = |n: u64| {
            let noun = if n == 1 { what.clone() } else { format!("{what}s") };
            match &expected.distinct_id {
                Some(id) => format!("{noun} of {id}"),
                None => noun,
            }
        };
        let range = match most {
            Some(0) => format!("no {}", what(1)),
            Some(m) if m == least => format!("exactly {m} {}", what(m)),
            Some(m) if least == 0 => format!("at most {m} {}", what(m)),
            Some(m) => format!("{least} to {m} {}", what(m)),
            None => format!("at least {least} {}", what(least)),
        };
        let enough = most.map_or(least, |m| m + 1).max(1);
        let query = EventQuery { event: expected.event.clone(), distinct_id: expected.distinct_id.clone() };
        let count = self.facts.count_events(self.project, &query, enough)?;
        let title = range.clone();
        if count >= least && most.is_none_or(|m| count <= m) {
            return Ok(Check::pass(CheckKind::Events, title));
        }
        let actual = if count >= enough { format!("{count} or more") } else { count.to_string() };
        Ok(Check::fail(CheckKind::Events, title, vec![format!("expected: {range}"), format!("actual:   {actual}")]))
    }
}

/// The decisions that joined two ids, capped, and the root cause.
fn chain_lines(why: &Why) -> Vec<String> {
    let mut lines: Vec<String> = why.chain.iter().take(SHOWN).enumerate().map(|(i, s)| step_line(i + 1, s)).collect();
    if why.chain.len() > SHOWN {
        lines.push(format!("  … and {} more", why.chain.len() - SHOWN));
    }
    if let Some(cause) = &why.root_cause {
        lines.push(format!("cause:    {cause}"));
    }
    lines
}

/// The refusals that kept two ids apart, capped.
fn refusal_lines(why: &Why) -> Vec<String> {
    let mut lines: Vec<String> =
        why.refusals.iter().take(SHOWN).enumerate().map(|(i, s)| step_line(i + 1, s)).collect();
    let total = why.refusals_total.max(why.refusals.len());
    if total > SHOWN.min(why.refusals.len()) {
        lines.push(format!("  … and {} more", total - SHOWN.min(why.refusals.len())));
    }
    lines
}

/// A finding entry in words: `missing_reset_between_users` / `an error finding`, naming ids.
fn describe(m: &FindingMatch) -> String {
    let mut text = match (&m.rule, &m.severity) {
        (Some(rule), None) => rule.clone(),
        (Some(rule), Some(severity)) => format!("{rule} ({severity})"),
        (None, Some(severity)) => format!("a{} {severity} finding", if severity == "error" { "n" } else { "" }),
        (None, None) => "a finding".to_owned(),
    };
    if !m.ids.is_empty() {
        text.push_str(&format!(" naming {}", listed(&m.ids)));
    }
    text
}

fn matches(m: &FindingMatch, f: &Finding) -> bool {
    m.rule.as_ref().is_none_or(|r| *r == f.rule)
        && m.severity.as_ref().is_none_or(|s| *s == f.severity)
        && m.ids.iter().all(|id| f.distinct_ids.contains(id) || f.device_ids.contains(id))
}

/// `ERROR missing_reset_between_users: ids null, user-2; devices dev-2`, its message and fix.
fn finding_lines(f: &Finding) -> Vec<String> {
    let mut names = Vec::new();
    if !f.distinct_ids.is_empty() {
        names.push(format!("ids {}", capped(&f.distinct_ids, SHOWN)));
    }
    if !f.device_ids.is_empty() {
        names.push(format!("devices {}", capped(&f.device_ids, SHOWN)));
    }
    let names = if names.is_empty() { String::new() } else { format!(": {}", names.join("; ")) };
    vec![
        format!("  {} {}{names}", f.severity.to_uppercase(), f.rule),
        format!("    {}", f.message),
        format!("    fix: {}", f.fix),
    ]
}

fn must_fire(m: &FindingMatch, findings: &[Finding]) -> Check {
    let title = format!("{} fires", describe(m));
    if findings.iter().any(|f| matches(m, f)) {
        return Check::pass(CheckKind::MustFire, title);
    }
    let mut details = vec![format!("expected: {}", describe(m))];
    // The same rule (or severity) naming other ids is the likeliest near miss: show it.
    let near = FindingMatch { ids: Vec::new(), ..m.clone() };
    let close: Vec<&Finding> = findings.iter().filter(|f| matches(&near, f)).collect();
    if !m.ids.is_empty() && !close.is_empty() {
        details.push(format!("actual:   it fired {}, naming other ids:", plural(close.len(), "time", "times")));
        for f in close.iter().take(SHOWN) {
            let mut named = f.distinct_ids.clone();
            named.extend(f.device_ids.iter().cloned());
            details.push(format!("  {}", capped(&named, SHOWN)));
        }
    } else if findings.is_empty() {
        details.push("actual:   this project has no findings".to_owned());
    } else {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for f in findings {
            match counts.iter_mut().find(|(rule, _)| *rule == f.rule) {
                Some((_, n)) => *n += 1,
                None => counts.push((f.rule.clone(), 1)),
            }
        }
        let shown: Vec<String> = counts.iter().map(|(rule, n)| format!("{rule} ×{n}")).collect();
        details.push(format!("actual:   none; this project's findings: {}", shown.join(", ")));
    }
    Check::fail(CheckKind::MustFire, title, details)
}

fn must_not_fire(m: &FindingMatch, findings: &[Finding]) -> Check {
    let title = match (&m.rule, &m.severity) {
        (None, Some(_)) => format!("no {} fires", describe(m).trim_start_matches("an ").trim_start_matches("a ")),
        _ => format!("{} does not fire", describe(m)),
    };
    let fired: Vec<&Finding> = findings.iter().filter(|f| matches(m, f)).collect();
    if fired.is_empty() {
        return Check::pass(CheckKind::MustNotFire, title);
    }
    let mut details =
        vec!["expected: none".to_owned(), format!("actual:   {}:", plural(fired.len(), "finding", "findings"))];
    for f in fired.iter().take(SHOWN) {
        details.extend(finding_lines(f));
    }
    if fired.len() > SHOWN {
        details.push(format!("  … and {} more", fired.len() - SHOWN));
    }
    Check::fail(CheckKind::MustNotFire, title, details)
}
