//! The bodies PostHog answers with; SDKs parse some of them, so their shape matters.

use serde_json::{json, Value};

use super::{ProductList, Route};
use crate::{Capture, Incoming, Rejection, Reply};

/// PostHog's error body; also what the inspector answers on paths no vendor knows.
pub fn error(rejection: &Rejection) -> Reply {
    Reply::json(
        rejection.status,
        json!({"type": "validation_error", "code": rejection.code, "detail": rejection.message}),
    )
}

/// What PostHog's capture answers with `status` when it is failing rather than refusing the
/// request: the error's text, not JSON (`rust/capture/src/api.rs` in
/// <https://github.com/PostHog/posthog>, `CaptureError`'s `IntoResponse`: 503
/// `RetryableSinkError`, 429 `RateLimited`, 413 `EventTooBig`). 500 and 502 come from what stands
/// in front of capture, with no body of PostHog's; `detail` says who answered. SDKs read the
/// status only (`@posthog/core` halves a batch on any 413, retries 408, 429 and 5xx).
pub fn failing(status: u16, detail: &str) -> Reply {
    let text = match status {
        503 => "transient error, please retry".to_owned(),
        429 => "rate limited".to_owned(),
        413 => "maximum event size exceeded".to_owned(),
        _ => detail.to_owned(),
    };
    Reply::text(status, &text)
}

/// Capture V1's 200 with one `result` per event uuid (`rust/capture/src/v1/analytics/response.rs`:
/// `{"results": {"<uuid>": {"result": "retry", "details": "not_persisted"}}}`; the server adds
/// the `Retry-After` PostHog sends with any `retry`).
pub fn v1_results<'a>(uuids: impl IntoIterator<Item = &'a str>, result: &str, details: &str) -> Reply {
    let results: serde_json::Map<String, Value> =
        uuids.into_iter().map(|u| (u.to_owned(), json!({"result": result, "details": details}))).collect();
    Reply::json(200, json!({ "results": results }))
}

pub(super) fn capture_reply(route: &Route, req: &Incoming<'_>, capture: &Capture) -> Reply {
    if matches!(route, Route::AnalyticsV1) {
        let results: serde_json::Map<String, Value> =
            capture.events.iter().map(|e| (e.uuid.clone(), json!({"result": "ok"}))).collect();
        return Reply::json(200, json!({ "results": results }));
    }
    // sendBeacon callers (posthog-js on unload) ask for 204; everyone else wants 200.
    if req.query_param("beacon").as_deref() == Some("1") {
        return Reply::empty(204);
    }
    Reply::json(200, json!({"status": 1}))
}

pub fn flags_reply(v2: bool) -> Reply {
    if v2 {
        Reply::json(
            200,
            json!({"flags": {}, "errorsWhileComputingFlags": false, "requestId": uuid::Uuid::now_v7().to_string()}),
        )
    } else {
        Reply::json(
            200,
            json!({
                "featureFlags": {}, "featureFlagPayloads": {}, "errorsWhileComputingFlags": false,
                "config": {"enable_collect_everything": false},
                "supportedCompression": ["gzip", "gzip-js"], "sessionRecording": false,
                "siteApps": [], "toolbarParams": {}
            }),
        )
    }
}

/// The body posthog-js reads for each product list: `{"surveys": []}` (surveys.ts),
/// `{"experiments": []}` (web-experiments.ts), `{"product_tours": []}` (product-tours.ts),
/// `{"earlyAccessFeatures": []}` (posthog-featureflags.ts). The conversations widget gets an
/// empty object: its calls only need a 200 with CORS to stay quiet.
pub fn product_list_reply(list: ProductList) -> Reply {
    let body = match list {
        ProductList::Surveys => json!({"surveys": []}),
        ProductList::WebExperiments => json!({"experiments": []}),
        ProductList::ProductTours => json!({"product_tours": []}),
        ProductList::EarlyAccessFeatures => json!({"earlyAccessFeatures": []}),
        ProductList::ConversationsWidget => json!({}),
    };
    Reply::json(200, body)
}

/// Local evaluation with no flags: the SDKs then evaluate nothing locally and fall back to
/// `/flags`, which answers no flags either.
pub fn flag_definitions_reply() -> Reply {
    Reply::json(200, json!({"flags": [], "group_type_mapping": {}, "cohorts": {}}))
}

/// OTLP/HTTP success: an empty JSON object, as `rust/capture-logs` answers logs and metrics.
pub fn telemetry_reply() -> Reply {
    Reply::json(200, json!({}))
}

/// A remote config that keeps posthog-js on plain event capture: no recordings, surveys or
/// site apps that would try to load code from elsewhere.
fn remote_config(token: &str) -> Value {
    json!({
        "token": token, "supportedCompression": ["gzip", "gzip-js"], "hasFeatureFlags": true,
        "analytics": {"endpoint": "/i/v0/e/"}, "elementsChainAsString": true,
        "sessionRecording": false, "surveys": false, "heatmaps": false,
        "autocaptureExceptions": false, "capturePerformance": false,
        "defaultIdentifiedOnly": true, "siteApps": []
    })
}

pub fn config_json(token: &str) -> Reply {
    Reply::json(200, remote_config(token))
}

pub fn config_script(token: &str) -> Reply {
    // JSON text is a JS expression; escaping `<` and the line separators keeps it one in a script.
    let escape =
        |v: &Value| v.to_string().replace('<', "\\u003c").replace('\u{2028}', "\\u2028").replace('\u{2029}', "\\u2029");
    let body = format!(
        "(function(){{window._POSTHOG_REMOTE_CONFIG=window._POSTHOG_REMOTE_CONFIG||{{}};\
         window._POSTHOG_REMOTE_CONFIG[{}]={{config:{},siteApps:[]}};}})();\n",
        escape(&Value::String(token.to_owned())),
        escape(&remote_config(token)),
    );
    Reply { status: 200, content_type: "application/javascript", body: body.into_bytes() }
}
