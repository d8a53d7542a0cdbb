//! The expectations file (`identity-inspector check --expect FILE`), YAML or JSON.
//!
//! One project's expectations sit at the top level (the project comes from `project:`, the
//! command line, or the inspector's only project); several projects go in a `projects:` list:
//!
//! ```yaml
//! project: ${PROJECT}            # optional; ${NAME} is read from the environment
//! persons:                       # each entry: these ids are one person
//!   - [anon-device-1, user-42]
//!   - ids: [user-43]
//!     only: true                 # ...and that person holds no other id
//! apart:                         # each entry: these ids are all on different persons
//!   - [user-42, user-43]
//! findings:
//!   must_fire: [missing_reset_between_users]
//!   must_not_fire:
//!     - distinct_users_merged
//!     - severity: error          # no error finding at all
//! rejected_requests: none        # or the most allowed, e.g. 2
//! events:
//!   - { event: $identify, distinct_id: user-42, count: 1 }
//! ```
//!
//! Invariants: every key is known (a misspelt key is an error naming it, not an expectation
//! silently skipped), every rule name is one of the engine's (`identity_engine::LintRule`), and a
//! file that expects nothing is refused: a check that cannot fail is a defect.

use std::fmt;

use identity_engine::LintRule;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// A parsed, validated expectations file.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectations {
    /// In file order; at least one, each expecting something.
    pub projects: Vec<ProjectExpectations>,
}

/// What one project's traffic must have produced.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectExpectations {
    /// The project key (token or write key); `None`: the caller names it.
    #[serde(default)]
    pub project: Option<String>,
    #[serde(default)]
    pub persons: Vec<PersonExpectation>,
    /// Groups of ids that must each be on a different person.
    #[serde(default)]
    pub apart: Vec<Vec<String>>,
    #[serde(default)]
    pub findings: FindingExpectations,
    /// The most rejected requests allowed (`none` is 0); `None`: not checked.
    #[serde(default, deserialize_with = "at_most")]
    pub rejected_requests: Option<u64>,
    #[serde(default)]
    pub events: Vec<EventExpectation>,
}

/// Ids that must be one person: a list, or `{ids, only}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonExpectation {
    pub ids: Vec<String>,
    /// The person holds these ids and no other.
    pub only: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingExpectations {
    #[serde(default)]
    pub must_fire: Vec<FindingMatch>,
    #[serde(default)]
    pub must_not_fire: Vec<FindingMatch>,
}

/// Which findings an entry means: a rule name, or `{rule, severity, ids}` (each optional, at
/// least one given). `ids` must all be among the ids (distinct or device) the finding names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FindingMatch {
    pub rule: Option<String>,
    pub severity: Option<String>,
    pub ids: Vec<String>,
}

/// Events that must have arrived: those of `event` (a name) and/or `distinct_id`, `count` of
/// them exactly, or `min` (default 1) to `max`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventExpectation {
    #[serde(default)]
    pub event: Option<String>,
    #[serde(default)]
    pub distinct_id: Option<String>,
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default)]
    pub min: Option<u64>,
    #[serde(default)]
    pub max: Option<u64>,
}

impl EventExpectation {
    /// The allowed counts, `(least, most)`.
    pub fn range(&self) -> (u64, Option<u64>) {
        match self.count {
            Some(n) => (n, Some(n)),
            None => (self.min.unwrap_or(1), self.max),
        }
    }
}

/// How a file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

impl Format {
    /// By the file's extension (`.json`; anything else is YAML, of which JSON is a subset), or
    /// for a name without one (standard input), by its first character.
    pub fn detect(name: &str, text: &str) -> Format {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".json") || (!lower.contains('.') && text.trim_start().starts_with('{')) {
            Format::Json
        } else {
            Format::Yaml
        }
    }
}

/// Why a file cannot be checked.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FileError {
    /// Not YAML/JSON, or a key or value of the wrong kind (the parser's message has the line).
    #[error("{0}")]
    Syntax(String),
    /// Well-formed, but asks for something that cannot be checked.
    #[error("{at}: {message}")]
    Invalid { at: String, message: String },
    #[error("the file expects nothing: give at least one of persons, apart, findings, rejected_requests, events")]
    Empty,
}

/// Parses and validates a file; `${NAME}` in any string is replaced by `env(NAME)`, and an unset
/// name is an error (a test whose id did not expand would check the literal text).
pub fn parse(text: &str, format: Format, env: &dyn Fn(&str) -> Option<String>) -> Result<Expectations, FileError> {
    /// The top level has `projects:`, or is one project's expectations.
    #[derive(Deserialize)]
    struct Shape {
        #[serde(default)]
        projects: Option<de::IgnoredAny>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Several {
        projects: Vec<ProjectExpectations>,
    }
    fn read<T: for<'de> Deserialize<'de>>(text: &str, format: Format) -> Result<T, FileError> {
        match format {
            Format::Json => serde_json::from_str(text).map_err(|e| FileError::Syntax(e.to_string())),
            Format::Yaml => serde_yaml_ng::from_str(text).map_err(|e| FileError::Syntax(e.to_string())),
        }
    }
    if text.trim().is_empty() {
        return Err(FileError::Empty);
    }
    let shape: Shape = read(text, format).map_err(|e| match e {
        FileError::Syntax(m) if m.contains("invalid type") => FileError::Syntax(format!(
            "the file must be a mapping of expectations (persons, apart, findings, …) or of `projects:` ({m})"
        )),
        other => other,
    })?;
    let several = shape.projects.is_some();
    let mut projects = match several {
        true => read::<Several>(text, format)?.projects,
        false => vec![read::<ProjectExpectations>(text, format)?],
    };
    if projects.is_empty() {
        return Err(FileError::Invalid { at: "projects".into(), message: "the list is empty".into() });
    }
    for (i, project) in projects.iter_mut().enumerate() {
        let at = if several { format!("projects[{i}]") } else { String::new() };
        expand_all(project, &at, env)?;
        validate(project, &at, several)?;
    }
    Ok(Expectations { projects })
}

/// `at` joined with `key` for messages: `projects[1].persons[0]`, or `persons[0]` at the top.
fn path(at: &str, key: impl fmt::Display) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

fn invalid(at: String, message: impl Into<String>) -> FileError {
    FileError::Invalid { at, message: message.into() }
}

fn validate(p: &ProjectExpectations, at: &str, several: bool) -> Result<(), FileError> {
    if several && p.project.is_none() {
        return Err(invalid(path(at, "project"), "each entry of `projects` names its project key"));
    }
    if p.project.as_deref().is_some_and(|k| k.trim().is_empty()) {
        return Err(invalid(path(at, "project"), "the project key is empty"));
    }
    let f = &p.findings;
    if p.persons.is_empty()
        && p.apart.is_empty()
        && f.must_fire.is_empty()
        && f.must_not_fire.is_empty()
        && p.rejected_requests.is_none()
        && p.events.is_empty()
    {
        return Err(if several { invalid(at.to_owned(), "this project expects nothing") } else { FileError::Empty });
    }
    for (i, person) in p.persons.iter().enumerate() {
        let here = path(at, format!("persons[{i}]"));
        ids(&person.ids, &here, 1)?;
    }
    for (i, group) in p.apart.iter().enumerate() {
        let here = path(at, format!("apart[{i}]"));
        ids(group, &here, 2)?;
    }
    for (list, name) in [(&f.must_fire, "must_fire"), (&f.must_not_fire, "must_not_fire")] {
        for (i, m) in list.iter().enumerate() {
            finding_match(m, &path(at, format!("findings.{name}[{i}]")))?;
        }
    }
    for (i, e) in p.events.iter().enumerate() {
        let here = path(at, format!("events[{i}]"));
        if e.count.is_some() && (e.min.is_some() || e.max.is_some()) {
            return Err(invalid(here, "give `count` (exactly) or `min`/`max`, not both"));
        }
        if let (Some(min), Some(max)) = (e.min, e.max) {
            if min > max {
                return Err(invalid(here, format!("`min` ({min}) is above `max` ({max})")));
            }
        }
        for (value, key) in [(&e.event, "event"), (&e.distinct_id, "distinct_id")] {
            if value.as_deref().is_some_and(str::is_empty) {
                return Err(invalid(here, format!("`{key}` is empty")));
            }
        }
    }
    Ok(())
}

/// At least `least` ids, none empty, none twice.
fn ids(list: &[String], at: &str, least: usize) -> Result<(), FileError> {
    if list.len() < least {
        let need = if least == 1 { "at least one id".to_owned() } else { format!("at least {least} ids") };
        return Err(invalid(at.to_owned(), format!("give {need} (this has {})", list.len())));
    }
    for (i, id) in list.iter().enumerate() {
        if id.is_empty() {
            return Err(invalid(format!("{at}[{i}]"), "an id is empty"));
        }
        if list[..i].contains(id) {
            return Err(invalid(format!("{at}[{i}]"), format!("{id:?} is listed twice")));
        }
    }
    Ok(())
}

const SEVERITIES: [&str; 3] = ["error", "warning", "info"];

fn finding_match(m: &FindingMatch, at: &str) -> Result<(), FileError> {
    if m.rule.is_none() && m.severity.is_none() {
        return Err(invalid(at.to_owned(), "give a `rule` or a `severity` (or both)"));
    }
    if let Some(rule) = &m.rule {
        if rule.parse::<LintRule>().is_err() {
            let known: Vec<&str> = LintRule::ALL.iter().map(|r| r.as_str()).collect();
            return Err(invalid(
                path(at, "rule"),
                format!("no rule is called {rule:?}; the rules are: {}", known.join(", ")),
            ));
        }
    }
    if let Some(severity) = &m.severity {
        if !SEVERITIES.contains(&severity.as_str()) {
            return Err(invalid(path(at, "severity"), format!("{severity:?} is not error, warning or info")));
        }
    }
    if m.ids.iter().any(String::is_empty) {
        return Err(invalid(path(at, "ids"), "an id is empty"));
    }
    Ok(())
}

/// Expands `${NAME}` in every string of `p`.
fn expand_all(p: &mut ProjectExpectations, at: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<(), FileError> {
    let mut strings: Vec<(&mut String, String)> = Vec::new();
    if let Some(project) = &mut p.project {
        strings.push((project, path(at, "project")));
    }
    for (i, person) in p.persons.iter_mut().enumerate() {
        for (j, id) in person.ids.iter_mut().enumerate() {
            strings.push((id, path(at, format!("persons[{i}][{j}]"))));
        }
    }
    for (i, group) in p.apart.iter_mut().enumerate() {
        for (j, id) in group.iter_mut().enumerate() {
            strings.push((id, path(at, format!("apart[{i}][{j}]"))));
        }
    }
    let findings = &mut p.findings;
    for (list, name) in [(&mut findings.must_fire, "must_fire"), (&mut findings.must_not_fire, "must_not_fire")] {
        for (i, m) in list.iter_mut().enumerate() {
            for (j, id) in m.ids.iter_mut().enumerate() {
                strings.push((id, path(at, format!("findings.{name}[{i}].ids[{j}]"))));
            }
        }
    }
    for (i, e) in p.events.iter_mut().enumerate() {
        for (value, key) in [(&mut e.event, "event"), (&mut e.distinct_id, "distinct_id")] {
            if let Some(value) = value {
                strings.push((value, path(at, format!("events[{i}].{key}"))));
            }
        }
    }
    for (text, here) in strings {
        *text = expand(text, env).map_err(|message| invalid(here, message))?;
    }
    Ok(())
}

/// `text` with each `${NAME}` replaced; any other `$` is kept as it is.
fn expand(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(format!("`${{` without its `}}` in {text:?}"));
        };
        let name = &after[..end];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("`${{{name}}}` is not an environment variable name"));
        }
        match env(name) {
            Some(value) => out.push_str(&value),
            None => return Err(format!("the environment variable {name} is not set (used as `${{{name}}}`)")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `rejected_requests`: a whole number, or `none` for 0.
fn at_most<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    struct AtMost;
    impl Visitor<'_> for AtMost {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("`none` or the most rejected requests allowed (a whole number)")
        }
        fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
            Ok(Some(n))
        }
        fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
            u64::try_from(n).map(Some).map_err(|_| E::invalid_value(de::Unexpected::Signed(n), &self))
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
            match s {
                "none" => Ok(Some(0)),
                _ => Err(E::invalid_value(de::Unexpected::Str(s), &self)),
            }
        }
    }
    d.deserialize_any(AtMost)
}

impl<'de> Deserialize<'de> for PersonExpectation {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Long {
            ids: Vec<String>,
            #[serde(default)]
            only: bool,
        }
        struct Person;
        impl<'de> Visitor<'de> for Person {
            type Value = PersonExpectation;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of ids, or {ids: [...], only: true}")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                let ids = Vec::<String>::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                Ok(PersonExpectation { ids, only: false })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let long = Long::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(PersonExpectation { ids: long.ids, only: long.only })
            }
        }
        d.deserialize_any(Person)
    }
}

impl<'de> Deserialize<'de> for FindingMatch {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Long {
            #[serde(default)]
            rule: Option<String>,
            #[serde(default)]
            severity: Option<String>,
            #[serde(default)]
            ids: Vec<String>,
        }
        struct Entry;
        impl<'de> Visitor<'de> for Entry {
            type Value = FindingMatch;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a rule name, or {rule, severity, ids}")
            }
            fn visit_str<E: de::Error>(self, rule: &str) -> Result<FindingMatch, E> {
                Ok(FindingMatch { rule: Some(rule.to_owned()), ..FindingMatch::default() })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<FindingMatch, A::Error> {
                let long = Long::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(FindingMatch { rule: long.rule, severity: long.severity, ids: long.ids })
            }
        }
        d.deserialize_any(Entry)
    }
}
