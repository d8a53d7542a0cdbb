//! DNS-rebinding protection for `/api`: a page on `evil.example` that resolves to 127.0.0.1 still
//! sends `Host: evil.example`, so only this server's own loopback names are accepted.

use std::net::SocketAddr;

use axum::extract::{Request, State};
use axum::http::header::HOST;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::AppState;

#[derive(Debug)]
pub struct AllowedHosts {
    hosts: Vec<String>,
}

impl AllowedHosts {
    pub fn for_addr(addr: SocketAddr) -> AllowedHosts {
        let port = addr.port();
        let mut hosts = vec![format!("127.0.0.1:{port}"), format!("localhost:{port}"), format!("[::1]:{port}")];
        let ip = addr.ip();
        if !ip.is_loopback() && !ip.is_unspecified() {
            hosts.push(SocketAddr::new(ip, port).to_string());
        }
        AllowedHosts { hosts }
    }

    pub fn primary(&self) -> &str {
        &self.hosts[0]
    }

    pub fn allows(&self, host: &str) -> bool {
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
    }
}

pub async fn check(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.to_string()));
    match host {
        Some(host) if state.hosts.allows(&host) => next.run(request).await,
        other => ApiError::WrongHost(format!(
            "the API only answers requests addressed to {} (Host was {}); this protects it from DNS rebinding",
            state.hosts.primary(),
            other.map(|h| format!("{h:?}")).unwrap_or_else(|| "missing".into())
        ))
        .into_response(),
    }
}
