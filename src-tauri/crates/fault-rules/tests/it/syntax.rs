//! The text syntax (`serve --fault`) parses to the same rule as the JSON keys, and a rule's
//! `text()` parses back to itself.

use fault_rules::{syntax, Answer, FaultSpec};

use super::{refused, rule, ROUTES};

#[test]
fn the_short_form_and_the_key_value_form_are_the_same_rule() {
    let short = rule("posthog:503:count=3");
    let long = rule("source=posthog,status=503,count=3");
    assert_eq!(short, long);
    assert_eq!(short.matcher.source.as_deref(), Some("posthog"));
    assert_eq!(short.effect.answer, Answer::Status { status: 503, retry_after: None });
    assert_eq!(short.scope.count, Some(3));
    assert_eq!(rule("family=segment:drop"), rule("segment,drop=true"));
    assert_eq!(rule("posthog:delay=2000"), rule("posthog:delay_ms=2000"));
}

#[test]
fn json_keys_are_the_text_keys() {
    let spec: FaultSpec =
        serde_json::from_str(r#"{"route":"/batch","status":429,"retry_after":2,"share":0.5}"#).expect("a spec");
    assert_eq!(spec.validate(ROUTES).expect("valid"), rule("route=/batch,status=429,retry_after=2,share=0.5"));
    let typo = serde_json::from_str::<FaultSpec>(r#"{"stauts":503}"#).expect_err("unknown keys are refused");
    assert!(typo.to_string().contains("unknown field `stauts`"), "{typo}");
}

#[test]
fn text_round_trips() {
    for text in [
        "source=posthog,status=503,count=3",
        "route=/batch,status=429,retry_after=2,share=0.5",
        "source=segment,project=wk_1,drop,delay_ms=100",
        "route=/i/v1/analytics/events,v1_retry,retry_after=5,count=2",
        "source=mixpanel,delay_ms=1500",
    ] {
        let once = rule(text);
        assert_eq!(once.text(), text, "canonical text of {text}");
        assert_eq!(rule(&once.text()), once);
    }
}

#[test]
fn a_project_key_may_hold_a_colon() {
    let r = rule("posthog,project=phc:odd,503");
    assert_eq!(r.matcher.project.as_deref(), Some("phc:odd"));
}

#[test]
fn bad_text_says_what_is_wrong() {
    assert!(refused("").contains("empty"));
    assert!(refused("posthog:503:count=lots").contains("count must be a whole number"));
    assert!(refused("posthog:fail").contains("\"fail\" is not part of a fault rule"));
    assert!(refused("posthog:colour=red:503").contains("unknown key \"colour\""));
    assert!(refused("posthog:503:status=500").contains("status is given twice"));
    assert!(refused("posthog:503:share=NaN").contains("share must be a number between 0 and 1"));
    assert_eq!(syntax::parse(" , ,").unwrap_err(), fault_rules::FaultError::Empty);
}
