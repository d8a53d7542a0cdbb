//! Read queries: event filters, cursor pagination, requests, request detail, projects, totals.

use std::collections::BTreeSet;

use crate::common::*;
use event_store::{EventFilter, NewEvent, NewRequest, RequestFilter, Store, StoreError, StoredEvent};

fn labels(items: &[StoredEvent]) -> Vec<&str> {
    items.iter().map(|e| e.uuid.as_str()).collect()
}

fn query(store: &Store, filter: EventFilter) -> Vec<String> {
    let page = store.events(&EventFilter { limit: 1000, ..filter }).unwrap();
    page.items.into_iter().map(|e| e.uuid).collect()
}

/// Two projects, two people, two devices, two sessions, spread over three requests.
async fn sample(store: &Store) -> [i64; 3] {
    let r1 = write(
        store,
        accepted("/e/"),
        vec![
            with_ids(event("a1", "phc_a", "$pageview", "u1"), Some("d1"), Some("s1")),
            with_ids(event("a2", "phc_a", "signup", "u1"), Some("d1"), Some("s1")),
        ],
    )
    .await;
    let r2 = write(
        store,
        accepted("/e/"),
        vec![
            with_ids(event("a3", "phc_a", "$pageview", "u2"), Some("d2"), Some("s2")),
            with_ids(event("a4", "phc_a", "$identify", "u2"), Some("d1"), None),
        ],
    )
    .await;
    let r3 = write(store, accepted("/batch/"), vec![event("b1", "phc_b", "$pageview", "u1")]).await;
    [r1.request_id, r2.request_id, r3.request_id]
}

#[tokio::test(flavor = "multi_thread")]
async fn event_filters_select_exactly_the_matching_events() {
    let (_dir, store) = open();
    let [r1, r2, r3] = sample(&store).await;
    let f = EventFilter::default;

    assert_eq!(query(&store, f()), ["b1", "a4", "a3", "a2", "a1"], "all, newest first");
    assert_eq!(query(&store, EventFilter { project: Some("phc_a".into()), ..f() }), ["a4", "a3", "a2", "a1"]);
    assert_eq!(query(&store, EventFilter { project: Some("phc_b".into()), ..f() }), ["b1"]);
    assert!(query(&store, EventFilter { project: Some("phc_none".into()), ..f() }).is_empty());
    assert_eq!(query(&store, EventFilter { distinct_id: Some("u1".into()), ..f() }), ["b1", "a2", "a1"]);
    assert_eq!(query(&store, EventFilter { event: Some("$pageview".into()), ..f() }), ["b1", "a3", "a1"]);
    assert_eq!(query(&store, EventFilter { device_id: Some("d1".into()), ..f() }), ["a4", "a2", "a1"]);
    assert_eq!(query(&store, EventFilter { session_id: Some("s2".into()), ..f() }), ["a3"]);
    assert_eq!(query(&store, EventFilter { request_id: Some(r1), ..f() }), ["a2", "a1"]);
    assert_eq!(query(&store, EventFilter { request_id: Some(r2), ..f() }), ["a4", "a3"]);
    assert_eq!(query(&store, EventFilter { request_id: Some(r3), ..f() }), ["b1"]);
    assert_eq!(query(&store, EventFilter { source: Some("posthog".into()), ..f() }).len(), 5);
    assert!(query(&store, EventFilter { source: Some("segment".into()), ..f() }).is_empty());
    // Filters combine with AND.
    let both = EventFilter {
        project: Some("phc_a".into()),
        distinct_id: Some("u1".into()),
        event: Some("$pageview".into()),
        ..f()
    };
    assert_eq!(query(&store, both), ["a1"]);
    // Filter values are data, not SQL.
    assert!(query(&store, EventFilter { distinct_id: Some("u1' OR '1'='1".into()), ..f() }).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn stored_events_keep_every_field() {
    let (_dir, store) = open();
    let mut e = with_ids(event("full", "phc_a", "$identify", "user-1"), Some("dev"), Some("ses"));
    e.original_timestamp = Some("2026-11-24T11:59:59Z".into());
    e.sent_at = Some("2026-11-24T12:00:01Z".into());
    e.properties = r#"{"$set":{"email":"a@b.c"},"n":1.5,"nested":[1,{"x":null}]}"#.into();
    e.warnings = vec!["distinct_id was cut".into()];
    let committed = write(&store, accepted("/e/"), vec![e, event("plain", "phc_a", "x", "u")]).await;

    let got = store.event("full").unwrap().expect("found by uuid");
    assert_eq!(got.project, "phc_a");
    assert_eq!(got.source, "posthog");
    assert_eq!(got.event, "$identify");
    assert_eq!(got.distinct_id, "user-1");
    assert_eq!(got.device_id.as_deref(), Some("dev"));
    assert_eq!(got.session_id.as_deref(), Some("ses"));
    assert_eq!(got.timestamp, T0 - 1_000);
    assert_eq!(got.received_at, T0);
    assert_eq!(got.original_timestamp.as_deref(), Some("2026-11-24T11:59:59Z"));
    assert_eq!(got.sent_at.as_deref(), Some("2026-11-24T12:00:01Z"));
    assert_eq!(got.request_id, committed.request_id);
    assert_eq!(got.seq, committed.seqs.unwrap().0);
    assert_eq!(got.properties.get(), r#"{"$set":{"email":"a@b.c"},"n":1.5,"nested":[1,{"x":null}]}"#);
    assert_eq!(got.warnings.as_ref().map(|w| w.get()), Some(r#"["distinct_id was cut"]"#));

    // Serialised for the API: times as RFC 3339, JSON columns inline.
    let json = serde_json::to_value(&got).unwrap();
    assert_eq!(json["timestamp"], "2026-11-24T11:59:59.999Z");
    assert_eq!(json["received_at"], "2026-11-24T12:00:00Z");
    assert_eq!(json["properties"]["$set"]["email"], "a@b.c");
    assert_eq!(json["warnings"][0], "distinct_id was cut");

    let plain = store.event("plain").unwrap().unwrap();
    assert!(plain.warnings.is_none(), "no warnings is null, not []");
    assert!(plain.device_id.is_none() && plain.session_id.is_none());
    assert!(store.event("missing").unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn cursor_pagination_returns_every_event_once_newest_first() {
    let (_dir, store) = open();
    write_many(&store, "p", 25).await;

    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = store.events(&EventFilter { before_seq: cursor, limit: 7, ..Default::default() }).unwrap();
        pages += 1;
        assert!(page.items.len() <= 7);
        if let Some(c) = page.next_cursor {
            assert_eq!(Some(c), page.items.last().map(|e| e.seq), "cursor is the last seq of the page");
        }
        seen.extend(page.items.iter().map(|e| (e.seq, e.uuid.clone())));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(pages, 4, "7 + 7 + 7 + 4");
    assert_eq!(seen.len(), 25);
    assert!(seen.windows(2).all(|w| w[0].0 > w[1].0), "strictly newest first");
    let expected: Vec<String> = (0..25).rev().map(|i| format!("p{i}")).collect();
    assert_eq!(seen.into_iter().map(|(_, u)| u).collect::<Vec<_>>(), expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_stay_correct_while_new_events_arrive() {
    let (_dir, store) = open();
    write_many(&store, "old", 10).await;
    let first = store.events(&EventFilter { limit: 4, ..Default::default() }).unwrap();
    assert_eq!(labels(&first.items), ["old9", "old8", "old7", "old6"]);

    write_many(&store, "new", 5).await;
    let mut rest = Vec::new();
    let mut cursor = first.next_cursor;
    while let Some(c) = cursor {
        let page = store.events(&EventFilter { before_seq: Some(c), limit: 4, ..Default::default() }).unwrap();
        rest.extend(page.items.iter().map(|e| e.uuid.clone()));
        cursor = page.next_cursor;
    }
    assert_eq!(rest, ["old5", "old4", "old3", "old2", "old1", "old0"], "no duplicates, nothing missed");
}

#[tokio::test(flavor = "multi_thread")]
async fn cursor_pagination_combines_with_filters() {
    let (_dir, store) = open();
    for i in 0..12 {
        let who = if i % 3 == 0 { "target" } else { "other" };
        write(&store, accepted("/e/"), vec![event(&format!("f{i}"), "proj", "x", who)]).await;
    }
    let filter =
        |cursor| EventFilter { distinct_id: Some("target".into()), before_seq: cursor, limit: 3, ..Default::default() };
    let page1 = store.events(&filter(None)).unwrap();
    assert_eq!(labels(&page1.items), ["f9", "f6", "f3"]);
    let page2 = store.events(&filter(page1.next_cursor)).unwrap();
    assert_eq!(labels(&page2.items), ["f0"]);
    assert_eq!(page2.next_cursor, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_filter_by_outcome_and_paginate() {
    let (_dir, store) = open();
    let a1 = write(&store, accepted("/e/"), vec![event("x1", "p", "x", "u")]).await.request_id;
    let r1 = write(&store, rejected("/e/", 400, "payload is not valid JSON"), Vec::new()).await.request_id;
    let a2 = write(&store, accepted("/flags/"), Vec::new()).await.request_id;
    let r2 = write(&store, rejected("/nope", 404, "no endpoint"), Vec::new()).await.request_id;

    let ids = |outcome: Option<&str>| -> Vec<i64> {
        let filter = RequestFilter { outcome: outcome.map(str::to_owned), limit: 100, ..Default::default() };
        store.requests(&filter).unwrap().items.iter().map(|r| r.id).collect()
    };
    assert_eq!(ids(None), [r2, a2, r1, a1]);
    assert_eq!(ids(Some("accepted")), [a2, a1]);
    assert_eq!(ids(Some("rejected")), [r2, r1]);

    let page = store.requests(&RequestFilter { outcome: Some("rejected".into()), limit: 100, ..Default::default() });
    let items = page.unwrap().items;
    assert_eq!(items[0].error.as_deref(), Some("no endpoint"));
    assert_eq!(items[0].status, 404);
    assert_eq!(items[0].outcome, "rejected");
    assert_eq!(items[1].error.as_deref(), Some("payload is not valid JSON"));
    assert_eq!(items[1].error_code.as_deref(), Some("test_error"));

    for bad in ["Accepted", "all", "rejected; DROP TABLE requests"] {
        let filter = RequestFilter { outcome: Some(bad.into()), limit: 10, ..Default::default() };
        match store.requests(&filter) {
            Err(StoreError::InvalidQuery(msg)) => assert!(msg.contains("outcome"), "{msg}"),
            other => panic!("outcome {bad:?}: expected InvalidQuery, got {:?}", other.map(|p| p.items.len())),
        }
    }

    let first = store.requests(&RequestFilter { limit: 3, ..Default::default() }).unwrap();
    assert_eq!(first.items.iter().map(|r| r.id).collect::<Vec<_>>(), [r2, a2, r1]);
    assert_eq!(first.next_cursor, Some(r1));
    let second = store.requests(&RequestFilter { before_id: first.next_cursor, limit: 3, ..Default::default() });
    let second = second.unwrap();
    assert_eq!(second.items.iter().map(|r| r.id).collect::<Vec<_>>(), [a1]);
    assert_eq!(second.next_cursor, None);
}

/// `without_events`: the accepted requests that carried no events, read through the partial
/// index `requests_without_events` (the query names it: SQLite refuses the statement when the
/// index cannot serve it, so this passing means a page never scans the event requests).
#[tokio::test(flavor = "multi_thread")]
async fn requests_without_events_use_their_partial_index() {
    let (_dir, store) = open();
    write(&store, accepted("/e/"), vec![event("x1", "p", "x", "u")]).await;
    let flags = write(&store, accepted("/flags/"), Vec::new()).await.request_id;
    write(&store, rejected("/e/", 400, "payload is not valid JSON"), Vec::new()).await;
    let config = write(&store, accepted("/array/phc/config"), Vec::new()).await.request_id;
    let filter = RequestFilter { without_events: true, limit: 100, ..Default::default() };
    let ids: Vec<i64> = store.requests(&filter).unwrap().items.iter().map(|r| r.id).collect();
    assert_eq!(ids, [config, flags]);
    let older = RequestFilter { without_events: true, before_id: Some(config), limit: 100, ..Default::default() };
    assert_eq!(store.requests(&older).unwrap().items.iter().map(|r| r.id).collect::<Vec<_>>(), [flags]);
}

#[tokio::test(flavor = "multi_thread")]
async fn request_detail_returns_headers_and_body_exactly() {
    let (_dir, store) = open();
    let headers = vec![
        ("Host".to_owned(), "127.0.0.1:8010".to_owned()),
        ("content-type".to_owned(), "text/plain".to_owned()),
        ("x-dup".to_owned(), "one".to_owned()),
        ("x-dup".to_owned(), "two \"quoted\" ünïcode".to_owned()),
    ];
    let body: Vec<u8> = vec![0x1f, 0x8b, 0x08, 0x00, 0xff, 0x00, b'{', 0x80, 0xfe];
    let mut request = with_body(accepted("/e/"), &body);
    request.headers = headers.clone();
    request.query = Some("v=2&compression=gzip-js".into());
    request.note = Some("decoded: gzip".into());
    let events = vec![event("u-1", "p", "x", "d"), event("u-2", "p", "y", "d"), event("u-3", "p", "z", "d")];
    let committed = write(&store, request, events).await;

    let detail = store.request(committed.request_id).unwrap().expect("stored");
    let stored_headers: Vec<(String, String)> = serde_json::from_str(detail.headers.get()).unwrap();
    assert_eq!(stored_headers, headers, "names, values, order and duplicates kept");
    assert_eq!(detail.body, body, "body byte for byte");
    assert_eq!(detail.event_uuids, ["u-1", "u-2", "u-3"]);
    let s = &detail.summary;
    assert_eq!((s.id, s.method.as_str(), s.path.as_str()), (committed.request_id, "POST", "/e/"));
    assert_eq!(s.query.as_deref(), Some("v=2&compression=gzip-js"));
    assert_eq!((s.status, s.outcome.as_str(), s.event_count), (200, "accepted", 3));
    assert_eq!(s.source.as_deref(), Some("posthog"));
    assert_eq!(s.route.as_deref(), Some("batch"));
    assert_eq!(s.note.as_deref(), Some("decoded: gzip"));
    assert_eq!(s.body_size, body.len() as i64);
    assert_eq!(s.received_at, T0);

    // The API form: summary fields flattened, headers inline, the raw body left out.
    let json = serde_json::to_value(&detail).unwrap();
    assert_eq!(json["id"], committed.request_id);
    assert_eq!(json["headers"][3][1], "two \"quoted\" ünïcode");
    assert_eq!(json["received_at"], "2026-11-24T12:00:00Z");
    assert!(json.get("body").is_none());

    assert!(store.request(committed.request_id + 1000).unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn projects_and_totals_count_what_was_stored() {
    let (_dir, store) = open();
    let mut early = event("e1", "phc_a", "x", "u");
    early.received_at = T0 - 5_000_000;
    let mut late = event("e2", "phc_a", "x", "u");
    late.received_at = T0 + 5_000_000;
    write(&store, accepted("/e/"), vec![early, late]).await;
    write(&store, accepted("/e/"), vec![event("e3", "phc_a", "x", "u")]).await;
    let mut other = event("b1", "phc_b", "x", "u");
    other.received_at = T0 + 9_000_000;
    write(&store, accepted("/batch"), vec![other]).await;
    write(&store, rejected("/e/", 400, "bad"), Vec::new()).await;
    write(&store, rejected("/e/", 401, "bad token"), Vec::new()).await;

    let projects = store.projects().unwrap();
    let got: BTreeSet<(String, String, i64, i64, i64)> =
        projects.iter().map(|p| (p.project.clone(), p.source.clone(), p.events, p.first_seen, p.last_seen)).collect();
    let expected: BTreeSet<_> = [
        ("phc_a".to_owned(), "posthog".to_owned(), 3, T0 - 5_000_000, T0 + 5_000_000),
        ("phc_b".to_owned(), "posthog".to_owned(), 1, T0 + 9_000_000, T0 + 9_000_000),
    ]
    .into();
    assert_eq!(got, expected);
    assert_eq!(projects[0].project, "phc_b", "most recently seen first");

    let totals = store.totals().unwrap();
    assert_eq!((totals.events, totals.requests, totals.rejected), (4, 5, 2));
    let json = serde_json::to_value(&totals).unwrap();
    assert_eq!(json, serde_json::json!({"events": 4, "requests": 5, "rejected": 2, "faulted": 0}));
}

/// GET /array/<token>/config.js and friends have no body; they must not break the listings
/// (SQLite's substr() of an empty blob is NULL).
#[tokio::test(flavor = "multi_thread")]
async fn requests_with_an_empty_body_are_listed_and_detailed() {
    let (_dir, store) = open();
    let mut get = with_body(accepted("/array/phc_x/config.js"), b"");
    get.method = "GET".into();
    let id = write(&store, get, Vec::new()).await.request_id;
    write(&store, accepted("/e/"), vec![event("after", "p", "x", "u")]).await;

    let page = store.requests(&RequestFilter { limit: 10, ..Default::default() }).unwrap();
    assert_eq!(page.items.len(), 2);
    let listed = page.items.iter().find(|r| r.id == id).unwrap();
    assert_eq!((listed.body_size, listed.body_preview.as_str()), (0, ""));
    let detail = store.request(id).unwrap().expect("stored");
    assert!(detail.body.is_empty());
    assert_eq!(detail.summary.method, "GET");
    assert!(detail.event_uuids.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn free_text_matches_names_ids_and_properties_and_escapes_wildcards() {
    let (_dir, store) = open();
    let mut odd = with_ids(event("c1", "phc_a", "Checkout Started", "user_42"), Some("dev-9"), Some("sess-3"));
    odd.properties = r#"{"plan":"Pro 100%","email":"ada@example.com"}"#.into();
    write(&store, accepted("/e/"), vec![odd, event("c2", "phc_a", "$pageview", "someone")]).await;
    let text = |t: &str| query(&store, EventFilter { text: Some(t.into()), ..EventFilter::default() });

    assert_eq!(text("checkout"), ["c1"], "event name, case-insensitive");
    assert_eq!(text("USER_4"), ["c1"], "distinct id");
    assert_eq!(text("ada@example"), ["c1"], "a property value");
    assert_eq!(text("dev-9"), ["c1"], "device id");
    assert_eq!(text("sess-3"), ["c1"], "session id");
    assert_eq!(text("c2"), ["c2"], "uuid (and the label property)");
    assert_eq!(text("100%"), ["c1"], "% is literal");
    assert!(text("1_0").is_empty(), "_ is literal, not a wildcard");
    assert_eq!(text("pageview"), ["c2"]);
    assert_eq!(text(""), ["c2", "c1"], "empty text filters nothing");
    let both = EventFilter { text: Some("example".into()), project: Some("phc_b".into()), ..EventFilter::default() };
    assert!(query(&store, both).is_empty(), "text combines with the other filters");
}

#[tokio::test(flavor = "multi_thread")]
async fn after_seq_returns_only_newer_events_newest_first() {
    let (_dir, store) = open();
    sample(&store).await;
    let all = store.events(&EventFilter { limit: 100, ..EventFilter::default() }).unwrap().items;
    let third = all[2].seq;
    let newer = query(&store, EventFilter { after_seq: Some(third), ..EventFilter::default() });
    assert_eq!(newer, ["b1", "a4"]);
    let page = store.events(&EventFilter { after_seq: Some(third), limit: 1, ..EventFilter::default() }).unwrap();
    assert_eq!(labels(&page.items), ["b1"], "the newest first, so a full page means more arrived");
    assert!(query(&store, EventFilter { after_seq: Some(all[0].seq), ..EventFilter::default() }).is_empty());
}

/// The identity model learns the route a Mixpanel event arrived on (Mixpanel honours `$merge`
/// only on `/import`) from its request's path; other sources' events are not looked up.
#[tokio::test(flavor = "multi_thread")]
async fn scanned_mixpanel_events_carry_their_request_path_and_others_none() {
    let (_dir, store) = open();
    let mixpanel = |uuid: &str| NewEvent { source: "mixpanel".into(), ..event(uuid, "mpt", "$merge", "u1") };
    write(&store, NewRequest { source: Some("mixpanel".into()), ..accepted("/import") }, vec![mixpanel("m1")]).await;
    write(&store, NewRequest { source: Some("mixpanel".into()), ..accepted("/track/") }, vec![mixpanel("m2")]).await;
    write(&store, accepted("/batch/"), vec![event("p1", "phc_a", "$pageview", "u1")]).await;
    let rows: Vec<(String, Option<String>)> =
        store.events_after(0, 10).unwrap().into_iter().map(|e| (e.uuid, e.request_path)).collect();
    assert_eq!(
        rows,
        [("m1".into(), Some("/import".into())), ("m2".into(), Some("/track/".into())), ("p1".into(), None)]
    );
}

/// A follower working through a backlog (`identity-inspector tail`): the oldest events after
/// its position first, a page at a time, each page continuing after the last one's cursor.
#[tokio::test(flavor = "multi_thread")]
async fn oldest_first_pages_walk_forward_from_after_seq() {
    let (_dir, store) = open();
    sample(&store).await;
    let first_seq = store.events(&EventFilter { limit: 1000, ..Default::default() }).unwrap().items.last().unwrap().seq;
    let page = |after: i64| {
        store
            .events(&EventFilter { after_seq: Some(after), oldest_first: true, limit: 2, ..Default::default() })
            .unwrap()
    };
    let one = page(first_seq - 1);
    assert_eq!(labels(&one.items), ["a1", "a2"]);
    assert_eq!(one.next_cursor, Some(one.items[1].seq), "a full page continues after its last event");
    let two = page(one.next_cursor.unwrap());
    assert_eq!(labels(&two.items), ["a3", "a4"]);
    let three = page(two.next_cursor.unwrap());
    assert_eq!(labels(&three.items), ["b1"]);
    assert_eq!(three.next_cursor, None, "a short page is the last");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_without_properties_reads_them_as_null_and_keeps_everything_else() {
    let (_dir, store) = open();
    sample(&store).await;
    let full = store.events(&EventFilter { limit: 1000, ..Default::default() }).unwrap().items;
    let lean =
        store.events(&EventFilter { limit: 1000, without_properties: true, ..Default::default() }).unwrap().items;
    assert_eq!(labels(&full), labels(&lean));
    for (f, l) in full.iter().zip(&lean) {
        assert_ne!(f.properties.get(), "null");
        assert_eq!(l.properties.get(), "null");
        assert_eq!(serde_json::to_value(l).unwrap()["properties"], serde_json::Value::Null);
        assert_eq!(
            (&f.distinct_id, f.seq, f.received_at, &f.device_id),
            (&l.distinct_id, l.seq, l.received_at, &l.device_id)
        );
    }
}
