//! Random Segment and Mixpanel streams (deterministic PRNG): browsers and servers identifying,
//! switching users with and without reset(), aliases, blocked ids, `/engage` updates, and
//! client times jittered against arrival order. Checked after every event: the vendor limits
//! (one user id per person, Segment's 5 per kind), `is_identified` == holds a user id, every id
//! on one person, every event in one lane; and every 5th event the incrementally fed model
//! (`push` + `take_changes`) serialises exactly like one rebuilt from the same prefix.

use crate::support::vendor_events;

use std::collections::{HashMap, HashSet};

use crate::support::rng::Rng;
use chrono::Duration;
use identity_engine::*;
use serde_json::json;
use vendor_events::*;

const USERS: [&str; 6] = ["u1", "u2", "u3", "null", "max@example.com", "0"];
/// The values of these streams Segment blocks once the project turns its suggested blocklist on
/// (`^[0-]*$`, `-1`, `null`, `anonymous`; opt-in, Segment's "Identity Resolution Settings"; the
/// engine's own unit tests check the blocklist itself). The random Segment project turns it on.
const SEGMENT_BLOCKED: [&str; 2] = ["null", "0"];

pub(crate) fn segment_stream(rng: &mut Rng, n: usize) -> Vec<EventInput> {
    let mut anons: Vec<(String, bool)> = vec![("a0".into(), true)];
    let mut out = Vec::new();
    for i in 0..n {
        if rng.below(8) == 0 {
            anons.push((format!("a{i}"), rng.below(2) == 0));
        }
        let b = rng.below(anons.len());
        let user = USERS[rng.below(USERS.len())];
        let (anon, web) = anons[b].clone();
        let mk = |ty: &str, u: Option<&str>, extra| {
            if web {
                seg_web(ty, u, &anon, extra)
            } else {
                seg(ty, u, Some(&anon), extra)
            }
        };
        let ev = match rng.below(10) {
            0..=2 => {
                mk("identify", Some(user), json!({"traits": {"plan": rng.below(3), "email": format!("{user}@x.io")}}))
            }
            3 => mk(
                "alias",
                Some(user),
                json!({"previousId": if rng.below(3) == 0 { user.to_owned() } else { anon.clone() }}),
            ),
            4 => {
                anons[b].0 = format!("r{i}");
                continue;
            }
            5 => mk("track", None, json!({"context": {"device": {"id": format!("dev{}", rng.below(3))}}})),
            6 => seg("track", Some(user), None, json!({"event": "Account Created"})),
            _ => mk("track", if rng.below(2) == 0 { Some(user) } else { None }, json!({"event": "Clicked"})),
        };
        out.push(ev);
    }
    out
}

pub(crate) fn mixpanel_stream(rng: &mut Rng, n: usize) -> Vec<EventInput> {
    let mut devices: Vec<(String, Option<String>)> = vec![("d0".into(), None)];
    let mut out = Vec::new();
    for i in 0..n {
        if rng.below(8) == 0 {
            devices.push((format!("d{i}"), None));
        }
        let b = rng.below(devices.len());
        let user = USERS[rng.below(USERS.len())];
        let (device, current) = devices[b].clone();
        let ev = match rng.below(10) {
            0..=2 => {
                devices[b].1 = Some(user.to_owned());
                mp_web("$identify", &device, Some(user))
            }
            3 => {
                devices[b] = (format!("n{i}"), None);
                continue;
            }
            4 => engage(
                current.as_deref().unwrap_or(&format!("$device:{device}")),
                json!({"$set": {"k": rng.below(3)}, "$unset": ["z"]}),
            ),
            5 => mp("$create_alias", current.as_deref().unwrap_or("x"), json!({"alias": user})),
            6 => mp("server", user, json!({})),
            _ => mp_web("Clicked", &device, current.as_deref()),
        };
        out.push(ev);
    }
    out
}

fn renumber(mut evs: Vec<EventInput>, rng: &mut Rng) -> Vec<EventInput> {
    for (i, e) in evs.iter_mut().enumerate() {
        e.seq = i as i64 + 1;
        e.uuid = format!("r{i}");
        e.timestamp = base() + Duration::seconds(i as i64 * 10 - rng.below(40) as i64);
    }
    evs
}

/// Segment's suggested blocked values turned on for the Segment project (they are opt-in).
fn new_model() -> Model {
    Model::with_settings([("seg", ProjectSettings { segment_blocked_values: true, ..ProjectSettings::default() })])
}

fn snapshot(m: &Model, project: &str) -> String {
    serde_json::to_string(&(m.engine().persons(project), m.engine().decisions(), m.devices(None), m.findings(None)))
        .unwrap()
}

fn check(m: &Model, project: &str, applied: usize) {
    let e = m.engine();
    let mut owner = HashMap::new();
    for p in e.persons(project) {
        let kinds: Vec<IdKind> =
            p.distinct_ids.iter().map(|id| e.id_kind(project, id).expect("every id has a kind")).collect();
        let users = kinds.iter().filter(|k| **k == IdKind::UserId).count();
        assert!(users <= 1, "two user ids on {:?}", p.distinct_ids);
        assert_eq!(p.is_identified, users == 1, "{:?}", p.distinct_ids);
        if e.family(project) == Family::Segment {
            for k in [IdKind::AnonymousId, IdKind::Email, IdKind::DeviceId] {
                assert!(kinds.iter().filter(|x| **x == k).count() <= 5, "{k:?} over the limit on {:?}", p.distinct_ids);
            }
        }
        for id in &p.distinct_ids {
            assert!(owner.insert(id.clone(), p.id).is_none(), "{id} on two persons");
            assert!(
                !SEGMENT_BLOCKED.contains(&id.as_str()) || e.family(project) != Family::Segment,
                "blocked {id} linked"
            );
        }
    }
    assert_eq!(m.devices(None).iter().map(|l| l.event_count).sum::<usize>(), applied);
}

#[test]
fn random_vendor_streams_keep_limits_and_rebuild_identically() {
    let mut rules: HashSet<String> = HashSet::new();
    let mut links = 0;
    for seed in 1..=10u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        for (project, evs) in [("seg", segment_stream(&mut rng, 120)), ("mpt", mixpanel_stream(&mut rng, 120))] {
            let evs = renumber(evs, &mut rng);
            let mut model = new_model();
            for (k, ev) in evs.iter().enumerate() {
                model.push(ev).unwrap();
                check(&model, project, k + 1);
                if k % 5 == 4 || k + 1 == evs.len() {
                    let changes = model.take_changes();
                    assert!(!changes.devices.is_empty());
                    let mut fresh = new_model();
                    evs[..=k].iter().for_each(|e| drop(fresh.apply(e).unwrap()));
                    assert_eq!(
                        snapshot(&fresh, project),
                        snapshot(&model, project),
                        "seed {seed} {project} after {} events",
                        k + 1
                    );
                }
            }
            rules.extend(model.findings(None).iter().map(|f| f.rule.as_str().to_owned()));
            links += model.devices(None).iter().filter(|l| l.linked_from.is_some()).count();
        }
    }
    for rule in [
        "profile_user_id_limit",
        "cluster_already_has_user_id",
        "anonymous_id_with_many_user_ids",
        "blocked_identifier_value",
        "self_alias",
        "missing_reset_between_users",
        "email_as_distinct_id",
        "alias_after_identify",
    ] {
        assert!(rules.contains(rule), "{rule} never fired: {rules:?}");
    }
    assert!(links > 0, "no reset was ever inferred");
}
