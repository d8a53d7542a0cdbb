//! The embedded UI: `/` is index.html with the capture URL written in, `/assets/*` the hashed
//! bundles with their content types and immutable caching; neither weakens capture or the API.

use crate::common::*;
use axum::body::Body;
use axum::http::StatusCode;

#[tokio::test]
async fn index_names_the_capture_url_and_is_never_cached() {
    let app = app();
    let page = app.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    let html = page.text();
    assert!(html.contains("<title>Identity Inspector</title>"), "{html}");
    assert!(html.contains(r#"content="http://127.0.0.1:8010""#), "capture URL written into the page: {html}");
    assert!(!html.contains("{{CAPTURE_URL}}"), "no placeholder left: {html}");
    assert!(html.contains("/assets/"), "the built UI (not the fallback page) is embedded: {html}");
}

#[tokio::test]
async fn assets_have_content_types_and_immutable_caching() {
    let app = app();
    let html = app.get("/").await.text();
    let assets: Vec<&str> =
        html.split('"').filter(|s| s.starts_with("/assets/") && (s.ends_with(".js") || s.ends_with(".css"))).collect();
    assert!(assets.iter().any(|a| a.ends_with(".js")) && assets.iter().any(|a| a.ends_with(".css")), "{assets:?}");
    for asset in assets {
        let r = app.get(asset).await;
        assert_eq!(r.status, StatusCode::OK, "{asset}");
        let want = if asset.ends_with(".js") { "text/javascript; charset=utf-8" } else { "text/css; charset=utf-8" };
        assert_eq!(r.header("content-type"), Some(want), "{asset}");
        assert_eq!(r.header("cache-control"), Some("public, max-age=31536000, immutable"), "{asset}");
        assert!(r.body.len() > 100, "{asset} has content");
        assert!(r.header("access-control-allow-origin").is_none(), "no CORS on the UI");
    }
    assert_eq!(app.get("/assets/nope.js").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn posts_to_ui_paths_are_stored_as_rejected_sdk_requests() {
    let app = app();
    for path in ["/", "/assets/x.js"] {
        let r = app.send(req("POST", path).body(Body::from("{}")).unwrap()).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(r.json()["code"], "unknown_route", "{path}");
    }
    let rejected = app.rejected().await;
    assert_eq!(rejected.len(), 2);
}
