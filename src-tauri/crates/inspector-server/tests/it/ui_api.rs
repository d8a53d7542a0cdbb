//! API parameters the UI reads: free text and "since" on events, person search and order,
//! device lanes paged and filtered with their shared time range, decisions and warnings of one
//! event.

use crate::common::*;
use axum::http::StatusCode;
use serde_json::{json, Value};

async fn batch(app: &App, project: &str, events: Value) {
    let resp = app.post_json("/batch/", &json!({"api_key": project, "batch": events})).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
}

fn ids(list: &Value, key: &str) -> Vec<String> {
    list.as_array().unwrap().iter().map(|v| v[key].as_str().unwrap().to_owned()).collect()
}

async fn status(app: &App, uri: &str) -> StatusCode {
    app.get(uri).await.status
}

#[tokio::test(flavor = "multi_thread")]
async fn events_free_text_and_after() {
    let app = app();
    batch(
        &app,
        "phc_text",
        json!([
            {"event": "Checkout Started", "distinct_id": "ada", "properties": {"plan": "Pro"}},
            {"event": "$pageview", "distinct_id": "bob", "properties": {"$current_url": "https://shop.example/cart"}},
        ]),
    )
    .await;
    let found = app.api("/api/events?q=checkout").await;
    assert_eq!(ids(&found["events"], "event"), ["Checkout Started"]);
    let found = app.api("/api/events?q=shop.example&project=phc_text").await;
    assert_eq!(ids(&found["events"], "distinct_id"), ["bob"]);
    assert!(app.api("/api/events?q=nothing-like-this").await["events"].as_array().unwrap().is_empty());

    let all = app.api("/api/events").await["events"].clone();
    let oldest = all[1]["seq"].as_i64().unwrap();
    let newer = app.api(&format!("/api/events?after={oldest}")).await;
    assert_eq!(ids(&newer["events"], "distinct_id"), ["bob"], "only what arrived after `after`");
    assert_eq!(status(&app, "/api/events?after=soon").await, StatusCode::BAD_REQUEST);
}

/// What `identity-inspector tail` reads: the oldest events after its position first, a page
/// at a time, without properties; and a clear 400 for values it does not know.
#[tokio::test(flavor = "multi_thread")]
async fn a_follower_pages_oldest_first_without_properties() {
    let app = app();
    let events: Vec<Value> =
        (1..=5).map(|i| json!({"event": format!("e{i}"), "distinct_id": "ada", "properties": {"n": i}})).collect();
    batch(&app, "phc_follow", Value::Array(events)).await;
    let first = app.api("/api/events?order=oldest&limit=1").await["events"][0]["seq"].as_i64().unwrap();

    let page = app.api(&format!("/api/events?after={first}&order=oldest&limit=2&properties=0")).await;
    assert_eq!(ids(&page["events"], "event"), ["e2", "e3"]);
    assert!(page["events"].as_array().unwrap().iter().all(|e| e["properties"].is_null()), "{page}");
    assert_eq!(page["persons"].as_object().map(|p| p.len()), Some(2), "persons still come with the page");
    let next = page["next_cursor"].as_i64().expect("a full page says where the next starts");
    let page = app.api(&format!("/api/events?after={next}&order=oldest&limit=2")).await;
    assert_eq!(ids(&page["events"], "event"), ["e4", "e5"]);
    assert_eq!(page["events"][0]["properties"]["n"], 4, "properties by default");
    let newest = app.api(&format!("/api/events?after={first}&limit=2&order=")).await;
    assert_eq!(ids(&newest["events"], "event"), ["e5", "e4"], "newest first by default");

    for (uri, parameter) in [("/api/events?order=up", "order"), ("/api/events?properties=none", "properties")] {
        let resp = app.get(uri).await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{uri}");
        let body: Value = serde_json::from_str(&resp.text()).unwrap();
        assert_eq!(body["parameter"], parameter, "{body}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn persons_search_and_newest_first() {
    let app = app();
    batch(&app, "phc_people", json!([
        {"event": "$pageview", "distinct_id": "anon-1"},
        {"event": "$identify", "distinct_id": "ada", "properties": {"$anon_distinct_id": "anon-1", "$set": {"email": "Ada@Example.com"}}},
        {"event": "$pageview", "distinct_id": "bob"},
    ]))
    .await;
    let all = app.api("/api/persons?project=phc_people").await;
    assert_eq!(all["total"], 2);
    let first_ids = |v: &Value| {
        v["persons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["distinct_ids"][0].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(first_ids(&all), ["anon-1", "bob"], "oldest first by default");
    let newest = app.api("/api/persons?project=phc_people&order=newest").await;
    assert_eq!(first_ids(&newest), ["bob", "anon-1"]);

    let by_email = app.api("/api/persons?q=ada@example").await;
    assert_eq!(by_email["total"], 1, "a property value, case-insensitive: {by_email}");
    assert_eq!(by_email["persons"][0]["distinct_ids"], json!(["anon-1", "ada"]));
    let by_id = app.api("/api/persons?q=ANON").await;
    assert_eq!(by_id["total"], 1, "a distinct id, case-insensitive");
    assert_eq!(app.api("/api/persons?q=carol").await["total"], 0);
    assert_eq!(status(&app, "/api/persons?order=sideways").await, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread")]
async fn devices_page_filter_and_share_one_range() {
    let app = app();
    // Five browsers, one event each, one minute apart; the last one identifies.
    let events: Vec<Value> = (0..5)
        .map(|i| {
            json!({"event": "$pageview", "distinct_id": format!("anon-{i}"), "timestamp": format!("2026-11-24T12:0{i}:00Z"),
                   "properties": {"$device_id": format!("dev-{i}"), "$raw_user_agent": if i == 2 { "Firefox/140" } else { "Chrome/131" }}})
        })
        .chain([json!({"event": "$identify", "distinct_id": "ada", "timestamp": "2026-11-24T12:05:00Z",
                       "properties": {"$device_id": "dev-4", "$anon_distinct_id": "anon-4"}})])
        .collect();
    batch(&app, "phc_lanes", json!(events)).await;

    let all = app.api("/api/devices?project=phc_lanes").await;
    assert_eq!(all["total"], 5);
    assert_eq!(all["devices"].as_array().unwrap().len(), 5, "no limit: every lane");
    assert_eq!(all["next_cursor"], Value::Null);
    assert_eq!(all["range"]["first_seen"], "2026-11-24T12:00:00Z");
    assert_eq!(all["range"]["last_seen"], "2026-11-24T12:05:00Z");

    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app.api(&format!("/api/devices?project=phc_lanes&limit=2&cursor={cursor}")).await;
        assert_eq!(page["total"], 5);
        assert_eq!(page["range"], all["range"], "every page carries the range of all matching lanes");
        seen.extend(ids(&page["devices"], "device_id"));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, ["dev-4", "dev-3", "dev-2", "dev-1", "dev-0"], "most recently active first, each once");

    let one = app.api("/api/devices?device_id=dev-2").await;
    assert_eq!(ids(&one["devices"], "device_id"), ["dev-2"]);
    assert_eq!(one["range"]["first_seen"], "2026-11-24T12:02:00Z", "the range follows the filter");
    assert_eq!(ids(&app.api("/api/devices?distinct_id=ada").await["devices"], "device_id"), ["dev-4"]);
    assert_eq!(ids(&app.api("/api/devices?q=firefox").await["devices"], "device_id"), ["dev-2"], "user agent");
    assert_eq!(ids(&app.api("/api/devices?q=ANON-3").await["devices"], "device_id"), ["dev-3"], "distinct id");

    let ada = app.api("/api/persons?distinct_id=ada").await["persons"][0]["id"].as_str().unwrap().to_owned();
    let of_ada = app.api(&format!("/api/devices?person_id={ada}")).await;
    assert_eq!(ids(&of_ada["devices"], "device_id"), ["dev-4"], "lanes with a segment of the person");
    let segments = of_ada["devices"][0]["segments"].as_array().unwrap();
    assert_eq!(ids(&of_ada["devices"][0]["segments"], "distinct_id"), ["anon-4", "ada"]);
    for s in segments {
        assert_eq!(s["current_person_id"], ada.as_str(), "both ids belong to ada's person now: {s}");
    }
    let lane_id = of_ada["devices"][0]["id"].as_str().unwrap().replace('/', "%2F");
    let single = app.api(&format!("/api/devices/{lane_id}")).await;
    assert_eq!(single["device"]["segments"][1]["current_person_id"], ada.as_str());

    let none = app.api("/api/devices?project=phc_nothing&limit=10").await;
    assert_eq!(
        none,
        json!({"devices": [], "total": 0, "next_cursor": null, "range": null, "flagged": [], "flagged_total": 0,
               "chain_total": 0, "active": []})
    );
    assert_eq!(status(&app, "/api/devices?person_id=ada").await, StatusCode::BAD_REQUEST);
    assert_eq!(status(&app, "/api/devices?limit=lots").await, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread")]
async fn decisions_and_warnings_of_one_event() {
    let app = app();
    batch(
        &app,
        "phc_why",
        json!([
            {"event": "$pageview", "distinct_id": "anon-1", "uuid": "0190a1b2-0000-7000-8000-000000000001"},
            {"event": "$identify", "distinct_id": "ada@example.com", "uuid": "0190a1b2-0000-7000-8000-000000000002",
             "properties": {"$anon_distinct_id": "anon-1"}},
        ]),
    )
    .await;
    let caused = app.api("/api/decisions?event_uuid=0190a1b2-0000-7000-8000-000000000002").await;
    let caused = caused["decisions"].as_array().unwrap();
    assert_eq!(caused.len(), 1, "{caused:?}");
    assert_eq!(caused[0]["event"], "$identify");
    assert_eq!(caused[0]["source"], "anon-1");
    let none = app.api("/api/decisions?event_uuid=0190a1b2-0000-7000-8000-0000000000ff").await;
    assert!(none["decisions"].as_array().unwrap().is_empty());

    let about = app.api("/api/warnings?event_uuid=0190a1b2-0000-7000-8000-000000000002").await;
    let rules = ids(&about["warnings"], "rule");
    assert!(rules.contains(&"email_as_distinct_id".to_owned()), "{about}");
    let all = app.api("/api/warnings").await["warnings"].as_array().unwrap().len();
    assert!(about["warnings"].as_array().unwrap().len() <= all);
    assert!(app.api("/api/warnings?event_uuid=nope").await["warnings"].as_array().unwrap().is_empty());

    // Only the rules asked for; an unknown rule is a 400 naming it.
    let some = app.api("/api/warnings?rules=email_as_distinct_id,generic_distinct_id").await;
    let rules = ids(&some["warnings"], "rule");
    assert!(rules.contains(&"email_as_distinct_id".to_owned()), "{some}");
    assert!(rules.iter().all(|r| r == "email_as_distinct_id" || r == "generic_distinct_id"), "{rules:?}");
    assert!(rules.len() < all, "other rules left out");
    let refused = app.get("/api/warnings?rules=email_as_distinct_id,nope").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.text().contains(r#"unknown rule \"nope\""#), "{}", refused.text());
}

/// `/api/warnings/groups` carries every finding of `/api/warnings` once, as counts per group,
/// with only the newest `per_group` of each in full.
#[tokio::test(flavor = "multi_thread")]
async fn warning_groups_count_every_finding_and_send_the_newest() {
    let app = app();
    // Five emails as distinct ids: five findings of one rule.
    let events: Vec<_> = (1..=5)
        .map(|i| json!({"event": "$pageview", "distinct_id": format!("user{i}@example.com"), "uuid": format!("0190a1b2-0000-7000-8000-00000000010{i}")}))
        .collect();
    batch(&app, "phc_groups", json!(events)).await;
    let all = app.api("/api/warnings?project=phc_groups").await["warnings"].as_array().unwrap().len();
    let page = app.api("/api/warnings/groups?project=phc_groups&per_group=2").await;
    let groups = page["groups"].as_array().unwrap();
    let totals: u64 = groups.iter().map(|g| g["total"].as_u64().unwrap()).sum();
    assert_eq!(totals as usize, all, "every finding counted once: {page}");
    let emails = groups.iter().find(|g| g["rule"] == "email_as_distinct_id").expect("the email group");
    assert_eq!(emails["total"], 5);
    let kept = emails["findings"].as_array().unwrap();
    assert_eq!(kept.len(), 2, "per_group=2 keeps two");
    assert!(kept[0]["seq"].as_i64() > kept[1]["seq"].as_i64(), "newest first: {kept:?}");
    assert_eq!(kept[0]["source"], "posthog");
    assert!(!emails["fix"].as_str().unwrap().is_empty(), "the group states its fix");

    let refused = app.get("/api/warnings/groups?per_group=many").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.text().contains("per_group"), "{}", refused.text());
}

/// `flagged=first|only` puts lanes named by an error or warning finding first or alone;
/// `chains=last|hide` moves anonymous-id chains (no `$device_id`, no user agent) to the end or
/// out. The counts are of all matching lanes.
#[tokio::test(flavor = "multi_thread")]
async fn devices_flagged_and_chain_lanes() {
    let app = app();
    let ev = |name: &str, id: &str, device: Option<&str>, minute: u32, identified: bool| {
        let mut props = json!({"$is_identified": identified, "$lib": "web", "$raw_user_agent": "Chrome/131"});
        match device {
            Some(d) => props["$device_id"] = json!(d),
            None => props = json!({"$lib": "posthog-node"}),
        }
        json!({"event": name, "distinct_id": id, "timestamp": format!("2026-11-24T12:{minute:02}:00Z"), "properties": props})
    };
    batch(
        &app,
        "phc_flags",
        json!([
            ev("$pageview", "user-a", Some("dev-switch"), 0, true),
            // user-b on the same browser with no reset(): missing_reset_between_users.
            ev("$pageview", "user-b", Some("dev-switch"), 1, true),
            ev("$pageview", "user-c", Some("dev-ok"), 2, true),
            ev("order placed", "server-user", None, 3, false),
        ]),
    )
    .await;
    let all = app.api("/api/devices?project=phc_flags").await;
    assert_eq!(ids(&all["devices"], "device_id"), ["server-user", "dev-ok", "dev-switch"], "recency by default");
    assert_eq!((all["flagged_total"].as_u64(), all["chain_total"].as_u64()), (Some(1), Some(1)), "{all}");
    assert_eq!(all["flagged"], json!(["phc_flags/dev-switch"]));
    // 12:00 and 12:01 are more than 30 s apart: four active spans, one per minute.
    let active: Vec<&str> = all["active"].as_array().unwrap().iter().map(|s| s["first"].as_str().unwrap()).collect();
    assert_eq!(
        active,
        ["2026-11-24T12:00:00Z", "2026-11-24T12:01:00Z", "2026-11-24T12:02:00Z", "2026-11-24T12:03:00Z"]
    );

    let first = app.api("/api/devices?project=phc_flags&flagged=first&chains=last").await;
    assert_eq!(ids(&first["devices"], "device_id"), ["dev-switch", "dev-ok", "server-user"]);
    let only = app.api("/api/devices?project=phc_flags&flagged=only").await;
    assert_eq!(ids(&only["devices"], "device_id"), ["dev-switch"]);
    assert_eq!(only["total"], 1);
    let hidden = app.api("/api/devices?project=phc_flags&chains=hide").await;
    assert_eq!(ids(&hidden["devices"], "device_id"), ["dev-ok", "dev-switch"]);
    assert_eq!(hidden["chain_total"], 1, "counted before they are hidden");
    assert_eq!(status(&app, "/api/devices?flagged=sometimes").await, StatusCode::BAD_REQUEST);
}

/// Active spans merge moments no more than 30 s apart across lanes: a lane's own gap of 50 s is
/// bridged by another lane's moment between, and a lane two minutes later stays apart.
#[tokio::test(flavor = "multi_thread")]
async fn active_spans_merge_moments_across_lanes() {
    let app = app();
    let ev = |id: &str, device: &str, at: &str| {
        json!({"event": "$pageview", "distinct_id": id, "timestamp": format!("2026-11-24T13:{at}Z"),
               "properties": {"$device_id": device, "$lib": "web", "$raw_user_agent": "Chrome/131"}})
    };
    batch(
        &app,
        "phc_spans",
        json!([
            ev("a", "dev-a", "00:00"),
            ev("b", "dev-b", "00:25"),
            ev("a", "dev-a", "00:50"),
            ev("c", "dev-c", "02:00"),
        ]),
    )
    .await;
    let page = app.api("/api/devices?project=phc_spans&limit=1").await;
    let spans: Vec<(&str, &str)> = page["active"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["first"].as_str().unwrap(), s["last"].as_str().unwrap()))
        .collect();
    assert_eq!(
        spans,
        [("2026-11-24T13:00:00Z", "2026-11-24T13:00:50Z"), ("2026-11-24T13:02:00Z", "2026-11-24T13:02:00Z")],
        "all lanes' spans, not just the page's: {page}"
    );
}

/// An events page carries the pill of each of its merge-type events (the most telling decision:
/// a refusal over a no-op), and nothing for plain events or events of other pages.
#[tokio::test(flavor = "multi_thread")]
async fn events_page_carries_the_decision_pills_of_its_events() {
    let app = app();
    let uuid = |n: u32| format!("0190a1b2-0000-7000-8000-{n:012}");
    batch(
        &app,
        "phc_pills",
        json!([
            {"event": "$pageview", "distinct_id": "anon-1", "uuid": uuid(1)},
            {"event": "$identify", "distinct_id": "user-a", "uuid": uuid(2), "properties": {"$anon_distinct_id": "anon-1"}},
            {"event": "$pageview", "distinct_id": "anon-2", "uuid": uuid(3)},
            {"event": "$identify", "distinct_id": "user-b", "uuid": uuid(4), "properties": {"$anon_distinct_id": "anon-2"}},
            {"event": "$create_alias", "distinct_id": "user-a", "uuid": uuid(5), "properties": {"alias": "user-b"}},
        ]),
    )
    .await;
    let page = app.api("/api/events?project=phc_pills").await;
    let pills = page["decisions"].as_object().unwrap();
    let kinds: Vec<(&str, &str)> =
        pills.iter().map(|(u, p)| (&u[u.len() - 1..], p["kind"].as_str().unwrap())).collect();
    // Each identify joins an anonymous person; then `user-b` is identified, so PostHog refuses
    // to merge it away by alias. The pageviews (attached to their persons) get no pill.
    assert_eq!(kinds, [("2", "attached"), ("4", "attached"), ("5", "refused")], "{page}");
    let refused = app.api(&format!("/api/decisions?event_uuid={}", uuid(5))).await;
    let sentences: Vec<&str> =
        refused["decisions"].as_array().unwrap().iter().map(|d| d["message"].as_str().unwrap()).collect();
    assert!(sentences.contains(&pills[&uuid(5)]["message"].as_str().unwrap()), "{sentences:?}");

    let older = app.api("/api/events?project=phc_pills&limit=2").await;
    let cursor = older["next_cursor"].as_i64().unwrap();
    let rest = app.api(&format!("/api/events?project=phc_pills&limit=10&cursor={cursor}")).await;
    let keys: Vec<&String> = rest["decisions"].as_object().unwrap().keys().collect();
    assert_eq!(keys, [&uuid(2)], "only this page's events: {rest}");
}

/// `/api/requests?events=none`: accepted requests that carried no events (flags, config), newest
/// first, without the requests that carried events or were rejected.
#[tokio::test(flavor = "multi_thread")]
async fn requests_without_events() {
    use axum::body::Body;
    let app = app();
    app.post("/flags/?v=2", &[], r#"{"token": "phc_quiet", "distinct_id": "anon-1"}"#).await;
    app.send(req("GET", "/array/phc_quiet/config.js").body(Body::empty()).unwrap()).await;
    batch(&app, "phc_quiet", json!([{"event": "$pageview", "distinct_id": "anon-1"}])).await;
    app.post("/batch/", &[], "{not json").await;
    let quiet = app.api("/api/requests?events=none").await;
    let paths = ids(&quiet["requests"], "path");
    assert_eq!(paths, ["/array/phc_quiet/config.js", "/flags/"], "{quiet}");
    assert!(quiet["requests"].as_array().unwrap().iter().all(|r| r["event_count"] == 0 && r["outcome"] == "accepted"));
    let first = app.api("/api/requests?events=none&limit=1").await;
    let next = first["next_cursor"].as_i64().unwrap();
    assert_eq!(
        ids(&app.api(&format!("/api/requests?events=none&cursor={next}")).await["requests"], "path"),
        ["/flags/"]
    );
    assert_eq!(
        ids(&app.api("/api/requests?events=none&source=segment").await["requests"], "path"),
        Vec::<String>::new()
    );
    assert_eq!(status(&app, "/api/requests?events=some").await, StatusCode::BAD_REQUEST);
}
