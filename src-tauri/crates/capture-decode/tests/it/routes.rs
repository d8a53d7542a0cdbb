//! PostHog route classification and the replies that do not store events.

use crate::common::*;
use capture_decode::posthog::{config_json, config_script, flags_reply, Route};
use serde_json::{json, Value};

fn parse(url: &str) -> Option<Route> {
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (url, None),
    };
    Route::parse(path, query)
}

#[test]
fn capture_routes_with_and_without_trailing_slash() {
    let cases = [
        ("/e", Route::Capture { legacy: true }),
        ("/capture", Route::Capture { legacy: true }),
        ("/track", Route::Capture { legacy: true }),
        ("/i/v0/e", Route::Capture { legacy: false }),
        ("/batch", Route::Batch),
        ("/engage", Route::Engage),
        ("/s", Route::Recording),
        ("/i/v1/analytics/events", Route::AnalyticsV1),
    ];
    for (path, want) in cases {
        assert_eq!(parse(path), Some(want.clone()), "{path}");
        assert_eq!(parse(&format!("{path}/")), Some(want.clone()), "{path}/");
        assert_eq!(parse(&format!("{path}/?ver=1.2.3&compression=gzip-js")), Some(want.clone()), "{path}/?..");
        assert!(want.is_capture(), "{path}");
    }
}

#[test]
fn legacy_flag_and_names() {
    assert!(parse("/e/").unwrap().is_legacy());
    assert!(parse("/capture").unwrap().is_legacy());
    assert!(parse("/track/").unwrap().is_legacy());
    assert!(parse("/engage").unwrap().is_legacy());
    for path in ["/i/v0/e/", "/batch/", "/s/", "/i/v1/analytics/events"] {
        assert!(!parse(path).unwrap().is_legacy(), "{path}");
    }
    let names: Vec<&str> =
        ["/e", "/i/v0/e", "/batch", "/engage", "/s", "/i/v1/analytics/events", "/flags", "/array/t/config"]
            .iter()
            .map(|p| parse(p).unwrap().name())
            .collect();
    assert_eq!(
        names,
        ["capture", "capture_v0", "batch", "engage", "recording", "analytics_v1", "flags", "remote_config"]
    );
}

#[test]
fn size_limits_per_route() {
    const MB: usize = 1 << 20;
    assert_eq!(parse("/batch/").unwrap().limit(), 20 * MB);
    for path in ["/e/", "/i/v0/e/", "/capture", "/track", "/engage"] {
        assert_eq!(parse(path).unwrap().limit(), 2 * MB, "{path}");
    }
}

#[test]
fn flags_v2_versus_legacy_and_decide() {
    let v2 = Some(Route::Flags { v2: true });
    let legacy = Some(Route::Flags { v2: false });
    assert_eq!(parse("/flags?v=2"), v2);
    assert_eq!(parse("/flags/?v=2"), v2);
    assert_eq!(parse("/flags/?v=2&compression=base64"), v2);
    assert_eq!(parse("/flags/?compression=base64&v=2"), v2);
    assert_eq!(parse("/flags"), legacy);
    assert_eq!(parse("/flags/"), legacy);
    assert_eq!(parse("/flags?v=1"), legacy);
    assert_eq!(parse("/flags?v=abc"), legacy);
    assert_eq!(parse("/decide"), legacy);
    assert_eq!(parse("/decide/?v=3"), legacy);
    assert_eq!(parse("/decide/?v=2"), legacy, "/decide always has the legacy shape");
    assert!(!Route::Flags { v2: true }.is_capture());
}

#[test]
fn remote_config_routes() {
    let script = |t: &str| Some(Route::RemoteConfig { token: t.into(), script: true });
    let json = |t: &str| Some(Route::RemoteConfig { token: t.into(), script: false });
    assert_eq!(parse("/array/phc_abc/config.js"), script("phc_abc"));
    assert_eq!(parse("/array/phc_abc/config"), json("phc_abc"));
    assert_eq!(parse("/array/phc_abc/config/"), json("phc_abc"));
    assert_eq!(parse("/array/phc_abc/config?ip=0"), json("phc_abc"));
    assert!(!parse("/array/phc_abc/config").unwrap().is_capture());
    for bad in ["/array//config", "/array/phc_abc", "/array/phc_abc/", "/array/phc_abc/other.js", "/array/a/b/config"] {
        assert_eq!(parse(bad), None, "{bad}");
    }
}

#[test]
fn unknown_paths_are_not_posthog() {
    for path in [
        "/",
        "",
        "/ee",
        "/e/x",
        "/E",
        "/batches",
        "/i/v0",
        "/i/v1/analytics",
        "/v1/batch",
        "/decide/x",
        "/flagsx",
        "/array",
        "/static/array.js",
        "/e//",
    ] {
        assert_eq!(parse(path), None, "{path:?}");
    }
}

#[test]
fn flags_replies_have_the_right_shape() {
    for (url, method) in [("/flags/?v=2", "POST"), ("/flags?v=2", "GET")] {
        let reply = Req::new(method, url, "ignored body").answer();
        let body = body_json(&reply);
        assert_eq!(body["flags"], json!({}));
        assert_eq!(body["errorsWhileComputingFlags"], false);
        assert!(uuid::Uuid::parse_str(body["requestId"].as_str().unwrap()).is_ok());
    }
    for url in ["/flags/", "/flags?v=1", "/decide/?v=3"] {
        let body = body_json(&Req::post(url, "").answer());
        assert_eq!(body["featureFlags"], json!({}), "{url}");
        assert_eq!(body["featureFlagPayloads"], json!({}));
        assert_eq!(body["errorsWhileComputingFlags"], false);
        assert_eq!(body["supportedCompression"], json!(["gzip", "gzip-js"]));
        assert_eq!(body["sessionRecording"], false);
        assert_eq!(body["siteApps"], json!([]));
        assert!(body.get("flags").is_none());
    }
    // Two v2 replies carry different request ids.
    assert_ne!(flags_reply(true).body, flags_reply(true).body);
}

#[test]
fn remote_config_json_is_the_safe_config() {
    let reply = config_json("phc_cfg");
    assert_eq!((reply.status, reply.content_type), (200, "application/json"));
    let want = json!({"token": "phc_cfg", "supportedCompression": ["gzip", "gzip-js"], "hasFeatureFlags": true,
        "analytics": {"endpoint": "/i/v0/e/"}, "elementsChainAsString": true, "sessionRecording": false,
        "surveys": false, "heatmaps": false, "autocaptureExceptions": false, "capturePerformance": false,
        "defaultIdentifiedOnly": true, "siteApps": []});
    assert_eq!(body_json(&reply), want);
}

#[test]
fn config_script_sets_the_global_and_escapes_the_token() {
    let reply = config_script("phc_cfg");
    let script = String::from_utf8(reply.body).unwrap();
    assert!(script.starts_with("(function(){window._POSTHOG_REMOTE_CONFIG=window._POSTHOG_REMOTE_CONFIG||{};"));
    let prefix = "window._POSTHOG_REMOTE_CONFIG[\"phc_cfg\"]={config:";
    let start = script.find(prefix).expect("assignment") + prefix.len();
    let end = script.rfind(",siteApps:[]};").expect("siteApps");
    let config: Value = serde_json::from_str(&script[start..end]).expect("config is JSON");
    assert_eq!(config, body_json(&config_json("phc_cfg")));

    // A hostile token cannot close the script tag or break out of the string.
    let script = String::from_utf8(config_script("x</script><script>alert(1)//\"\u{2028}").body).unwrap();
    assert!(!script.contains("</script>"), "{script}");
    assert!(!script.contains('\u{2028}'));
    assert!(script.contains("\\u003c/script>"));
}

/// The newer PostHog SDK routes (capture-protocols routes table; PostHog's `rust/capture`
/// router tests for `/i/v0/ai/batch`, `rust/capture-logs/src/service.rs` for logs and metrics).
#[test]
fn newer_sdk_routes() {
    use capture_decode::posthog::{ProductList, Signal};
    let cases = [
        ("/i/v1/events/analytics", Route::AnalyticsV1),
        ("/i/v1/general/events", Route::AnalyticsV1),
        ("/i/v1/general/analytics/events", Route::AnalyticsV1),
        ("/i/v1/ai/events", Route::AnalyticsV1),
        ("/i/v0/ai/batch", Route::AiBatch),
        ("/i/v1/logs?token=phc_t", Route::Telemetry { signal: Signal::Logs }),
        ("/i/v1/metrics?token=phc_t", Route::Telemetry { signal: Signal::Metrics }),
        ("/api/surveys?token=phc_t", Route::ProductList { list: ProductList::Surveys }),
        ("/api/web_experiments?token=phc_t", Route::ProductList { list: ProductList::WebExperiments }),
        ("/api/product_tours?token=phc_t", Route::ProductList { list: ProductList::ProductTours }),
        ("/api/early_access_features?token=phc_t", Route::ProductList { list: ProductList::EarlyAccessFeatures }),
        ("/api/conversations/v1/widget/messages", Route::ProductList { list: ProductList::ConversationsWidget }),
        ("/api/feature_flag/local_evaluation?token=phc_t&send_cohorts", Route::FlagDefinitions),
        ("/flags/definitions", Route::FlagDefinitions),
    ];
    for (url, want) in cases {
        assert_eq!(parse(url), Some(want.clone()), "{url}");
        let slashed = match url.split_once('?') {
            Some((p, q)) => format!("{p}/?{q}"),
            None => format!("{url}/"),
        };
        assert_eq!(parse(&slashed), Some(want), "{slashed}");
    }
    assert!(parse("/i/v0/ai/batch").unwrap().is_capture());
    assert!(parse("/i/v1/general/events").unwrap().is_capture());
    for url in ["/i/v1/logs", "/i/v1/metrics", "/api/surveys", "/flags/definitions"] {
        assert!(!parse(url).unwrap().is_capture(), "{url} stores no events");
    }
    // The inspector's own API paths are not PostHog's.
    for url in ["/api/health", "/api/persons", "/api/conversations", "/api/surveys/extra"] {
        assert_eq!(parse(url), None, "{url}");
    }
}

/// The bodies posthog-js reads: `response.json.surveys`, `.experiments`, `.product_tours`,
/// `.earlyAccessFeatures` (posthog-js surveys.ts, web-experiments.ts, product-tours.ts,
/// posthog-featureflags.ts); logs and metrics get OTLP's `{}`.
#[test]
fn newer_sdk_route_replies() {
    let cases = [
        ("/api/surveys/?token=phc_t", json!({"surveys": []})),
        ("/api/web_experiments/?token=phc_t", json!({"experiments": []})),
        ("/api/product_tours/?token=phc_t", json!({"product_tours": []})),
        ("/api/early_access_features/?token=phc_t", json!({"earlyAccessFeatures": []})),
        (
            "/api/feature_flag/local_evaluation?token=phc_t",
            json!({"flags": [], "group_type_mapping": {}, "cohorts": {}}),
        ),
        ("/flags/definitions", json!({"flags": [], "group_type_mapping": {}, "cohorts": {}})),
    ];
    for (url, want) in cases {
        let reply = Req::get(url).answer();
        assert_eq!(reply.status, 200, "{url}");
        assert_eq!(body_json(&reply), want, "{url}");
    }
    for url in ["/i/v1/logs?token=phc_t", "/i/v1/metrics?token=phc_t"] {
        let reply = Req::post(url, gzip(br#"{"resourceLogs":[]}"#)).answer();
        assert_eq!((reply.status, body_json(&reply)), (200, json!({})), "{url}");
    }
}

/// `/i/v0/ai/batch` is `/batch`'s handler: a batch body, `{"status":1}`, ordinary events.
#[test]
fn ai_batch_events_are_ordinary_events() {
    let body = json!({"api_key": "phc_t", "batch": [
        {"event": "$ai_generation", "distinct_id": "u1", "properties": {"$ai_model": "m"}}
    ]});
    let (capture, reply) = Req::json("/i/v0/ai/batch/", &body).capture();
    assert_eq!(body_json(&reply), json!({"status": 1}));
    assert_eq!(capture.events.len(), 1);
    assert_eq!((capture.events[0].event.as_str(), capture.events[0].distinct_id.as_str()), ("$ai_generation", "u1"));
}
