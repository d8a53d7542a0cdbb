//! Import bombs: small files that unpack huge. Each is refused or capped, an over-limit body is
//! stored refused as `body_too_large` without the body (as live capture stores it), and the
//! process's peak RSS stays under 256 MB throughout.
//!
//! Its own binary: the peak RSS (`VmHWM` of `/proc/self/status`) is the whole process's, so no
//! other test may run beside it.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use event_store::{ExportedRequest, Selection, Store, StoreError};
use flate2::write::GzEncoder;
use flate2::Compression;
use transfer::{import_file, ImportOptions, NoProgress};

const MB: usize = 1 << 20;

/// Peak resident memory of this process so far, in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM");
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

/// `prefix`, `repeat` MB of `fill`, then `suffix`, gzip'd as concatenated members (which
/// gunzip reads as one stream) so that a gigabyte costs one compressed megabyte to make.
fn gzip_bomb(path: &Path, prefix: &str, fill: u8, repeat: usize, suffix: &str) {
    let member = |bytes: &[u8]| {
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap()
    };
    let block = member(&vec![fill; MB]);
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    file.write_all(&member(prefix.as_bytes())).unwrap();
    for _ in 0..repeat {
        file.write_all(&block).unwrap();
    }
    file.write_all(&member(suffix.as_bytes())).unwrap();
    file.flush().unwrap();
}

fn import(store: &Store, path: &Path, name: &str) -> Result<event_store::ImportSummary, event_store::ImportError> {
    let options = ImportOptions { name: Some(name.into()), source_name: None, progress: Arc::new(NoProgress) };
    import_file(store, path, options)
}

fn stored(store: &Store, dataset: &str) -> Vec<ExportedRequest> {
    let selection = Selection { dataset: Some(dataset.into()), ..Selection::default() };
    let mut requests = Vec::new();
    store
        .export_requests(&selection, |r| -> Result<(), StoreError> {
            requests.push(r);
            Ok(())
        })
        .unwrap();
    requests
}

fn har_entry(post_data: &str) -> String {
    format!(
        r#"{{"startedDateTime":"2026-01-01T00:00:00Z","request":{{"method":"POST","url":"https://us.i.posthog.com/batch/","headers":[{{"name":"Content-Type","value":"application/json"}}],"postData":{post_data}}}}}"#
    )
}

fn small_batch() -> String {
    let batch = r#"{"api_key":"phc_bomb","batch":[{"event":"e","distinct_id":"u","properties":{}}]}"#;
    har_entry(&format!(r#"{{"mimeType":"application/json","text":{}}}"#, serde_json::to_string(batch).unwrap()))
}

#[test]
fn bombs_are_capped_and_memory_stays_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("data")).unwrap();
    let baseline = peak_rss();

    // One gigabyte NDJSON line: refused by its length, before it is held whole.
    let ndjson = dir.path().join("line.ndjson.gz");
    let first = "{\"event\":\"e\",\"distinct_id\":\"u\"}\n";
    gzip_bomb(
        &ndjson,
        &format!(r#"{first}{{"event":"e","distinct_id":"u","properties":{{"p":""#),
        b'a',
        1024,
        "\"}}\n",
    );
    let err = import(&store, &ndjson, "line").unwrap_err().to_string();
    assert!(err.contains("line 2 is longer than 16 MB"), "{err}");

    // A HAR whose body is a 270 MB string: the string is cut while it is read, and the request
    // is stored refused as too large, without its body; the next entry is imported as usual.
    let har = dir.path().join("string.har.gz");
    let prefix = format!(
        r#"{{"log":{{"version":"1.2","entries":[{},{}"#,
        small_batch(),
        har_entry(r#"{"mimeType":"application/json","text":""#).strip_suffix("}}").unwrap()
    );
    let suffix = format!(r#""}}}}}},{}]}}}}"#, small_batch());
    gzip_bomb(&har, &prefix, b' ', 270, &suffix);
    let summary = import(&store, &har, "string").expect("the HAR imports");
    assert_eq!(summary.requests, 3, "{summary:?}");
    let requests = stored(&store, "import:string");
    let big = &requests[1];
    assert_eq!((big.status, big.error_code.as_deref()), (413, Some("body_too_large")));
    assert!(big.body.is_empty(), "the over-limit body is not kept ({} bytes)", big.body.len());
    assert_eq!(requests[2].outcome, "accepted");

    // A zip'd HAR whose attachment unpacks to 270 MB: read up to the route's limit only.
    let zipped = dir.path().join("attached.zip");
    {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&zipped).unwrap());
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let attached = har_entry(r#"{"mimeType":"application/json","_file":"body.bin"}"#);
        zip.start_file("har.har", options).unwrap();
        write!(zip, r#"{{"log":{{"version":"1.2","entries":[{attached},{}]}}}}"#, small_batch()).unwrap();
        zip.start_file("body.bin", options).unwrap();
        let block = vec![b' '; MB];
        for _ in 0..270 {
            zip.write_all(&block).unwrap();
        }
        zip.finish().unwrap();
    }
    assert!(std::fs::metadata(&zipped).unwrap().len() < 4 * MB as u64);
    let summary = import(&store, &zipped, "attached").expect("the zip imports");
    assert_eq!(summary.requests, 2, "{summary:?}");
    let requests = stored(&store, "import:attached");
    assert_eq!(requests[0].error_code.as_deref(), Some("body_too_large"));
    assert!(requests[0].body.is_empty());

    let peak = peak_rss();
    assert!(peak < 256 * MB as u64, "peak RSS {} MB (from {} MB at the start)", peak / MB as u64, baseline / MB as u64);
    eprintln!("import bombs: peak RSS {} MB (baseline {} MB)", peak / MB as u64, baseline / MB as u64);
}
