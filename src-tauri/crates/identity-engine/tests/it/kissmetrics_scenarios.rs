//! KISSmetrics identity rules, one scenario per documented rule (the source is named on each
//! test), on calls in the shape capture-decode stores them: `/e` as the event `_n`, `/s` as
//! `$set` (properties under `$set`), `/a` as `$alias` with the second identity in
//! `properties.alias`.

use chrono::{DateTime, Duration, Utc};
use identity_engine::*;
use serde_json::{json, Value};

const P: &str = "km-key";

/// Builds one project's calls in arrival order.
#[derive(Default)]
struct Calls(Vec<EventInput>);

impl Calls {
    fn call(mut self, event: &str, person: &str, properties: Value) -> Calls {
        let seq = self.0.len() as i64 + 1;
        let base: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z").unwrap().into();
        self.0.push(EventInput {
            seq,
            uuid: format!("km-{seq}"),
            project: P.into(),
            source: "kissmetrics".into(),
            event: event.into(),
            distinct_id: person.into(),
            timestamp: base + Duration::seconds(seq),
            properties: properties.as_object().cloned().unwrap_or_default(),
        });
        self
    }
    /// `/e?_p=person&_n=name`
    fn record(self, person: &str, name: &str) -> Calls {
        self.call(name, person, json!({}))
    }
    /// `/a?_p=a&_n=b`
    fn alias(self, a: &str, b: &str) -> Calls {
        self.call("$alias", a, json!({"alias": b}))
    }
    /// `/s?_p=person&...`
    fn set(self, person: &str, props: Value) -> Calls {
        self.call("$set", person, json!({"$set": props}))
    }
    /// The model as the server builds it: from the properties `model_properties` keeps.
    fn run_stored(self) -> Model {
        let trimmed = self
            .0
            .into_iter()
            .map(|e| EventInput { properties: model_properties(&Value::Object(e.properties.clone()).to_string()), ..e })
            .collect();
        Calls(trimmed).run()
    }
    fn run(self) -> Model {
        let mut m = Model::new();
        for e in &self.0 {
            m.apply(e).unwrap();
        }
        m
    }
}

/// Each person's identities, sorted (order is not what these rules are about).
fn persons(m: &Model) -> Vec<Vec<String>> {
    let mut all: Vec<Vec<String>> = m.engine().persons(P).into_iter().map(|p| p.distinct_ids.clone()).collect();
    all.iter_mut().for_each(|ids| ids.sort());
    all.sort();
    all
}

fn people(expected: &[&[&str]]) -> Vec<Vec<String>> {
    let mut all: Vec<Vec<String>> = expected.iter().map(|ids| ids.iter().map(|s| s.to_string()).collect()).collect();
    all.iter_mut().for_each(|ids| ids.sort());
    all.sort();
    all
}

fn findings(m: &Model, rule: &str) -> Vec<Finding> {
    m.findings(Some(P)).into_iter().filter(|f| f.rule.as_str() == rule).map(|f| f.into_owned()).collect()
}

// Anonymous ids as the JS library generates them (base64, "Identities").
const ANON_1: &str = "qFq2LweZugFNE4o49hLhmRPBW34=";
const ANON_2: &str = "5tyjk0zrrtnz5xdmcjzhso4bdyau=";
const ANON_3: &str = "Zk9wLmN0YXRpYy1hbm9ueW1vdXM=";

/// "Identities" (support.kissmetrics.io/docs/identities): `/a?_p=User+12345&_n=bob@bob.com`
/// means both identities are one person; events of either refer to that one person.
#[test]
fn alias_makes_two_identities_one_person() {
    let m = Calls::default()
        .record("User 12345", "Viewed")
        .record("bob@bob.com", "Paid")
        .alias("User 12345", "bob@bob.com")
        .run();
    assert_eq!(persons(&m), people(&[&["User 12345", "bob@bob.com"]]));
    let p = m.engine().person_for(P, "bob@bob.com").unwrap();
    assert!(p.is_identified);
    assert_eq!(m.engine().family(P), Family::KissMetrics);
    let merged = m.engine().decisions().iter().find(|d| d.rule == Rule::ProfilesMerged).expect("a merge");
    assert!(merged.message.contains("KISSmetrics") && merged.message.contains("never refuses"), "{}", merged.message);
}

/// "Identities": alias has no refusal and no limit, even between two named identities, and is
/// not reversible ("Calling alias is not reversible").
#[test]
fn alias_of_two_named_people_is_never_refused() {
    let m = Calls::default()
        .record("alice@x.io", "Login")
        .record("bob@x.io", "Login")
        .record("carol@x.io", "Login")
        .alias("alice@x.io", "bob@x.io")
        .alias("carol@x.io", "bob@x.io")
        .record("alice@x.io", "Later")
        .run();
    assert_eq!(persons(&m), people(&[&["alice@x.io", "bob@x.io", "carol@x.io"]]));
    assert!(m.engine().decisions().iter().all(|d| d.kind != DecisionKind::Refused));
    assert!(m.engine().warnings().is_empty());
}

/// "Problems with Identifying Users" (oldsupport.kissmetrics.com troubleshooting-identities):
/// identify while anonymous makes the JS library alias the anonymous id to the name, so the
/// browsing before login joins the named person.
#[test]
fn identify_while_anonymous_arrives_as_an_alias_and_keeps_the_history() {
    let m = Calls::default()
        .record(ANON_1, "Visited Site")
        .alias(ANON_1, "bob@site.com")
        .record("bob@site.com", "Signed In")
        .run();
    assert_eq!(persons(&m), people(&[&[ANON_1, "bob@site.com"]]));
    let lanes = m.devices(Some(P));
    assert_eq!(lanes.len(), 1, "one browser: the alias continues the anonymous id's lane");
    let ids: Vec<&str> = lanes[0].segments.iter().map(|s| s.distinct_id.as_str()).collect();
    assert_eq!(ids, [ANON_1, "bob@site.com"]);
}

/// "Multiple People on the Same Browser" (support.kissmetrics.io/docs/multiple-people-on-the-
/// same-browser): identify(bill) while named bob sends no alias; bob and bill stay two people,
/// and the activity before bill's identify stays with bob.
#[test]
fn identify_while_named_sends_no_alias_and_keeps_two_people() {
    let m = Calls::default()
        .record(ANON_1, "Visited Site")
        .alias(ANON_1, "bob@site.com")
        .record("bob@site.com", "Logged Out")
        .record("bob@site.com", "Visited Site")
        .record("bill@site.com", "Logged In")
        .run();
    assert_eq!(persons(&m), people(&[&[ANON_1, "bob@site.com"], &["bill@site.com"]]));
    assert!(findings(&m, "squished_identities").is_empty());
}

/// "Multiple People on the Same Browser": clearIdentity() (or identify(null)) makes the next
/// visitor anonymous on a new id, so their alias joins only them.
#[test]
fn clear_identity_starts_a_new_anonymous_id() {
    let m = Calls::default()
        .record(ANON_1, "Visited Site")
        .alias(ANON_1, "bob@site.com")
        .record(ANON_2, "Visited Site")
        .alias(ANON_2, "bill@site.com")
        .run();
    assert_eq!(persons(&m), people(&[&[ANON_1, "bob@site.com"], &[ANON_2, "bill@site.com"]]));
    assert_eq!(m.devices(Some(P)).len(), 2, "the new anonymous id starts a new lane");
    assert!(findings(&m, "squished_identities").is_empty());
}

/// "Squished Identities" (support.kissmetrics.io/docs/squished-identities-multiple-identities-
/// aliased-together), identify squishing: `_kmq.push(['identify', 'anonymous'])` on every
/// visitor aliases each anonymous id to 'anonymous': no refusal, one person, a finding.
#[test]
fn placeholder_identify_squishes_everyone_and_is_flagged() {
    let one = Calls::default().alias(ANON_1, "anonymous").record("anonymous", "Viewed").run();
    assert!(findings(&one, "squished_identities").is_empty(), "one visitor is not squished yet");
    let m = Calls::default()
        .alias(ANON_1, "anonymous")
        .record("anonymous", "Viewed")
        .alias(ANON_2, "anonymous")
        .alias(ANON_3, "anonymous")
        .run();
    assert_eq!(persons(&m), people(&[&[ANON_1, "anonymous", ANON_2, ANON_3]]));
    let f = findings(&m, "squished_identities");
    assert_eq!(f.len(), 1, "one finding for the placeholder");
    assert_eq!(f[0].severity, Severity::Error);
    assert_eq!(f[0].distinct_ids, ["anonymous", ANON_1, ANON_2, ANON_3]);
    assert!(f[0].message.contains("'anonymous'") && f[0].message.contains("never undoes"), "{}", f[0].message);
    assert!(f[0].fix.contains("identify"), "{}", f[0].fix);
}

/// "Squished Identities", alias squishing: one identity aliased with several named people.
#[test]
fn one_id_aliased_to_many_named_people_is_flagged() {
    let m = Calls::default().alias("shared-account", "alice@x.io").alias("shared-account", "bob@x.io").run();
    let f = findings(&m, "squished_identities");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].distinct_ids, ["shared-account", "alice@x.io", "bob@x.io"]);
    assert!(f[0].fix.contains("clearIdentity"), "{}", f[0].fix);
}

/// One user on several browsers: a named id aliased with many generated anonymous ids is what
/// the JS library does on every login ("Identities"), not squishing.
#[test]
fn one_user_on_many_browsers_is_not_squished() {
    let m = Calls::default()
        .alias(ANON_1, "bob@site.com")
        .alias(ANON_2, "bob@site.com")
        .alias(ANON_3, "bob@site.com")
        .run();
    assert_eq!(persons(&m).len(), 1);
    assert!(findings(&m, "squished_identities").is_empty());
}

/// "Understanding identities" (support.kissmetrics.io/docs/understanding-identities): "The most
/// common named identity is an email address", so emails as identities are no finding here.
#[test]
fn email_identities_are_not_flagged_for_kissmetrics() {
    let m = Calls::default().record(ANON_1, "Visited").alias(ANON_1, "bob@site.com").run();
    assert!(findings(&m, "email_as_distinct_id").is_empty());
}

/// "API specifications": `/s` sets properties on the person `_p`.
#[test]
fn set_call_sets_person_properties() {
    let m = Calls::default()
        .set("bob@site.com", json!({"Plan": "Gold"}))
        .set("bob@site.com", json!({"Plan": "Platinum"}))
        .run();
    let p = m.engine().person_for(P, "bob@site.com").unwrap();
    assert_eq!(p.properties["Plan"], json!("Platinum"));
}

/// The server feeds the model only `model_properties` (input.rs): the KISSmetrics shape must
/// survive it (`alias`, `$set`), or aliases would join nothing.
#[test]
fn stored_properties_keep_what_the_rules_read() {
    let calls = || {
        Calls::default()
            .record(ANON_1, "Visited Site")
            .alias(ANON_1, "bob@site.com")
            .set("bob@site.com", json!({"Plan": "Gold"}))
            .alias(ANON_2, "anonymous")
            .alias(ANON_3, "anonymous")
    };
    let (full, stored) = (calls().run(), calls().run_stored());
    let view = |m: &Model| {
        serde_json::to_string(&(m.engine().persons(P), m.engine().decisions(), m.devices(None), m.findings(None)))
            .unwrap()
    };
    assert_eq!(view(&stored), view(&full));
    assert_eq!(stored.engine().person_for(P, ANON_1).unwrap().properties["Plan"], json!("Gold"));
}
