//! Caps on the strings of a JSON document read as a stream, so that a HAR whose entry holds a
//! gigabyte string (a body, a header) never materialises it: serde would allocate the whole
//! string before any code could look at its length.
//!
//! Invariants:
//! - The output is valid JSON whenever the input is: a string is cut only between characters
//!   (never inside an escape or a UTF-8 sequence), and a cut string ends with [`MARK`].
//! - No string holds more than `max_string` bytes (plus the mark), and the strings nested deeper
//!   than `budget_depth` (for a HAR, inside one entry) hold at most `budget` bytes together
//!   until the document comes back up to that depth.

use std::io::{BufRead, Read};

/// What a cut string ends with (a NUL, which text bodies do not hold, then a name).
pub(crate) const MARK: &str = "\u{0}inspector:cut";
/// [`MARK`] as JSON string content.
const MARK_JSON: &[u8] = b"\\u0000inspector:cut";

/// Whether the reader cut this string.
pub(crate) fn was_cut(text: &str) -> bool {
    text.ends_with(MARK)
}

pub(crate) struct CappedStrings<R> {
    inner: R,
    max_string: usize,
    budget_depth: usize,
    budget: usize,
    /// Bytes read from `inner`, not filtered yet.
    input: Vec<u8>,
    /// Filtered bytes not handed out yet, from `out_at`.
    out: Vec<u8>,
    out_at: usize,
    depth: usize,
    used: usize,
    in_string: bool,
    cutting: bool,
    /// Just after a backslash.
    escaped: bool,
    /// Hex digits of a `\u` escape still to come.
    hex_left: u8,
    len: usize,
}

impl<R: Read> CappedStrings<R> {
    pub(crate) fn new(inner: R, max_string: usize, budget_depth: usize, budget: usize) -> Self {
        CappedStrings {
            inner,
            max_string,
            budget_depth,
            budget,
            input: vec![0; 1 << 16],
            out: Vec::with_capacity(1 << 16),
            out_at: 0,
            depth: 0,
            used: 0,
            in_string: false,
            cutting: false,
            escaped: false,
            hex_left: 0,
            len: 0,
        }
    }

    /// Moves the escape state past `b`; true when `b` ends the string.
    fn string_byte(&mut self, b: u8) -> bool {
        if self.escaped {
            self.escaped = false;
            if b == b'u' {
                self.hex_left = 4;
            }
        } else if self.hex_left > 0 {
            self.hex_left -= 1;
        } else if b == b'\\' {
            self.escaped = true;
        } else if b == b'"' {
            return true;
        }
        false
    }

    fn filter(&mut self, n: usize) {
        for i in 0..n {
            let b = self.input[i];
            if !self.in_string {
                match b {
                    b'"' => {
                        self.in_string = true;
                        self.len = 0;
                    }
                    b'{' | b'[' => self.depth += 1,
                    b'}' | b']' => {
                        self.depth = self.depth.saturating_sub(1);
                        if self.depth <= self.budget_depth {
                            self.used = 0;
                        }
                    }
                    _ => {}
                }
                self.out.push(b);
                continue;
            }
            if !self.cutting {
                let between_chars = !self.escaped && self.hex_left == 0 && b & 0xC0 != 0x80 && b != b'"';
                let over = self.len >= self.max_string || (self.depth > self.budget_depth && self.used >= self.budget);
                if between_chars && over {
                    self.cutting = true;
                } else {
                    self.out.push(b);
                    if self.string_byte(b) {
                        self.in_string = false;
                    } else {
                        self.len += 1;
                        if self.depth > self.budget_depth {
                            self.used += 1;
                        }
                    }
                    continue;
                }
            }
            // Cutting: drop the rest of the string, then close it with the mark.
            if self.string_byte(b) {
                self.out.extend_from_slice(MARK_JSON);
                self.out.push(b'"');
                self.in_string = false;
                self.cutting = false;
            }
        }
    }
}

impl<R: Read> Read for CappedStrings<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.out_at == self.out.len() {
            self.out.clear();
            self.out_at = 0;
            let n = self.inner.read(&mut self.input)?;
            if n == 0 {
                return Ok(0);
            }
            self.filter(n);
        }
        let n = buf.len().min(self.out.len() - self.out_at);
        buf[..n].copy_from_slice(&self.out[self.out_at..self.out_at + n]);
        self.out_at += n;
        Ok(n)
    }
}

/// `BufRead::read_line`, refusing a line longer than `max` bytes (an `InvalidInput` error that
/// says so) instead of growing the line without bound.
pub(crate) fn read_line_capped(lines: &mut impl BufRead, into: &mut String, max: usize) -> std::io::Result<usize> {
    let mut bytes = Vec::new();
    let n = Read::take(&mut *lines, max as u64 + 1).read_until(b'\n', &mut bytes)?;
    let content = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
    if content.len() > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("a line is longer than {} MB", max >> 20),
        ));
    }
    into.push_str(std::str::from_utf8(&bytes).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?);
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capped(json: &str, max: usize, budget: usize) -> serde_json::Value {
        let mut text = String::new();
        CappedStrings::new(json.as_bytes(), max, 1, budget).read_to_string(&mut text).unwrap();
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    #[test]
    fn long_strings_are_cut_between_characters_and_marked() {
        let v = capped(r#"{"a":"short","b":"abcdefgh","c":"é\u00e9\"xyz","d":[1,"ok"]}"#, 5, 1000);
        assert_eq!(v["a"], "short");
        assert_eq!(v["b"].as_str().unwrap(), format!("abcde{MARK}"));
        assert!(was_cut(v["c"].as_str().unwrap()));
        assert!(v["c"].as_str().unwrap().starts_with("é"), "{v}");
        assert_eq!(v["d"][1], "ok");
        assert!(!was_cut(v["a"].as_str().unwrap()));
    }

    #[test]
    fn long_lines_are_refused_before_they_are_read_whole() {
        let mut input = "ab\ncdefgh\n".as_bytes();
        let mut line = String::new();
        assert_eq!(read_line_capped(&mut input, &mut line, 3).unwrap(), 3);
        assert_eq!(line, "ab\n");
        let err = read_line_capped(&mut input, &mut String::new(), 3).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    }

    #[test]
    fn strings_of_one_item_share_a_budget() {
        let v = capped(r#"[{"a":"xxxx","b":"yyyy"},{"a":"zzzz"}]"#, 100, 6);
        assert_eq!(v[0]["a"], "xxxx", "keys count too: {v}");
        assert!(was_cut(v[0]["b"].as_str().unwrap()), "{v}");
        assert_eq!(v[1]["a"], "zzzz", "the budget starts again with the next item");
    }
}
