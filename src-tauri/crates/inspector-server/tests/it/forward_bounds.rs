//! The forward queue is bounded by bytes and says what it drops, including at shutdown: a vendor
//! that accepts connections but never answers holds the queue, so large copies beyond the byte
//! bound are dropped (counted), and at shutdown the copies still queued are counted and logged
//! as never forwarded instead of vanishing.

use std::net::Ipv4Addr;
use std::time::Duration;

use inspector_server::{BoundServer, ForwardLimits};
use serde_json::json;
use tokio_util::sync::CancellationToken;

const BIG: usize = 200_000;

#[tokio::test(flavor = "multi_thread")]
async fn the_queue_is_bounded_by_bytes_and_shutdown_reports_what_was_never_sent() {
    // A vendor that takes connections and never answers: the first copy hangs in its send.
    let blackhole = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let vendor = format!("http://{}", blackhole.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut sockets = Vec::new();
        while let Ok((socket, _)) = blackhole.accept().await {
            sockets.push(socket);
        }
    });

    let dir = tempfile::tempdir().unwrap();
    let config = crate::common::loopback_config(dir.path());
    let mut server = BoundServer::bind(&config).await.unwrap();
    let limits = ForwardLimits { queue_bytes: 1 << 20, drain: Duration::from_millis(300) };
    let forwarder = server.forward_with_limits(&vendor, limits).unwrap();
    let url = server.url().to_owned();
    let stop = CancellationToken::new();
    let signal = stop.clone();
    let running = tokio::spawn(server.run_until(async move { signal.cancelled().await }));

    let client = reqwest::Client::new();
    let padding = "x".repeat(BIG);
    let sent = 12;
    for i in 0..sent {
        let body = json!({"api_key": "phc_fwd", "batch": [
            {"event": "big", "distinct_id": format!("u{i}"), "properties": {"padding": padding}}
        ]});
        let status = client.post(format!("{url}/batch/")).json(&body).send().await.unwrap().status();
        assert!(status.is_success(), "capture {i}: {status}");
        let queued = forwarder.status().queued_bytes;
        assert!(queued <= limits.queue_bytes, "queued {queued} bytes after capture {i}: above the bound");
    }
    let status = forwarder.status();
    assert!(status.dropped >= 1, "12 copies of 200 kB cannot all wait under a 1 MiB bound: {status:?}");
    assert!(status.dropped_bytes >= (BIG as u64) * status.dropped, "{status:?}");
    assert!(status.queued >= 1, "{status:?}");

    stop.cancel();
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("shutdown waits for the drain window only, not the vendor's timeout")
        .unwrap()
        .unwrap();
    let end = forwarder.status();
    assert_eq!(end.queued_bytes, 0, "{end:?}");
    assert!(end.unsent_at_shutdown >= 1, "the copies still queued at shutdown are counted: {end:?}");
    assert_eq!(
        end.forwarded + end.failed + end.dropped + end.unsent_at_shutdown,
        sent,
        "every accepted copy is forwarded, failed, dropped or counted unsent: {end:?}"
    );
    held.abort();
}
