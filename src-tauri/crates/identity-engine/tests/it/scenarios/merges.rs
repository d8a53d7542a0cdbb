//! Scenario rows for merge-type events: triggers, every branch of merge(source, target),
//! illegal ids, refusals and the alias direction of each SDK.

use identity_engine::{DecisionKind as K, Rule as R, WarningKind as W};
use serde_json::json;

use super::{case, dangerously, set, Case};
use crate::support::engine::*;
use crate::support::*;

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "normal event creates an anonymous person from {...$set_once, ...$set}",
            vec![e("$pageview", "anon", json!({"$set": {"a": 1, "k": "set"}, "$set_once": {"b": 2, "k": "once"}}))],
            vec![(&["anon"], false, json!({"a": 1, "b": 2, "k": "set"}))],
            vec![(1, K::Created, R::PersonCreated)],
            vec![],
        ),
        case(
            "later events on an existing person record no decision",
            vec![set("anon", json!({"a": 1})), set("anon", json!({"a": 2}))],
            vec![(&["anon"], false, json!({"a": 2}))],
            vec![(1, K::Created, R::PersonCreated)],
            vec![],
        ),
        case(
            "identify, neither id has a person: one identified person, target first",
            vec![e(
                "$identify",
                "user",
                json!({"$anon_distinct_id": "anon", "$set": {"email": "u@x"}, "$set_once": {"first": 1}}),
            )],
            vec![(&["user", "anon"], true, json!({"email": "u@x", "first": 1}))],
            vec![(1, K::Created, R::MergeCreatedPerson)],
            vec![],
        ),
        case(
            "identify, only the anonymous id has a person: the target id is attached to it",
            vec![
                set("anon", json!({"a": 1})),
                e("$identify", "user", json!({"$anon_distinct_id": "anon", "$set": {"b": 2}})),
            ],
            vec![(&["anon", "user"], true, json!({"a": 1, "b": 2}))],
            vec![(1, K::Created, R::PersonCreated), (2, K::Attached, R::MergeAttachedTarget)],
            vec![],
        ),
        case(
            "identify, only the target has a person: the anonymous id is attached",
            vec![pageview("user"), identify("user", "anon")],
            vec![(&["user", "anon"], true, json!({}))],
            vec![(1, K::Created, R::PersonCreated), (2, K::Attached, R::MergeAttachedSource)],
            vec![],
        ),
        case(
            "attach has no identified check: an identified person takes a new id",
            vec![identify("u1", "a1"), identify("u1", "a2"), identify("u9", "u1")],
            vec![(&["u1", "a1", "a2", "u9"], true, json!({}))],
            vec![
                (1, K::Created, R::MergeCreatedPerson),
                (2, K::Attached, R::MergeAttachedSource),
                (3, K::Attached, R::MergeAttachedTarget),
            ],
            vec![],
        ),
        case(
            "identify again, both ids on the same person: nothing",
            vec![pageview("anon"), identify("user", "anon"), identify("user", "anon")],
            vec![(&["anon", "user"], true, json!({}))],
            vec![
                (1, K::Created, R::PersonCreated),
                (2, K::Attached, R::MergeAttachedTarget),
                (3, K::Ignored, R::SamePerson),
            ],
            vec![],
        ),
        case(
            "same person still gets the event's property updates",
            vec![
                pageview("a"),
                alias("a", "b"),
                e("$identify", "b", json!({"$anon_distinct_id": "a", "$set": {"x": 1}})),
            ],
            vec![(&["a", "b"], true, json!({"x": 1}))],
            vec![
                (1, K::Created, R::PersonCreated),
                (2, K::Attached, R::MergeAttachedSource),
                (3, K::Ignored, R::SamePerson),
            ],
            vec![],
        ),
        case(
            "identify with the same id as source and target: normal event, not identified",
            vec![e("$identify", "u", json!({"$anon_distinct_id": "u", "$set": {"a": 1}}))],
            vec![(&["u"], false, json!({"a": 1}))],
            vec![(1, K::Ignored, R::SameDistinctId)],
            vec![],
        ),
        case(
            "two anonymous persons merge: target wins clashes, source keys kept",
            vec![
                set("anon", json!({"plan": "free", "a": 1})),
                set("user", json!({"plan": "pro"})),
                e("$identify", "user", json!({"$anon_distinct_id": "anon", "$set": {"email": "e"}})),
            ],
            vec![(&["user", "anon"], true, json!({"plan": "pro", "a": 1, "email": "e"}))],
            vec![
                (1, K::Created, R::PersonCreated),
                (2, K::Created, R::PersonCreated),
                (3, K::Merged, R::MergeIntoTarget),
            ],
            vec![],
        ),
        case(
            "source person identified: merge refused, target still updated and identified",
            vec![
                identify("u1", "a1"),
                pageview("u2"),
                e("$identify", "u2", json!({"$anon_distinct_id": "u1", "$set": {"x": 1}})),
            ],
            vec![(&["u1", "a1"], true, json!({})), (&["u2"], true, json!({"x": 1}))],
            vec![
                (1, K::Created, R::MergeCreatedPerson),
                (2, K::Created, R::PersonCreated),
                (3, K::Refused, R::SourceAlreadyIdentified),
            ],
            vec![(3, W::CannotMergeAlreadyIdentified)],
        ),
        case(
            "target identified never blocks: anonymous source merges into an identified target",
            vec![identify("u1", "a1"), set("a2", json!({"k": 1})), identify("u1", "a2")],
            vec![(&["u1", "a1", "a2"], true, json!({"k": 1}))],
            vec![
                (1, K::Created, R::MergeCreatedPerson),
                (2, K::Created, R::PersonCreated),
                (3, K::Merged, R::MergeIntoTarget),
            ],
            vec![],
        ),
        case(
            "$merge_dangerously merges an identified source",
            vec![identify("u1", "a1"), identify("u2", "a2"), dangerously("u2", "u1")],
            vec![(&["u2", "a2", "u1", "a1"], true, json!({}))],
            vec![
                (1, K::Created, R::MergeCreatedPerson),
                (2, K::Created, R::MergeCreatedPerson),
                (3, K::Merged, R::MergeDangerouslyIdentifiedSource),
            ],
            vec![],
        ),
        case(
            "$merge_dangerously with an anonymous source is an ordinary merge",
            vec![pageview("a1"), pageview("u1"), dangerously("u1", "a1")],
            vec![(&["u1", "a1"], true, json!({}))],
            vec![
                (1, K::Created, R::PersonCreated),
                (2, K::Created, R::PersonCreated),
                (3, K::Merged, R::MergeIntoTarget),
            ],
            vec![],
        ),
        case(
            "$identify without $anon_distinct_id updates properties only",
            vec![pageview("u"), e("$identify", "u", json!({"$set": {"email": "u@x"}}))],
            vec![(&["u"], false, json!({"email": "u@x"}))],
            vec![(1, K::Created, R::PersonCreated), (2, K::Ignored, R::IdentifyWithoutAnonId)],
            vec![(2, W::ServerIdentifyWithoutAnonId)],
        ),
        case(
            "$identify without $anon_distinct_id on a new id creates an anonymous person",
            vec![e("$identify", "u", json!({"$set": {"a": 1}}))],
            vec![(&["u"], false, json!({"a": 1}))],
            vec![(1, K::Ignored, R::IdentifyWithoutAnonId)],
            vec![(1, W::ServerIdentifyWithoutAnonId)],
        ),
        case(
            "$anon_distinct_id: null is present, becomes 'null', illegal: refused, normal event",
            vec![e("$identify", "u", json!({"$anon_distinct_id": null, "$set": {"a": 1}}))],
            vec![(&["u"], false, json!({"a": 1}))],
            vec![(1, K::Refused, R::IllegalDistinctId)],
            vec![(1, W::CannotMergeWithIllegalDistinctId)],
        ),
        case(
            "illegal target (case-insensitive list): refused, person 'Anonymous' still created",
            vec![identify("Anonymous", "a1")],
            vec![(&["Anonymous"], false, json!({}))],
            vec![(1, K::Refused, R::IllegalDistinctId)],
            vec![(1, W::CannotMergeWithIllegalDistinctId)],
        ),
        case(
            "illegal source in quotes ('null', \"GUEST\") and case-sensitive NaN: all refused",
            vec![
                identify("u", "'null'"),
                identify("u", "\"GUEST\""),
                identify("u", "NaN"),
                identify("u", "[object Object]"),
            ],
            vec![(&["u"], false, json!({}))],
            vec![
                (1, K::Refused, R::IllegalDistinctId),
                (2, K::Refused, R::IllegalDistinctId),
                (3, K::Refused, R::IllegalDistinctId),
                (4, K::Refused, R::IllegalDistinctId),
            ],
            vec![
                (1, W::CannotMergeWithIllegalDistinctId),
                (2, W::CannotMergeWithIllegalDistinctId),
                (3, W::CannotMergeWithIllegalDistinctId),
                (4, W::CannotMergeWithIllegalDistinctId),
            ],
        ),
        case(
            "legal lookalikes merge: NULL, nan, 00, anon, ' anonymous '",
            vec![
                identify("u1", "NULL"),
                identify("u2", "nan"),
                identify("u3", "00"),
                identify("u4", "anon"),
                identify("u5", " anonymous "),
            ],
            vec![
                (&["u1", "NULL"], true, json!({})),
                (&["u2", "nan"], true, json!({})),
                (&["u3", "00"], true, json!({})),
                (&["u4", "anon"], true, json!({})),
                (&["u5", " anonymous "], true, json!({})),
            ],
            (1..=5).map(|s| (s, K::Created, R::MergeCreatedPerson)).collect(),
            vec![],
        ),
        case(
            "empty-after-trim source is illegal",
            vec![identify("u", "  \t "), identify("u", "")],
            vec![(&["u"], false, json!({}))],
            vec![(1, K::Refused, R::IllegalDistinctId), (2, K::Refused, R::IllegalDistinctId)],
            vec![(1, W::CannotMergeWithIllegalDistinctId), (2, W::CannotMergeWithIllegalDistinctId)],
        ),
        case(
            "posthog-js alias(x): source = x, target = current id; x attached to the current person",
            vec![personless(pageview("anon-43")), identify("user-43", "anon-43"), alias("user-43", "alias-43")],
            vec![(&["anon-43", "user-43", "alias-43"], true, json!({}))],
            vec![(2, K::Created, R::MergeCreatedPerson), (3, K::Attached, R::MergeAttachedSource)],
            vec![],
        ),
        case(
            "posthog-js alias(x) is refused when x is an identified person",
            vec![identify("u1", "a1"), identify("u2", "a2"), alias("u2", "u1")],
            vec![(&["u1", "a1"], true, json!({})), (&["u2", "a2"], true, json!({}))],
            vec![
                (1, K::Created, R::MergeCreatedPerson),
                (2, K::Created, R::MergeCreatedPerson),
                (3, K::Refused, R::SourceAlreadyIdentified),
            ],
            vec![(3, W::CannotMergeAlreadyIdentified)],
        ),
        case(
            "posthog-python alias(previous_id='prev', distinct_id='new'): prev survives, new merges in",
            vec![set("new", json!({"k": "new"})), set("prev", json!({"k": "prev"})), alias("prev", "new")],
            vec![(&["prev", "new"], true, json!({"k": "prev"}))],
            vec![
                (1, K::Created, R::PersonCreated),
                (2, K::Created, R::PersonCreated),
                (3, K::Merged, R::MergeIntoTarget),
            ],
            vec![],
        ),
        case(
            "posthog-node alias({distinctId: 'd', alias: 'a'}) on fresh ids: one person, d first",
            vec![alias("d", "a")],
            vec![(&["d", "a"], true, json!({}))],
            vec![(1, K::Created, R::MergeCreatedPerson)],
            vec![],
        ),
        case(
            "$create_alias / $merge_dangerously without a truthy alias merge nothing",
            vec![
                e("$create_alias", "u", json!({})),
                e("$create_alias", "u", json!({"alias": ""})),
                e("$merge_dangerously", "u", json!({"alias": 0})),
                e("$create_alias", "u", json!({"$anon_distinct_id": "a"})),
            ],
            vec![(&["u"], false, json!({}))],
            vec![
                (1, K::Ignored, R::AliasMissing),
                (2, K::Ignored, R::AliasMissing),
                (3, K::Ignored, R::AliasMissing),
                (4, K::Ignored, R::AliasMissing),
            ],
            vec![],
        ),
        case(
            "non-string aliases are String()-ed: 123 merges, {} and true are illegal",
            vec![
                e("$create_alias", "u", json!({"alias": 123})),
                e("$create_alias", "u", json!({"alias": {}})),
                e("$create_alias", "u", json!({"alias": true})),
            ],
            vec![(&["u", "123"], true, json!({}))],
            vec![
                (1, K::Created, R::MergeCreatedPerson),
                (2, K::Refused, R::IllegalDistinctId),
                (3, K::Refused, R::IllegalDistinctId),
            ],
            vec![(2, W::CannotMergeWithIllegalDistinctId), (3, W::CannotMergeWithIllegalDistinctId)],
        ),
    ]
}
