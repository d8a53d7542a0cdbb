//! PostHog's cookieless server hash, each rule from `nodejs/src/ingestion/cookieless/cookieless-manager.ts`
//! (<https://github.com/PostHog/posthog>; its behaviour pinned by `cookieless-manager.test.ts` there).

use crate::support::*;
use identity_engine::{Applied, DecisionKind, Model, PostHogCookieless, ProjectSettings, Rule};
use serde_json::{json, Value};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const CHROME: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";

/// A posthog-js event in `cookieless_mode`: the placeholder id, `$cookieless_mode`, `$host` and
/// `$raw_user_agent` (as posthog-js sends them).
fn ck(event: &str, id: &str, ua: &str, extra: Value) -> identity_engine::EventInput {
    let mut props =
        json!({"$cookieless_mode": true, "$host": "shop.example.com", "$raw_user_agent": ua, "$device_id": null});
    props.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    e(event, id, props)
}

fn model(mode: PostHogCookieless, events: Vec<identity_engine::EventInput>) -> (Model, Vec<String>) {
    let settings = ProjectSettings { posthog_cookieless: mode, ..ProjectSettings::default() };
    let mut m = Model::with_settings([(P, settings)]);
    let events = number(events);
    let ids = events.iter().map(|ev| ev.distinct_id.clone()).collect();
    events.iter().for_each(|ev| m.push(ev).unwrap());
    (m, ids)
}

fn person_ids(m: &Model) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = m.engine().persons(P).iter().map(|p| p.distinct_ids.clone()).collect();
    out.sort();
    out
}

fn applied_of(mode: PostHogCookieless, events: Vec<identity_engine::EventInput>) -> Vec<Applied> {
    let mut engine = identity_engine::Engine::new();
    engine.set_settings(P, ProjectSettings { posthog_cookieless: mode, ..ProjectSettings::default() });
    number(events).iter().map(|ev| engine.apply(ev).unwrap()).collect()
}

/// `doBatchInner` + `hashToDistinctId`: each visitor (user agent, IP, root domain) gets its own
/// `cookieless_…` id, so two visitors are two persons; the same visitor stays one person; the
/// person and the lane show the placeholder and what it became.
#[test]
fn each_cookieless_visitor_is_its_own_person() {
    let (m, _) = model(
        PostHogCookieless::Stateful,
        vec![
            ck("$pageview", "$posthog_cookieless", FIREFOX, json!({})),
            ck("$pageview", "$posthog_cookieless", CHROME, json!({})),
            ck("$pageview", "$posthog_cookieless", FIREFOX, json!({"$host": "www.example.com"})),
            ck("$pageview", "$posthog_cookieless", CHROME, json!({"$ip": "10.0.0.9"})),
        ],
    );
    let persons = person_ids(&m);
    assert_eq!(persons.len(), 3, "{persons:?}");
    assert!(persons.iter().flatten().all(|id| id.starts_with("cookieless_") && id.len() == 11 + 22));
    let p = m.engine().persons(P)[0];
    let c = p.cookieless.as_ref().expect("person shows the placeholder");
    assert_eq!(c.placeholder, "$posthog_cookieless");
    assert_eq!(&c.distinct_id, &p.distinct_ids[0]);
    assert!(c.derived_from.contains("example.com"), "{}", c.derived_from);
    let lanes = m.devices(Some(P));
    assert_eq!(lanes.len(), 3);
    for lane in lanes {
        let c = lane.cookieless.as_ref().expect("lane shows the placeholder");
        assert!(lane.device_id.starts_with("cookielessd_") && c.device_id == lane.device_id);
    }
}

/// Stateful mode: `$identify`'s `$anon_distinct_id` (the placeholder) becomes the visitor's hash,
/// so the identified user merges with the anonymous visitor; anonymous events after it hash with
/// n = 1 and are a new person (the "logout" case of `cookieless-manager.test.ts`).
#[test]
fn stateful_identify_links_the_visitor_and_a_later_anonymous_visit_is_new() {
    let (m, _) = model(
        PostHogCookieless::Stateful,
        vec![
            ck("$pageview", "$posthog_cookieless", FIREFOX, json!({})),
            ck("$identify", "user@example.com", FIREFOX, json!({"$anon_distinct_id": "$posthog_cookieless"})),
            ck("$pageview", "user@example.com", FIREFOX, json!({})),
            ck("$pageview", "$posthog_cookieless", FIREFOX, json!({})),
        ],
    );
    let persons = person_ids(&m);
    assert_eq!(persons.len(), 2, "{persons:?}");
    let user = m.engine().person_for(P, "user@example.com").unwrap();
    assert_eq!(user.distinct_ids.len(), 2);
    assert!(user.distinct_ids[0].starts_with("cookieless_"));
    assert!(m.engine().person_for(P, "$posthog_cookieless").is_none(), "the placeholder never becomes an id");
}

/// Stateless mode drops `$identify` (`cookieless_stateless_no_identify`); every cookieless event's
/// distinct id, even an identified one, becomes the visitor's hash.
#[test]
fn stateless_drops_identify() {
    let applied = applied_of(
        PostHogCookieless::Stateless,
        vec![
            ck("$pageview", "$posthog_cookieless", FIREFOX, json!({})),
            ck("$identify", "user@example.com", FIREFOX, json!({"$anon_distinct_id": "$posthog_cookieless"})),
        ],
    );
    assert_eq!(applied[1].decisions[0].kind, DecisionKind::Dropped);
    assert_eq!(applied[1].decisions[0].rule, Rule::CookielessDropped);
    assert!(applied[1].decisions[0].message.contains("cookieless_stateless_no_identify"));
}

/// `$create_alias` and `$merge_dangerously` are dropped in every mode
/// (`cookieless_unsupported_event`); Disabled drops every cookieless event
/// (`cookieless_team_disabled`); no `$raw_user_agent` drops it (`cookieless_missing_ua`).
#[test]
fn unsupported_disabled_and_missing_inputs_are_dropped() {
    let dropped = |applied: &Applied, reason: &str| {
        applied.decisions.len() == 1
            && applied.decisions[0].rule == Rule::CookielessDropped
            && applied.decisions[0].message.contains(reason)
    };
    let a = applied_of(
        PostHogCookieless::Stateful,
        vec![
            ck("$create_alias", "$posthog_cookieless", FIREFOX, json!({"alias": "x"})),
            ck("$merge_dangerously", "$posthog_cookieless", FIREFOX, json!({"alias": "x"})),
            ck("$pageview", "$posthog_cookieless", FIREFOX, json!({"$raw_user_agent": null})),
        ],
    );
    assert!(dropped(&a[0], "cookieless_unsupported_event") && dropped(&a[1], "cookieless_unsupported_event"));
    assert!(dropped(&a[2], "cookieless_missing_ua"));
    let d = applied_of(PostHogCookieless::Disabled, vec![ck("$pageview", "$posthog_cookieless", FIREFOX, json!({}))]);
    assert!(dropped(&d[0], "cookieless_team_disabled"));
}

/// Only events with `$cookieless_mode` are touched ("should pass through non-cookieless events").
#[test]
fn events_without_the_flag_pass_through() {
    let (m, _) = model(PostHogCookieless::Stateful, vec![e("$pageview", "anon-1", json!({"$host": "example.com"}))]);
    let p = m.engine().person_for(P, "anon-1").unwrap();
    assert!(p.cookieless.is_none());
}
