//! Writing a selection of stored traffic in one of the export formats, streaming.

use std::io::Write;

use event_store::{ExportedRequest, Selection, SelectionCounts, Store};

use crate::bundle::BundleWriter;
use crate::csv_out::CsvWriter;
use crate::har::HarWriter;
use crate::redact::{self, Secrets};
use crate::{ExportError, Progress};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Bundle,
    Ndjson,
    Har,
    Csv,
}

impl ExportFormat {
    pub fn parse(text: &str) -> Option<ExportFormat> {
        Some(match text {
            "bundle" => ExportFormat::Bundle,
            "ndjson" => ExportFormat::Ndjson,
            "har" => ExportFormat::Har,
            "csv" => ExportFormat::Csv,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Bundle => "bundle",
            ExportFormat::Ndjson => "ndjson",
            ExportFormat::Har => "har",
            ExportFormat::Csv => "csv",
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Bundle => "iibundle",
            ExportFormat::Ndjson => "ndjson",
            ExportFormat::Har => "har",
            ExportFormat::Csv => "csv",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Bundle => "application/gzip",
            ExportFormat::Ndjson => "application/x-ndjson",
            ExportFormat::Har => "application/json",
            ExportFormat::Csv => "text/csv; charset=utf-8",
        }
    }

    /// Whether the format holds raw requests (else events).
    pub fn holds_requests(self) -> bool {
        matches!(self, ExportFormat::Bundle | ExportFormat::Har)
    }
}

#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct ExportSummary {
    pub requests: i64,
    pub events: i64,
}

/// Hands every selected request to `write`, counting requests and events and moving `progress`
/// (the formats that hold raw requests: bundle and HAR).
fn each_request(
    store: &Store,
    selection: &Selection,
    counts: SelectionCounts,
    progress: &dyn Progress,
    summary: &mut ExportSummary,
    mut write: impl FnMut(&ExportedRequest) -> std::io::Result<()>,
) -> Result<(), ExportError> {
    progress.start(Some(counts.requests as u64), "requests");
    store.export_requests(selection, |request| -> Result<(), ExportError> {
        write(&request)?;
        summary.requests += 1;
        summary.events += request.event_uuids.len() as i64;
        progress.advance(1);
        Ok(())
    })
}

/// Writes `selection` as `format` to `out`, safe to share (secret headers redacted, see
/// [`crate::redact`]). `base_url` names the inspector in HAR URLs.
/// Holds one request or event in memory at a time.
pub fn export(
    store: &Store,
    selection: &Selection,
    format: ExportFormat,
    out: impl Write,
    base_url: &str,
    progress: &dyn Progress,
) -> Result<ExportSummary, ExportError> {
    export_with(store, selection, format, out, base_url, progress, Secrets::Redact)
}

/// [`export`], choosing whether secret headers are written as received.
pub fn export_with(
    store: &Store,
    selection: &Selection,
    format: ExportFormat,
    out: impl Write,
    base_url: &str,
    progress: &dyn Progress,
    secrets: Secrets,
) -> Result<ExportSummary, ExportError> {
    let counts = store.count_selection(selection)?;
    let mut summary = ExportSummary::default();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    match format {
        ExportFormat::Bundle => {
            let mut writer = BundleWriter::new(&mut out, selection, counts, exported_settings(store, selection)?)?;
            each_request(store, selection, counts, progress, &mut summary, |r| {
                writer.request(&redact::request(r, secrets))
            })?;
            writer.finish()?;
        }
        ExportFormat::Har => {
            let mut writer = HarWriter::new(&mut out, base_url)?;
            each_request(store, selection, counts, progress, &mut summary, |r| {
                writer.request(&redact::request(r, secrets))
            })?;
            writer.finish()?;
        }
        ExportFormat::Ndjson => {
            progress.start(Some(counts.events as u64), "events");
            store.export_events(selection, |event| -> Result<(), ExportError> {
                crate::ndjson::write_event(&mut out, &event)?;
                summary.events += 1;
                progress.advance(1);
                Ok(())
            })?;
        }
        ExportFormat::Csv => {
            progress.start(Some(counts.events as u64), "events");
            let mut writer = CsvWriter::new(&mut out)?;
            store.export_events(selection, |event| -> Result<(), ExportError> {
                writer.event(&event)?;
                summary.events += 1;
                progress.advance(1);
                Ok(())
            })?;
            writer.finish()?;
        }
    }
    out.flush()?;
    progress.finish();
    Ok(summary)
}

/// The configured identity settings of the projects `selection` exports, keyed by project key
/// without its data-set prefix (the importing inspector adds its own).
fn exported_settings(
    store: &Store,
    selection: &Selection,
) -> Result<std::collections::BTreeMap<String, serde_json::Value>, ExportError> {
    let mut out = std::collections::BTreeMap::new();
    for row in store.project_settings()? {
        let (dataset, key) = event_store::split_project(&row.project);
        let wanted = match &selection.project {
            Some(project) => *project == row.project,
            None => dataset == selection.dataset.as_deref(),
        };
        if let (true, Ok(value)) = (wanted, serde_json::from_str(&row.settings)) {
            out.insert(key.to_owned(), value);
        }
    }
    Ok(out)
}
