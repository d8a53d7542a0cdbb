//! The expectations file: both shapes, shorthands, `${NAME}`, and every mistake named.

use expectations::{parse, FileError, FindingMatch, Format, PersonExpectation};

fn env(name: &str) -> Option<String> {
    match name {
        "PROJECT" => Some("phc_run_7".into()),
        "USER" => Some("user-7".into()),
        _ => None,
    }
}

fn yaml(text: &str) -> Result<expectations::Expectations, FileError> {
    parse(text, Format::Yaml, &env)
}

fn invalid(text: &str) -> String {
    match yaml(text) {
        Err(e) => e.to_string(),
        Ok(parsed) => panic!("expected an error, parsed {parsed:?}"),
    }
}

#[test]
fn one_project_at_the_top_level_with_every_shorthand() {
    let parsed = yaml(
        "project: ${PROJECT}
persons:
  - [anon-1, '${USER}']
  - ids: [user-8]
    only: true
apart:
  - [user-7, user-8]
findings:
  must_fire: [missing_reset_between_users]
  must_not_fire:
    - distinct_users_merged
    - severity: error
    - { rule: generic_distinct_id, ids: [null-ish] }
rejected_requests: none
events:
  - { event: $identify, distinct_id: user-7, count: 1 }
  - { event: $pageview }
",
    )
    .unwrap();
    assert_eq!(parsed.projects.len(), 1);
    let p = &parsed.projects[0];
    assert_eq!(p.project.as_deref(), Some("phc_run_7"));
    assert_eq!(p.persons[0], PersonExpectation { ids: vec!["anon-1".into(), "user-7".into()], only: false });
    assert_eq!(p.persons[1], PersonExpectation { ids: vec!["user-8".into()], only: true });
    assert_eq!(p.apart, vec![vec!["user-7".to_owned(), "user-8".to_owned()]]);
    assert_eq!(
        p.findings.must_fire,
        vec![FindingMatch { rule: Some("missing_reset_between_users".into()), ..Default::default() }]
    );
    assert_eq!(p.findings.must_not_fire[1], FindingMatch { severity: Some("error".into()), ..Default::default() });
    assert_eq!(p.findings.must_not_fire[2].ids, vec!["null-ish".to_owned()]);
    assert_eq!(p.rejected_requests, Some(0));
    assert_eq!(p.events[0].range(), (1, Some(1)));
    assert_eq!(p.events[1].range(), (1, None), "an event entry without counts means at least one");
    // `$identify` is not `${…}`: a lone `$` stays.
    assert_eq!(p.events[0].event.as_deref(), Some("$identify"));
}

#[test]
fn several_projects_in_a_list_each_named() {
    let parsed = yaml(
        "projects:
  - project: phc_a
    rejected_requests: 2
  - project: phc_b
    persons: [[x, y]]
",
    )
    .unwrap();
    let keys: Vec<_> = parsed.projects.iter().map(|p| p.project.clone().unwrap()).collect();
    assert_eq!(keys, ["phc_a", "phc_b"]);
    assert_eq!(parsed.projects[0].rejected_requests, Some(2));
    assert!(invalid("projects:\n  - persons: [[x, y]]\n").contains("projects[0].project: each entry"));
    assert!(invalid("projects: []\n").contains("projects: the list is empty"));
}

#[test]
fn json_reads_the_same_and_says_where_it_broke() {
    let parsed = parse(r#"{"project": "phc_a", "apart": [["a", "b", "c"]]}"#, Format::Json, &env).unwrap();
    assert_eq!(parsed.projects[0].apart[0].len(), 3);
    let err = parse("{\"project\": \"phc_a\",\n \"apart\": [[\"a\", ]]}", Format::Json, &env).unwrap_err();
    assert!(err.to_string().contains("line 2"), "{err}");
    assert_eq!(Format::detect("expect.json", ""), Format::Json);
    assert_eq!(Format::detect("expect.yml", "{}"), Format::Yaml);
    assert_eq!(Format::detect("-", "  {\"apart\": []}"), Format::Json);
}

#[test]
fn a_misspelt_key_is_named_with_its_line_not_skipped() {
    let err = invalid("persons:\n  - [a, b]\nfinding:\n  must_fire: [repeated_identify]\n");
    assert!(err.contains("unknown field `finding`") && err.contains("line 3"), "{err}");
    let err = invalid("persons:\n  - ids: [a]\n    exact: true\n");
    assert!(err.contains("unknown field `exact`"), "{err}");
    let err = invalid("findings:\n  must_fire:\n    - { rule: repeated_identify, id: [a] }\n");
    assert!(err.contains("unknown field `id`"), "{err}");
}

#[test]
fn values_that_cannot_be_checked_are_refused_with_their_place() {
    let err = invalid("findings:\n  must_fire: [missing_reset]\n");
    assert!(err.starts_with("findings.must_fire[0].rule: no rule is called \"missing_reset\""), "{err}");
    assert!(err.contains("missing_reset_between_users"), "lists the rules: {err}");
    assert!(invalid("findings:\n  must_not_fire: [{severity: fatal}]\n")
        .contains("\"fatal\" is not error, warning or info"));
    assert!(invalid("findings:\n  must_not_fire: [{ids: [a]}]\n").contains("give a `rule` or a `severity`"));
    assert!(invalid("apart:\n  - [a]\n").starts_with("apart[0]: give at least 2 ids (this has 1)"));
    assert!(invalid("persons:\n  - []\n").starts_with("persons[0]: give at least one id"));
    assert!(invalid("persons:\n  - [a, b, a]\n").starts_with("persons[0][2]: \"a\" is listed twice"));
    assert!(invalid("persons:\n  - [a, '']\n").contains("an id is empty"));
    assert!(invalid("events:\n  - {event: x, count: 1, min: 1}\n").contains("not both"));
    assert!(invalid("events:\n  - {event: x, min: 3, max: 1}\n").contains("`min` (3) is above `max` (1)"));
    assert!(invalid("rejected_requests: some\n").contains("`none` or the most rejected requests"));
    assert!(invalid("rejected_requests: -1\n").contains("`none` or the most"));
    assert!(invalid("project: ''\napart: [[a, b]]\n").contains("the project key is empty"));
    assert!(invalid("- [a, b]\n").contains("must be a mapping"));
}

#[test]
fn an_unset_variable_is_an_error_not_its_literal_text() {
    let err = invalid("persons:\n  - [anon, '${NOT_SET}']\n");
    assert_eq!(err, "persons[0][1]: the environment variable NOT_SET is not set (used as `${NOT_SET}`)");
    assert!(invalid("persons:\n  - ['${USER']\n").contains("without its `}`"));
    assert!(invalid("persons:\n  - ['${a-b}']\n").contains("not an environment variable name"));
}

#[test]
fn a_file_that_expects_nothing_is_refused() {
    assert_eq!(yaml(""), Err(FileError::Empty));
    assert_eq!(yaml("project: phc_a\n"), Err(FileError::Empty));
    assert_eq!(yaml("findings: {}\n"), Err(FileError::Empty));
    assert!(invalid("projects:\n  - project: a\n    apart: [[x, y]]\n  - project: b\n")
        .contains("projects[1]: this project expects nothing"));
}

#[test]
fn the_readme_example_is_a_valid_file() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../README.md")).unwrap();
    let section = &readme[readme.find("## Checking identity in CI").expect("the README's check section")..];
    let start = section.find("```yaml\n").unwrap() + "```yaml\n".len();
    let example = &section[start..start + section[start..].find("```").unwrap()];
    let parsed = yaml(&example.replace("${PROJECT}", "${USER}")).unwrap();
    let p = &parsed.projects[0];
    assert_eq!(p.project.as_deref(), Some("user-7"));
    assert_eq!((p.persons.len(), p.apart.len(), p.findings.must_not_fire.len(), p.events.len()), (2, 1, 2, 1));
    assert_eq!(p.rejected_requests, Some(0));
}
