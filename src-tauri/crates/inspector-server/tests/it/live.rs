//! A real server on a real socket: the live stream, graceful shutdown with a stream open, and
//! restarting on the same data directory. Plain HTTP/1.1 over `TcpStream`, no client library.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use inspector_server::{BoundServer, ServerConfig};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

struct Running {
    addr: SocketAddr,
    url: String,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), inspector_server::ServerError>>,
}

async fn start(data_dir: &Path) -> Running {
    let config =
        ServerConfig { bind: IpAddr::V4(Ipv4Addr::LOCALHOST), port: 0, data_dir: data_dir.to_owned(), identity: true };
    let server = BoundServer::bind(&config).await.expect("bind");
    let addr = server.local_addr();
    assert_ne!(addr.port(), 0, "port 0 means: pick a free one");
    let url = server.url().to_owned();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server.run_until(async move {
        let _ = stopped.await;
    }));
    Running { addr, url, stop, task }
}

impl Running {
    /// Asks the server to stop and waits (at most 5 s) for `run_until` to return.
    async fn shutdown(self) {
        let _ = self.stop.send(());
        let result = tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("run_until returns within 5 s of the shutdown signal");
        result.expect("server task did not panic").expect("server stopped cleanly");
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.addr.port())
    }
}

// tokio's `io-util` feature is not enabled in this workspace: a few lines over `readable`/`try_read`.
async fn read_some(stream: &mut TcpStream, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        stream.readable().await?;
        match stream.try_read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            other => return other,
        }
    }
}

async fn write_all(stream: &mut TcpStream, mut data: &[u8]) -> std::io::Result<()> {
    while !data.is_empty() {
        stream.writable().await?;
        match stream.try_write(data) {
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

async fn read_to_end(stream: &mut TcpStream, out: &mut Vec<u8>) -> std::io::Result<()> {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match read_some(stream, &mut buf).await? {
            0 => return Ok(()),
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

struct HttpResponse {
    status: u16,
    head: String,
    body: Vec<u8>,
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").expect("chunk size line");
        let size = usize::from_str_radix(std::str::from_utf8(&data[..line_end]).unwrap().trim(), 16).unwrap();
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// One request on its own connection (`Connection: close`), read to the end.
async fn http(addr: SocketAddr, method: &str, path: &str, host: &str, body: &[u8]) -> HttpResponse {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    write_all(&mut stream, head.as_bytes()).await.unwrap();
    write_all(&mut stream, body).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), read_to_end(&mut stream, &mut raw))
        .await
        .expect("response within 10 s")
        .unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("end of headers");
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let rest = &raw[split + 4..];
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(rest) } else { rest.to_vec() };
    HttpResponse { status, head, body }
}

async fn api(server: &Running, path: &str) -> Value {
    let resp = http(server.addr, "GET", path, &server.host(), b"").await;
    assert_eq!(resp.status, 200, "GET {path}: {}", String::from_utf8_lossy(&resp.body));
    serde_json::from_slice(&resp.body).unwrap()
}

fn capture_body(event: &str) -> Vec<u8> {
    json!({"api_key": "phc_live", "batch": [{"event": event, "distinct_id": "live-user"}]}).to_string().into_bytes()
}

/// Reads from `stream` into `seen` until it contains `needle`; returns the text after it.
async fn wait_for(stream: &mut TcpStream, seen: &mut String, needle: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(at) = seen.find(needle) {
            let after = seen[at + needle.len()..].to_owned();
            seen.drain(..at + needle.len());
            return after;
        }
        let mut buf = [0u8; 4096];
        let n = tokio::time::timeout_at(deadline, read_some(stream, &mut buf))
            .await
            .unwrap_or_else(|_| panic!("no {needle:?} within 5 s; got {seen:?}"))
            .unwrap();
        assert!(n > 0, "stream closed before {needle:?}; got {seen:?}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
}

/// The JSON of the next `data:` line.
async fn next_data(stream: &mut TcpStream, seen: &mut String) -> Value {
    wait_for(stream, seen, "data: ").await;
    // Read on until the line is complete.
    while !seen.contains('\n') {
        let mut buf = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), read_some(stream, &mut buf)).await.unwrap().unwrap();
        assert!(n > 0);
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let end = seen.find('\n').unwrap();
    let line: String = seen.drain(..=end).collect();
    serde_json::from_str(line.trim_end()).unwrap_or_else(|e| panic!("data line {line:?}: {e}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stream_announces_commits_and_shutdown_does_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    assert_eq!(server.url, format!("http://{}", server.host()));

    let mut sse = TcpStream::connect(server.addr).await.unwrap();
    let get = format!("GET /api/stream HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n", server.host());
    write_all(&mut sse, get.as_bytes()).await.unwrap();
    let mut seen = String::new();
    wait_for(&mut sse, &mut seen, "HTTP/1.1 200 OK").await;
    assert!(seen.to_ascii_lowercase().contains("content-type: text/event-stream"), "{seen}");
    assert!(!seen.to_ascii_lowercase().contains("access-control-allow-origin"), "{seen}");
    wait_for(&mut sse, &mut seen, "event: ready").await;
    assert_eq!(next_data(&mut sse, &mut seen).await, json!({"capture_url": server.url}));

    let resp = http(server.addr, "POST", "/e/", "anything.example", &capture_body("live one")).await;
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    wait_for(&mut sse, &mut seen, "event: events").await;
    let change = next_data(&mut sse, &mut seen).await;
    let request_id = api(&server, "/api/requests?limit=1").await["requests"][0]["id"].clone();
    let event = &api(&server, "/api/events").await["events"][0];
    assert_eq!(change["type"], "events");
    assert_eq!(change["request_id"], request_id);
    assert_eq!(change["project"], "phc_live");
    assert_eq!(change["count"], 1);
    assert_eq!(change["first_seq"], event["seq"]);
    assert_eq!(change["last_seq"], event["seq"]);
    // The model's step names the person it made (a step of thousands names 16 and says `more`,
    // tested in identity-engine's `scale::a_big_step_lists_its_first_changes...`).
    wait_for(&mut sse, &mut seen, "event: persons").await;
    let change = next_data(&mut sse, &mut seen).await;
    let person = api(&server, "/api/persons?project=phc_live").await["persons"][0]["id"].clone();
    assert_eq!(
        change,
        json!({"type": "persons", "ids": [person], "more": false, "applied_seq": event["seq"], "replay": 0})
    );

    let resp = http(server.addr, "POST", "/e/", "anything.example", b"{\"not\": \"an event\"").await;
    assert_eq!(resp.status, 400);
    wait_for(&mut sse, &mut seen, "event: rejected").await;
    let change = next_data(&mut sse, &mut seen).await;
    assert_eq!(change["type"], "rejected");
    assert_eq!(change["status"], 400);
    assert_eq!(change["path"], "/e/");
    assert!(change["error"].as_str().unwrap().contains("JSON"), "{change}");

    // The stream is still open; shutting down must end it rather than wait for it.
    server.shutdown().await;
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), read_to_end(&mut sse, &mut rest)).await;
    assert!(closed.is_ok(), "the stream connection was closed by the shutdown");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stream_refuses_foreign_hosts() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let resp = http(server.addr, "GET", "/api/stream", "evil.example", b"").await;
    assert_eq!(resp.status, 403);
    let other_port = format!("127.0.0.1:{}", server.addr.port().wrapping_add(1));
    assert_eq!(http(server.addr, "GET", "/api/health", &other_port, b"").await.status, 403);
    let localhost = format!("localhost:{}", server.addr.port());
    assert_eq!(http(server.addr, "GET", "/api/health", &localhost, b"").await.status, 200);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn events_survive_a_restart_on_the_same_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let first = start(dir.path()).await;
    for name in ["before restart 1", "before restart 2"] {
        let resp = http(first.addr, "POST", "/batch/", "sdk.example", &capture_body(name)).await;
        assert_eq!(resp.status, 200);
        assert_eq!(serde_json::from_slice::<Value>(&resp.body).unwrap(), json!({"status": 1}));
        assert!(resp.head.to_ascii_lowercase().contains("content-type: application/json"), "{}", resp.head);
    }
    assert_eq!(http(first.addr, "POST", "/e/", "sdk.example", b"").await.status, 400);
    let first_addr = first.addr;
    first.shutdown().await;
    assert!(TcpStream::connect(first_addr).await.is_err(), "the old socket is closed");

    let second = start(dir.path()).await;
    let events = api(&second, "/api/events").await;
    let names: Vec<&str> = events["events"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(names, ["before restart 2", "before restart 1"]);
    assert_eq!(
        api(&second, "/api/health").await["totals"],
        json!({"events": 2, "requests": 3, "rejected": 1, "faulted": 0})
    );

    let resp = http(second.addr, "POST", "/e/", "sdk.example", &capture_body("after restart")).await;
    assert_eq!(resp.status, 200);
    let events = api(&second, "/api/events").await;
    assert_eq!(events["events"][0]["event"], "after restart");
    assert!(events["events"][0]["seq"].as_i64() > events["events"][1]["seq"].as_i64());
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn binding_a_taken_port_fails_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let other = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        bind: server.addr.ip(),
        port: server.addr.port(),
        data_dir: other.path().to_owned(),
        identity: true,
    };
    match BoundServer::bind(&config).await {
        Err(e @ inspector_server::ServerError::Bind { .. }) => {
            assert!(e.to_string().contains(&server.addr.port().to_string()), "{e}")
        }
        Err(other) => panic!("expected a Bind error, got {other}"),
        Ok(_) => panic!("two servers on one port"),
    }
    server.shutdown().await;
}
