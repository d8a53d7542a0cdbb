//! Segment's tracking API paths, which RudderStack serves too (<https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/>).

/// The message type a single-message route implies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    Identify,
    Track,
    Page,
    Screen,
    Group,
    Alias,
}

impl MessageType {
    pub fn parse(text: &str) -> Option<MessageType> {
        Some(match text {
            "identify" => MessageType::Identify,
            "track" => MessageType::Track,
            "page" => MessageType::Page,
            "screen" => MessageType::Screen,
            "group" => MessageType::Group,
            "alias" => MessageType::Alias,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Identify => "identify",
            MessageType::Track => "track",
            MessageType::Page => "page",
            MessageType::Screen => "screen",
            MessageType::Group => "group",
            MessageType::Alias => "alias",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/v1/identify` ... and analytics-next's short forms `/v1/i` ...: one message.
    Single(MessageType),
    /// `/v1/batch`, `/v1/b`, `/v1/import`; `beacon` for RudderStack's `/beacon/v1/batch`.
    Batch { import: bool, beacon: bool },
    /// `/v1/m`: analytics-next's own metrics. Accepted, stored as a request, no events.
    Metrics,
    /// `GET /v1/projects/<wk>/settings` (or without `/v1`).
    Settings { write_key: String },
    /// `GET /sourceConfig`: RudderStack's JS SDK loads its configuration here.
    SourceConfig,
}

/// The most a single message may weigh (Segment's documented limit).
pub const MESSAGE_LIMIT: usize = 32 * 1024;
/// The most a batch request may weigh, decompressed.
pub const BATCH_LIMIT: usize = 500 * 1024;

impl Route {
    /// Recognises a Segment/RudderStack path; a trailing slash is allowed.
    pub fn parse(path: &str) -> Option<Route> {
        let trimmed = path.strip_suffix('/').unwrap_or(path);
        if trimmed == "/sourceConfig" {
            return Some(Route::SourceConfig);
        }
        if trimmed == "/beacon/v1/batch" {
            return Some(Route::Batch { import: false, beacon: true });
        }
        let settings = trimmed.strip_prefix("/v1/projects/").or_else(|| trimmed.strip_prefix("/projects/"));
        if let Some(rest) = settings {
            let write_key = rest.strip_suffix("/settings")?;
            if write_key.is_empty() || write_key.contains('/') {
                return None;
            }
            return Some(Route::Settings { write_key: write_key.to_owned() });
        }
        let name = trimmed.strip_prefix("/v1/")?;
        let single = |t| Some(Route::Single(t));
        match name {
            "identify" | "i" => single(MessageType::Identify),
            "track" | "t" => single(MessageType::Track),
            "page" | "p" => single(MessageType::Page),
            "screen" | "s" => single(MessageType::Screen),
            "group" | "g" => single(MessageType::Group),
            "alias" | "a" => single(MessageType::Alias),
            "batch" | "b" => Some(Route::Batch { import: false, beacon: false }),
            "import" => Some(Route::Batch { import: true, beacon: false }),
            "m" => Some(Route::Metrics),
            _ => None,
        }
    }

    /// Largest decompressed body this route accepts.
    pub fn limit(&self) -> usize {
        match self {
            Route::Single(_) => MESSAGE_LIMIT,
            _ => BATCH_LIMIT,
        }
    }

    /// Routes only RudderStack's SDKs use.
    pub fn is_rudder_only(&self) -> bool {
        matches!(self, Route::SourceConfig | Route::Batch { beacon: true, .. })
    }

    /// Whether the route carries messages (as opposed to settings or metrics).
    pub fn is_capture(&self) -> bool {
        matches!(self, Route::Single(_) | Route::Batch { .. })
    }

    /// The name stored in `requests.route`.
    pub fn name(&self) -> &'static str {
        match self {
            Route::Single(t) => match t {
                MessageType::Identify => "segment_identify",
                MessageType::Track => "segment_track",
                MessageType::Page => "segment_page",
                MessageType::Screen => "segment_screen",
                MessageType::Group => "segment_group",
                MessageType::Alias => "segment_alias",
            },
            Route::Batch { beacon: true, .. } => "rudderstack_beacon",
            Route::Batch { import: true, .. } => "segment_import",
            Route::Batch { .. } => "segment_batch",
            Route::Metrics => "segment_metrics",
            Route::Settings { .. } => "segment_settings",
            Route::SourceConfig => "rudderstack_source_config",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_and_short_form() {
        for (path, name) in [
            ("/v1/identify", "segment_identify"),
            ("/v1/i", "segment_identify"),
            ("/v1/track/", "segment_track"),
            ("/v1/t", "segment_track"),
            ("/v1/page", "segment_page"),
            ("/v1/p", "segment_page"),
            ("/v1/screen", "segment_screen"),
            ("/v1/s", "segment_screen"),
            ("/v1/group", "segment_group"),
            ("/v1/g", "segment_group"),
            ("/v1/alias", "segment_alias"),
            ("/v1/a", "segment_alias"),
            ("/v1/batch", "segment_batch"),
            ("/v1/b", "segment_batch"),
            ("/v1/import", "segment_import"),
            ("/v1/m", "segment_metrics"),
            ("/beacon/v1/batch", "rudderstack_beacon"),
            ("/sourceConfig/", "rudderstack_source_config"),
            ("/v1/projects/wk_1/settings", "segment_settings"),
            ("/projects/wk_1/settings", "segment_settings"),
        ] {
            assert_eq!(Route::parse(path).map(|r| r.name()), Some(name), "{path}");
        }
        assert_eq!(Route::parse("/v1/projects/abc/settings"), Some(Route::Settings { write_key: "abc".into() }));
        for path in ["/v1/x", "/v1", "/v1/projects//settings", "/v1/projects/a/b/settings", "/track", "/batch"] {
            assert_eq!(Route::parse(path), None, "{path}");
        }
    }
}
