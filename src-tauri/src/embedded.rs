//! The capture server running inside the desktop process: bound with a port fallback, started on
//! the app's Tokio runtime, stopped with the same graceful path as `serve` (stop accepting, end
//! live streams, finish in-flight requests, flush the writer).
//!
//! Plain Tokio, no Tauri: tested without a display.

use std::sync::Mutex;
use std::time::Duration;

use inspector_server::{BoundServer, Notice, ServerConfig, ServerError, ServerHandle};
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

use crate::launch::LaunchPlan;
use crate::port::{bind_with_fallback, PortFallback};

pub struct EmbeddedServer {
    pub handle: ServerHandle,
    pub fallback: Option<PortFallback>,
    runtime: Handle,
    task: Mutex<Option<JoinHandle<Result<(), ServerError>>>>,
}

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
    #[error(transparent)]
    Server(#[from] ServerError),
}

impl EmbeddedServer {
    /// Binds and starts serving on `runtime`. `notices` (settings problems, address warnings) are
    /// shown by the UI along with the port fallback, if any.
    pub fn start(plan: &LaunchPlan, runtime: &Handle, notices: Vec<Notice>) -> Result<EmbeddedServer, EmbeddedError> {
        let _inside = runtime.enter();
        let bind_error = |source| EmbeddedError::Bind { addr: format!("{}:{}", plan.bind, plan.port), source };
        let (listener, fallback) = bind_with_fallback(plan.bind, plan.port).map_err(bind_error)?;
        listener.set_nonblocking(true).map_err(bind_error)?;
        let listener = tokio::net::TcpListener::from_std(listener).map_err(bind_error)?;
        let config = ServerConfig { bind: plan.bind, port: plan.port, data_dir: plan.data_dir.clone(), identity: true };
        let server = BoundServer::with_listener(&config, listener)?;
        let handle = server.handle();
        for notice in notices {
            handle.control().set_notice(notice);
        }
        if let Some(fallback) = fallback {
            let message = fallback.message(handle.url());
            tracing::warn!("{message}");
            handle.control().set_notice(Notice::warning("port_taken", message));
        }
        let task = runtime.spawn(server.run_until(std::future::pending()));
        Ok(EmbeddedServer { handle, fallback, runtime: runtime.clone(), task: Mutex::new(Some(task)) })
    }

    pub fn url(&self) -> &str {
        self.handle.url()
    }

    /// Stops the server and waits (up to `patience`) until every accepted request is committed.
    /// Call from outside the runtime (the app's main thread). True when it stopped in time.
    pub fn stop(&self, patience: Duration) -> bool {
        let Some(task) = self.task.lock().unwrap_or_else(|p| p.into_inner()).take() else { return true };
        self.handle.shutdown();
        match self.runtime.block_on(async move { tokio::time::timeout(patience, task).await }) {
            Ok(Ok(Ok(()))) => {
                tracing::info!("server stopped; all accepted requests are committed");
                true
            }
            Ok(Ok(Err(e))) => {
                tracing::error!("server stopped with an error: {e}");
                false
            }
            Ok(Err(e)) => {
                tracing::error!("server task failed: {e}");
                false
            }
            Err(_) => {
                tracing::error!("server did not stop within {patience:?}");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::DEFAULT_BIND;

    fn plan(dir: &std::path::Path, port: u16) -> LaunchPlan {
        LaunchPlan { data_dir: dir.to_owned(), bind: DEFAULT_BIND, port, warnings: vec![] }
    }

    fn get(url: &str, path: &str) -> String {
        use std::io::{Read, Write};
        let host = url.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(host).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn a_taken_port_falls_back_and_the_api_says_so() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let wanted = taken.local_addr().unwrap().port();
        let server =
            EmbeddedServer::start(&plan(dir.path(), wanted), runtime.handle(), vec![Notice::info("hello", "hi")])
                .unwrap();
        let got = server.fallback.expect("fell back").got;
        assert_eq!(server.url(), format!("http://127.0.0.1:{got}"));
        let health = get(server.url(), "/api/health");
        assert!(health.contains("port_taken") && health.contains(&format!("Port {wanted} is in use")), "{health}");
        assert!(health.contains("\"hello\""));
        assert!(server.stop(Duration::from_secs(10)));
        assert!(server.stop(Duration::from_secs(1)), "stopping twice is harmless");
    }

    #[test]
    fn stop_flushes_what_was_accepted() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let server = EmbeddedServer::start(&plan(dir.path(), 0), runtime.handle(), vec![]).unwrap();
        let body = r#"{"api_key":"phc_t","batch":[{"event":"e","distinct_id":"d"}]}"#;
        use std::io::{Read, Write};
        let host = server.url().trim_start_matches("http://").to_owned();
        let mut s = std::net::TcpStream::connect(&host).unwrap();
        write!(s, "POST /batch/ HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
        let mut reply = String::new();
        s.read_to_string(&mut reply).unwrap();
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        assert!(server.stop(Duration::from_secs(10)));
        drop(server);
        drop(runtime);
        let conn = rusqlite_count(dir.path());
        assert_eq!(conn, 1);
    }

    fn rusqlite_count(dir: &std::path::Path) -> i64 {
        let store = event_store::Store::open(dir).unwrap();
        store.totals().unwrap().events
    }
}
