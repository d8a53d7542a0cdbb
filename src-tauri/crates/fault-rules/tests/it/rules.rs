//! Validation: every impossible rule is refused with a sentence saying what would do.

use fault_rules::{Answer, FaultError, FaultSpec};

use super::{refused, rule, ROUTES};

#[test]
fn statuses_that_are_not_faults_are_refused() {
    assert_eq!(refused("posthog:200"), FaultError::SuccessIsNotAFault(200).to_string());
    assert!(refused("posthog:200").starts_with("status 200 is not a fault"));
    assert!(refused("posthog:404").contains("use 413, 429, 500, 502 or 503"));
    for status in [413, 429, 500, 502, 503] {
        assert_eq!(rule(&format!("posthog:{status}")).effect.answer, Answer::Status { status, retry_after: None });
    }
}

#[test]
fn share_count_delay_and_retry_after_have_bounds() {
    assert_eq!(
        refused("posthog:503:share=1.5"),
        "share must be between 0 and 1 (the fraction of matching requests to fault), not 1.5"
    );
    assert!(refused("posthog:503:share=0").contains("share must be between 0 and 1"));
    assert!(refused("posthog:503:share=-0.2").contains("share must be between 0 and 1"));
    assert!(refused("posthog:503:count=0").contains("count must be at least 1"));
    assert!(refused("posthog:delay_ms=0").contains("delay_ms must be between 1 and 300000"));
    assert!(refused("posthog:delay_ms=300001").contains("delay_ms"));
    assert!(refused("posthog:429:retry_after=0").contains("retry_after must be between 1 and 3600"));
    assert!(refused("posthog:429:retry_after=86400").contains("retry_after"));
    // A share of 1 is every request, the same rule as no share.
    assert_eq!(rule("posthog:503:share=1"), rule("posthog:503"));
}

#[test]
fn one_answer_per_rule() {
    assert!(refused("posthog:503:drop").contains("status and drop cannot both apply"));
    assert!(refused("posthog:drop:v1_retry").contains("drop and v1_retry cannot both apply"));
    assert!(refused("posthog:count=3").contains("needs an effect"));
    // A delay alone is a slow vendor: the normal answer, late.
    assert_eq!(rule("posthog:delay_ms=50").effect.answer, Answer::Normal);
    assert_eq!(rule("posthog:503:delay_ms=50").effect.delay_ms, Some(50));
}

#[test]
fn retry_after_goes_with_the_answers_sdks_read_it_from() {
    assert!(refused("posthog:500:retry_after=2").contains("retry_after goes with status 429 or 503"));
    assert!(refused("posthog:drop:retry_after=2").contains("retry_after goes with"));
    assert!(refused("posthog:delay_ms=5:retry_after=2").contains("retry_after goes with"));
    assert_eq!(rule("posthog:503:retry_after=2").effect.answer, Answer::Status { status: 503, retry_after: Some(2) });
}

#[test]
fn sources_and_routes_must_exist() {
    assert!(refused("posthg:503").contains("\"posthg\" is not part of a fault rule"));
    assert!(refused("source=posthg,503").contains("unknown source \"posthg\""));
    assert!(refused("route=batch,503").contains("route must be a path starting with '/'"));
    assert!(refused("route=/batchx,503").contains("no capture route starts with \"/batchx\""));
    assert!(refused("route=/b,503").contains("no capture route"), "a prefix is whole segments");
    assert!(refused("posthog:project=,503").contains("project must not be empty"));
    // Trailing slashes, template segments and prefixes of several routes are fine.
    assert_eq!(rule("route=/batch/,503").matcher.route.as_deref(), Some("/batch"));
    assert_eq!(rule("route=/v1/batch,503").matcher.route.as_deref(), Some("/v1/batch"));
    assert_eq!(rule("route=/i/v1,503").matcher.route.as_deref(), Some("/i/v1"));
    assert_eq!(
        rule("route=/api/conversations/v1/widget/a/b,503").matcher.route.as_deref(),
        Some("/api/conversations/v1/widget/a/b")
    );
}

#[test]
fn v1_retry_needs_capture_v1() {
    assert!(refused("segment:v1_retry").contains("v1_retry answers Capture V1"));
    assert!(refused("route=/batch,v1_retry").contains("route=/batch"));
    let r = rule("route=/i/v1/analytics/events,v1_retry");
    assert_eq!(r.effect.answer, Answer::V1Retry { retry_after: 1 }, "PostHog's Retry-After with a retry is 1 s");
    assert_eq!(rule("posthog:v1_retry:retry_after=4").effect.answer, Answer::V1Retry { retry_after: 4 });
}

#[test]
fn descriptions_say_what_happens() {
    assert_eq!(rule("posthog:503:count=3").describe(), "Answer 503 to PostHog capture requests (the next 3)");
    assert_eq!(
        rule("route=/batch,status=429,retry_after=2,share=0.5").describe(),
        "Answer 429 with Retry-After: 2 to requests to /batch (50% of them)"
    );
    assert_eq!(
        rule("segment:drop:project=wk:count=1").describe(),
        "Close the connection, unanswered, to Segment capture requests of project wk (the next one)"
    );
    assert_eq!(rule("mixpanel:delay_ms=2000").describe(), "Answer normally after 2000 ms to Mixpanel capture requests");
}

#[test]
fn an_empty_spec_needs_an_effect() {
    assert_eq!(FaultSpec::default().validate(ROUTES).unwrap_err(), FaultError::NoEffect);
}
