//! The server's two error types: [`ServerError`] for starting and running the server, and
//! [`ApiError`] for every `/api` answer that is not a success.
//!
//! Invariants: every `/api` failure is an `ApiError`, answered as [`ErrorBody`]
//! (`{"error": "<message>", "code": "<code>"}`, plus `"parameter"` when one parameter was at
//! fault); the status follows from the code alone ([`ErrorCode::status`]), so a client can switch
//! on `code` and never has to match the message.

use std::net::SocketAddr;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] event_store::StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    /// The MCP session over stdio could not start or ended with an error (`mcp`).
    #[error("MCP over stdio: {0}")]
    Mcp(String),
}

/// What went wrong with an `/api` call, for programs: stable snake_case names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A query or path parameter does not parse or names something unknown (400; the body's
    /// `parameter` says which).
    InvalidParameter,
    /// A required query parameter is absent (400; `parameter` says which).
    MissingParameter,
    /// The store refused a filter value it checks itself, e.g. `outcome` (400).
    InvalidQuery,
    /// The request body is not what the endpoint takes (400).
    InvalidBody,
    /// An uploaded file could not be imported; nothing was stored (400).
    ImportFailed,
    /// The call changes data and lacks this launch's token, or has a wrong one (403).
    BadToken,
    /// The `Host` header does not name this server on loopback: DNS rebinding protection (403).
    WrongHost,
    /// The thing the path or a parameter names does not exist (404).
    NotFound,
    /// No endpoint at this path under `/api` (404).
    NoEndpoint,
    /// The endpoint exists but not for this method (405).
    MethodNotAllowed,
    /// The data dir is read-only: reads work, changes do not (503).
    StorageReadOnly,
    /// The store failed (500).
    StorageFailed,
    /// A bug or a crashed task in the server (500).
    Internal,
}

impl ErrorCode {
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::InvalidParameter
            | ErrorCode::MissingParameter
            | ErrorCode::InvalidQuery
            | ErrorCode::InvalidBody
            | ErrorCode::ImportFailed => StatusCode::BAD_REQUEST,
            ErrorCode::BadToken | ErrorCode::WrongHost => StatusCode::FORBIDDEN,
            ErrorCode::NotFound | ErrorCode::NoEndpoint => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            // Clearing, importing or pruning a read-only data dir: the server is fine, storage is not.
            ErrorCode::StorageReadOnly => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::StorageFailed | ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Every `/api` failure. The message is the `error` text a person reads; the variant gives the
/// [`ErrorCode`].
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    InvalidParameter { parameter: String, message: String },
    #[error("{message}")]
    MissingParameter { parameter: &'static str, message: String },
    #[error("{0}")]
    InvalidBody(String),
    #[error("{0}")]
    ImportFailed(String),
    #[error("{0}")]
    BadToken(String),
    #[error("{0}")]
    WrongHost(String),
    #[error("{0}")]
    NotFound(String),
    /// A parameter names something that does not exist (404, naming the parameter).
    #[error("{message}")]
    NotFoundParameter { parameter: &'static str, message: String },
    #[error("no API endpoint at {0}")]
    NoEndpoint(String),
    #[error("{method} is not allowed on {path}")]
    MethodNotAllowed { method: axum::http::Method, path: String },
    /// `what` failed without it being the caller's fault (a task panicked, a read failed).
    #[error("{0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] event_store::StoreError),
}

impl ApiError {
    pub fn invalid_parameter(parameter: &str, message: impl Into<String>) -> ApiError {
        ApiError::InvalidParameter { parameter: parameter.to_owned(), message: message.into() }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::InvalidParameter { .. } => ErrorCode::InvalidParameter,
            ApiError::MissingParameter { .. } => ErrorCode::MissingParameter,
            ApiError::InvalidBody(_) => ErrorCode::InvalidBody,
            ApiError::ImportFailed(_) => ErrorCode::ImportFailed,
            ApiError::BadToken(_) => ErrorCode::BadToken,
            ApiError::WrongHost(_) => ErrorCode::WrongHost,
            ApiError::NotFound(_) | ApiError::NotFoundParameter { .. } => ErrorCode::NotFound,
            ApiError::NoEndpoint(_) => ErrorCode::NoEndpoint,
            ApiError::MethodNotAllowed { .. } => ErrorCode::MethodNotAllowed,
            ApiError::Internal(_) => ErrorCode::Internal,
            ApiError::Store(event_store::StoreError::InvalidQuery(_)) => ErrorCode::InvalidQuery,
            ApiError::Store(event_store::StoreError::ReadOnly(_)) => ErrorCode::StorageReadOnly,
            ApiError::Store(_) => ErrorCode::StorageFailed,
        }
    }

    fn parameter(&self) -> Option<&str> {
        match self {
            ApiError::InvalidParameter { parameter, .. } => Some(parameter),
            ApiError::MissingParameter { parameter, .. } => Some(parameter),
            ApiError::NotFoundParameter { parameter, .. } => Some(parameter),
            _ => None,
        }
    }
}

/// The body of every `/api` error answer.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ErrorBody {
    pub error: String,
    pub code: ErrorCode,
    /// The query or path parameter at fault, for `invalid_parameter` and `missing_parameter`, and
    /// for `not_found` when a parameter named what does not exist.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub parameter: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.code();
        match code {
            ErrorCode::Internal => tracing::error!("internal error while answering the API: {self}"),
            ErrorCode::StorageFailed => tracing::error!("store error while answering the API: {self}"),
            _ => {}
        }
        let body = ErrorBody { error: self.to_string(), code, parameter: self.parameter().map(str::to_owned) };
        (code.status(), Json(body)).into_response()
    }
}
