//! `/api/export`, `/api/import` and `/api/datasets` through the router.

use crate::common::*;
use serde_json::json;

async fn filled() -> App {
    let app = app();
    for (i, id) in ["anon-1", "user-1"].iter().enumerate() {
        let mut props = json!({"$session_id": "s-1", "$device_id": "d-1"});
        if i == 1 {
            props["$anon_distinct_id"] = json!("anon-1");
        }
        let event = if i == 1 { "$identify" } else { "$pageview" };
        let body = json!({"api_key": "phc_api", "batch": [{"event": event, "distinct_id": id, "properties": props}]});
        assert!(app.post_json("/batch/", &body).await.status.is_success());
    }
    let other = json!({"api_key": "phc_api", "batch": [{"event": "x", "distinct_id": "other", "properties": {"$session_id": "s-2"}}]});
    assert!(app.post_json("/batch/", &other).await.status.is_success());
    app
}

async fn token(app: &App) -> String {
    app.api("/api/control").await["token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn export_streams_a_download_of_the_scope() {
    let app = filled().await;
    let resp = app.get("/api/export?format=ndjson&session=s-1").await;
    assert_eq!(resp.status.as_u16(), 200, "{}", resp.text());
    assert_eq!(resp.header("content-type"), Some("application/x-ndjson"));
    let disposition = resp.header("content-disposition").unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"inspector-session-s-1-") && disposition.ends_with(".ndjson\""),
        "{disposition}"
    );
    assert_eq!(resp.text().lines().count(), 2);

    // A person by any of its distinct ids, through the live model.
    let resp = app.get("/api/export?format=csv&project=phc_api&person=anon-1").await;
    assert_eq!(resp.status.as_u16(), 200, "{}", resp.text());
    assert_eq!(resp.text().lines().count(), 3, "header and two events: {}", resp.text());

    let bundle = app.get("/api/export").await;
    assert_eq!(bundle.header("content-type"), Some("application/gzip"));
    assert_eq!(&bundle.body[..2], &[0x1f, 0x8b]);

    for (query, status) in
        [("format=zip", 400), ("person=nobody", 404), ("session=a&device=b", 400), ("from=yesterday", 400)]
    {
        let resp = app.get(&format!("/api/export?{query}")).await;
        assert_eq!(resp.status.as_u16(), status, "{query}: {}", resp.text());
        assert!(resp.json()["error"].is_string());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn import_needs_the_token_and_creates_a_data_set() {
    let app = filled().await;
    let bundle = app.get("/api/export?format=bundle").await.body;
    let url = "/api/import?filename=bug%20report.iibundle";
    let send = |headers: Vec<(&'static str, String)>, body: Vec<u8>| {
        let mut builder = req("POST", url).header("host", HOST);
        for (k, v) in headers {
            builder = builder.header(k, v);
        }
        app.send(builder.body(axum::body::Body::from(body)).unwrap())
    };
    let refused = send(vec![], bundle.clone()).await;
    assert_eq!(refused.status.as_u16(), 403, "{}", refused.text());

    let token = token(&app).await;
    let resp = send(vec![("x-inspector-token", token.clone())], bundle.clone()).await;
    assert_eq!(resp.status.as_u16(), 200, "{}", resp.text());
    let imported = &resp.json()["imported"];
    assert_eq!(imported["dataset"], "import:bug-report");
    assert_eq!(imported["events"], 3);

    let sets = app.api("/api/datasets").await;
    assert_eq!(sets["datasets"][0]["name"], "import:bug-report");
    assert_eq!(sets["datasets"][0]["projects"], json!(["import:bug-report/phc_api"]));
    // The imported person lives in its own project, next to the live one.
    let persons = app.api("/api/persons?project=import:bug-report/phc_api").await;
    assert_eq!(persons["persons"][0]["distinct_ids"], json!(["anon-1", "user-1"]));
    let live = app.api("/api/persons?project=phc_api").await;
    assert_ne!(persons["persons"][0]["id"], live["persons"][0]["id"], "never the live person");

    // `live_only=1`: without a project, every list leaves the imported data set out.
    let projects_of = |page: &serde_json::Value, key: &str| -> Vec<String> {
        let mut out: Vec<String> =
            page[key].as_array().unwrap().iter().map(|x| x["project"].as_str().unwrap().to_owned()).collect();
        out.sort();
        out.dedup();
        out
    };
    for (path, key) in [
        ("/api/events", "events"),
        ("/api/persons", "persons"),
        ("/api/devices", "devices"),
        ("/api/warnings", "warnings"),
        ("/api/decisions", "decisions"),
    ] {
        let all = app.api(path).await;
        let live_only = app.api(&format!("{path}?live_only=1")).await;
        if key != "warnings" {
            assert_eq!(projects_of(&all, key), ["import:bug-report/phc_api", "phc_api"], "{path}");
        }
        assert!(projects_of(&live_only, key).iter().all(|p| p == "phc_api"), "{path}: {live_only}");
    }
    assert_eq!(app.api("/api/events?live_only=1").await["events"].as_array().unwrap().len(), 3);
    let refused = app.get("/api/events?live_only=maybe").await;
    assert_eq!(refused.status.as_u16(), 400, "{}", refused.text());

    let bad = send(vec![("x-inspector-token", token)], b"not a bundle".to_vec()).await;
    assert_eq!(bad.status.as_u16(), 400);
    assert!(bad.json()["error"].as_str().unwrap().contains("nothing was imported"));
}

/// The upload is spooled by the import's own thread: an upload cut off half way imports nothing
/// (the handler tells the thread it was interrupted), and an empty one is a 400 naming the body.
#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_or_empty_upload_imports_nothing() {
    let app = filled().await;
    let token = token(&app).await;
    let bundle = app.get("/api/export?format=bundle").await.body;
    let half = bundle[..bundle.len() / 2].to_vec();
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        vec![Ok(half), Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "client went away"))];
    let cut = axum::body::Body::from_stream(futures_util::stream::iter(chunks));
    let request = req("POST", "/api/import?filename=cut.iibundle")
        .header("host", HOST)
        .header("x-inspector-token", token.clone())
        .body(cut)
        .unwrap();
    let resp = app.send(request).await;
    assert_eq!(resp.status.as_u16(), 400, "{}", resp.text());
    assert!(resp.text().contains("interrupted"), "{}", resp.text());

    let empty = req("POST", "/api/import?filename=empty.iibundle")
        .header("host", HOST)
        .header("x-inspector-token", token)
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = app.send(empty).await;
    assert_eq!(resp.status.as_u16(), 400, "{}", resp.text());
    assert!(resp.text().contains("body is empty"), "{}", resp.text());

    assert_eq!(app.api("/api/datasets").await["datasets"], json!([]), "nothing was imported");
}
