//! An inspector for the verdict tests: persons as id sets, findings, rejected requests and
//! events, answering as `/api` would (a why answer from the persons; an unknown id as the 404).

use expectations::{
    EventQuery, FactError, Facts, Finding, Person, RejectedRequest, Why, WhyEvent, WhyFact, WhySide, WhyStep,
};

#[derive(Default)]
pub struct Inspector {
    pub project: String,
    /// Each person: (label, ids, identified).
    pub persons: Vec<(String, Vec<String>, bool)>,
    /// Ids the project saw that no person holds.
    pub personless: Vec<String>,
    /// Steps the why answer gives: chains when together, refusals when apart.
    pub steps: Vec<WhyStep>,
    pub root_cause: Option<String>,
    pub findings: Vec<Finding>,
    pub rejected: Vec<RejectedRequest>,
    /// (event name, distinct id) of each event.
    pub events: Vec<(String, String)>,
    /// Questions asked, to show what the verdict reads.
    pub asked: Vec<String>,
}

pub fn step(from: &str, to: &str, kind: &str) -> WhyStep {
    WhyStep {
        event: WhyEvent { seq: 12, event: "$identify".into(), timestamp: "2026-11-24T12:02:00Z".into() },
        lane_id: Some("phc_test/dev-1".into()),
        from: from.into(),
        to: to.into(),
        kind: kind.into(),
        rule: "merge_into_target".into(),
        sentence: format!("$identify {kind} {from} and {to}."),
    }
}

pub fn finding(rule: &str, severity: &str, ids: &[&str]) -> Finding {
    Finding {
        rule: rule.into(),
        severity: severity.into(),
        project: "phc_test".into(),
        message: format!("{rule} about {}", ids.join(", ")),
        fix: "Call reset() at logout.".into(),
        distinct_ids: ids.iter().map(|s| s.to_string()).collect(),
        device_ids: vec!["dev-1".into()],
        seq: 7,
    }
}

impl Inspector {
    pub fn posthog() -> Inspector {
        Inspector { project: "phc_test".into(), ..Inspector::default() }
    }

    pub fn person(mut self, label: &str, ids: &[&str], identified: bool) -> Inspector {
        self.persons.push((label.into(), ids.iter().map(|s| s.to_string()).collect(), identified));
        self
    }

    fn index_of(&self, id: &str) -> Option<usize> {
        self.persons.iter().position(|(_, ids, _)| ids.iter().any(|i| i == id))
    }

    fn side(&self, id: &str) -> WhySide {
        let index = self.index_of(id);
        WhySide {
            distinct_id: id.into(),
            person_id: index.map(|i| format!("person-{i}")),
            person_ids: index.map_or(0, |i| self.persons[i].1.len()),
            is_identified: index.is_some_and(|i| self.persons[i].2),
        }
    }
}

impl Facts for Inspector {
    fn projects(&mut self) -> Result<Vec<(String, String)>, FactError> {
        Ok(vec![(self.project.clone(), "posthog".into()), ("phc_other".into(), "posthog".into())])
    }

    fn why(&mut self, project: &str, a: &str, b: &str) -> Result<WhyFact, FactError> {
        self.asked.push(format!("why {a} {b}"));
        if project != self.project {
            return Ok(WhyFact::UnknownId(a.into()));
        }
        for id in [a, b] {
            if self.index_of(id).is_none() && !self.personless.iter().any(|p| p == id) {
                return Ok(WhyFact::UnknownId(id.into()));
            }
        }
        let (side_a, side_b) = (self.side(a), self.side(b));
        let together = side_a.person_id.is_some() && side_a.person_id == side_b.person_id;
        let summary = if together {
            format!("'{a}' and '{b}' are one person: one event joined them.")
        } else {
            format!("'{a}' and '{b}' are two persons: PostHog refused to merge them.")
        };
        Ok(WhyFact::Answer(Box::new(Why {
            project: project.into(),
            family: "posthog".into(),
            together,
            a: side_a,
            b: side_b,
            chain: if together && a != b { self.steps.clone() } else { Vec::new() },
            refusals: if together { Vec::new() } else { self.steps.clone() },
            refusals_total: if together { 0 } else { self.steps.len() },
            root_cause: if together { self.root_cause.clone() } else { None },
            summary,
        })))
    }

    fn person(&mut self, person_id: &str) -> Result<Person, FactError> {
        self.asked.push(format!("person {person_id}"));
        let i: usize = person_id.trim_start_matches("person-").parse().map_err(|_| FactError("no person".into()))?;
        let (label, ids, identified) = self.persons[i].clone();
        Ok(Person { label, distinct_ids: ids, is_identified: identified })
    }

    fn findings(&mut self, project: &str) -> Result<Vec<Finding>, FactError> {
        self.asked.push("findings".into());
        Ok(if project == self.project { self.findings.clone() } else { Vec::new() })
    }

    fn rejected_requests(&mut self, _project: &str) -> Result<Vec<RejectedRequest>, FactError> {
        Ok(self.rejected.clone())
    }

    fn count_events(&mut self, project: &str, query: &EventQuery, enough: u64) -> Result<u64, FactError> {
        if project != self.project {
            return Ok(0);
        }
        let n = self
            .events
            .iter()
            .filter(|(name, id)| {
                query.event.as_ref().is_none_or(|e| e == name) && query.distinct_id.as_ref().is_none_or(|d| d == id)
            })
            .count() as u64;
        Ok(n.min(enough))
    }
}
