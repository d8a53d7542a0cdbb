//! What Segment and RudderStack answer. SDKs read some of it: analytics-python reads `code` and
//! `message` of an error; analytics-next takes its whole configuration from the settings.

use serde_json::{json, Value};

use crate::{Incoming, Rejection, Reply, Source};

pub fn success(source: Source) -> Reply {
    match source {
        Source::Rudderstack => Reply::text(200, "OK"),
        _ => Reply::json(200, json!({"success": true})),
    }
}

/// Segment: `{"code":"invalid_request","message":..}`; RudderStack answers errors as text.
pub fn error(source: Source, rejection: &Rejection) -> Reply {
    match source {
        Source::Rudderstack => Reply::text(rejection.status, &rejection.message),
        _ => Reply::json(rejection.status, json!({"code": "invalid_request", "message": rejection.message})),
    }
}

/// The host the SDK reached us at, so it keeps sending here (`127.0.0.1:28120`, or a LAN name).
fn host(req: &Incoming<'_>) -> String {
    req.header("host").map(str::trim).filter(|h| !h.is_empty()).unwrap_or("127.0.0.1").to_owned()
}

/// analytics-next's CDN settings. Without `integrations["Segment.io"]` it would send to the real
/// Segment; `apiHost` without scheme plus `protocol` is how it builds its URLs. The rest are
/// the fields analytics-next reads at start-up, set so that it loads nothing from elsewhere
/// (no remote plugins, no edge functions, no middleware) and sends no metrics.
pub fn settings(write_key: &str, req: &Incoming<'_>) -> Reply {
    let api_host = format!("{}/v1", host(req));
    let body: Value = json!({
        "integrations": {
            "Segment.io": {
                "apiKey": write_key,
                "apiHost": api_host,
                "protocol": "http",
                "unbundledIntegrations": [],
                "addBundledMetadata": true,
                "maybeBundledConfigIds": {},
                "versionSettings": {"version": "4.4.7", "componentTypes": ["browser"]}
            }
        },
        "plan": {
            "track": {"__default": {"enabled": true, "integrations": {}}},
            "identify": {"__default": {"enabled": true}},
            "group": {"__default": {"enabled": true}}
        },
        "edgeFunction": {},
        "analyticsNextEnabled": true,
        "middlewareSettings": {},
        "enabledMiddleware": {},
        "metrics": {"sampleRate": 0},
        "legacyVideoPluginsEnabled": false,
        "remotePlugins": [],
        "consentSettings": {"allCategories": []}
    });
    Reply::json(200, body)
}

/// RudderStack JS v3's source configuration: enabled, no destinations (device-mode
/// destinations would load code from elsewhere), no error or metric reporting.
pub fn source_config(write_key: &str) -> Reply {
    Reply::json(
        200,
        json!({
            "isHosted": false,
            "source": {
                "id": format!("inspector-{write_key}"),
                "name": "Identity Inspector",
                "writeKey": write_key,
                "enabled": true,
                "workspaceId": "identity-inspector",
                "config": {"statsCollection": {"errorReports": {"enabled": false}, "metrics": {"enabled": false}}},
                "destinations": []
            }
        }),
    )
}
