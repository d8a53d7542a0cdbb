//! Exports are safe to share by default: the Cookie a browser sends to localhost and the write
//! key in `Authorization: Basic` never reach a bundle or a HAR verbatim, unless asked for with
//! `?secrets=keep`.

use std::io::Read;

use crate::common::*;
use serde_json::{json, Value};

const COOKIE: &str = "ph_phc_secret_posthog=%7B%22distinct_id%22%3A%22u%22%7D; session=s3cr3t-cookie";
const WRITE_KEY: &str = "wk_0123456789abcdefSECRET";

async fn with_secrets() -> App {
    let app = app();
    let basic = format!("Basic {}", b64(format!("{WRITE_KEY}:").as_bytes()));
    let body = json!({"batch": [{"type": "track", "event": "x", "userId": "u", "messageId": "m-1"}]});
    let resp = app
        .post(
            "/v1/batch",
            &[("content-type", "application/json"), ("cookie", COOKIE), ("authorization", &basic)],
            body.to_string(),
        )
        .await;
    assert!(resp.status.is_success(), "{}", resp.text());
    app
}

/// Every header of every request in a bundle (gzip'd NDJSON) or a HAR.
fn headers(format: &str, file: &[u8]) -> Vec<(String, String)> {
    let pairs = |v: &Value| -> Vec<(String, String)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|h| match h {
                Value::Array(p) => (p[0].as_str().unwrap().to_owned(), p[1].as_str().unwrap().to_owned()),
                h => (h["name"].as_str().unwrap().to_owned(), h["value"].as_str().unwrap().to_owned()),
            })
            .collect()
    };
    match format {
        "bundle" => {
            let mut text = String::new();
            flate2::read::GzDecoder::new(file).read_to_string(&mut text).unwrap();
            text.lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .filter(|l| l.get("headers").is_some())
                .flat_map(|l| pairs(&l["headers"]))
                .collect()
        }
        _ => {
            let har: Value = serde_json::from_slice(file).unwrap();
            har["log"]["entries"].as_array().unwrap().iter().flat_map(|e| pairs(&e["request"]["headers"])).collect()
        }
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    &headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).unwrap_or_else(|| panic!("no {name}: {headers:?}")).1
}

#[tokio::test(flavor = "multi_thread")]
async fn bundle_and_har_exports_redact_cookies_and_keys_unless_asked_to_keep_them() {
    let app = with_secrets().await;
    for format in ["bundle", "har"] {
        let resp = app.get(&format!("/api/export?format={format}")).await;
        assert_eq!(resp.status.as_u16(), 200, "{}", resp.text());
        let text = String::from_utf8_lossy(&resp.body).into_owned();
        let found = headers(format, &resp.body);
        assert!(!found.is_empty(), "{format}: {text}");
        let cookie = header(&found, "cookie");
        assert_eq!(cookie, "ph_phc_secret_posthog=[redacted]; session=[redacted]", "{format}");
        let auth = header(&found, "authorization");
        let decoded = String::from_utf8(unb64(auth.strip_prefix("Basic ").unwrap())).unwrap();
        assert_eq!(decoded, "wk_01234…:", "{format}: the write key is shortened as in errors");
        for (_, value) in &found {
            assert!(
                !value.contains("s3cr3t") && !value.contains(&b64(WRITE_KEY.as_bytes())[..12]),
                "{format}: {value}"
            );
        }
        assert_eq!(header(&found, "content-type"), "application/json", "{format}: other headers stay");

        let resp = app.get(&format!("/api/export?format={format}&secrets=keep")).await;
        assert_eq!(resp.status.as_u16(), 200, "{}", resp.text());
        let kept = headers(format, &resp.body);
        assert_eq!(header(&kept, "cookie"), COOKIE, "{format}");
        assert_eq!(header(&kept, "authorization"), format!("Basic {}", b64(format!("{WRITE_KEY}:").as_bytes())));
    }
    let resp = app.get("/api/export?format=har&secrets=maybe").await;
    assert_eq!(resp.status.as_u16(), 400, "{}", resp.text());
}

/// The recorded browser SDKs send their cookie to the inspector, and the server SDKs their write
/// key in `Authorization`: none of those values is in a default bundle or HAR.
#[tokio::test(flavor = "multi_thread")]
async fn recorded_sdk_cookies_and_write_keys_stay_out_of_default_exports() {
    let app = app();
    let mut secrets = Vec::new();
    for file in [POSTHOG_JS, MIXPANEL_BROWSER, SEGMENT_NODE, SEGMENT_PYTHON, RUDDER_PYTHON] {
        for line in 0..file.lines().count() {
            let recorded = recorded(file, line);
            for name in ["cookie", "authorization"] {
                if let Some(value) = recorded.header(name) {
                    secrets.push(value.to_owned());
                }
            }
            app.send(recorded.request()).await;
        }
    }
    assert!(secrets.iter().any(|s| s.contains("ph_") && s.contains("posthog=")), "posthog-js sent its cookie");
    assert!(secrets.iter().any(|s| s.starts_with("Basic ")), "a server SDK sent Basic auth");
    for format in ["bundle", "har"] {
        let found = headers(format, &app.get(&format!("/api/export?format={format}")).await.body);
        for secret in &secrets {
            assert!(!found.iter().any(|(_, v)| v == secret), "{format} holds {secret}");
        }
        let kept = headers(format, &app.get(&format!("/api/export?format={format}&secrets=keep")).await.body);
        for secret in &secrets {
            assert!(kept.iter().any(|(_, v)| v == secret), "{format} with secrets=keep lacks {secret}");
        }
    }
}
