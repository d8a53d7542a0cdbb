//! CSV of events for spreadsheets: one row per event, arrival order, properties as JSON text.
//! Imported data sets are written under their original token (`project`) with `dataset` beside.

use std::io::Write;

use event_store::{split_project, StoredEvent};

use crate::bundle::micros_text;

pub const COLUMNS: [&str; 16] = [
    "seq",
    "uuid",
    "timestamp",
    "event",
    "distinct_id",
    "device_id",
    "session_id",
    "project",
    "dataset",
    "source",
    "original_timestamp",
    "sent_at",
    "received_at",
    "request_id",
    "warnings",
    "properties",
];

pub struct CsvWriter<W: Write> {
    out: csv::Writer<W>,
}

impl<W: Write> CsvWriter<W> {
    pub fn new(out: W) -> csv::Result<CsvWriter<W>> {
        let mut out = csv::Writer::from_writer(out);
        out.write_record(COLUMNS)?;
        Ok(CsvWriter { out })
    }

    pub fn event(&mut self, e: &StoredEvent) -> csv::Result<()> {
        let (dataset, token) = split_project(&e.project);
        let seq = e.seq.to_string();
        let request_id = e.request_id.to_string();
        let timestamp = micros_text(e.timestamp);
        let received_at = micros_text(e.received_at);
        self.out.write_record([
            seq.as_str(),
            &e.uuid,
            &timestamp,
            &e.event,
            &e.distinct_id,
            e.device_id.as_deref().unwrap_or(""),
            e.session_id.as_deref().unwrap_or(""),
            token,
            dataset.unwrap_or(""),
            &e.source,
            e.original_timestamp.as_deref().unwrap_or(""),
            e.sent_at.as_deref().unwrap_or(""),
            &received_at,
            &request_id,
            e.warnings.as_deref().unwrap_or(""),
            &e.properties,
        ])
    }

    pub fn finish(self) -> Result<W, crate::ExportError> {
        self.out.into_inner().map_err(|e| crate::ExportError::Write(e.into_error()))
    }
}
