//! Export → import round trips: traffic from the recorded real SDKs plus identity
//! flows goes through the live capture routes, is exported (bundle, HAR, NDJSON), imported into
//! a fresh data dir through the server's own decoding, and must give identical persons, device
//! lanes, decisions and findings. Bad files must fail with a clear error and import nothing.

use std::io::Write;
use std::sync::Arc;

use crate::common::*;
use event_store::{Selection, Store};
use identity_engine::{person_uuid, Model};
use serde_json::{json, Value};
use transfer::{export, export_with, import_reader, ExportFormat, ImportOptions, NoProgress, Secrets};

const TOKEN: &str = "phc_roundtrip";

/// Real SDK traffic, then flows that produce merges, refusals, a missing reset and warnings.
async fn fill(app: &App) {
    // Every vendor's recordings: their requests are re-decoded on import through the same
    // family recognition, so Segment, RudderStack and Mixpanel projects must come back equal.
    for file in [
        POSTHOG_JS,
        POSTHOG_NODE,
        POSTHOG_PYTHON,
        SEGMENT_NEXT,
        SEGMENT_NODE,
        SEGMENT_PYTHON,
        RUDDER_PYTHON,
        MIXPANEL_BROWSER,
    ] {
        for line in 0..file.lines().count() {
            let resp = app.send(recorded(file, line).request()).await;
            assert!(resp.status.is_success(), "recorded line {line}: {}", resp.text());
        }
    }
    let ua = "Mozilla/5.0 (X11; Linux x86_64) Chrome/130";
    let ev = |event: &str, id: &str, device: &str, props: Value, ts: &str| {
        let mut p = json!({"$device_id": device, "$session_id": format!("s-{device}"), "$raw_user_agent": ua});
        p.as_object_mut().unwrap().extend(props.as_object().unwrap().clone());
        json!({"event": event, "distinct_id": id, "properties": p, "timestamp": ts})
    };
    let batches = [
        vec![ev("$pageview", "anon-1", "d1", json!({}), "2026-01-01T10:00:00Z")],
        vec![
            ev(
                "$identify",
                "user-a",
                "d1",
                json!({"$anon_distinct_id": "anon-1", "$set": {"email": "a@x.io"}}),
                "2026-01-01T10:01:00Z",
            ),
            ev("Signed Up", "user-a", "d1", json!({}), "2026-01-01T10:01:30Z"),
        ],
        vec![
            ev("$pageview", "anon-3", "d3", json!({}), "2026-01-01T10:02:00Z"),
            ev("$identify", "user-b", "d3", json!({"$anon_distinct_id": "anon-3"}), "2026-01-01T10:03:00Z"),
        ],
        // Logout without reset: user B on user A's device; the merge is refused (both identified).
        vec![ev("$identify", "user-b", "d1", json!({"$anon_distinct_id": "user-a"}), "2026-01-01T10:05:00Z")],
        // A refused alias (the source is identified) and an email as distinct id.
        vec![ev("$create_alias", "user-b", "d1", json!({"alias": "user-a"}), "2026-01-01T10:06:00Z")],
        vec![ev("$pageview", "x@y.io", "d2", json!({"$set_once": {"plan": "free"}}), "2026-01-01T11:00:00Z")],
    ];
    for batch in batches {
        // No uuids: the inspector gives each a UUIDv7, which the bundle must carry back.
        let resp = app.post_json("/batch/", &json!({"api_key": TOKEN, "batch": batch})).await;
        assert!(resp.status.is_success(), "{}", resp.text());
    }
    // A rejected request (kept by bundles and HARs, never by the model).
    let resp = app.post("/e/", &[("content-type", "application/json")], "{not json").await;
    assert_eq!(resp.status.as_u16(), 400);
}

fn options(name: &str) -> ImportOptions {
    ImportOptions { name: Some(name.into()), source_name: None, progress: Arc::new(NoProgress) }
}

fn export_all(store: &Store, format: ExportFormat) -> Vec<u8> {
    let mut out = Vec::new();
    // Kept secrets: Segment's write key in `Authorization` names the project an import rebuilds.
    export_with(store, &Selection::default(), format, &mut out, "http://127.0.0.1:8010", &NoProgress, Secrets::Keep)
        .expect("export");
    out
}

/// Everything the model says about one project, with the project and person uuids replaced by
/// names that do not depend on the project's namespace: `uuid(<distinct id>)`.
fn canonical(model: &Model, project: &str, distinct_ids: &[String]) -> String {
    let persons = {
        let mut list: Vec<Value> =
            model.engine().persons(project).into_iter().map(|p| serde_json::to_value(p).unwrap()).collect();
        list.sort_by_key(|p| p["distinct_ids"].to_string());
        list
    };
    let decisions: Vec<_> = model.engine().decisions().iter().filter(|d| d.project == project).collect();
    let warnings: Vec<_> = model.engine().warnings().iter().filter(|w| w.project == project).collect();
    let text = json!({
        "persons": persons,
        "decisions": decisions,
        "warnings": warnings,
        "devices": model.devices(Some(project)),
        "findings": model.findings(Some(project)),
    })
    .to_string();
    let mut text =
        text.replace(&format!("\"{project}/"), "\"<project>/").replace(&format!("\"{project}\""), "\"<project>\"");
    for id in distinct_ids {
        text = text.replace(&person_uuid(project, id).to_string(), &format!("uuid({id})"));
    }
    text
}

fn distinct_ids(model: &Model, project: &str) -> Vec<String> {
    let mut ids: Vec<String> =
        model.devices(Some(project)).iter().flat_map(|l| l.segments.iter().map(|s| s.distinct_id.clone())).collect();
    ids.extend(model.engine().persons(project).iter().flat_map(|p| p.distinct_ids.clone()));
    ids.extend(model.engine().decisions().iter().filter(|d| d.project == project).flat_map(|d| d.source.clone()));
    ids.sort();
    ids.dedup();
    ids
}

/// Compares every live project with its imported twin.
fn assert_same_model(live: &Store, imported: &Store, dataset: &str) {
    let a = ingest::rebuild_model(live).unwrap();
    let b = ingest::rebuild_model(imported).unwrap();
    let projects = a.engine().projects();
    assert!(projects.contains(&TOKEN), "{projects:?}");
    assert!(a.engine().persons(TOKEN).len() >= 2);
    assert!(!a.findings(Some(TOKEN)).is_empty());
    for project in projects {
        let twin = format!("{dataset}/{project}");
        assert!(b.engine().projects().contains(&twin.as_str()), "{twin} in {:?}", b.engine().projects());
        let ids = distinct_ids(&a, project);
        assert_eq!(
            canonical(&a, project, &ids),
            canonical(&b, &twin, &ids),
            "project {project}: the imported model differs from the live one"
        );
    }
}

async fn live_app() -> App {
    let app = app();
    fill(&app).await;
    app
}

fn fresh_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    (dir, store)
}

async fn import_blocking(
    store: &Store,
    bytes: Vec<u8>,
    name: &str,
) -> Result<event_store::ImportSummary, event_store::ImportError> {
    let store = store.clone();
    let name = name.to_owned();
    tokio::task::spawn_blocking(move || import_reader(&store, std::io::Cursor::new(bytes), None, options(&name)))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn bundle_round_trip_rebuilds_the_same_model_and_requests() {
    let live = live_app().await;
    let bundle = export_all(&live.store, ExportFormat::Bundle);
    let (_dir, store) = fresh_store();
    let summary = import_blocking(&store, bundle, "bug-1").await.unwrap();
    assert_eq!(summary.dataset, "import:bug-1");
    let totals = live.store.totals().unwrap();
    assert_eq!(summary.requests, totals.requests, "every request, rejected ones too");
    assert_eq!(summary.events, totals.events);
    assert_eq!(store.totals().unwrap().rejected, totals.rejected);
    assert_same_model(&live.store, &store, "import:bug-1");

    // Event uuids, generated ones included, come back unchanged.
    let uuids = |s: &Store, dataset: Option<&str>| {
        let mut v = Vec::new();
        let sel = Selection { dataset: dataset.map(str::to_owned), ..Selection::default() };
        s.export_events(&sel, |e| -> Result<(), event_store::StoreError> {
            v.push(e.uuid);
            Ok(())
        })
        .unwrap();
        v
    };
    assert_eq!(uuids(&live.store, None), uuids(&store, Some("import:bug-1")));
    // Imported data never shows as live traffic.
    assert!(uuids(&store, None).is_empty());
    let sets = store.datasets().unwrap();
    assert_eq!(sets.len(), 1);
    assert!(sets[0].projects.iter().all(|p| p.starts_with("import:bug-1/")), "{:?}", sets[0].projects);

    // The same name twice is refused, and the store is unchanged.
    let again = export_all(&live.store, ExportFormat::Bundle);
    let err = import_blocking(&store, again, "bug-1").await.unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    assert_eq!(store.totals().unwrap().events, totals.events);
}

#[tokio::test(flavor = "multi_thread")]
async fn har_round_trip_rebuilds_the_same_model() {
    let live = live_app().await;
    let har = export_all(&live.store, ExportFormat::Har);
    let parsed: Value = serde_json::from_slice(&har).expect("the HAR is one JSON document");
    assert_eq!(parsed["log"]["version"], "1.2");
    let (_dir, store) = fresh_store();
    let summary = import_blocking(&store, har, "from-har").await.unwrap();
    assert_eq!(summary.events, live.store.totals().unwrap().events);
    assert_same_model(&live.store, &store, "import:from-har");
}

#[tokio::test(flavor = "multi_thread")]
async fn ndjson_round_trip_rebuilds_the_same_model() {
    let live = live_app().await;
    let ndjson = export_all(&live.store, ExportFormat::Ndjson);
    let first: Value = serde_json::from_slice(ndjson.split(|b| *b == b'\n').next().unwrap()).unwrap();
    for key in ["uuid", "event", "distinct_id", "timestamp", "properties", "api_key"] {
        assert!(first.get(key).is_some(), "{key} in {first}");
    }
    let (_dir, store) = fresh_store();
    let summary = import_blocking(&store, ndjson, "events").await.unwrap();
    assert_eq!(summary.events, live.store.totals().unwrap().events);
    assert_same_model(&live.store, &store, "import:events");
}

#[tokio::test(flavor = "multi_thread")]
async fn csv_has_a_header_and_one_row_per_event() {
    let live = live_app().await;
    let csv = export_all(&live.store, ExportFormat::Csv);
    let text = String::from_utf8(csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), transfer::csv_out::COLUMNS.join(","));
    // JSON escapes newlines, so one line is one row.
    assert_eq!(lines.count() as i64, live.store.totals().unwrap().events);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_scope_exports_only_its_requests() {
    let live = live_app().await;
    let selection = Selection { session_id: Some("s-d2".into()), ..Selection::default() };
    let mut out = Vec::new();
    let summary = export(&live.store, &selection, ExportFormat::Ndjson, &mut out, "", &NoProgress).unwrap();
    assert_eq!(summary.events, 1);
    let line: Value = serde_json::from_slice(out.trim_ascii_end()).unwrap();
    assert_eq!(line["distinct_id"], "x@y.io");

    let model = ingest::rebuild_model(&live.store).unwrap();
    let ids = ingest::person_distinct_ids(&model, Some(TOKEN), "user-b").unwrap();
    assert_eq!(ids, ["anon-3", "user-b"], "the merge with user-a's identified person was refused");
    let refused = model
        .engine()
        .decisions()
        .iter()
        .filter(|d| d.project == TOKEN && d.kind == identity_engine::DecisionKind::Refused)
        .count();
    assert_eq!(refused, 2, "the identify and the alias");
}

fn gzip_lines(lines: &[&str]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for line in lines {
        gz.write_all(line.as_bytes()).unwrap();
        gz.write_all(b"\n").unwrap();
    }
    gz.finish().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_files_fail_clearly_and_import_nothing() {
    let live = live_app().await;
    let bundle = export_all(&live.store, ExportFormat::Bundle);
    let header = r#"{"format":"identity-inspector-bundle","version":1}"#;
    let request = |path: &str| {
        format!(
            r#"{{"type":"request","received_at":"2026-01-01T00:00:00Z","method":"POST","path":"{path}","headers":[["content-type","application/json"]],"body_base64":"{}"}}"#,
            b64(br#"{"api_key":"phc_x","batch":[{"event":"e","distinct_id":"u"}]}"#)
        )
    };
    let one = request("/batch/");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated bundle", bundle[..bundle.len() * 2 / 3].to_vec(), "truncated"),
        ("bundle without its end line", gzip_lines(&[header, &one]), "truncated"),
        ("newer bundle", gzip_lines(&[r#"{"format":"identity-inspector-bundle","version":99}"#]), "newer than this Identity Inspector"),
        ("bad line in the middle", gzip_lines(&[header, &one, "{oops", &one, r#"{"type":"end","requests":2,"events":2}"#]), "line 3 is not valid JSON"),
        ("not JSON", b"PK\x03\x04 a zip file".to_vec(), "not JSON"),
        ("empty", Vec::new(), "empty"),
        ("HAR without analytics", br#"{"log":{"version":"1.2","entries":[{"startedDateTime":"2026-01-01T00:00:00Z","request":{"method":"GET","url":"https://example.com/app.js","headers":[]}}]}}"#.to_vec(), "no analytics requests"),
        ("NDJSON with a refused event", b"{\"event\":\"a\",\"distinct_id\":\"u\",\"api_key\":\"phc_x\"}\n{\"event\":\"b\",\"api_key\":\"phc_x\"}\n".to_vec(), "lines 1\u{2013}2: PostHog would refuse"),
    ];
    let (_dir, store) = fresh_store();
    for (what, bytes, expected) in cases {
        let err = import_blocking(&store, bytes, "bad").await.expect_err(what).to_string();
        assert!(err.contains(expected), "{what}: {err}");
        let totals = store.totals().unwrap();
        assert_eq!((totals.events, totals.requests), (0, 0), "{what}: nothing half-imported");
        assert!(store.datasets().unwrap().is_empty(), "{what}");
    }
}
