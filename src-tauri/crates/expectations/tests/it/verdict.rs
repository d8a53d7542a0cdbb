//! The verdict against a fake inspector: every kind of check passes on the answer that shows
//! it, fails otherwise, and a failure says what was expected, what is, and why.

use expectations::{evaluate, parse, CheckKind, Format, RejectedRequest, Report};

use crate::fake::{finding, step, Inspector};

fn check(text: &str, inspector: &mut Inspector) -> Report {
    let parsed = parse(text, Format::Yaml, &|_| None).unwrap();
    evaluate(&parsed, inspector).unwrap()
}

/// The checks of the only project as `(passed, title)`, after the traffic check.
fn verdicts(report: &Report) -> Vec<(bool, String)> {
    assert_eq!(report.projects[0].checks[0].kind, CheckKind::Traffic);
    report.projects[0].checks[1..].iter().map(|c| (c.passed, c.title.clone())).collect()
}

fn details(report: &Report, n: usize) -> String {
    report.projects[0].checks[n + 1].details.join("\n")
}

fn two_users() -> Inspector {
    Inspector::posthog()
        .person("ada@example.com", &["anon-1", "user-1", "ada@example.com"], true)
        .person("user-2", &["user-2"], true)
        .person("anon-3", &["anon-3"], false)
}

#[test]
fn ids_on_one_person_pass_and_ids_on_two_fail_with_the_refusal() {
    let mut inspector = two_users();
    inspector.steps = vec![step("anon-3", "user-2", "refused")];
    let report = check("project: phc_test\npersons:\n  - [anon-1, user-1]\n  - [user-2, anon-3]\n", &mut inspector);
    assert_eq!(
        verdicts(&report),
        [(true, "anon-1 and user-1 are one person".into()), (false, "user-2 and anon-3 are one person".into())]
    );
    assert_eq!(report.failures(), 1);
    let text = details(&report, 1);
    assert!(text.starts_with("expected: one person holding user-2 and anon-3\n"), "{text}");
    assert!(text.contains("actual:   user-2 → user-2 (1 id, identified): user-2"), "{text}");
    assert!(text.contains("          anon-3 → anon-3 (1 id, anonymous): anon-3"), "{text}");
    assert!(text.contains("why:      'user-2' and 'anon-3' are two persons"), "{text}");
    assert!(
        text.contains("1. $identify (#12) on phc_test/dev-1: anon-3 → user-2: refused (merge_into_target)"),
        "{text}"
    );
}

#[test]
fn only_fails_on_an_extra_id_and_names_it() {
    let mut inspector = two_users();
    let report = check(
        "project: phc_test\npersons:\n  - {ids: [anon-1, user-1], only: true}\n  - {ids: [user-2], only: true}\n",
        &mut inspector,
    );
    assert_eq!(
        verdicts(&report),
        [
            (false, "anon-1 and user-1 are one person with no other id".into()),
            (true, "user-2 is a person with no other id".into())
        ]
    );
    assert!(details(&report, 0).ends_with("          also holds ada@example.com"), "{}", details(&report, 0));
}

#[test]
fn an_id_never_seen_fails_together_and_apart() {
    let mut inspector = two_users();
    let report =
        check("project: phc_test\npersons:\n  - [anon-1, usr-1]\napart:\n  - [user-1, usr-1]\n", &mut inspector);
    assert_eq!(verdicts(&report).iter().filter(|(passed, _)| !passed).count(), 2);
    for n in [0, 1] {
        assert!(details(&report, n).contains("usr-1 never arrived in project phc_test"), "{}", details(&report, n));
    }
}

#[test]
fn an_id_without_a_person_is_not_a_person() {
    let mut inspector = two_users();
    inspector.personless.push("server-job".into());
    let report = check("project: phc_test\npersons:\n  - [server-job]\n", &mut inspector);
    assert_eq!(verdicts(&report), [(false, "server-job is a person".into())]);
    assert!(details(&report, 0).contains("server-job has no person"));
}

#[test]
fn apart_fails_when_joined_and_shows_the_chain_and_cause() {
    let mut inspector = Inspector::posthog().person("user-1", &["user-1", "anon-1", "user-2"], true);
    inspector.steps = vec![step("anon-1", "user-1", "merged"), step("anon-1", "user-2", "merged")];
    inspector.root_cause = Some("Device dev-1 was still identified as user-1 when user-2 logged in.".into());
    let report =
        check("project: phc_test\napart:\n  - [user-1, user-2]\n  - [user-1, user-2, anon-1]\n", &mut inspector);
    assert_eq!(
        verdicts(&report),
        [
            (false, "user-1 and user-2 are different persons".into()),
            (false, "user-1, user-2 and anon-1 are each a different person".into())
        ]
    );
    let text = details(&report, 0);
    assert!(
        text.contains("actual:   user-1 and user-2 are one person, user-1 (3 ids, identified): user-1, anon-1, user-2"),
        "{text}"
    );
    assert!(text.contains("  2. $identify (#12) on phc_test/dev-1: anon-1 → user-2: merged"), "{text}");
    assert!(text.contains("cause:    Device dev-1 was still identified as user-1"), "{text}");
    // Three ids: every pair that is together is listed.
    assert_eq!(details(&report, 1).matches("actual:   ").count(), 3);
    let mut apart = two_users();
    let report = check("project: phc_test\napart:\n  - [user-1, user-2, anon-3]\n", &mut apart);
    assert!(report.passed());
}

#[test]
fn findings_must_fire_with_their_ids_and_near_misses_are_shown() {
    let mut inspector = two_users();
    inspector.findings = vec![
        finding("missing_reset_between_users", "error", &["user-1", "user-2"]),
        finding("email_as_distinct_id", "warning", &["ada@example.com"]),
        finding("email_as_distinct_id", "warning", &["bob@example.com"]),
    ];
    let report = check(
        "project: phc_test
findings:
  must_fire:
    - missing_reset_between_users
    - {rule: missing_reset_between_users, ids: [user-1, dev-1]}
    - {rule: missing_reset_between_users, ids: [user-3]}
    - repeated_identify
    - {severity: warning}
",
        &mut inspector,
    );
    assert_eq!(
        verdicts(&report),
        [
            (true, "missing_reset_between_users fires".into()),
            (true, "missing_reset_between_users naming user-1 and dev-1 fires".into()),
            (false, "missing_reset_between_users naming user-3 fires".into()),
            (false, "repeated_identify fires".into()),
            (true, "a warning finding fires".into()),
        ]
    );
    assert!(
        details(&report, 2).contains("it fired 1 time, naming other ids:\n  user-1, user-2, dev-1"),
        "{}",
        details(&report, 2)
    );
    assert!(
        details(&report, 3)
            .ends_with("none; this project's findings: missing_reset_between_users ×1, email_as_distinct_id ×2"),
        "{}",
        details(&report, 3)
    );
}

#[test]
fn findings_that_must_not_fire_are_listed_with_their_fix() {
    let mut inspector = two_users();
    inspector.findings = vec![finding("distinct_users_merged", "error", &["user-1", "user-2"])];
    let report = check(
        "project: phc_test\nfindings:\n  must_not_fire: [distinct_users_merged, {severity: error}, {severity: warning}, repeated_identify]\n",
        &mut inspector,
    );
    assert_eq!(
        verdicts(&report),
        [
            (false, "distinct_users_merged does not fire".into()),
            (false, "no error finding fires".into()),
            (true, "no warning finding fires".into()),
            (true, "repeated_identify does not fire".into()),
        ]
    );
    let text = details(&report, 0);
    assert!(
        text.contains("actual:   1 finding:\n  ERROR distinct_users_merged: ids user-1, user-2; devices dev-1"),
        "{text}"
    );
    assert!(text.contains("    fix: Call reset() at logout."), "{text}");
}

#[test]
fn rejected_requests_over_the_limit_are_listed() {
    let mut inspector = two_users();
    inspector.rejected = (1..=12)
        .map(|id| RejectedRequest {
            id,
            method: "POST".into(),
            path: "/batch/".into(),
            status: 400,
            error: Some("body is not JSON".into()),
            error_code: Some("invalid_body".into()),
            project: if id == 1 { None } else { Some("phc_test".into()) },
        })
        .collect();
    let report = check("project: phc_test\nrejected_requests: none\n", &mut inspector);
    assert_eq!(verdicts(&report), [(false, "no rejected requests".into())]);
    let text = details(&report, 0);
    assert!(text.contains("actual:   12 rejected requests, newest first:"), "{text}");
    assert!(text.contains("  #1 POST /batch/ → 400 invalid_body: body is not JSON (no project readable)"), "{text}");
    assert!(text.contains("  … and 2 more"), "{text}");
    let report = check("project: phc_test\nrejected_requests: 12\n", &mut inspector);
    assert_eq!(verdicts(&report), [(true, "at most 12 rejected requests".into())]);
}

#[test]
fn event_counts_exact_at_least_and_none() {
    let mut inspector = two_users();
    inspector.events = vec![
        ("$identify".into(), "user-1".into()),
        ("$identify".into(), "user-1".into()),
        ("$pageview".into(), "anon-1".into()),
    ];
    let report = check(
        "project: phc_test
events:
  - {event: $identify, distinct_id: user-1, count: 1}
  - {event: $pageview}
  - {event: $identify, max: 0}
  - {distinct_id: anon-1, min: 1, max: 3}
  - {event: signed_up}
",
        &mut inspector,
    );
    assert_eq!(
        verdicts(&report),
        [
            (false, "exactly 1 `$identify` event of user-1".into()),
            (true, "at least 1 `$pageview` event".into()),
            (false, "no `$identify` event".into()),
            (true, "1 to 3 events of anon-1".into()),
            (false, "at least 1 `signed_up` event".into()),
        ]
    );
    assert_eq!(details(&report, 0), "expected: exactly 1 `$identify` event of user-1\nactual:   2 or more");
    assert_eq!(details(&report, 4), "expected: at least 1 `signed_up` event\nactual:   0");
}

#[test]
fn a_project_without_traffic_fails_and_names_the_projects_there_are() {
    let mut inspector = two_users();
    let report = check("project: phc_tset\nfindings:\n  must_not_fire: [{severity: error}]\n", &mut inspector);
    let traffic = &report.projects[0].checks[0];
    assert!(!traffic.passed);
    assert_eq!(traffic.title, "project phc_tset has traffic");
    assert!(traffic.details[1].contains("its projects: phc_test, phc_other"), "{:?}", traffic.details);
    assert_eq!(report.projects[0].family, None);
    // The must-not-fire passes (there is nothing), but the report fails: the key is wrong.
    assert!(report.projects[0].checks[1].passed);
    assert!(!report.passed());
}

#[test]
fn each_question_is_asked_once_per_check() {
    let mut inspector = two_users();
    check("project: phc_test\npersons:\n  - {ids: [anon-1, user-1, ada@example.com], only: true}\n", &mut inspector);
    assert_eq!(
        inspector.asked,
        ["why anon-1 anon-1", "why anon-1 user-1", "why anon-1 ada@example.com", "person person-0"],
        "the person is read once, and only for `only`"
    );
}
