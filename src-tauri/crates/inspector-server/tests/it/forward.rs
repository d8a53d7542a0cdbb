//! Forward mode over real sockets: an inspector forwarding to a second inspector (standing in
//! for PostHog) passes accepted captures on; forwarding to a dead host still answers the SDK at
//! once and shows the failures in /api/forward and /api/health.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use inspector_server::{BoundServer, ServerConfig};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

struct Running {
    url: String,
    stop: CancellationToken,
    _dir: tempfile::TempDir,
}

async fn start(forward: Option<&str>) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: 0,
        data_dir: dir.path().to_owned(),
        identity: true,
    };
    let mut server = BoundServer::bind(&config).await.unwrap();
    if let Some(target) = forward {
        server.forward_to(target).unwrap();
    }
    let url = server.url().to_owned();
    let stop = CancellationToken::new();
    let signal = stop.clone();
    tokio::spawn(server.run_until(async move { signal.cancelled().await }));
    Running { url, stop, _dir: dir }
}

async fn get(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

async fn capture(url: &str, id: &str) -> reqwest::StatusCode {
    let body = json!({"api_key": "phc_fwd", "batch": [{"event": "$pageview", "distinct_id": id}]});
    reqwest::Client::new().post(format!("{url}/batch/")).json(&body).send().await.unwrap().status()
}

async fn wait_for(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn accepted_captures_reach_the_vendor_in_order() {
    let vendor = start(None).await;
    let inspector = start(Some(&vendor.url)).await;
    for i in 0..5 {
        assert!(capture(&inspector.url, &format!("user-{i}")).await.is_success());
    }
    // A rejected request is not forwarded.
    let bad = reqwest::Client::new().post(format!("{}/e/", inspector.url)).body("{nope").send().await.unwrap();
    assert_eq!(bad.status().as_u16(), 400);

    wait_for("5 events at the vendor", async || {
        get(&format!("{}/api/events?project=phc_fwd", vendor.url)).await["events"].as_array().unwrap().len() == 5
    })
    .await;
    let events = get(&format!("{}/api/events?project=phc_fwd", vendor.url)).await;
    let ids: Vec<&str> =
        events["events"].as_array().unwrap().iter().rev().map(|e| e["distinct_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["user-0", "user-1", "user-2", "user-3", "user-4"]);
    let status = get(&format!("{}/api/forward", inspector.url)).await;
    assert_eq!(
        (status["enabled"].as_bool(), status["forwarded"].as_u64(), status["failed"].as_u64()),
        (Some(true), Some(5), Some(0))
    );
    assert_eq!(
        get(&format!("{}/api/requests?outcome=rejected", vendor.url)).await["requests"].as_array().unwrap().len(),
        0
    );
    vendor.stop.cancel();
    inspector.stop.cancel();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_vendor_never_slows_capture_and_failures_show() {
    // Nothing listens there: bind a port, then free it.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let inspector = start(Some(&format!("http://{dead}"))).await;
    let started = Instant::now();
    assert!(capture(&inspector.url, "u").await.is_success());
    assert!(started.elapsed() < Duration::from_secs(2), "the reply did not wait for the forward");
    wait_for("a counted failure", async || get(&format!("{}/api/forward", inspector.url)).await["failed"] == 1).await;
    let status = get(&format!("{}/api/forward", inspector.url)).await;
    let error = status["last_error"]["error"].as_str().unwrap();
    assert!(error.starts_with("POST /batch/ failed: could not connect"), "{error}");
    assert!(!error.contains("phc_fwd"), "no token in errors");
    let health = get(&format!("{}/api/health", inspector.url)).await;
    assert!(health.to_string().contains("forward_failed"), "a notice in /api/health: {health}");
    // Without --forward the endpoint says so.
    let plain = start(None).await;
    assert_eq!(get(&format!("{}/api/forward", plain.url)).await, json!({"enabled": false}));
    inspector.stop.cancel();
    plain.stop.cancel();
}
