//! Details the scenario table does not show: uuids, created_at, provenance of property values,
//! attribution, message wording, warning payloads, the illegal-id lists, ordering and projects.

use crate::support::engine::*;
use crate::support::*;
use identity_engine::*;
use serde_json::json;

#[test]
fn person_uuid_is_uuidv5_of_project_and_first_id() {
    // Fixed vector: computed independently with python3 `uuid.uuid5(UUID('932979b4-...'), 'phc_test:anon')`.
    assert_eq!(person_uuid("phc_test", "anon").to_string(), "3b0b24a1-1c74-5539-a915-29ef58b75682");
    assert_eq!(PERSON_UUID_NAMESPACE.to_string(), "932979b4-65c3-4424-8467-0b66ec27bc22");
    let (engine, _) = run(vec![pageview("anon")]);
    assert_eq!(person(&engine, "anon").id, person_uuid(P, "anon"));
    assert_eq!(engine.person(person_uuid(P, "anon")).unwrap().distinct_ids, ["anon"]);
}

#[test]
fn merge_created_person_uuid_comes_from_the_source_only_when_only_the_source_was_personless() {
    // (source seen personless, target seen personless) -> first id
    let cases = [(false, false, "user"), (true, false, "anon"), (false, true, "user"), (true, true, "user")];
    for (source_seen, target_seen, first) in cases {
        let mut events = Vec::new();
        if source_seen {
            events.push(personless(pageview("anon")));
        }
        if target_seen {
            events.push(personless(pageview("user")));
        }
        events.push(identify("user", "anon"));
        let (engine, _) = run(events);
        let p = person(&engine, "user");
        assert_eq!(p.distinct_ids[0], first, "source seen {source_seen}, target seen {target_seen}");
        assert_eq!(p.id, person_uuid(P, first));
        let last = engine.decisions().last().unwrap();
        assert_eq!(last.rule, Rule::MergeCreatedPerson);
        if first == "anon" {
            assert_mentions(&last.message, &["derives from 'anon'", "personless"]);
        }
    }
}

#[test]
fn personless_events_carry_the_deterministic_uuid_that_the_later_person_keeps() {
    let (engine, applied) =
        run(vec![personless(pageview("anon")), identify("user", "anon"), personless(pageview("anon"))]);
    assert_eq!(applied[0].attribution, Attribution::Personless(person_uuid(P, "anon")));
    assert!(applied[0].personless && applied[0].decisions.is_empty());
    let p = person(&engine, "user");
    assert_eq!(applied[1].attribution, Attribution::Person(p.id));
    assert_eq!(applied[2].attribution, Attribution::Person(p.id));
    assert_eq!(p.id, person_uuid(P, "anon"), "the earlier personless event already points at the person");
    assert_eq!(engine.person_id_for(P, "nobody"), person_uuid(P, "nobody"));
}

#[test]
fn merge_keeps_the_earliest_created_at_and_target_identity() {
    let (engine, _) = run(vec![at(pageview("anon"), 5), at(pageview("user"), 30), at(identify("user", "anon"), 40)]);
    let p = person(&engine, "anon");
    assert_eq!(p.id, person_uuid(P, "user"), "the target person survives even though it is younger");
    assert_eq!(p.created_at, t0() + chrono::Duration::minutes(5));
    assert_eq!(p.merged_from.len(), 1);
    assert_eq!(p.merged_from[0].id, person_uuid(P, "anon"));
    assert_eq!(p.merged_from[0].distinct_ids, ["anon"]);
    assert_eq!(p.identified_by.as_ref().unwrap().seq, 3);
    assert!(engine.person(person_uuid(P, "anon")).is_none(), "the source person is deleted");
    assert_eq!(engine.persons(P).len(), 1);
}

#[test]
fn property_origins_and_history_explain_every_value() {
    let (engine, _) = run(vec![
        e("$pageview", "anon", json!({"$set": {"plan": "free", "utm": "ads"}})),
        e("$pageview", "user", json!({"$set": {"plan": "pro"}})),
        e("$identify", "user", json!({"$anon_distinct_id": "anon", "$set_once": {"first": "x"}})),
        e("$pageview", "user", json!({"$set": {"plan": "team"}})),
    ]);
    let p = person(&engine, "user");
    // `$creator_event_uuid`: the target person's (created by ev-2) survives the merge
    // (`person-create-service.ts`; `{...source, ...target}`).
    assert_eq!(
        p.properties,
        *json!({"plan": "team", "utm": "ads", "first": "x", "$creator_event_uuid": "ev-2"}).as_object().unwrap()
    );
    let origin = |k: &str| (p.property_origins[k].by.event_uuid.clone(), p.property_origins[k].op);
    assert_eq!(origin("plan"), ("ev-4".to_owned(), ChangeOp::Set));
    assert_eq!(origin("utm"), ("ev-1".to_owned(), ChangeOp::Set), "carried over values keep their real origin");
    assert_eq!(origin("first"), ("ev-3".to_owned(), ChangeOp::SetOnce));
    assert_eq!(p.property_origins.keys().collect::<Vec<_>>(), p.properties.keys().collect::<Vec<_>>());

    let lost = p
        .history
        .iter()
        .find(|c| c.op == ChangeOp::MergeLost && c.key == "plan")
        .expect("the losing value is recorded");
    assert_eq!(
        (lost.key.as_str(), lost.old.clone(), lost.new.clone()),
        ("plan", Some(json!("free")), Some(json!("pro")))
    );
    assert_eq!(lost.by.seq, 3);
    assert_eq!(lost.replaced_origin.as_ref().unwrap().by.seq, 1, "which event had set the losing value");
    let overwrite = p.history.iter().rfind(|c| c.key == "plan").unwrap();
    assert_eq!(
        (overwrite.old.clone(), overwrite.new.clone(), overwrite.by.seq),
        (Some(json!("pro")), Some(json!("team")), 4)
    );
    assert_eq!(overwrite.replaced_origin.as_ref().unwrap().by.seq, 2);
}

#[test]
fn merge_event_applies_its_updates_twice_like_posthog() {
    // PostHog applies the event's updates to the merged properties, then runs the ordinary
    // person update on the result again: a key both $set and $unset by the merge event comes back.
    let merge = e("$identify", "user", json!({"$anon_distinct_id": "anon", "$set": {"k": "new"}, "$unset": ["k"]}));
    let (engine, _) = run(vec![set_k("anon"), pageview("user"), merge.clone()]);
    assert_eq!(person(&engine, "user").properties.get("k"), Some(&json!("new")));
    // The same event on a plain (non-merging) path removes the key: one pass only.
    let mut plain = merge;
    plain.properties.remove("$anon_distinct_id");
    let (engine, _) = run(vec![set_k("user"), plain]);
    assert_eq!(person(&engine, "user").properties.get("k"), None);
}

fn set_k(id: &str) -> EventInput {
    e("$pageview", id, json!({"$set": {"k": "old"}}))
}

#[test]
fn refused_message_names_both_ids_and_when_the_source_was_identified() {
    let (engine, applied) =
        run(vec![identify("user-7", "anon-123"), pageview("user-8"), identify("user-8", "anon-123")]);
    let d = decision(&engine, 3);
    assert_eq!((d.kind, d.rule), (DecisionKind::Refused, Rule::SourceAlreadyIdentified));
    assert_eq!((d.source.as_deref(), d.target.as_deref()), (Some("anon-123"), Some("user-8")));
    assert_mentions(
        &d.message,
        &[
            "Not merged: anon-123 already belongs to an identified person (user-7",
            "$identify at 2026-11-24 12:01:00 UTC",
            "$merge_dangerously",
        ],
    );
    let w = &applied[2].warnings[0];
    assert_eq!(w.kind.as_str(), "cannot_merge_already_identified");
    assert_eq!(
        (w.event_uuid.as_str(), w.distinct_ids.clone()),
        ("ev-3", vec!["anon-123".to_owned(), "user-8".to_owned()])
    );
    assert_eq!(serde_json::to_value(d).unwrap()["rule"], "source_already_identified");
    assert_eq!(serde_json::to_value(d).unwrap()["kind"], "refused");
}

#[test]
fn illegal_warning_names_the_illegal_id_first_and_target_is_checked_first() {
    let (engine, applied) = run(vec![identify("undefined", "null")]);
    let w = &applied[0].warnings[0];
    assert_eq!(
        (w.kind, w.distinct_ids.clone()),
        (WarningKind::CannotMergeWithIllegalDistinctId, vec!["undefined".into(), "null".into()])
    );
    let d = decision(&engine, 1);
    assert_mentions(
        &d.message,
        &[
            "'undefined' (the target, i.e. the event's distinct id)",
            "created an anonymous person for 'undefined'",
            "every user",
        ],
    );
    assert!(!person(&engine, "undefined").is_identified);
    assert!(engine.person_for(P, "null").is_none());
}

#[test]
fn dropped_and_ignored_messages() {
    let (engine, applied) = run(vec![personless(identify("u", "a")), e("$identify", "srv", json!({}))]);
    assert_eq!(applied[0].attribution, Attribution::Dropped);
    assert_mentions(
        &decision(&engine, 1).message,
        &["Dropped", "$process_person_profile=false", "'a' and 'u' were not linked"],
    );
    assert_eq!(applied[0].warnings[0].kind.as_str(), "invalid_event_when_process_person_profile_is_false");
    assert_mentions(
        &decision(&engine, 2).message,
        &["'srv'", "without $anon_distinct_id", "does not mark the person identified"],
    );
    assert_eq!(applied[1].warnings[0].kind.as_str(), "server_identify_without_anon_id");
}

#[test]
fn projects_are_independent() {
    let mut other = identify("user", "anon");
    other.project = "phc_other".into();
    let (engine, _) = run(vec![pageview("user"), other, pageview("anon")]);
    assert_eq!(person(&engine, "user").distinct_ids, ["user"]);
    assert_eq!(person(&engine, "anon").distinct_ids, ["anon"]);
    let o = engine.person_for("phc_other", "anon").unwrap();
    assert_eq!(o.distinct_ids, ["user", "anon"]);
    assert_eq!(o.id, person_uuid("phc_other", "user"));
    assert_ne!(o.id, person(&engine, "user").id);
    assert_eq!(engine.projects(), ["phc_other", "phc_test"]);
}

#[test]
fn out_of_order_events_are_rejected_without_changing_state() {
    let events = number(vec![pageview("a"), pageview("b")]);
    let mut engine = Engine::new();
    engine.apply(&events[1]).unwrap();
    let err = engine.apply(&events[0]).unwrap_err();
    assert_eq!(err, EngineError::OutOfOrder { seq: 1, last: 2 });
    assert!(engine.person_for(P, "a").is_none());
    assert_eq!(engine.apply(&events[1]).unwrap_err(), EngineError::OutOfOrder { seq: 2, last: 2 });
    assert!(rebuild(vec![events[1].clone(), events[0].clone()]).is_err());
}
