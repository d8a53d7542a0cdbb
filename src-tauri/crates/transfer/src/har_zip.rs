//! HARs recorded with their bodies attached: Playwright's `recordHar` to a `.zip` writes the
//! HAR as `har.har` (or another `*.har`) and each body as a file that `postData._file` names.
//! This keeps binary bodies (posthog-js' gzip) intact, which a HAR's text fields cannot.

use std::io::{Read, Seek};

use crate::har::Attachments;
use crate::FileError;

/// Most a HAR of attached bodies should take in memory (its bodies live outside it).
const MAX_HAR_JSON: u64 = 512 << 20;

/// The HAR's JSON, and a reader for its attachments.
pub fn open<R: Read + Seek + Send + 'static>(input: R) -> Result<(Vec<u8>, Attachments), FileError> {
    let bad = |e: zip::result::ZipError| FileError::Invalid(format!("the zip cannot be read: {e}"));
    let mut archive = zip::ZipArchive::new(input).map_err(bad)?;
    let name = archive
        .file_names()
        .filter_map(Result::ok)
        .map(|n| n.into_owned())
        .filter(|n| n.ends_with(".har"))
        .min_by_key(|n| (n != "har.har", n.len()))
        .ok_or_else(|| FileError::UnknownFormat("a zip without a .har file in it".into()))?;
    let mut har = Vec::new();
    archive.by_name(&name).map_err(bad)?.take(MAX_HAR_JSON).read_to_end(&mut har)?;
    let attachments: Attachments = Box::new(move |file: &str| {
        let mut body = Vec::new();
        let mut entry = archive.by_name(file).map_err(std::io::Error::other)?;
        entry.read_to_end(&mut body)?;
        Ok(body)
    });
    Ok((har, attachments))
}
