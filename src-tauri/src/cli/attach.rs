//! The inspector a query command (`tail`, `persons`, `devices`, `warnings`, `why`) reads: the one
//! running for `--data-dir` (the holder of the `instance.lock` that `serve` and the desktop app
//! keep there, `instance::holder`), or the one at `--url`. The commands read the same `/api`
//! answers as the UI, so no identity rule exists twice.
//!
//! Invariants:
//! - The found server must show the token the lock file holds (`GET /api/control`, which only a
//!   same-host client can read) before it is believed to be the data dir's: the lock says a
//!   process lives, this says the address it published is still that process's.
//! - Every failure is one [`CliError`] variant with a sentence that says what to do.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use serde::Deserialize;

/// How long a plain API call may take (a read of a big model during a rebuild can take seconds).
const CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the found server has to show it is the data dir's.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Which inspector to read.
#[derive(Args, Debug, Clone, Default)]
pub struct AttachArgs {
    /// The data dir of the running inspector to read [default: the platform's data directory,
    /// as for `serve`].
    #[arg(long, value_name = "DIR", conflicts_with = "url")]
    pub data_dir: Option<PathBuf>,
    /// Read the inspector at this address instead (`http://127.0.0.1:28120`).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
}

/// Why a query command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(
        "no Identity Inspector is running for {data_dir} ({why}).\nStart one with:  identity-inspector serve \
         --data-dir {data_dir}\nor pass --url http://127.0.0.1:<port> of one that runs"
    )]
    NotRunning { data_dir: String, why: String },
    #[error("cannot reach the inspector at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{path} answered {status}: {message}")]
    Api { path: String, status: u16, code: Option<String>, parameter: Option<String>, message: String },
    #[error("{path} answered something this command cannot read: {reason}")]
    BadAnswer { path: String, reason: String },
    #[error("{0}")]
    Usage(String),
    #[error("lost the inspector at {url}: {reason}")]
    Lost { url: String, reason: String },
}

/// A running inspector's API.
pub struct Inspector {
    url: reqwest::Url,
    client: reqwest::blocking::Client,
}

/// The error body every `/api` failure has (`{"error", "code"}`).
#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    code: Option<String>,
    /// The query or path parameter at fault (`a` of `/api/why` for an id never seen).
    parameter: Option<String>,
}

impl AttachArgs {
    /// The inspector these flags name; `before` is a `--data-dir` given before the subcommand.
    pub fn attach(&self, before: Option<PathBuf>) -> Result<Inspector, CliError> {
        if let Some(url) = &self.url {
            return Inspector::at(url);
        }
        let data_dir = self.data_dir.clone().or(before).unwrap_or_else(crate::args::default_data_dir);
        Inspector::of_data_dir(&data_dir)
    }
}

impl Inspector {
    fn at(url: &str) -> Result<Inspector, CliError> {
        let parsed = reqwest::Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| {
                CliError::Usage(format!("--url must be an http address like http://127.0.0.1:28120, not {url:?}"))
            })?;
        let client = reqwest::blocking::Client::builder()
            .timeout(CALL_TIMEOUT)
            .build()
            .map_err(|e| CliError::Unreachable { url: url.to_owned(), reason: e.to_string() })?;
        Ok(Inspector { url: parsed, client })
    }

    fn of_data_dir(data_dir: &Path) -> Result<Inspector, CliError> {
        let shown = data_dir.display().to_string();
        let not_running = |why: String| CliError::NotRunning { data_dir: shown.clone(), why };
        let published = match crate::instance::holder(data_dir) {
            crate::instance::Holder::Running(published) => published,
            crate::instance::Holder::Nobody => return Err(not_running("nothing holds its instance.lock".into())),
            crate::instance::Holder::Starting => {
                return Err(not_running("one is starting and has not said where yet; try again in a moment".into()))
            }
        };
        let inspector = Inspector::at(&published.url)?;
        #[derive(Deserialize)]
        struct Control {
            token: String,
        }
        let answer = inspector
            .client
            .get(inspector.endpoint("/api/control", &[]))
            .timeout(PROBE_TIMEOUT)
            .send()
            .and_then(|r| r.error_for_status())
            .and_then(|r| r.json::<Control>());
        match answer {
            Ok(control) if control.token == published.token => Ok(inspector),
            Ok(_) => Err(not_running(format!(
                "the inspector holding its lock (pid {}) does not own {} any more",
                published.pid, published.url
            ))),
            Err(e) => Err(not_running(format!(
                "the inspector holding its lock (pid {}, {}) does not answer: {}",
                published.pid,
                published.url,
                reason(&e)
            ))),
        }
    }

    /// The server's address (`http://127.0.0.1:<port>/`).
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// `path` on this server with `params` as its query (each value encoded).
    pub fn endpoint(&self, path: &str, params: &[(&str, String)]) -> reqwest::Url {
        let mut url = self.url.join(path).unwrap_or_else(|_| self.url.clone());
        if !params.is_empty() {
            url.query_pairs_mut().extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())));
        }
        url
    }

    /// `GET path?params`: the answer's body as text (a 2xx), or the API's error as a
    /// [`CliError::Api`].
    pub fn get_text(&self, path: &str, params: &[(&str, String)]) -> Result<String, CliError> {
        let response = self
            .client
            .get(self.endpoint(path, params))
            .send()
            .map_err(|e| CliError::Unreachable { url: self.url.to_string(), reason: reason(&e) })?;
        self.answer(path, response)
    }

    /// A response's body as text (a 2xx), or the API's error as a [`CliError::Api`].
    fn answer(&self, path: &str, response: reqwest::blocking::Response) -> Result<String, CliError> {
        let status = response.status();
        let text =
            response.text().map_err(|e| CliError::Unreachable { url: self.url.to_string(), reason: reason(&e) })?;
        if !status.is_success() {
            let (message, code, parameter) = match serde_json::from_str::<ErrorBody>(&text) {
                Ok(body) => (body.error, body.code, body.parameter),
                Err(_) => (text.chars().take(300).collect(), None, None),
            };
            return Err(CliError::Api { path: path.to_owned(), status: status.as_u16(), code, parameter, message });
        }
        Ok(text)
    }

    /// The control token that calls which change data send (`GET /api/control`, readable only
    /// from this host).
    pub fn control_token(&self) -> Result<String, CliError> {
        #[derive(Deserialize)]
        struct Control {
            token: String,
        }
        Ok(self.get::<Control>("/api/control", &[])?.token)
    }

    /// `DELETE /api/projects/{key}` with the control token: the project's traffic and model
    /// are gone, every other project's kept. The answer's JSON (what was deleted).
    pub fn delete_project(&self, key: &str, token: &str) -> Result<serde_json::Value, CliError> {
        let mut url = self.endpoint("/api/projects/", &[]);
        // One path segment, encoded: a key may hold any character.
        url.path_segments_mut()
            .map_err(|_| CliError::Usage(format!("{} cannot take a path", self.url)))?
            .pop_if_empty()
            .push(key);
        let path = format!("/api/projects/{key}");
        let response = self
            .client
            .delete(url)
            .header(inspector_server::TOKEN_HEADER, token)
            .send()
            .map_err(|e| CliError::Unreachable { url: self.url.to_string(), reason: reason(&e) })?;
        let text = self.answer(&path, response)?;
        serde_json::from_str(&text).map_err(|e| CliError::BadAnswer { path, reason: e.to_string() })
    }

    /// `GET path?params` read as `T`.
    pub fn get<T: serde::de::DeserializeOwned>(&self, path: &str, params: &[(&str, String)]) -> Result<T, CliError> {
        let text = self.get_text(path, params)?;
        serde_json::from_str(&text).map_err(|e| CliError::BadAnswer { path: path.to_owned(), reason: e.to_string() })
    }

    /// `GET path` as a stream with no time limit (`/api/stream`).
    pub fn open_stream(&self, path: &str) -> Result<reqwest::blocking::Response, CliError> {
        let unreachable = |e: reqwest::Error| CliError::Unreachable { url: self.url.to_string(), reason: reason(&e) };
        let client = reqwest::blocking::Client::builder().timeout(None::<Duration>).build().map_err(unreachable)?;
        let response = client.get(self.endpoint(path, &[])).send().map_err(unreachable)?;
        if !response.status().is_success() {
            let status = response.status().as_u16();
            return Err(CliError::Api {
                path: path.to_owned(),
                status,
                code: None,
                parameter: None,
                message: "no stream".into(),
            });
        }
        Ok(response)
    }
}

/// A reqwest error in words, with its cause (reqwest's own text says only "error sending request").
fn reason(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
