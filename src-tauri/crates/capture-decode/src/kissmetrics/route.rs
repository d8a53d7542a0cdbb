//! KISSmetrics' tracking paths (support.kissmetrics.io "API specifications"): `/e` record an
//! event, `/s` set properties, `/a` alias two identities. `/e` and `/s` are PostHog paths too:
//! see `detect` for how a request is told to be KISSmetrics'.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `/e`: record an event (`_n` is its name).
    Event,
    /// `/s`: set properties on the person `_p`.
    Set,
    /// `/a`: `_p` and `_n` are two identities of one person.
    Alias,
}

impl Route {
    /// Recognises the path alone (trailing slash optional).
    pub fn parse(path: &str) -> Option<Route> {
        Some(match path.strip_suffix('/').unwrap_or(path) {
            "/e" => Route::Event,
            "/s" => Route::Set,
            "/a" => Route::Alias,
            _ => return None,
        })
    }

    /// Parameters of one call: the JS library sends them as an image URL, so a few KB at most;
    /// the form body of a server library is no larger. 64 KB leaves room without reading
    /// anything a tracking call could not be.
    pub fn limit(&self) -> usize {
        64 << 10
    }

    /// Every KISSmetrics route carries a call.
    pub fn is_capture(&self) -> bool {
        true
    }

    pub fn name(&self) -> &'static str {
        match self {
            Route::Event => "kissmetrics_event",
            Route::Set => "kissmetrics_set",
            Route::Alias => "kissmetrics_alias",
        }
    }
}
