//! The open-file limit, which is process-wide (so this is its own test binary): binding raises
//! the soft limit to the hard one, and under a low hard limit the connection cap stays below it,
//! so hundreds of idle sockets do not make accept fail with "too many open files" and capture
//! and health keep answering.

#[path = "it/common/mod.rs"]
mod common;

use std::time::Duration;

use inspector_server::{fd_limit, raise_fd_limit, BoundServer};
use serde_json::json;
use tokio_util::sync::CancellationToken;

// `rlim_t` is u64 on 64-bit Linux and macOS but narrower on some 32-bit targets.
#[allow(clippy::unnecessary_cast)]
fn set_limit(soft: u64, hard: u64) {
    let limit = libc::rlimit { rlim_cur: soft as libc::rlim_t, rlim_max: hard as libc::rlim_t };
    // SAFETY: setrlimit reads one rlimit we own.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) }, 0, "{}", std::io::Error::last_os_error());
}

#[allow(clippy::unnecessary_cast)]
fn hard_limit() -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one rlimit into the struct we own.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) }, 0);
    limit.rlim_max as u64
}

#[tokio::test(flavor = "multi_thread")]
async fn the_soft_fd_limit_is_raised_and_the_connection_cap_keeps_capture_answering() {
    // 1. A soft limit below the hard one is raised to it.
    let hard = hard_limit();
    let low = 300.min(hard);
    set_limit(low, hard);
    assert_eq!(fd_limit(), Some(low));
    assert_eq!(raise_fd_limit(), Some(hard));
    assert_eq!(fd_limit(), Some(hard));

    // 2. A hard limit of 300 (irreversible for this process: the last step of this binary).
    set_limit(low, low);
    let dir = tempfile::tempdir().unwrap();
    let config = common::loopback_config(dir.path());
    let server = BoundServer::bind(&config).await.unwrap();
    let cap = server.connection_limits().max_connections as u64;
    assert!(cap < low, "the connection cap {cap} must stay below the descriptor limit {low}");
    let addr = server.local_addr();
    let stop = CancellationToken::new();
    let signal = stop.clone();
    let running = tokio::spawn(server.run_until(async move { signal.cancelled().await }));

    // Idle client sockets; each one the server accepts costs it a descriptor in this process too.
    let mut idle = Vec::new();
    for _ in 0..150 {
        match tokio::net::TcpStream::connect(addr).await {
            Ok(socket) => idle.push(socket),
            Err(_) => break,
        }
    }
    assert!(idle.len() as u64 > cap, "only {} sockets opened", idle.len());
    tokio::time::sleep(Duration::from_millis(300)).await;

    let client = reqwest::Client::new();
    let body = json!({"api_key": "phc_fd", "batch": [{"event": "e", "distinct_id": "u"}]});
    let capture =
        tokio::time::timeout(Duration::from_secs(10), client.post(format!("http://{addr}/batch/")).json(&body).send())
            .await
            .expect("capture answers with hundreds of idle sockets under a 300-descriptor limit")
            .unwrap();
    assert!(capture.status().is_success(), "{}", capture.status());
    let health = tokio::time::timeout(Duration::from_secs(10), client.get(format!("http://{addr}/api/health")).send())
        .await
        .expect("health answers too")
        .unwrap();
    assert!(health.status().is_success(), "{}", health.status());

    drop(idle);
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(10), running).await.unwrap().unwrap().unwrap();
}
