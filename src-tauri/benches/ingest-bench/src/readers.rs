//! Readers beside the posting connections (`--tail`, `--mcp-clients`, `--mcp-stdio`): what a
//! developer and their coding agent run while an app sends analytics, so the benchmark can tell
//! what following the traffic costs capture.
//!
//! - `tail`: child processes `identity-inspector tail --url <server> --format json`; their event
//!   lines are counted, so a round whose tails saw nothing fails instead of measuring nothing.
//! - MCP agents, over Streamable HTTP (`/mcp`, JSON-RPC posted with reqwest) or over stdio
//!   through a child `identity-inspector mcp --data-dir <dir>` (which pipes to the server it
//!   finds in the data dir's `instance.lock`, see [`publish_instance`]). Each agent calls
//!   `initialize` once, then `search_events` (limit 20) every 250 ms, and keeps one
//!   `wait_for_events` armed with the newest seq it got (trigger, then check).
//!
//! The loops run on their own runtime: a reader's cost to capture should be the server's work
//! for it, not the load generator's threads taken.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

/// How often an agent searches the newest events.
const SEARCH_EVERY: Duration = Duration::from_millis(250);
/// How long one `wait_for_events` call waits at most (the tool's default).
const WAIT_SECONDS: u64 = 10;
/// The protocol version the agents ask for (the server answers with the one it speaks).
const PROTOCOL: &str = "2025-06-18";

/// Which readers run beside the posting connections.
#[derive(Debug, Clone)]
pub struct ReaderSpec {
    pub tails: usize,
    pub mcp_http: usize,
    pub mcp_stdio: usize,
    /// The `identity-inspector` binary the child processes run.
    pub bin: PathBuf,
}

impl ReaderSpec {
    pub fn any(&self) -> bool {
        self.tails + self.mcp_http + self.mcp_stdio > 0
    }

    /// `2 tails + 4 MCP/HTTP + 2 MCP/stdio`.
    pub fn label(&self) -> String {
        let parts = [(self.tails, "tail"), (self.mcp_http, "MCP/HTTP"), (self.mcp_stdio, "MCP/stdio")];
        parts.iter().filter(|(n, _)| *n > 0).map(|(n, what)| format!("{n} {what}")).collect::<Vec<_>>().join(" + ")
    }
}

/// What the readers did during one round.
pub struct ReaderReport {
    /// The events the round posted.
    pub events: u64,
    /// Event lines each tail printed by the last 200, and by the end of the catch-up.
    pub tail_lines_at_last_200: Vec<u64>,
    pub tail_lines: Vec<u64>,
    /// How long after the last 200 every tail had printed every event (None: not within the
    /// patience).
    pub tail_caught_up: Option<Duration>,
    /// `search_events` round trips, microseconds, per transport.
    pub search_http: hdrhistogram::Histogram<u64>,
    pub search_stdio: hdrhistogram::Histogram<u64>,
    /// `wait_for_events` calls that answered with events.
    pub wakes: u64,
}

/// The readers of one round, running.
pub struct Readers {
    rt: tokio::runtime::Runtime,
    stop: CancellationToken,
    tails: Vec<(Child, Arc<AtomicU64>, std::thread::JoinHandle<()>)>,
    agents: Vec<tokio::task::JoinHandle<AgentReport>>,
    stdio_children: Vec<Child>,
}

impl Readers {
    /// Starts the readers against the server at `url` whose data dir is `data_dir` (published
    /// there by [`publish_instance`] when stdio agents run), and returns once they are attached.
    pub fn start(spec: &ReaderSpec, url: &str, data_dir: &Path) -> Readers {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let stop = CancellationToken::new();
        let tails = (0..spec.tails).map(|_| start_tail(&spec.bin, url)).collect();
        let mut agents = Vec::new();
        let mut stdio_children = Vec::new();
        let ready = Arc::new(AtomicU64::new(0));
        for _ in 0..spec.mcp_http {
            let transport = Transport::Http(HttpMcp::new(url));
            agents.push(rt.spawn(agent(transport, false, ready.clone(), stop.clone())));
        }
        for _ in 0..spec.mcp_stdio {
            let (child, transport) = StdioMcp::spawn(&spec.bin, data_dir);
            stdio_children.push(child);
            agents.push(rt.spawn(agent(Transport::Stdio(transport), true, ready.clone(), stop.clone())));
        }
        // Agents are ready once initialized; a tail prints nothing before events arrive, so it
        // gets the same moment to open its stream (it starts in milliseconds).
        let started = Instant::now();
        while ready.load(Ordering::Relaxed) < agents.len() as u64 || started.elapsed() < Duration::from_millis(500) {
            assert!(started.elapsed() < Duration::from_secs(30), "the MCP agents did not initialize within 30 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        Readers { rt, stop, tails, agents, stdio_children }
    }

    /// CPU seconds the reader processes (tails, `mcp` pipes) have used so far.
    pub fn cpu_seconds(&self) -> f64 {
        let children = self.tails.iter().map(|(child, _, _)| child).chain(&self.stdio_children);
        children.map(|child| ingest_bench::cpu_seconds(&child.id().to_string())).sum()
    }

    /// Event lines the tails printed so far.
    fn tail_lines(&self) -> Vec<u64> {
        self.tails.iter().map(|(_, lines, _)| lines.load(Ordering::Relaxed)).collect()
    }

    /// Stops the readers after the last 200: first gives the tails up to `patience` to print
    /// all `events`, then ends every reader.
    pub fn stop(self, events: u64, patience: Duration) -> ReaderReport {
        let tail_lines_at_last_200 = self.tail_lines();
        let done = Instant::now();
        let mut tail_caught_up = None;
        while !self.tails.is_empty() {
            if self.tail_lines().iter().all(|&n| n >= events) {
                tail_caught_up = Some(done.elapsed());
                break;
            }
            if done.elapsed() > patience {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let tail_lines = self.tail_lines();
        self.stop.cancel();
        let mut search_http = hdrhistogram::Histogram::<u64>::new(3).unwrap();
        let mut search_stdio = hdrhistogram::Histogram::<u64>::new(3).unwrap();
        let mut wakes = 0;
        for agent in self.agents {
            let report = self.rt.block_on(agent).expect("agent task");
            let into = if report.stdio { &mut search_stdio } else { &mut search_http };
            into.add(report.search).unwrap();
            wakes += report.wakes;
        }
        for mut child in self.stdio_children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for (mut child, _, reader) in self.tails {
            let _ = child.kill();
            let _ = child.wait();
            let _ = reader.join();
        }
        self.rt.shutdown_timeout(Duration::from_secs(1));
        ReaderReport { events, tail_lines_at_last_200, tail_lines, tail_caught_up, search_http, search_stdio, wakes }
    }
}

/// Makes the bench's in-process server the inspector of `data_dir` for `identity-inspector
/// mcp`, as `serve` does (`instance.rs` in the binary: an exclusive lock on `instance.lock`
/// holding `{pid, url, token}`). The lock lasts as long as the returned file.
pub fn publish_instance(data_dir: &Path, url: &str, token: &str) -> std::fs::File {
    use std::io::Write;
    let path = data_dir.join("instance.lock");
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(&path).expect("lock file");
    file.try_lock().expect("lock the data dir");
    let info = json!({"pid": std::process::id(), "url": url, "token": token});
    file.write_all(info.to_string().as_bytes()).expect("publish the server");
    file
}

fn start_tail(bin: &Path, url: &str) -> (Child, Arc<AtomicU64>, std::thread::JoinHandle<()>) {
    let mut child = Command::new(bin)
        .args(["tail", "--url", url, "--format", "json"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {} tail: {e}", bin.display()));
    let stdout = child.stdout.take().unwrap();
    let lines = Arc::new(AtomicU64::new(0));
    let counted = lines.clone();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            // Findings and notices have lines too; only events count.
            if line.contains("\"type\":\"event\"") {
                counted.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    (child, lines, reader)
}

struct AgentReport {
    stdio: bool,
    search: hdrhistogram::Histogram<u64>,
    wakes: u64,
}

/// One agent: `initialize`, then a `search_events` every [`SEARCH_EVERY`] beside a
/// `wait_for_events` that is re-armed as soon as it answers.
async fn agent(transport: Transport, stdio: bool, ready: Arc<AtomicU64>, stop: CancellationToken) -> AgentReport {
    let transport = Arc::new(transport);
    let params = json!({
        "protocolVersion": PROTOCOL,
        "capabilities": {},
        "clientInfo": {"name": "ingest-bench", "version": "1"},
    });
    let init = transport.request("initialize", params).await;
    let agreed = init["result"]["protocolVersion"].as_str().unwrap_or_else(|| panic!("initialize: {init}"));
    transport.agreed(agreed);
    transport.notify("notifications/initialized").await;
    ready.fetch_add(1, Ordering::Relaxed);

    let waiter = {
        let (transport, stop) = (transport.clone(), stop.clone());
        tokio::spawn(async move {
            let mut wakes = 0;
            let mut after: Option<i64> = None;
            loop {
                let mut args = json!({"timeout_seconds": WAIT_SECONDS});
                if let Some(after) = after {
                    args["after_seq"] = after.into();
                }
                let answer = tokio::select! {
                    _ = stop.cancelled() => return wakes,
                    answer = transport.call_tool("wait_for_events", args) => answer,
                };
                if !answer.starts_with("Timed out") {
                    wakes += 1;
                }
                after = newest_seq(&answer).or(after);
            }
        })
    };
    let mut search = hdrhistogram::Histogram::<u64>::new(3).unwrap();
    let mut every = tokio::time::interval(SEARCH_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = every.tick() => {}
        }
        let sent = Instant::now();
        let answer = tokio::select! {
            _ = stop.cancelled() => break,
            answer = transport.call_tool("search_events", json!({"limit": 20})) => answer,
        };
        search.record(sent.elapsed().as_micros() as u64).unwrap();
        assert!(answer.contains("newest first"), "search_events answered: {answer}");
    }
    let wakes = waiter.await.unwrap();
    AgentReport { stdio, search, wakes }
}

/// The seq in "Newest seq: N." of a `wait_for_events` answer.
fn newest_seq(answer: &str) -> Option<i64> {
    let rest = &answer[answer.find("Newest seq: ")? + "Newest seq: ".len()..];
    rest[..rest.find(|c: char| !c.is_ascii_digit())?].parse().ok()
}

/// How an agent reaches the tools.
enum Transport {
    Http(HttpMcp),
    Stdio(StdioMcp),
}

impl Transport {
    async fn request(&self, method: &str, params: Value) -> Value {
        match self {
            Transport::Http(http) => http.request(method, params).await,
            Transport::Stdio(stdio) => stdio.request(method, params).await,
        }
    }

    async fn notify(&self, method: &str) {
        let message = json!({"jsonrpc": "2.0", "method": method});
        match self {
            Transport::Http(http) => http.post(&message).await.map(drop).expect("notification"),
            Transport::Stdio(stdio) => stdio.write(&message),
        }
    }

    /// The protocol version `initialize` agreed on: HTTP requests carry it from then on.
    fn agreed(&self, version: &str) {
        if let Transport::Http(http) = self {
            *http.protocol.lock().unwrap() = Some(version.to_owned());
        }
    }

    /// A tool's text; a failed call or a tool error fails the round.
    async fn call_tool(&self, name: &str, arguments: Value) -> String {
        let answer = self.request("tools/call", json!({"name": name, "arguments": arguments})).await;
        let result = &answer["result"];
        let text = result["content"][0]["text"].as_str().unwrap_or_else(|| panic!("{name}: {answer}")).to_owned();
        assert_ne!(result["isError"], true, "{name} answered an error: {text}");
        text
    }
}

/// Streamable HTTP: every message is one POST to `/mcp` (the server is stateless and answers
/// JSON; server-sent events are read too, should that change).
struct HttpMcp {
    client: reqwest::Client,
    endpoint: String,
    protocol: Mutex<Option<String>>,
    next_id: AtomicU64,
}

impl HttpMcp {
    fn new(url: &str) -> HttpMcp {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        HttpMcp { client, endpoint: format!("{url}/mcp"), protocol: Mutex::new(None), next_id: AtomicU64::new(1) }
    }

    async fn post(&self, message: &Value) -> Result<String, reqwest::Error> {
        let mut post = self
            .client
            .post(&self.endpoint)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/json, text/event-stream")
            .body(message.to_string());
        if let Some(protocol) = self.protocol.lock().unwrap().clone() {
            post = post.header("mcp-protocol-version", protocol);
        }
        post.send().await?.error_for_status()?.text().await
    }

    async fn request(&self, method: &str, params: Value) -> Value {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let message = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let body = self.post(&message).await.unwrap_or_else(|e| panic!("{method} over /mcp: {e}"));
        // A JSON answer, or the last `data:` line of an event stream.
        let json = body.lines().rev().find_map(|l| l.strip_prefix("data:")).map_or(body.as_str(), str::trim);
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{method} over /mcp answered {body:?}: {e}"))
    }
}

/// Stdio through `identity-inspector mcp`: one JSON-RPC message per line each way, answers
/// matched to requests by id (the pipe forwards concurrently, so they may come in any order).
/// Plain threads and pipes: a line each way needs no async process support.
struct StdioMcp {
    stdin: Mutex<std::process::ChildStdin>,
    waiting: Arc<Mutex<std::collections::HashMap<u64, oneshot::Sender<Value>>>>,
    next_id: AtomicU64,
}

impl StdioMcp {
    fn spawn(bin: &Path, data_dir: &Path) -> (Child, StdioMcp) {
        let mut child = Command::new(bin)
            .arg("mcp")
            .arg("--data-dir")
            .arg(data_dir)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {} mcp: {e}", bin.display()));
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let waiting: Arc<Mutex<std::collections::HashMap<u64, oneshot::Sender<Value>>>> = Arc::default();
        let answers = waiting.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                let Ok(message) = serde_json::from_str::<Value>(&line) else { continue };
                let Some(id) = message["id"].as_u64() else { continue };
                if let Some(to) = answers.lock().unwrap().remove(&id) {
                    let _ = to.send(message);
                }
            }
        });
        (child, StdioMcp { stdin: Mutex::new(stdin), waiting, next_id: AtomicU64::new(1) })
    }

    /// One line to the child: a few hundred bytes into a pipe it keeps reading, so the write
    /// does not block the runtime for long.
    fn write(&self, message: &Value) {
        use std::io::Write;
        let mut line = message.to_string();
        line.push('\n');
        self.stdin.lock().unwrap().write_all(line.as_bytes()).expect("write to identity-inspector mcp");
    }

    async fn request(&self, method: &str, params: Value) -> Value {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.waiting.lock().unwrap().insert(id, tx);
        self.write(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        rx.await.unwrap_or_else(|_| panic!("identity-inspector mcp ended before answering {method}"))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_newest_seq_is_read_from_a_wait_answer() {
        let answer = "3 matching events arrived after seq 10 (no filter). Newest seq: 13.\n- seq 13 ...";
        assert_eq!(super::newest_seq(answer), Some(13));
        assert_eq!(super::newest_seq("Timed out after 10 s: ... Newest seq: 7. Is the app"), Some(7));
        assert_eq!(super::newest_seq("no seq here"), None);
    }
}
