//! The engine over real PostHog SDK traffic (tests/fixtures/sdk-traffic), decoded by
//! capture-decode exactly as the server stores it, in recorded (arrival) order.

use crate::support::traffic;

use identity_engine::*;
use serde_json::Value;
use traffic::events;

fn summary(engine: &Engine, project: &str) -> Vec<(Vec<String>, bool)> {
    engine.persons(project).into_iter().map(|p| (p.distinct_ids.clone(), p.is_identified)).collect()
}

fn rule_list(engine: &Engine) -> Vec<(String, Rule)> {
    engine.decisions().iter().map(|d| (d.event.clone(), d.rule)).collect()
}

#[test]
fn posthog_js_browser_two_users_alias_and_group() {
    let evs = events("posthog-js-browser.jsonl");
    let mut engine = Engine::new();
    let applied: Vec<Applied> = evs.iter().map(|e| engine.apply(e).unwrap()).collect();
    assert_eq!(evs.len(), 19);

    // Session 1 (token posthog_token): the identify batch arrived before the anonymous events,
    // so neither anonymous id had been seen personless: uuids derive from the user ids.
    let (p, anon42, anon43) =
        ("posthog_token", "01a20b9c-3a69-7874-8076-a2a931210c98", "01a20b9c-3aab-7317-97fb-f1b3eb00ebe4");
    let user42 = engine.person_for(p, "user-42").unwrap();
    let user43 = engine.person_for(p, "user-43").unwrap();
    assert_eq!(user42.distinct_ids, ["user-42", anon42]);
    assert_eq!(user43.distinct_ids, ["user-43", anon43, "alias-43"]);
    assert_eq!((user42.id, user43.id), (person_uuid(p, "user-42"), person_uuid(p, "user-43")));
    assert!(user42.is_identified && user43.is_identified);
    assert_eq!(user42.properties["email"], "max@hedgehogmail.com");
    assert_eq!(user42.properties["name"], "Max Hedgehog");
    assert_eq!(user42.properties["$initial_referrer"], "$direct");
    assert_eq!(user43.properties["plan"], "pro", "setPersonProperties");
    assert_eq!(summary(&engine, p).len(), 2, "{:?}", summary(&engine, p));
    // Later personless events of the first anonymous id land on user-42's person.
    assert_eq!(evs[3].event, "viewed signup");
    assert_eq!(applied[3].attribution, Attribution::Person(user42.id));
    // reset(true)'s new device id never got a person.
    let device = "01a20b9c-3ad6-719c-a1e4-a8286af8408e";
    assert!(engine.person_for(p, device).is_none());
    assert_eq!(applied[10].attribution, Attribution::Personless(person_uuid(p, device)));

    // Session 2 (token phc_web): the anonymous pageview arrived before the identify, so the
    // merged person keeps the anonymous id's uuid.
    let (w, anon42w, anon43w) =
        ("phc_web", "01a20b8b-6f86-7165-b76e-b666d4bff16e", "01a20b8b-75fe-7eb2-88f6-72571a8206ba");
    let web42 = engine.person_for(w, "user-42").unwrap();
    let web43 = engine.person_for(w, "user-43").unwrap();
    assert_eq!(web42.distinct_ids, [anon42w, "user-42"]);
    assert_eq!(web42.id, person_uuid(w, anon42w));
    assert_eq!(applied[11].attribution, Attribution::Personless(web42.id), "the early pageview already points at it");
    assert_eq!(web43.distinct_ids, ["user-43", anon43w, "alias-43"]);
    assert_eq!(web43.id, person_uuid(w, "user-43"));

    let decisions: Vec<(i64, Rule)> = engine.decisions().iter().map(|d| (d.seq, d.rule)).collect();
    assert_eq!(
        decisions,
        [
            (2, Rule::MergeCreatedPerson),
            (3, Rule::MergeCreatedPerson),
            (7, Rule::MergeAttachedSource),
            (13, Rule::MergeCreatedPerson),
            (14, Rule::MergeCreatedPerson),
            (18, Rule::MergeAttachedSource),
        ]
    );
    assert!(engine.warnings().is_empty(), "{:?}", engine.warnings());
    assert_eq!(rebuild(evs).unwrap().decisions(), engine.decisions());
}

#[test]
fn posthog_node_identify_alias_and_illegal_null_id() {
    let evs = events("posthog-node.jsonl");
    let engine = rebuild(evs.clone()).unwrap();
    let project = &evs[0].project;
    let identify = evs.iter().find(|e| e.event == "$identify").expect("node identify");
    let target = engine.person_for(project, &identify.distinct_id).unwrap();
    assert!(target.is_identified);
    let anon = identify.properties["$anon_distinct_id"].as_str().unwrap();
    assert!(target.distinct_ids.iter().any(|i| i == anon), "{:?}", target.distinct_ids);

    let alias = evs.iter().find(|e| e.event == "$create_alias").expect("node alias");
    let alias_id = alias.properties["alias"].as_str().unwrap();
    let aliased = engine.person_for(project, alias_id).unwrap();
    assert_eq!(
        Some(aliased.id),
        engine.person_for(project, &alias.distinct_id).map(|p| p.id),
        "alias joins distinctId's person"
    );

    // capture with distinct id "null": not a merge, so nothing is refused, but PostHog creates a
    // person literally called "null".
    let null_person = engine.person_for(project, "null").expect("PostHog creates a person for 'null'");
    assert!(!null_person.is_identified);
    let created = engine.decisions().iter().find(|d| d.target.as_deref() == Some("null")).unwrap();
    assert_eq!(created.rule, Rule::PersonCreated);
    assert!(created.message.contains("WARNING"), "{}", created.message);
    let s = |ids: &[&str], idf: bool| (ids.iter().map(|i| i.to_string()).collect::<Vec<_>>(), idf);
    assert_eq!(
        summary(&engine, project),
        [s(&["anon-n1", "user-n1", "legacy-n1"], true), s(&["$company_acme"], false), s(&["null"], false)]
    );
}

#[test]
fn posthog_python_alias_direction_and_personless_capture() {
    let evs = events("posthog-python.jsonl");
    let engine = rebuild(evs.clone()).unwrap();
    let project = &evs[0].project;
    let alias = evs.iter().find(|e| e.event == "$create_alias").expect("python alias");
    // alias(previous_id, distinct_id): the event's distinct id is previous_id (the target).
    assert_eq!((alias.distinct_id.as_str(), alias.properties["alias"].as_str()), ("anon-p1", Some("user-p1")));
    let target = engine.person_for(project, &alias.distinct_id).unwrap();
    assert!(target.is_identified);
    assert!(target.distinct_ids.contains(&alias.properties["alias"].as_str().unwrap().to_owned()));
    let personless: Vec<&EventInput> =
        evs.iter().filter(|e| e.properties.get("$process_person_profile") == Some(&Value::Bool(false))).collect();
    assert!(!personless.is_empty(), "the capture without distinct id is personless");
    for ev in personless {
        assert!(engine.person_for(project, &ev.distinct_id).is_none(), "{} got a person", ev.distinct_id);
    }
    assert_eq!(summary(&engine, project), [(vec!["anon-p1".to_owned(), "user-p1".to_owned()], true)]);
    assert_eq!(
        rule_list(&engine),
        [("viewed pricing".to_owned(), Rule::PersonCreated), ("$create_alias".to_owned(), Rule::MergeAttachedSource)]
    );
}
