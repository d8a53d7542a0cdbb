//! Any stream of events through the identity model (persons, lanes, lint): no panic, and the
//! invariants the UI relies on hold after every event. Six bytes make one event, drawn from small
//! pools of ids, names and property values (illegal ids, odd types, clocks going backwards), so
//! the fuzzer reaches merges, refusals, resets and late segments quickly. Two bits pick the
//! project: two PostHog ones, a Segment one (the event is a whole Segment message) and a Mixpanel
//! one, so every family's rules run, side by side in one model.
#![no_main]

use identity_engine::{EventInput, Model};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};

const IDS: [&str; 10] = [
    "anon-1",
    "anon-2",
    "user-1",
    "user-2",
    "null",
    "undefined",
    "",
    "Guest",
    "'null'",
    "01a20b8b-0000-7000-8000-000000000001",
];
const EVENTS: [&str; 8] = [
    "$pageview",
    "$identify",
    "$create_alias",
    "$merge_dangerously",
    "$set",
    "$groupidentify",
    "Signed Up",
    "$exception",
];
const DEVICES: [Option<&str>; 4] = [None, Some("anon-1"), Some("anon-2"), Some("dev-3")];

fn odd_value(b: u8) -> Value {
    match b % 6 {
        0 => Value::Null,
        1 => json!(0),
        2 => json!(1.5),
        3 => json!({"k": "v"}),
        4 => json!(["a", null]),
        _ => json!(IDS[(b as usize / 6) % IDS.len()]),
    }
}

fn event(seq: i64, b: &[u8; 6]) -> EventInput {
    let mut p = Map::new();
    let id = IDS[b[0] as usize % IDS.len()];
    let name = EVENTS[(b[0] as usize / IDS.len()) % EVENTS.len()];
    if let Some(device) = DEVICES[b[1] as usize % 4] {
        p.insert("$device_id".into(), json!(device));
    }
    if b[1] & 4 != 0 {
        p.insert("$session_id".into(), json!(format!("s{}", b[1] >> 5)));
    }
    if b[1] & 8 != 0 {
        p.insert("$is_identified".into(), json!(b[1] & 16 != 0));
    }
    match b[2] % 4 {
        0 => {}
        1 => drop(p.insert("$anon_distinct_id".into(), odd_value(b[2] / 4))),
        2 => drop(p.insert("alias".into(), odd_value(b[2] / 4))),
        _ => drop(p.insert("$anon_distinct_id".into(), json!(IDS[(b[2] / 4) as usize % IDS.len()]))),
    }
    match b[3] % 5 {
        0 => {}
        1 => drop(p.insert("$process_person_profile".into(), json!(false))),
        2 => drop(p.insert("$process_person_profile".into(), json!("yes"))),
        3 => drop(p.insert("$set".into(), json!({"plan": b[3] / 5, "email": "a@b.co"}))),
        _ => {
            p.insert("$set_once".into(), json!({"plan": "free"}));
            p.insert("$unset".into(), if b[3] & 128 != 0 { json!(["plan"]) } else { odd_value(b[3]) });
        }
    }
    if b[4] & 1 != 0 {
        p.insert("$raw_user_agent".into(), json!(if b[4] & 2 != 0 { "UA-1" } else { "UA-2" }));
    }
    if b[4] & 4 != 0 {
        p.insert("$last_posthog_reset".into(), json!(format!("2026-11-24T12:0{}:00Z", b[4] >> 5)));
    }
    let (project, source) = match (b[4] >> 3) & 3 {
        0 => ("phc_a", "posthog"),
        1 => ("phc_b", "posthog"),
        2 => return segment_event(seq, b),
        _ => return mixpanel_event(seq, b),
    };
    EventInput {
        seq,
        uuid: format!("e{seq}"),
        project: project.into(),
        source: source.into(),
        event: name.into(),
        distinct_id: id.into(),
        // Minutes that may go backwards: late batches and skewed clocks.
        timestamp: minutes(b[5]),
        properties: p,
    }
}

fn minutes(b: u8) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_800_000_000 + (b & 127) as i64 * 60, 0).unwrap()
}

/// A Segment message (stored whole as the event's properties): any type, ids present or not,
/// blocked values among them, a device id, an email in context or traits.
fn segment_event(seq: i64, b: &[u8; 6]) -> EventInput {
    const TYPES: [&str; 6] = ["identify", "track", "page", "alias", "group", "screen"];
    let ty = TYPES[(b[0] as usize / IDS.len()) % TYPES.len()];
    let mut m = Map::new();
    m.insert("type".into(), json!(ty));
    let user = (b[2] & 1 != 0).then(|| IDS[(b[2] >> 1) as usize % IDS.len()]);
    let anon = (b[2] & 32 != 0 || user.is_none()).then(|| IDS[b[0] as usize % IDS.len()]);
    if let Some(u) = user {
        m.insert("userId".into(), json!(u));
    }
    if let Some(a) = anon {
        m.insert("anonymousId".into(), json!(a));
    }
    if ty == "alias" {
        m.insert("previousId".into(), odd_value(b[3]));
    }
    let mut context = Map::new();
    if let Some(device) = DEVICES[b[1] as usize % 4] {
        context.insert("device".into(), json!({"id": device}));
    }
    if b[1] & 8 != 0 {
        context.insert("traits".into(), json!({"email": format!("u{}@x.io", b[1] >> 5)}));
    }
    if b[4] & 1 != 0 {
        context.insert("userAgent".into(), json!(if b[4] & 2 != 0 { "UA-1" } else { "UA-2" }));
    }
    m.insert("context".into(), Value::Object(context));
    if ty == "identify" {
        m.insert("traits".into(), json!({"email": odd_value(b[3]), "plan": b[3] / 7}));
    }
    EventInput {
        seq,
        uuid: format!("e{seq}"),
        project: "wk_seg".into(),
        source: if b[5] & 128 != 0 { "rudderstack" } else { "segment" }.into(),
        event: if ty == "track" { "Signed Up".into() } else { ty.into() },
        distinct_id: user.or(anon).unwrap_or_default().into(),
        timestamp: minutes(b[5]),
        properties: m,
    }
}

/// A Mixpanel event: Simplified ID Merge properties, Original ID Merge events, profile updates.
fn mixpanel_event(seq: i64, b: &[u8; 6]) -> EventInput {
    const NAMES: [&str; 6] = ["$identify", "$create_alias", "$merge", "$engage", "Signed In", "$mp_web_page_view"];
    let name = NAMES[(b[0] as usize / IDS.len()) % NAMES.len()];
    let id = IDS[b[0] as usize % IDS.len()];
    let mut p = Map::new();
    if let Some(device) = DEVICES[b[1] as usize % 4] {
        p.insert("$device_id".into(), json!(device));
    }
    if b[2] & 1 != 0 {
        p.insert("$user_id".into(), json!(IDS[(b[2] >> 1) as usize % IDS.len()]));
    }
    match name {
        "$identify" => drop(p.insert("$anon_distinct_id".into(), odd_value(b[3]))),
        "$create_alias" => drop(p.insert("alias".into(), odd_value(b[3]))),
        "$merge" => drop(p.insert("$distinct_ids".into(), json!([id, IDS[b[3] as usize % IDS.len()]]))),
        "$engage" => {
            p.insert("$distinct_id".into(), json!(id));
            p.insert(["$set", "$set_once", "$unset"][b[3] as usize % 3].into(), json!({"plan": b[3] / 3}));
        }
        _ => {}
    }
    if b[4] & 1 != 0 {
        p.insert("$browser".into(), json!(if b[4] & 2 != 0 { "Chrome" } else { "Firefox" }));
    }
    EventInput {
        seq,
        uuid: format!("e{seq}"),
        project: "mp_tok".into(),
        source: "mixpanel".into(),
        event: name.into(),
        distinct_id: id.into(),
        timestamp: minutes(b[5]),
        properties: p,
    }
}

fuzz_target!(|data: &[u8]| {
    let mut model = Model::new();
    let mut applied = 0usize;
    for (i, chunk) in data.chunks_exact(6).take(200).enumerate() {
        let ev = event(i as i64 + 1, chunk.try_into().unwrap());
        model.apply(&ev).expect("seq increases");
        applied += 1;
        for lane in model.devices(None) {
            let in_segments: usize = lane.segments.iter().map(|s| s.event_count).sum();
            assert_eq!(lane.event_count, in_segments, "lane {} counts its segments' events", lane.id);
        }
    }
    let lanes: usize = model.devices(None).iter().map(|l| l.event_count).sum();
    assert_eq!(lanes, applied, "every event lands in exactly one lane");
    for project in ["phc_a", "phc_b", "wk_seg", "mp_tok"] {
        for person in model.engine().persons(project) {
            assert!(person.property_origins.keys().eq(person.properties.keys()), "origins match properties");
        }
    }
    let json = serde_json::to_string(&(model.devices(None), model.findings(None), model.engine().decisions())).unwrap();
    assert!(!json.is_empty());
});
