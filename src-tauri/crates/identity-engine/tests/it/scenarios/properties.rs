//! Scenario rows for personless events, property updates and is_identified monotonicity.

use identity_engine::{DecisionKind as K, Rule as R, WarningKind as W};
use serde_json::json;

use super::{case, dangerously, set, Case};
use crate::support::engine::*;
use crate::support::*;

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "personless events create no person and record no decision",
            vec![personless(set("anon", json!({"a": 1}))), personless(pageview("anon"))],
            vec![],
            vec![],
            vec![],
        ),
        case(
            "personless event on an existing person changes no property",
            vec![
                set("anon", json!({"a": 1})),
                personless(e("$pageview", "anon", json!({"$set": {"a": 2, "b": 1}, "$unset": ["a"]}))),
            ],
            vec![(&["anon"], false, json!({"a": 1}))],
            vec![(1, K::Created, R::PersonCreated)],
            vec![],
        ),
        case(
            "personless $identify, $create_alias, $merge_dangerously, $groupidentify are dropped",
            vec![
                personless(identify("u", "a")),
                personless(alias("u", "a")),
                personless(dangerously("u", "a")),
                personless(e("$groupidentify", "u", json!({"$group_type": "company", "$group_key": "acme"}))),
            ],
            vec![],
            vec![
                (1, K::Dropped, R::PersonlessMergeEventDropped),
                (2, K::Dropped, R::PersonlessMergeEventDropped),
                (3, K::Dropped, R::PersonlessMergeEventDropped),
                (4, K::Dropped, R::PersonlessGroupidentifyDropped),
            ],
            (1..=4).map(|s| (s, W::InvalidEventWhenProcessPersonProfileIsFalse)).collect(),
        ),
        case(
            "non-boolean $process_person_profile counts as true, with a warning",
            vec![
                e("$pageview", "a", json!({"$process_person_profile": "false", "$set": {"x": 1}})),
                e("$identify", "u", json!({"$process_person_profile": null, "$anon_distinct_id": "a"})),
            ],
            vec![(&["a", "u"], true, json!({"x": 1}))],
            vec![(1, K::Created, R::PersonCreated), (2, K::Attached, R::MergeAttachedTarget)],
            vec![(1, W::InvalidProcessPersonProfile), (2, W::InvalidProcessPersonProfile)],
        ),
        case(
            "$groupidentify never changes person properties but is personful",
            vec![
                set("u", json!({"a": 1})),
                e("$groupidentify", "u", json!({"$set": {"a": 2}, "$unset": ["a"], "$group_set": {"name": "Acme"}})),
                e("$groupidentify", "v", json!({"$set": {"a": 2}, "$set_once": {"b": 1}})),
            ],
            vec![(&["u"], false, json!({"a": 1})), (&["v"], false, json!({}))],
            vec![(1, K::Created, R::PersonCreated), (3, K::Created, R::PersonCreated)],
            vec![],
        ),
        case(
            "$exception and $$heatmap never update person properties",
            vec![
                set("u", json!({"a": 1})),
                e("$exception", "u", json!({"$set": {"a": 2}, "$set_once": {"b": 1}})),
                e("$$heatmap", "u", json!({"$set": {"a": 3}, "$unset": ["a"]})),
            ],
            vec![(&["u"], false, json!({"a": 1}))],
            vec![(1, K::Created, R::PersonCreated)],
            vec![],
        ),
        case(
            "one event: $set beats $set_once; $set_once only fills absent keys",
            vec![
                set("u", json!({"have": "old"})),
                e(
                    "$pageview",
                    "u",
                    json!({"$set": {"k": "set"}, "$set_once": {"k": "once", "j": "once", "have": "once"}}),
                ),
            ],
            vec![(&["u"], false, json!({"have": "old", "k": "set", "j": "once"}))],
            vec![(1, K::Created, R::PersonCreated)],
            vec![],
        ),
        case(
            "across events: later $set wins, first $set_once wins",
            vec![
                e("$pageview", "u", json!({"$set": {"s": 1}, "$set_once": {"o": 1}})),
                e("$pageview", "u", json!({"$set": {"s": 2}, "$set_once": {"o": 2}})),
            ],
            vec![(&["u"], false, json!({"s": 2, "o": 1}))],
            vec![(1, K::Created, R::PersonCreated)],
            vec![],
        ),
        case(
            "$set_once after $unset applies again",
            vec![
                e("$pageview", "u", json!({"$set_once": {"o": 1}})),
                e("$pageview", "u", json!({"$unset": ["o"]})),
                e("$pageview", "u", json!({"$set_once": {"o": 2}})),
            ],
            vec![(&["u"], false, json!({"o": 2}))],
            vec![(1, K::Created, R::PersonCreated)],
            vec![],
        ),
        case(
            "$unset runs after sets and only removes keys that existed before the event",
            vec![
                set("u", json!({"m": 1, "keep": 1, "gone": 1})),
                e("$pageview", "u", json!({"$set": {"n": 1, "m": 2}, "$unset": ["n", "m", "absent"]})),
                e("$pageview", "u", json!({"$unset": {"gone": true}})),
            ],
            vec![(&["u"], false, json!({"n": 1, "keep": 1}))],
            vec![(1, K::Created, R::PersonCreated)],
            vec![],
        ),
        case(
            "is_identified never goes back to false",
            vec![
                identify("u", "a"),
                pageview("u"),
                e("$identify", "u", json!({"$set": {"x": 1}})),
                identify("u", "u"),
                identify("u", "null"),
            ],
            vec![(&["u", "a"], true, json!({"x": 1}))],
            vec![
                (1, K::Created, R::MergeCreatedPerson),
                (3, K::Ignored, R::IdentifyWithoutAnonId),
                (4, K::Ignored, R::SameDistinctId),
                (5, K::Refused, R::IllegalDistinctId),
            ],
            vec![(3, W::ServerIdentifyWithoutAnonId), (5, W::CannotMergeWithIllegalDistinctId)],
        ),
        case(
            "a merge identifies the surviving person, so it cannot be merged again without $merge_dangerously",
            vec![pageview("a"), pageview("b"), pageview("c"), identify("b", "a"), identify("c", "b")],
            vec![(&["b", "a"], true, json!({})), (&["c"], true, json!({}))],
            vec![
                (1, K::Created, R::PersonCreated),
                (2, K::Created, R::PersonCreated),
                (3, K::Created, R::PersonCreated),
                (4, K::Merged, R::MergeIntoTarget),
                (5, K::Refused, R::SourceAlreadyIdentified),
            ],
            vec![(5, W::CannotMergeAlreadyIdentified)],
        ),
    ]
}
