//! Which format a file is in, from its first bytes (gzip or not): import never trusts a file name.

use std::io::{BufRead, BufReader, Cursor, Read};

use crate::FileError;

/// Formats import understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Bundle,
    Har,
    Ndjson,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Bundle => "bundle",
            Format::Har => "har",
            Format::Ndjson => "ndjson",
        }
    }
}

/// How much of the (decompressed) start of a file detection looks at: enough for the first
/// NDJSON line of a posthog-js event with all its properties.
const PEEK: u64 = 256 * 1024;

/// Opens `input` (gunzipping it when it starts with gzip's magic bytes) and names its format.
/// The returned reader yields the whole decompressed content, peeked bytes included.
pub fn open(mut input: impl Read + Send + 'static) -> Result<(Format, Box<dyn BufRead + Send>), FileError> {
    let mut magic = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        match input.read(&mut magic[got..])? {
            0 => break,
            n => got += n,
        }
    }
    let start = Cursor::new(magic[..got].to_vec()).chain(input);
    let mut content: Box<dyn Read + Send> = if got == 2 && magic == [0x1f, 0x8b] {
        Box::new(flate2::read::MultiGzDecoder::new(start))
    } else {
        Box::new(start)
    };
    let mut head = Vec::new();
    (&mut content).take(PEEK).read_to_end(&mut head).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => FileError::Truncated("the compressed data ends early".into()),
        std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData => {
            FileError::UnknownFormat(format!("it looks gzip-compressed but does not decompress ({e})"))
        }
        _ => FileError::Io(e),
    })?;
    let format = detect(&head)?;
    Ok((format, Box::new(BufReader::with_capacity(1 << 16, Cursor::new(head).chain(content)))))
}

/// Names the format of a file from its (decompressed) first bytes.
pub fn detect(head: &[u8]) -> Result<Format, FileError> {
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = text.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else { return Err(FileError::Empty) };
    let text = &text[start..];
    if text[0] != b'{' {
        let what = if text[0] == b'[' {
            "a JSON array (expected a bundle, a HAR or NDJSON events)".to_string()
        } else {
            "it is not JSON".to_string()
        };
        return Err(FileError::UnknownFormat(what));
    }
    // A HAR is one object whose first key is "log" (browsers and Playwright write it first).
    let after_brace = skip_ws(&text[1..]);
    if after_brace.starts_with(b"\"log\"") {
        return Ok(Format::Har);
    }
    let first_line = match text.iter().position(|&b| b == b'\n') {
        Some(end) => &text[..end],
        None if (head.len() as u64) < PEEK => text,
        None => return Err(FileError::UnknownFormat("its first line is longer than 256 KB and is not a HAR".into())),
    };
    let value: serde_json::Value = serde_json::from_slice(first_line).map_err(|e| {
        FileError::UnknownFormat(format!(
            "its first line is not a JSON object ({e}); expected a bundle, a HAR or NDJSON events"
        ))
    })?;
    if value.get("format").and_then(|f| f.as_str()) == Some(crate::bundle::FORMAT) {
        return Ok(Format::Bundle);
    }
    if value.get("log").is_some() {
        return Ok(Format::Har);
    }
    if value.get("event").is_some() {
        return Ok(Format::Ndjson);
    }
    Err(FileError::UnknownFormat(
        "its first line is JSON but neither a bundle header, a HAR nor an event (no `event` key)".into(),
    ))
}

fn skip_ws(text: &[u8]) -> &[u8] {
    let n = text.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &text[n..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_apart_by_content() {
        assert_eq!(detect(br#"{"format":"identity-inspector-bundle","version":1}"#).unwrap(), Format::Bundle);
        assert_eq!(detect(b"{\n  \"log\": {\n").unwrap(), Format::Har);
        assert_eq!(detect(br#"{"event":"$pageview","distinct_id":"a"}"#).unwrap(), Format::Ndjson);
        assert_eq!(detect(b"\xEF\xBB\xBF{\"event\":\"x\"}\n{\"event\":\"y\"}").unwrap(), Format::Ndjson);
    }

    #[test]
    fn other_content_is_refused_with_a_reason() {
        assert!(matches!(detect(b""), Err(FileError::Empty)));
        assert!(matches!(detect(b"  \n"), Err(FileError::Empty)));
        let err = detect(b"hello world").unwrap_err().to_string();
        assert!(err.contains("not JSON"), "{err}");
        let err = detect(b"{\"a\":1}").unwrap_err().to_string();
        assert!(err.contains("no `event`"), "{err}");
        let err = detect(b"{\"event\": ").unwrap_err().to_string();
        assert!(err.contains("not a JSON object"), "{err}");
    }

    #[test]
    fn gzip_is_looked_through() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"{\"event\":\"x\",\"distinct_id\":\"a\"}\n").unwrap();
        let bytes = gz.finish().unwrap();
        let (format, mut content) = open(Cursor::new(bytes)).unwrap();
        assert_eq!(format, Format::Ndjson);
        let mut text = String::new();
        content.read_to_string(&mut text).unwrap();
        assert!(text.starts_with("{\"event\""));
    }
}
