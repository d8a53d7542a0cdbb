//! `cargo run --release -p export-bench -- [--events N] [--dir DIR]`
//!
//! 1. Writes a bundle of N posthog-node-like events (`/batch/` requests of 100 events, about
//!    500 bytes of JSON each; devices go anonymous → identify → more events).
//! 2. Imports it into a fresh data dir (the CLI's code path: detection, streaming read, the
//!    server's capture decoding, one transaction).
//! 3. Exports everything from that data dir as bundle, NDJSON, HAR and CSV.
//!
//! Each phase reports wall time and its own peak resident memory: the peak (`VmHWM`) is reset
//! through `/proc/self/clear_refs` before each phase (Linux), so a phase that streamed shows a
//! small peak whatever ran before it.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use event_store::{ExportedRequest, Selection, SelectionCounts, Store};
use serde_json::json;
use transfer::bundle::BundleWriter;
use transfer::{export, import_file, ExportFormat, ImportOptions, NoProgress};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 1_000_000)]
    events: usize,
    /// Where the bundle, the data dir and the exports go (default: a temporary directory).
    #[arg(long)]
    dir: Option<PathBuf>,
}

const PER_REQUEST: usize = 100;
const EVENTS_PER_DEVICE: usize = 10;

fn main() {
    let args = Args::parse();
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = args.dir.clone().unwrap_or_else(|| temp.path().to_owned());
    std::fs::create_dir_all(&dir).expect("bench dir");
    let bundle = dir.join("input.iibundle");

    let (_, gen) = phase("generate bundle", || generate(&bundle, args.events));
    println!("  {} events in {} requests, {}", args.events, gen, size(&bundle));

    let data_dir = dir.join("data");
    let _ = std::fs::remove_dir_all(&data_dir);
    let store = Store::open(&data_dir).expect("open store");
    let options = ImportOptions { name: Some("bench".into()), source_name: None, progress: Arc::new(NoProgress) };
    let (import_row, summary) = phase("import bundle", || import_file(&store, &bundle, options).expect("import"));
    assert_eq!(summary.events as usize, args.events, "every event imported");
    let mut rows = vec![import_row];

    let selection = Selection { dataset: Some(summary.dataset.clone()), ..Selection::default() };
    for format in [ExportFormat::Bundle, ExportFormat::Ndjson, ExportFormat::Har, ExportFormat::Csv] {
        let out = dir.join(format!("export.{}", format.extension()));
        let file = std::fs::File::create(&out).expect("export file");
        let (row, written) = phase(&format!("export {}", format.as_str()), || {
            export(&store, &selection, format, file, "http://127.0.0.1:28120", &NoProgress).expect("export")
        });
        assert_eq!(written.events as usize, args.events);
        println!("  {}", size(&out));
        rows.push(row);
    }
    println!("\n| phase | time | events/s | peak memory |\n|---|---|---|---|");
    for (name, seconds, peak) in rows {
        println!("| {name} | {seconds:.1} s | {:.0} | {} MB |", args.events as f64 / seconds, peak / 1024);
    }
}

/// Runs `f`, printing and returning (name, seconds, peak KiB during it).
fn phase<T>(name: &str, f: impl FnOnce() -> T) -> ((String, f64, u64), T) {
    reset_peak();
    let started = Instant::now();
    let value = f();
    let seconds = started.elapsed().as_secs_f64();
    let peak = peak_kib();
    println!("{name}: {seconds:.2} s, peak RSS {} MB", peak / 1024);
    ((name.to_owned(), seconds, peak), value)
}

fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn size(path: &Path) -> String {
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    format!("{} = {:.1} MB", path.file_name().unwrap_or_default().to_string_lossy(), bytes as f64 / 1e6)
}

/// Writes the input bundle; returns the number of requests.
fn generate(path: &Path, events: usize) -> usize {
    let file = std::io::BufWriter::new(std::fs::File::create(path).expect("bundle file"));
    let requests = events.div_ceil(PER_REQUEST);
    let counts = SelectionCounts { requests: requests as i64, events: events as i64 };
    let mut writer = BundleWriter::new(file, &Selection::default(), counts, Default::default()).expect("bundle header");
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z").unwrap().to_utc();
    for r in 0..requests {
        let batch: Vec<_> = (r * PER_REQUEST..((r + 1) * PER_REQUEST).min(events)).map(|i| event(i, start)).collect();
        let received = start + chrono::Duration::milliseconds(r as i64 * 50);
        let body = json!({"api_key": "phc_bench", "batch": batch, "sent_at": received.to_rfc3339()}).to_string();
        let request = ExportedRequest {
            id: r as i64 + 1,
            received_at: received.timestamp_micros(),
            method: "POST".into(),
            path: "/batch/".into(),
            query: None,
            headers: vec![
                ("host".into(), "127.0.0.1:28120".into()),
                ("content-type".into(), "application/json".into()),
                ("user-agent".into(), "posthog-node/5.70.0".into()),
            ],
            body: body.into_bytes(),
            outcome: "accepted".into(),
            status: 200,
            error_code: None,
            event_uuids: Vec::new(),
        };
        writer.request(&request).expect("bundle line");
    }
    let (mut file, _) = writer.finish().expect("bundle end");
    file.flush().expect("flush");
    requests
}

/// Event `i`: device `i / 10`; its 3rd event identifies two devices in three.
fn event(i: usize, start: chrono::DateTime<chrono::Utc>) -> serde_json::Value {
    let device = i / EVENTS_PER_DEVICE;
    let step = i % EVENTS_PER_DEVICE;
    let anon = format!("anon-{device:07}");
    let user = format!("user-{:07}", device / 2);
    let identified = !device.is_multiple_of(3) && step >= 2;
    let distinct_id = if identified { user.clone() } else { anon.clone() };
    let mut properties = json!({
        "$device_id": format!("dev-{device:07}"),
        "$session_id": format!("sess-{device:07}"),
        "$lib": "posthog-node",
        "$lib_version": "5.70.0",
        "$current_url": format!("https://app.example.com/page/{step}"),
        "$host": "app.example.com",
        "$pathname": format!("/page/{step}"),
        "$raw_user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
        "$screen_height": 1080,
        "$screen_width": 1920,
        "plan": if device.is_multiple_of(2) { "free" } else { "pro" },
    });
    let name = if identified && step == 2 {
        properties["$anon_distinct_id"] = json!(anon);
        properties["$set"] = json!({"email": format!("{user}@example.com")});
        "$identify"
    } else {
        "$pageview"
    };
    json!({
        "event": name,
        "distinct_id": distinct_id,
        "uuid": format!("0193a1b2-0000-7000-8000-{i:012}"),
        "timestamp": (start + chrono::Duration::milliseconds(i as i64 * 5)).to_rfc3339(),
        "properties": properties,
    })
}
