//! Mixpanel, Original ID Merge, one documented rule per test. Source of every rule: Mixpanel docs
//! "Identifying Users (Original)"
//! (<https://docs.mixpanel.com/docs/tracking-methods/id-management/identifying-users-original>) and
//! the API reference pages "Create Identity", "Create Alias", "Merge Identities".

use identity_engine::*;
use serde_json::json;

use crate::support::vendor_events::*;

const A1: &str = "3f1a2b4c-5d6e-4f70-8a91-b2c3d4e5f601";
const A2: &str = "3f1a2b4c-5d6e-4f70-8a91-b2c3d4e5f602";

fn run(evs: &[EventInput]) -> Model {
    mixpanel_model(MixpanelIdMerge::Original, evs)
}

fn persons(m: &Model) -> Vec<Vec<&str>> {
    mixpanel_clusters(m)
}

fn identify(identified: &str, anon: &str) -> EventInput {
    mp("$identify", identified, json!({"$identified_id": identified, "$anon_id": anon}))
}

fn has(m: &Model, rule: Rule) -> Option<&Decision> {
    m.engine().decisions().iter().find(|d| d.rule == rule)
}

/// Create Identity: `$identify` merges a UUID v4 `$anon_id` into the `$identified_id`.
#[test]
fn create_identity_merges_a_uuid_v4_anon_id() {
    let m = run(&[mp("viewed", A1, json!({})), identify("u1", A1)]);
    assert_eq!(persons(&m), [vec!["u1", A1]]);
    let d = has(&m, Rule::ProfilesMerged).expect("merged");
    assert!(d.message.starts_with("Mixpanel, Original ID Merge:"), "{}", d.message);
    assert!(m.engine().person_for("mpt", A1).unwrap().is_identified);
}

/// Create Identity: the `$device:` prefix of mixpanel-browser's anon ids is accepted.
#[test]
fn create_identity_accepts_the_device_prefix() {
    let anon = format!("$device:{A1}");
    let m = run(&[mp("viewed", &anon, json!({})), identify("u1", &anon)]);
    assert_eq!(persons(&m), [vec!["u1", anon.as_str()]]);
}

/// Create Identity: an `$anon_id` that is not a UUID v4 is not merged.
#[test]
fn create_identity_refuses_an_anon_id_that_is_not_uuid_v4() {
    let m = run(&[mp("viewed", "anon-1", json!({})), identify("u1", "anon-1")]);
    assert_eq!(persons(&m), [vec!["anon-1"], vec!["u1"]]);
    assert!(has(&m, Rule::IllegalDistinctId).unwrap().message.contains("UUID v4"));
}

/// Create Identity: an anon id already merged to another identified id stays there.
#[test]
fn create_identity_refuses_an_anon_id_already_merged_to_another_identified_id() {
    let m = run(&[identify("u1", A1), identify("u2", A1)]);
    assert_eq!(persons(&m), [vec!["u1", A1], vec!["u2"]]);
    assert_eq!(has(&m, Rule::SourceAlreadyIdentified).unwrap().source.as_deref(), Some(A1));
}

/// `$anon_distinct_id` is not a Mixpanel field: an `$identify` with only it merges nothing.
#[test]
fn identify_with_only_anon_distinct_id_merges_nothing() {
    let m = run(&[mp("$identify", "u1", json!({"$anon_distinct_id": A1})), mp("viewed", A1, json!({}))]);
    assert_eq!(persons(&m), [vec![A1], vec!["u1"]]);
    assert!(has(&m, Rule::IdentifyWithoutAnonId).is_some());
}

/// Create Alias: the alias joins the distinct id's cluster, also an identified one.
#[test]
fn create_alias_adds_the_alias_even_to_an_identified_cluster() {
    let m = run(&[identify("u1", A1), mp("$create_alias", "u1", json!({"alias": "u1@example.com"}))]);
    assert_eq!(persons(&m), [vec!["u1", A1, "u1@example.com"]]);
}

/// Create Alias: an alias points to only one distinct id; a second alias to another cluster links nothing.
#[test]
fn create_alias_points_to_only_one_distinct_id() {
    let m = run(&[
        mp("$create_alias", "d1", json!({"alias": "shared"})),
        mp("$create_alias", "d2", json!({"alias": "shared"})),
    ]);
    assert_eq!(persons(&m), [vec!["d1", "shared"], vec!["d2"]]);
    assert!(has(&m, Rule::ClusterHasUserId).unwrap().message.contains("only one distinct id"));
}

/// A `$merge` of u1 and u2 that arrived on `route` (`None`: the route is unknown).
fn merge_on(route: Option<&str>) -> EventInput {
    let mut props = json!({"$distinct_ids": ["u1", "u2"]});
    if let Some(route) = route {
        props[INSPECTOR_ROUTE] = json!(route);
    }
    mp("$merge", "u1", props)
}

/// Merge Identities (<https://developer.mixpanel.com/reference/identity-merge>): `$merge` sent
/// to `/import` joins any two clusters, identified or not.
#[test]
fn merge_on_import_joins_two_identified_clusters() {
    let m = run(&[identify("u1", A1), identify("u2", A2), merge_on(Some("/import"))]);
    assert_eq!(persons(&m), [vec!["u1", A1, "u2", A2]]);
}

/// Merge Identities: Mixpanel honours `$merge` only on `/import`; on `/track` it merges nothing,
/// and a decision says why.
#[test]
fn merge_on_track_merges_nothing() {
    let m = run(&[identify("u1", A1), identify("u2", A2), merge_on(Some("/track"))]);
    assert_eq!(persons(&m), [vec!["u1", A1], vec!["u2", A2]]);
    let d = has(&m, Rule::NotInThisMode).expect("ignored");
    assert!(d.message.starts_with("Mixpanel, Original ID Merge:"), "{}", d.message);
    assert!(d.message.contains("arrived on /track") && d.message.contains("only when it is sent to /import"));
}

/// Merge Identities: a `$merge` whose route is unknown (not read from the store) is not
/// assumed to be an `/import`.
#[test]
fn merge_with_an_unknown_route_merges_nothing() {
    let m = run(&[identify("u1", A1), identify("u2", A2), merge_on(None)]);
    assert_eq!(persons(&m), [vec!["u1", A1], vec!["u2", A2]]);
    assert!(has(&m, Rule::NotInThisMode).unwrap().message.contains("a route the inspector does not know"));
}

/// Original ID Merge: a cluster holds at most 500 ids.
#[test]
fn a_cluster_holds_at_most_500_ids() {
    let mut evs = vec![mp("viewed", "u", json!({}))];
    for i in 0..500 {
        evs.push(mp("$create_alias", "u", json!({"alias": format!("a{i}")})));
    }
    let m = run(&evs);
    let p = m.engine().person_for("mpt", "u").unwrap();
    assert_eq!(p.distinct_ids.len(), 500);
    assert!(m.engine().person_for("mpt", "a499").is_none(), "the 501st id stays outside");
    assert!(has(&m, Rule::ProfileLimit).unwrap().message.contains("at most 500"));
}

/// Original ID Merge ignores `$device_id` / `$user_id`: only distinct_id, identify, alias and merge link.
#[test]
fn device_and_user_ids_link_nothing() {
    let m = run(&[mp_web("viewed", A1, None), mp_web("viewed", A1, Some("u1"))]);
    assert_eq!(persons(&m), [vec![format!("$device:{A1}").as_str()], vec!["u1"]]);
}

/// Import Events reference: disallowed ids never merge, in Original mode too.
#[test]
fn disallowed_ids_never_merge() {
    let m = run(&[identify("u1", "00000000-0000-0000-0000-000000000000"), identify("null", A1)]);
    assert_eq!(persons(&m), [vec!["u1"]]);
    let d = has(&m, Rule::BlockedIdentifier).unwrap();
    assert!(
        d.message.starts_with("Mixpanel, Original ID Merge:") && d.message.contains("ignoring case"),
        "{}",
        d.message
    );
}

/// Create Identity (<https://developer.mixpanel.com/reference/create-identity>) sends
/// `$identified_id` + `$anon_id` and maybe no distinct_id: the lint knows it as an identify of
/// `$identified_id`, so a later alias of that id is `alias_after_identify`.
#[test]
fn the_lint_reads_an_original_identify_for_alias_after_identify() {
    let create_identity = |identified: &str, anon: &str| {
        let mut e = mp("$identify", "", json!({"$identified_id": identified, "$anon_id": anon}));
        e.properties.remove("distinct_id");
        e
    };
    let m = run(&[
        mp("viewed", A1, json!({})),
        create_identity("u1", A1),
        mp("$create_alias", "u1", json!({"alias": "legacy-1"})),
    ]);
    let found: Vec<_> = m.findings(None).into_iter().filter(|f| f.rule.as_str() == "alias_after_identify").collect();
    assert_eq!(found.len(), 1, "{:#?}", m.findings(None));
    assert_eq!(found[0].distinct_ids, ["u1", "legacy-1"]);
}

/// The lens reads an Original identify (`$identified_id` + `$anon_id`, Create Identity) as an
/// identify of the anon id by the identified id, so the other vendors' replays link them too.
#[test]
fn the_lens_reads_an_original_identify() {
    let evs = [mp("viewed", A1, json!({})), identify("u1", A1)];
    let lens = vendor_lens("mpt", &evs);
    let posthog = lens.vendors.iter().find(|v| v.vendor == Family::PostHog).unwrap();
    let cluster = posthog.clusters.iter().find(|c| c.ids.iter().any(|i| i == "u1")).expect("u1's cluster");
    assert!(cluster.ids.iter().any(|i| i == A1), "{:?}", cluster.ids);
}
