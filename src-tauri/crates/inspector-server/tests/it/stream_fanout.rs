//! Live `/api/stream` readers cost capture nothing measurable: capture throughput with many SSE
//! readers stays close to that with none, and every reader still gets every commit's
//! announcement. The default run is small (100 readers, generous ratio); the figures for the
//! README come from `SSE_FANOUT_BENCH=1` (0, 100 and 1 000 readers, more requests), which prints
//! them:
//!
//! `SSE_FANOUT_BENCH=1 cargo test -p inspector-server --test it stream_fanout -- --nocapture`

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use inspector_server::{BoundServer, ServerConfig};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const NEEDLE: &[u8] = b"event: events\n";
/// Readers that count announcements (the others count bytes).
const COUNTING: usize = 10;

/// What one reader received after its `ready` event.
#[derive(Default)]
struct Seen {
    bytes: AtomicUsize,
    /// `events` announcements; counted only by the readers that `count` (scanning every byte
    /// of a thousand streams in a debug build would measure the test, not the server).
    events: AtomicUsize,
}

/// Opens an SSE reader; returns once its `ready` event arrived, then reads until the server
/// closes the stream.
async fn reader(addr: SocketAddr, seen: Arc<Seen>, count: bool) -> tokio::task::JoinHandle<()> {
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET /api/stream HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n");
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let n = socket.read(&mut buf).await.unwrap();
        assert!(n > 0, "stream closed before ready");
        carry.extend_from_slice(&buf[..n]);
        if let Some(at) = carry.windows(14).position(|w| w == b"event: ready\nd") {
            // The rest of the ready event: up to its blank line.
            let end = carry[at..].windows(2).position(|w| w == b"\n\n").map(|e| at + e + 2);
            if let Some(end) = end {
                carry.drain(..end);
                break;
            }
        }
    }
    tokio::spawn(async move {
        seen.bytes.fetch_add(carry.len(), Ordering::Relaxed);
        loop {
            let n = match socket.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            seen.bytes.fetch_add(n, Ordering::Relaxed);
            if !count {
                continue;
            }
            carry.extend_from_slice(&buf[..n]);
            let found = carry.windows(NEEDLE.len()).filter(|w| *w == NEEDLE).count();
            seen.events.fetch_add(found, Ordering::Relaxed);
            // Keep a tail shorter than the needle: a match split across reads is counted once.
            let keep = carry.len().min(NEEDLE.len() - 1);
            carry.drain(..carry.len() - keep);
        }
    })
}

/// Capture requests per second with `readers` live SSE readers, and whether each reader got
/// every request's announcement.
fn run(readers: usize, requests: usize) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    // The server on its own two workers, as in the binary; readers and senders on another.
    let server_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let client_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let config = ServerConfig {
        bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: 0,
        data_dir: dir.path().to_owned(),
        identity: false,
    };
    let server = server_rt.block_on(BoundServer::bind(&config)).unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = server_rt.spawn(server.run_until(async move {
        let _ = stopped.await;
    }));
    let rate = client_rt.block_on(async {
        let seen: Vec<Arc<Seen>> = (0..readers).map(|_| Arc::default()).collect();
        let mut tasks = Vec::new();
        for (i, seen) in seen.iter().enumerate() {
            tasks.push(reader(addr, seen.clone(), i < COUNTING).await);
        }
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let mut senders = Vec::new();
        for _ in 0..4 {
            let next = next.clone();
            senders.push(tokio::spawn(async move {
                let client = reqwest::Client::new();
                while next.fetch_add(1, Ordering::Relaxed) < requests {
                    let body = json!({"api_key": "phc_sse", "batch": [{"event": "e", "distinct_id": "u"}]});
                    let answer = client.post(format!("http://{addr}/batch/")).json(&body).send().await.unwrap();
                    assert!(answer.status().is_success(), "{}", answer.status());
                }
            }));
        }
        for s in senders {
            s.await.unwrap();
        }
        let rate = requests as f64 / started.elapsed().as_secs_f64();
        // Every reader gets every request's announcement: the counting ones count them, and
        // the others received the same bytes (every reader is sent the same batches).
        let deadline = Instant::now() + Duration::from_secs(30);
        let counting = &seen[..readers.min(COUNTING)];
        while counting.iter().any(|s| s.events.load(Ordering::Relaxed) < requests) {
            let least = counting.iter().map(|s| s.events.load(Ordering::Relaxed)).min();
            assert!(Instant::now() < deadline, "a reader saw {least:?} of {requests} announcements");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for s in counting {
            assert_eq!(s.events.load(Ordering::Relaxed), requests);
        }
        if let Some(first) = seen.first() {
            let expected = first.bytes.load(Ordering::Relaxed);
            while seen.iter().any(|s| s.bytes.load(Ordering::Relaxed) < expected) {
                assert!(Instant::now() < deadline, "some readers were sent less than the others");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            assert!(
                seen.iter().all(|s| s.bytes.load(Ordering::Relaxed) == expected),
                "readers were sent different bytes"
            );
        }
        rate
    });
    let _ = stop.send(());
    server_rt.block_on(serving).unwrap().unwrap();
    rate
}

#[test]
fn capture_throughput_does_not_fall_with_live_readers() {
    if std::env::var_os("SSE_FANOUT_BENCH").is_some() {
        // Rounds alternate the reader counts; medians are reported (a shared machine is noisy).
        let requests = 2_000;
        let counts = [0, 100, 1_000];
        let mut rates: Vec<Vec<f64>> = vec![Vec::new(); counts.len()];
        for _ in 0..5 {
            for (i, readers) in counts.iter().enumerate() {
                rates[i].push(run(*readers, requests));
            }
        }
        let median = |r: &mut Vec<f64>| {
            r.sort_by(f64::total_cmp);
            r[r.len() / 2]
        };
        let alone = median(&mut rates[0]);
        for (i, readers) in counts.iter().enumerate() {
            let rate = median(&mut rates[i]);
            println!("SSE fan-out: {readers} readers, median {rate:.0} requests/s (ratio {:.2})", rate / alone);
        }
        return;
    }
    let requests = 300;
    // Best of two: a shared machine is noisy, and the claim is about what readers cost.
    let alone = run(0, requests).max(run(0, requests));
    let with_readers = run(100, requests).max(run(100, requests));
    assert!(
        with_readers >= alone * 0.5,
        "100 SSE readers took capture from {alone:.0} to {with_readers:.0} requests/s"
    );
}
