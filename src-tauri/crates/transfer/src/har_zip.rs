//! HARs recorded with their bodies attached: Playwright's `recordHar` to a `.zip` writes the
//! HAR as `har.har` (or another `*.har`) and each body as a file that `postData._file` names.
//! This keeps binary bodies (posthog-js' gzip) intact, which a HAR's text fields cannot.
//!
//! Invariants: nothing of the zip is held whole in memory. The HAR is unpacked to an anonymous
//! temporary file (at most [`MAX_HAR_JSON`]) and read from there as a stream; an attached body
//! is read up to its route's limit and no further, whatever it unpacks to.

use std::io::{Read, Seek, SeekFrom};

use crate::har::Attachments;
use crate::FileError;

/// Most a HAR of attached bodies may unpack to (on disk, not in memory).
const MAX_HAR_JSON: u64 = 2 << 30;

/// The HAR's JSON (a temporary file, at its start), and a reader for its attachments.
pub fn open<R: Read + Seek + Send + 'static>(input: R) -> Result<(std::fs::File, Attachments), FileError> {
    let bad = |e: zip::result::ZipError| FileError::Invalid(format!("the zip cannot be read: {e}"));
    let mut archive = zip::ZipArchive::new(input).map_err(bad)?;
    let name = archive
        .file_names()
        .filter_map(Result::ok)
        .map(|n| n.into_owned())
        .filter(|n| n.ends_with(".har"))
        .min_by_key(|n| (n != "har.har", n.len()))
        .ok_or_else(|| FileError::UnknownFormat("a zip without a .har file in it".into()))?;
    let mut har = tempfile::tempfile()?;
    let copied = std::io::copy(&mut archive.by_name(&name).map_err(bad)?.take(MAX_HAR_JSON + 1), &mut har)?;
    if copied > MAX_HAR_JSON {
        return Err(FileError::Invalid(format!("{name} in the zip unpacks to more than {} GB", MAX_HAR_JSON >> 30)));
    }
    har.seek(SeekFrom::Start(0))?;
    let attachments: Attachments = Box::new(move |file: &str, limit: usize| {
        let mut body = Vec::new();
        let entry = archive.by_name(file).map_err(std::io::Error::other)?;
        entry.take(limit as u64 + 1).read_to_end(&mut body)?;
        Ok((body.len() <= limit).then_some(body))
    });
    Ok((har, attachments))
}
