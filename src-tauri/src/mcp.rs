//! `identity-inspector mcp`: the inspector's tools for a coding agent that starts its MCP servers
//! as commands and speaks to them over stdin and stdout.
//!
//! The design, chosen for having one tool set and one identity model:
//! - An inspector runs for the data dir (`instance::holder` finds its URL and control token in
//!   `instance.lock`): this process is a pipe. Each JSON-RPC message read from stdin is POSTed to
//!   the running server's `/mcp` (stateless Streamable HTTP, `inspector_server::mcp`), with the
//!   token, so `clear_project` works too; each answer (JSON, or the `data` of server-sent events)
//!   is written to stdout as one line. The pipe knows nothing of tools: whatever the server
//!   offers, the agent gets, and `wait_for_events` wakes on that server's commits.
//! - None runs: the tools run in this process over the data dir opened read-only
//!   (`inspector_server::mcp::serve_read_only_stdio`); the app can still start, and
//!   `wait_for_events` and `clear_project` say they need it.
//! - One is starting (the lock is held, nothing published yet): wait for it up to
//!   `STARTING_PATIENCE`, then serve read-only.
//!
//! Messages are forwarded concurrently (a `wait_for_events` in flight does not hold up a ping);
//! JSON-RPC matches answers to requests by id, so their order on stdout does not matter.
//! Nothing but protocol messages goes to stdout: logs go to stderr (`main`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use crate::instance::{self, Holder, RunningInstance};

/// How long a starting inspector has to publish its URL before this process serves read-only.
const STARTING_PATIENCE: Duration = Duration::from_secs(10);
/// JSON-RPC's "internal error": the running inspector could not be reached or refused the call.
const INTERNAL_ERROR: i64 = -32603;
/// JSON-RPC's "parse error": a line on stdin that is not JSON.
const PARSE_ERROR: i64 = -32700;

#[derive(Debug, thiserror::Error)]
enum McpError {
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot read stdin: {0}")]
    Stdin(std::io::Error),
    #[error("cannot reach the running inspector: {0}")]
    Client(reqwest::Error),
    #[error(transparent)]
    Server(#[from] inspector_server::ServerError),
}

/// Serves MCP over stdio for `data_dir` until stdin closes.
pub fn run(data_dir: PathBuf) -> ExitCode {
    let served = tokio::runtime::Runtime::new().map_err(McpError::Runtime).and_then(|rt| rt.block_on(serve(&data_dir)));
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(data_dir: &Path) -> Result<(), McpError> {
    match running_inspector(data_dir).await {
        Some(running) => {
            tracing::info!("forwarding MCP over stdio to the inspector at {}", running.url);
            let (pipe, answers) = Pipe::to(&running)?;
            pipe.run(answers).await
        }
        None => {
            tracing::info!("no inspector runs for {}: serving it read-only", data_dir.display());
            Ok(inspector_server::mcp::serve_read_only_stdio(data_dir).await?)
        }
    }
}

/// The inspector running for `data_dir`, once it has published itself (see the module docs).
async fn running_inspector(data_dir: &Path) -> Option<RunningInstance> {
    let deadline = Instant::now() + STARTING_PATIENCE;
    loop {
        match instance::holder(data_dir) {
            Holder::Running(info) => return Some(info),
            Holder::Nobody => return None,
            Holder::Starting if Instant::now() >= deadline => {
                tracing::warn!("the inspector for {} has not finished starting", data_dir.display());
                return None;
            }
            Holder::Starting => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// The stdio ↔ `/mcp` pipe.
struct Pipe {
    client: reqwest::Client,
    endpoint: String,
    token: String,
    /// `Mcp-Session-Id`, should the server hand one out (the stateless one does not).
    session: Mutex<Option<String>>,
    /// The protocol version `initialize` agreed on, sent as `MCP-Protocol-Version` after it.
    protocol: Mutex<Option<String>>,
    /// Lines for stdout, written in order by one task.
    out: mpsc::UnboundedSender<String>,
}

impl Pipe {
    /// The pipe to `running`, and the receiver of the lines it writes to stdout.
    fn to(running: &RunningInstance) -> Result<(Arc<Pipe>, mpsc::UnboundedReceiver<String>), McpError> {
        // Loopback only: never through a proxy the environment names.
        let client = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(McpError::Client)?;
        let (out, answers) = mpsc::unbounded_channel();
        let pipe = Pipe {
            client,
            endpoint: format!("{}/mcp", running.url.trim_end_matches('/')),
            token: running.token.clone(),
            session: Mutex::new(None),
            protocol: Mutex::new(None),
            out,
        };
        Ok((Arc::new(pipe), answers))
    }

    /// Forwards stdin to the server until it closes and every answer is written.
    async fn run(self: Arc<Self>, mut answers: mpsc::UnboundedReceiver<String>) -> Result<(), McpError> {
        let writer = tokio::spawn(async move {
            let mut stdout = tokio::io::stdout();
            while let Some(line) = answers.recv().await {
                let written = async {
                    stdout.write_all(line.as_bytes()).await?;
                    stdout.write_all(b"\n").await?;
                    stdout.flush().await
                };
                if let Err(e) = written.await {
                    tracing::warn!("stdout closed: {e}");
                    return;
                }
            }
        });
        let mut stdin = BufReader::new(tokio::io::stdin()).lines();
        let mut forwarding = tokio::task::JoinSet::new();
        while let Some(line) = stdin.next_line().await.map_err(McpError::Stdin)? {
            if line.trim().is_empty() {
                continue;
            }
            forwarding.spawn(self.clone().forward(line));
        }
        while forwarding.join_next().await.is_some() {}
        // The last sender goes with `self`; the writer then drains and ends.
        drop(self);
        let _ = writer.await;
        Ok(())
    }

    /// POSTs one message and writes what comes back; a request the server could not answer gets
    /// a JSON-RPC error saying why, so the agent is never left waiting.
    async fn forward(self: Arc<Self>, line: String) {
        let message: Value = match serde_json::from_str(&line) {
            Ok(message) => message,
            Err(e) => return self.error(Value::Null, PARSE_ERROR, format!("not JSON: {e}")),
        };
        // A request has a method and an id; notifications and responses are only passed on.
        let request_id = message.get("method").and(message.get("id")).cloned();
        let mut post = self
            .client
            .post(&self.endpoint)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/json, text/event-stream")
            .header(inspector_server::TOKEN_HEADER, &self.token)
            .body(line);
        if let Some(session) = self.session.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            post = post.header("mcp-session-id", session);
        }
        if let Some(protocol) = self.protocol.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            post = post.header("mcp-protocol-version", protocol);
        }
        let response = match post.send().await {
            Ok(response) => response,
            Err(e) => {
                if let Some(id) = request_id {
                    let why = format!("the inspector at {} did not answer ({e}); is it still running?", self.endpoint);
                    self.error(id, INTERNAL_ERROR, why);
                }
                return;
            }
        };
        if let Some(session) = response.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()) {
            *self.session.lock().unwrap_or_else(|p| p.into_inner()) = Some(session.to_owned());
        }
        let status = response.status();
        let events = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/event-stream"));
        let body = match response.text().await {
            Ok(body) => body,
            Err(e) => {
                if let Some(id) = request_id {
                    self.error(id, INTERNAL_ERROR, format!("the inspector's answer broke off: {e}"));
                }
                return;
            }
        };
        if !status.is_success() {
            if let Some(id) = request_id {
                let why = format!("the inspector at {} answered {status}: {}", self.endpoint, body.trim());
                self.error(id, INTERNAL_ERROR, why);
            }
            return;
        }
        let answers = if events { server_sent_data(&body) } else { vec![body] };
        for answer in answers.iter().filter(|a| !a.trim().is_empty()) {
            match serde_json::from_str::<Value>(answer) {
                Ok(value) => self.emit(value),
                Err(e) => tracing::warn!("the inspector sent a message that is not JSON ({e}): {answer}"),
            }
        }
    }

    /// Writes one message from the server, noting the protocol version `initialize` agreed on.
    fn emit(&self, message: Value) {
        if let Some(version) = message.pointer("/result/protocolVersion").and_then(Value::as_str) {
            *self.protocol.lock().unwrap_or_else(|p| p.into_inner()) = Some(version.to_owned());
        }
        let _ = self.out.send(message.to_string());
    }

    fn error(&self, id: Value, code: i64, message: String) {
        let _ =
            self.out.send(json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}).to_string());
    }
}

/// The `data` of each server-sent event in `body` (events without a data line are left out; one
/// with an empty data line, such as a retry hint, gives an empty string).
fn server_sent_data(body: &str) -> Vec<String> {
    let body = body.replace("\r\n", "\n");
    body.split("\n\n")
        .filter_map(|event| {
            let data: Vec<&str> = event
                .lines()
                .filter_map(|line| line.strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect();
            (!data.is_empty()).then(|| data.join("\n"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_sent_events_yield_their_data_and_skip_the_rest() {
        let body = "id: 0\nretry: 3000\ndata:\n\nevent: message\ndata: {\"a\":1}\r\n\r\ndata: {\"b\":\ndata: 2}\n\n";
        assert_eq!(server_sent_data(body), vec!["", "{\"a\":1}", "{\"b\":\n2}"]);
    }
}
