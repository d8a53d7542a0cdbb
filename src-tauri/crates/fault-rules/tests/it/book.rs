//! The rule book: matching, counts, shares, expiry, and what `list` shows.

use chrono::Utc;
use fault_rules::{Answer, FaultBook, FaultState, Target};

use super::rule;

fn capture<'a>(source: &'a str, path: &'a str, project: &'a str) -> Target<'a> {
    Target { source: Some(source), path, project: Some(project), capture: true, v1: false }
}

#[test]
fn a_count_rule_fires_that_many_times_then_expires() {
    let book = FaultBook::new();
    let added = book.add(rule("posthog:503:count=3"), Utc::now());
    assert_eq!((added.id, added.remaining, added.state), (1, Some(3), FaultState::Active));
    let batch = capture("posthog", "/batch/", "phc_a");
    let fired: Vec<bool> = (0..5).map(|_| book.check(&batch, Utc::now()).is_some()).collect();
    assert_eq!(fired, [true, true, true, false, false]);
    assert_eq!(book.active(), 0, "used up: no longer in force");
    let listed = book.list();
    assert_eq!(listed.len(), 1, "an expired rule stays listed");
    assert_eq!(
        (listed[0].state, listed[0].fired, listed[0].matched, listed[0].remaining),
        (FaultState::Expired, 3, 3, Some(0))
    );
    assert!(listed[0].expired_at.is_some());
}

#[test]
fn a_share_is_spread_evenly_and_counts_toward_the_count() {
    let book = FaultBook::new();
    book.add(rule("posthog:503:share=0.5"), Utc::now());
    let batch = capture("posthog", "/batch", "p");
    let fired: Vec<bool> = (0..6).map(|_| book.check(&batch, Utc::now()).is_some()).collect();
    assert_eq!(fired, [false, true, false, true, false, true]);

    let book = FaultBook::new();
    book.add(rule("posthog:503:share=0.1:count=2"), Utc::now());
    let fired: Vec<usize> = (1..=40).filter(|_| book.check(&batch, Utc::now()).is_some()).collect();
    assert_eq!(fired.len(), 2, "two faults, then the rule expired");
    let view = &book.list()[0];
    assert_eq!((view.matched, view.fired, view.state), (20, 2, FaultState::Expired), "every tenth request of twenty");
}

#[test]
fn rules_match_by_source_route_project_and_capture() {
    let book = FaultBook::new();
    book.add(rule("segment:500"), Utc::now());
    book.add(rule("route=/flags,502"), Utc::now());
    book.add(rule("posthog:project=phc_b:429"), Utc::now());
    let now = Utc::now();
    assert!(book.check(&capture("posthog", "/batch", "phc_a"), now).is_none(), "other project");
    let b = book.check(&capture("posthog", "/e/", "phc_b"), now).expect("phc_b's capture is faulted");
    assert_eq!((b.rule, b.effect.answer), (3, Answer::Status { status: 429, retry_after: None }));
    assert_eq!(book.check(&capture("segment", "/v1/batch", "wk"), now).map(|f| f.rule), Some(1));
    // A family rule leaves flags and config alone; a route rule names them.
    let flags = Target {
        source: Some("segment"),
        path: "/v1/projects/wk/settings",
        project: Some("wk"),
        capture: false,
        v1: false,
    };
    assert!(book.check(&flags, now).is_none());
    let ph_flags = Target { source: Some("posthog"), path: "/flags/", project: None, capture: false, v1: false };
    assert_eq!(book.check(&ph_flags, now).map(|f| f.rule), Some(2));
    // A route prefix takes the paths below it: /flags covers /flags/definitions too.
    let defs = Target { source: Some("posthog"), path: "/flags/definitions", project: None, capture: false, v1: false };
    assert_eq!(book.check(&defs, now).map(|f| f.rule), Some(2));
}

#[test]
fn v1_retry_only_fires_on_capture_v1() {
    let book = FaultBook::new();
    book.add(rule("posthog:v1_retry"), Utc::now());
    assert!(book.check(&capture("posthog", "/batch", "p"), Utc::now()).is_none());
    let v1 = Target { v1: true, ..capture("posthog", "/i/v1/analytics/events", "p") };
    assert_eq!(book.check(&v1, Utc::now()).map(|f| f.effect.answer), Some(Answer::V1Retry { retry_after: 1 }));
}

#[test]
fn the_first_rule_that_picks_a_request_wins_and_a_share_lets_the_next_rule_try() {
    let book = FaultBook::new();
    book.add(rule("posthog:503:share=0.5"), Utc::now());
    book.add(rule("posthog:429"), Utc::now());
    let batch = capture("posthog", "/batch", "p");
    let rules: Vec<u64> = (0..4).filter_map(|_| book.check(&batch, Utc::now()).map(|f| f.rule)).collect();
    assert_eq!(rules, [2, 1, 2, 1]);
}

#[test]
fn removing_and_clearing_move_the_revision() {
    let book = FaultBook::new();
    let mut revision = book.subscribe();
    let a = book.add(rule("posthog:503"), Utc::now());
    book.add(rule("segment:503"), Utc::now());
    assert!(revision.has_changed().expect("open"));
    revision.mark_unchanged();
    assert_eq!(book.remove(a.id).expect("removed").id, a.id);
    assert_eq!(book.remove(a.id).unwrap_err().to_string(), "no fault rule with id 1");
    assert!(revision.has_changed().expect("open"));
    assert_eq!(book.clear(), 1);
    assert_eq!((book.active(), book.list().len()), (0, 0));
    assert!(book.check(&capture("segment", "/v1/batch", "wk"), Utc::now()).is_none());
}

#[test]
fn concurrent_checks_never_fault_more_than_the_count() {
    let book = std::sync::Arc::new(FaultBook::new());
    book.add(rule("posthog:503:count=100"), Utc::now());
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let book = book.clone();
            std::thread::spawn(move || {
                (0..100).filter(|_| book.check(&capture("posthog", "/batch", "p"), Utc::now()).is_some()).count()
            })
        })
        .collect();
    let total: usize = threads.into_iter().map(|t| t.join().expect("thread")).sum();
    assert_eq!(total, 100);
}
