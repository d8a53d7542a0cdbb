//! Connections are bounded: a request head sent slowly and a keep-alive connection left idle
//! are both closed after the header timeout, a request body that stalls or trickles is refused
//! after the body timeout (408, kept as rejected), and past the connection cap the oldest
//! connections are closed so that a new capture request is still answered.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use inspector_server::{BoundServer, ConnectionLimits};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

struct Running {
    addr: SocketAddr,
    stop: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn start(limits: ConnectionLimits) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let config = crate::common::loopback_config(dir.path());
    let mut server = BoundServer::bind(&config).await.unwrap();
    server.set_connection_limits(limits);
    let addr = server.local_addr();
    let stop = CancellationToken::new();
    let signal = stop.clone();
    tokio::spawn(server.run_until(async move { signal.cancelled().await }));
    Running { addr, stop, _dir: dir }
}

/// Reads until the server closes the connection; the time that took, or None if it stayed open
/// for `within`.
async fn closed_within(socket: &mut TcpStream, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    let closed = tokio::time::timeout(within, async {
        loop {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await;
    closed.ok().map(|()| started.elapsed())
}

const SHORT: ConnectionLimits = ConnectionLimits {
    header_timeout: Duration::from_millis(400),
    body_timeout: Duration::from_millis(400),
    max_connections: 1_000,
};

#[tokio::test(flavor = "multi_thread")]
async fn a_request_head_sent_slowly_is_cut_off_after_the_header_timeout() {
    let server = start(SHORT).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    let (mut read, mut write) = socket.split();
    let head = format!("GET /api/health HTTP/1.1\r\nHost: {}\r\nX-Slow: {}\r\n\r\n", server.addr, "a".repeat(200));
    let trickle = async {
        for byte in head.as_bytes() {
            if write.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let mut buf = [0u8; 1024];
    let watch = tokio::time::timeout(Duration::from_secs(4), async {
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    });
    tokio::select! {
        closed = watch => assert!(closed.is_ok(), "a head trickled at 50 bytes/s stayed open 4 s"),
        _ = trickle => panic!("the whole slow head (5 s) was read: no header timeout"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_keep_alive_connection_is_closed_after_the_timeout() {
    let server = start(SHORT).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    // A fresh connection that says nothing.
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    let request = format!("GET /api/health HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr);
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let n = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut buf)).await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"), "{}", String::from_utf8_lossy(&buf[..n]));
    let idle = closed_within(&mut socket, Duration::from_secs(4)).await;
    assert!(idle.is_some(), "a keep-alive connection idle for 4 s is still open (timeout 400 ms)");
    assert!(closed_within(&mut silent, Duration::from_secs(4)).await.is_some(), "a silent connection stayed open 4 s");
}

#[tokio::test(flavor = "multi_thread")]
async fn past_the_cap_the_oldest_connections_close_and_capture_still_answers() {
    let cap = 8;
    let server = start(ConnectionLimits {
        header_timeout: Duration::from_secs(60),
        body_timeout: Duration::from_secs(60),
        max_connections: cap,
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..40 {
        idle.push(TcpStream::connect(server.addr).await.unwrap());
    }
    let body = json!({"api_key": "phc_cap", "batch": [{"event": "e", "distinct_id": "u"}]});
    let started = Instant::now();
    let answer = tokio::time::timeout(
        Duration::from_secs(10),
        reqwest::Client::new().post(format!("http://{}/batch/", server.addr)).json(&body).send(),
    )
    .await
    .expect("capture answers while the connection cap is reached")
    .unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());
    assert!(started.elapsed() < Duration::from_secs(10));
    let mut closed = 0;
    for socket in &mut idle {
        if closed_within(socket, Duration::from_millis(100)).await.is_some() {
            closed += 1;
        }
    }
    assert!(closed >= 40 - cap, "only {closed} of 40 idle connections were closed with a cap of {cap}");
}

#[tokio::test(flavor = "multi_thread")]
async fn at_the_cap_idle_connections_close_before_a_live_stream() {
    let cap = 4;
    let server = start(ConnectionLimits {
        header_timeout: Duration::from_secs(60),
        body_timeout: Duration::from_secs(60),
        max_connections: cap,
    })
    .await;
    // The oldest connection: a live stream, busy for as long as it is open.
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let request = format!("GET /api/stream HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    while !String::from_utf8_lossy(&seen).contains("event: ready") {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await.unwrap().unwrap();
        assert!(n > 0, "stream closed before ready");
        seen.extend_from_slice(&buf[..n]);
    }
    let mut idle = Vec::new();
    for _ in 0..20 {
        idle.push(TcpStream::connect(server.addr).await.unwrap());
    }
    let body = json!({"api_key": "phc_cap", "batch": [{"event": "e", "distinct_id": "u"}]});
    let answer = tokio::time::timeout(
        Duration::from_secs(10),
        reqwest::Client::new().post(format!("http://{}/batch/", server.addr)).json(&body).send(),
    )
    .await
    .expect("capture answers at the cap")
    .unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());
    // The stream was kept: it announces the capture.
    seen.clear();
    while !String::from_utf8_lossy(&seen).contains("event: events") {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("the live stream announces the capture")
            .unwrap();
        assert!(n > 0, "the live stream was closed for idle sockets");
        seen.extend_from_slice(&buf[..n]);
    }
    let mut closed = 0;
    for socket in &mut idle {
        if closed_within(socket, Duration::from_millis(100)).await.is_some() {
            closed += 1;
        }
    }
    assert!(closed >= 20 - cap, "only {closed} of 20 idle connections were closed with a cap of {cap}");
}

/// Writes `head`, then `body` `chunk` bytes at a time with `pause` between chunks, while reading
/// the answer; returns the answer (status line, headers and body as text; empty if the
/// connection closed without one) and how long after the head it came.
async fn send_slowly(
    addr: SocketAddr,
    head: String,
    body: Vec<u8>,
    chunk: usize,
    pause: Duration,
    within: Duration,
) -> (String, Duration) {
    let mut socket = TcpStream::connect(addr).await.unwrap();
    let (mut read, mut write) = socket.split();
    write.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let trickle = async {
        for (i, piece) in body.chunks(chunk).enumerate() {
            if i > 0 {
                tokio::time::sleep(pause).await;
            }
            if write.write_all(piece).await.is_err() {
                break;
            }
        }
        // Sent everything (or the server stopped reading): wait for the answer.
        std::future::pending::<()>().await;
    };
    let answer = async {
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
            if complete(&seen) {
                break;
            }
        }
        (String::from_utf8_lossy(&seen).into_owned(), started.elapsed())
    };
    tokio::select! {
        answered = tokio::time::timeout(within, answer) => answered.expect("no answer and the connection stayed open"),
        _ = trickle => unreachable!(),
    }
}

/// Whether `seen` holds a whole HTTP/1 response with a `content-length`.
fn complete(seen: &[u8]) -> bool {
    let text = String::from_utf8_lossy(seen);
    let Some((head, body)) = text.split_once("\r\n\r\n") else { return false };
    let length = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>()))
        .and_then(Result::ok);
    length.is_some_and(|n| body.len() >= n)
}

fn capture_head(addr: SocketAddr, path: &str, length: usize) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
}

/// A PostHog batch of exactly `size` bytes of JSON.
fn batch_of_size(size: usize) -> Vec<u8> {
    let bare = json!({"api_key": "phc_slow", "batch": [{"event": "e", "distinct_id": "u", "properties": {"pad": ""}}]});
    let pad = size - bare.to_string().len();
    let body = json!({"api_key": "phc_slow", "batch": [{"event": "e", "distinct_id": "u", "properties": {"pad": "x".repeat(pad)}}]});
    body.to_string().into_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_capture_body_sent_at_one_byte_a_second_is_answered_408_after_10_s_and_kept_as_rejected() {
    // The limits the server runs with.
    let server = start(ConnectionLimits::for_this_process()).await;
    let body = batch_of_size(1_000);
    let head = capture_head(server.addr, "/batch/", body.len());
    let (answer, after) =
        send_slowly(server.addr, head, body, 1, Duration::from_secs(1), Duration::from_secs(25)).await;
    eprintln!("a body at 1 byte/s was answered after {after:.1?}: {answer}");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(after >= Duration::from_secs(9) && after < Duration::from_secs(15), "answered after {after:?}");
    let reply: serde_json::Value = serde_json::from_str(answer.split_once("\r\n\r\n").unwrap().1).unwrap();
    assert_eq!(reply["code"], "body_timeout", "PostHog's error shape: {reply}");
    assert_eq!(reply["type"], "validation_error", "{reply}");

    let stored: serde_json::Value = reqwest::get(format!("http://{}/api/requests?outcome=rejected", server.addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let stored = &stored["requests"][0];
    assert_eq!(stored["path"], "/batch/", "{stored}");
    assert_eq!(stored["status"], 408, "{stored}");
    assert_eq!(stored["error_code"], "body_timeout", "{stored}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_segment_body_gets_segments_error_shape_and_paused_bodies_are_still_captured() {
    let server = start(SHORT).await;
    // Half a Segment batch, then nothing.
    let body = json!({"writeKey": "wk_slow", "batch": [{"type": "track", "event": "e", "userId": "u"}]}).to_string();
    let head = capture_head(server.addr, "/v1/batch", body.len());
    let half = body.as_bytes()[..body.len() / 2].to_vec();
    let (answer, after) = send_slowly(server.addr, head, half, 1_000, Duration::ZERO, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(after < Duration::from_secs(2), "answered after {after:?} (timeout 400 ms)");
    let reply: serde_json::Value = serde_json::from_str(answer.split_once("\r\n\r\n").unwrap().1).unwrap();
    // Segment's error shape (analytics-python reads `code` and `message`).
    assert_eq!(reply["code"], "invalid_request", "{reply}");
    assert!(reply["message"].as_str().is_some_and(|m| m.contains("stopped arriving")), "{reply}");

    // A body that pauses for less than the timeout between its pieces is captured whole.
    let body = batch_of_size(3_000);
    let head = capture_head(server.addr, "/batch/", body.len());
    let (answer, _) =
        send_slowly(server.addr, head, body, 1_000, Duration::from_millis(250), Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // And a large body sent at once.
    let body = batch_of_size(1_500_000);
    let head = capture_head(server.addr, "/batch/", body.len());
    let (answer, _) = send_slowly(server.addr, head, body, 64 * 1024, Duration::ZERO, Duration::from_secs(10)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let events: serde_json::Value = reqwest::get(format!("http://{}/api/events?project=phc_slow", server.addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(events["events"].as_array().map(Vec::len), Some(2), "{events}");
}
