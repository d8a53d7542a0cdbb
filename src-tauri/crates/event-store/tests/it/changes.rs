//! The live feed of commits, and how request bodies are previewed in listings.

use std::time::Duration;

use crate::common::*;
use event_store::{Change, RequestFilter, Store};
use tokio::sync::broadcast;

async fn next(rx: &mut broadcast::Receiver<Change>) -> Change {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a change is announced within 5 s")
        .expect("the channel is open")
}

#[tokio::test(flavor = "multi_thread")]
async fn subscribers_hear_about_events_and_rejections() {
    let (_dir, store) = open();
    let mut rx = store.subscribe();

    let events =
        vec![event("c1", "phc_live", "x", "u"), event("c2", "phc_live", "y", "u"), event("c3", "phc_live", "z", "u")];
    let committed = write(&store, accepted("/e/"), events).await;
    let (first, last) = committed.seqs.unwrap();
    match next(&mut rx).await {
        Change::Events { request_id, project, source, count, first_seq, last_seq } => {
            assert_eq!(request_id, committed.request_id);
            assert_eq!(project, "phc_live");
            assert_eq!(source, "posthog");
            assert_eq!(count, 3);
            assert_eq!((first_seq, last_seq), (first, last));
            assert_eq!(last_seq - first_seq + 1, count);
        }
        other => panic!("expected Events, got {other:?}"),
    }

    // An accepted request without events (flags, config) announces nothing...
    write(&store, accepted("/flags/"), Vec::new()).await;
    // ...so the next announcement is this rejection.
    let bad = write(&store, rejected("/e/", 400, "payload is not valid JSON"), Vec::new()).await;
    match next(&mut rx).await {
        Change::Rejected { request_id, method, path, status, error } => {
            assert_eq!(request_id, bad.request_id);
            assert_eq!((method.as_str(), path.as_str(), status), ("POST", "/e/", 400));
            assert_eq!(error, "payload is not valid JSON");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert!(rx.try_recv().is_err(), "nothing else was announced");
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_serialise_with_a_type_tag() {
    let (_dir, store) = open();
    let mut rx = store.subscribe();
    let c = write(&store, accepted("/e/"), vec![event("s1", "phc_s", "x", "u")]).await;
    let json = serde_json::to_value(next(&mut rx).await).unwrap();
    let seq = c.seqs.unwrap().0;
    assert_eq!(
        json,
        serde_json::json!({"type": "events", "request_id": c.request_id, "project": "phc_s", "source": "posthog",
                           "count": 1, "first_seq": seq, "last_seq": seq})
    );
    let r = write(&store, rejected("/nope", 404, "no endpoint"), Vec::new()).await;
    let json = serde_json::to_value(next(&mut rx).await).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"type": "rejected", "request_id": r.request_id, "method": "POST", "path": "/nope",
                           "status": 404, "error": "no endpoint"})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_concurrent_commit_is_announced_once() {
    let (_dir, store) = open();
    let mut rx = store.subscribe();
    let mut handles = Vec::new();
    for i in 0..32 {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            let e = event(&format!("k{i}"), "phc_k", "x", "u");
            store.write(accepted("/e/"), vec![e, event(&format!("k{i}b"), "phc_k", "x", "u")]).await.unwrap()
        }));
    }
    let mut committed = Vec::new();
    for h in handles {
        committed.push(h.await.unwrap());
    }
    let mut announced = Vec::new();
    for _ in 0..32 {
        match next(&mut rx).await {
            Change::Events { request_id, first_seq, last_seq, count, .. } => {
                assert_eq!(count, 2);
                announced.push((request_id, Some((first_seq, last_seq))));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    let mut expected: Vec<_> = committed.iter().map(|c| (c.request_id, c.seqs)).collect();
    expected.sort();
    announced.sort();
    assert_eq!(announced, expected);
}

fn preview_of(store: &Store, id: i64) -> (String, i64) {
    let page = store.requests(&RequestFilter { limit: 1000, ..Default::default() }).unwrap();
    let summary = page.items.into_iter().find(|r| r.id == id).expect("listed");
    let detail = store.request(id).unwrap().unwrap();
    assert_eq!(detail.summary.body_preview, summary.body_preview, "listing and detail agree");
    (summary.body_preview, summary.body_size)
}

async fn preview(store: &Store, body: &[u8]) -> String {
    let id = write(store, with_body(accepted("/e/"), body), Vec::new()).await.request_id;
    let (text, size) = preview_of(store, id);
    assert_eq!(size, body.len() as i64);
    text
}

#[tokio::test(flavor = "multi_thread")]
async fn body_previews_describe_without_decoding() {
    let (_dir, store) = open();

    assert_eq!(preview(&store, b"").await, "");
    assert_eq!(preview(&store, br#"{"event":"x"}"#).await, r#"{"event":"x"}"#);

    let mut gz = vec![0x1f, 0x8b, 0x08, 0x00];
    gz.extend(std::iter::repeat_n(0xAA, 996));
    assert_eq!(preview(&store, &gz).await, "<gzip, 1000 bytes>");

    assert_eq!(preview(&store, &[b'a', 0xff, 0xfe, 0x00, b'b']).await, "<binary, 5 bytes>");
    // An invalid byte in the middle of otherwise fine text is still binary.
    let mut mixed = b"hello ".to_vec();
    mixed.push(0xc3);
    mixed.extend(b" world");
    assert_eq!(preview(&store, &mixed).await, format!("<binary, {} bytes>", mixed.len()));

    // Long text: the first 200 characters and an ellipsis.
    let long = "a".repeat(500);
    assert_eq!(preview(&store, long.as_bytes()).await, format!("{}…", "a".repeat(200)));
    // Exactly 200 characters: whole, no ellipsis.
    assert_eq!(preview(&store, "b".repeat(200).as_bytes()).await, "b".repeat(200));
    // 150 two-byte characters are 300 bytes: the whole body fits in the head, no ellipsis.
    assert_eq!(preview(&store, "é".repeat(150).as_bytes()).await, "é".repeat(150));
    // Multi-byte characters cut at the 300-byte edge: the valid part is kept.
    let cut2 = format!("a{}", "é".repeat(200)); // 401 bytes; byte 300 is inside an é
    assert_eq!(preview(&store, cut2.as_bytes()).await, format!("a{}…", "é".repeat(149)));
    let cut3 = format!("ab{}", "€".repeat(150)); // 452 bytes; the head ends 1 byte into a €
    assert_eq!(preview(&store, cut3.as_bytes()).await, format!("ab{}…", "€".repeat(99)));
    let cut4 = format!("{}xyz", "🦔".repeat(80)); // 4-byte characters, 75 fit in 300 bytes
    assert_eq!(preview(&store, cut4.as_bytes()).await, format!("{}…", "🦔".repeat(75)));
}
