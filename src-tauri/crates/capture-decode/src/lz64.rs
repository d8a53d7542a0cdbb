//! lz-string `compressToBase64` decoding, as sent by old posthog-js with `compression=lz64`.
//!
//! Written here rather than taken from a crate because the decoder must stop at an output limit:
//! LZW output can grow quadratically with its input, so an unbounded decoder turns a small request
//! into gigabytes. The dictionary only ever holds prefixes of emitted output plus one character, so
//! bounding the output also bounds the dictionary.

use crate::Rejection;

const ALPHABET: &[u8; 65] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";

fn invalid(detail: &str) -> Rejection {
    Rejection::bad_request("invalid_lz64", format!("lz64 payload could not be decompressed: {detail}"))
}

struct Bits<'a> {
    input: &'a [u8],
    value: u32,
    position: u32,
    index: usize,
}

impl Bits<'_> {
    const RESET: u32 = 32;

    fn next_value(&mut self) -> Result<u32, Rejection> {
        let byte = *self.input.get(self.index).unwrap_or(&b'=');
        self.index += 1;
        ALPHABET
            .iter()
            .position(|&c| c == byte)
            .map(|p| p as u32)
            .ok_or_else(|| invalid(&format!("byte {byte:#04x} is not in the base64 alphabet")))
    }

    fn read(&mut self, count: u32) -> Result<u32, Rejection> {
        let mut bits = 0;
        for power in 0..count {
            if self.index > self.input.len() + 1 {
                return Err(invalid("input ended in the middle of a code"));
            }
            let bit = self.value & self.position != 0;
            self.position >>= 1;
            if self.position == 0 {
                self.position = Self::RESET;
                self.value = self.next_value()?;
            }
            bits |= (bit as u32) << power;
        }
        Ok(bits)
    }
}

/// Decodes `compressToBase64` output; `limit` bounds the output in UTF-16 code units.
pub fn decompress_from_base64(input: &str, limit: usize) -> Result<String, Rejection> {
    if input.is_empty() {
        return Err(invalid("empty input"));
    }
    let mut bits = Bits { input: input.as_bytes(), value: 0, position: Bits::RESET, index: 0 };
    bits.value = bits.next_value()?;

    // Codes 0..=2 are control codes; their slots are placeholders.
    let mut dictionary: Vec<Vec<u16>> = vec![Vec::new(), Vec::new(), Vec::new()];
    let mut enlarge_in: u32 = 4;
    let mut num_bits: u32 = 3;

    let first = match bits.read(2)? {
        0 => bits.read(8)? as u16,
        1 => bits.read(16)? as u16,
        2 => return Ok(String::new()),
        _ => return Err(invalid("bad first code")),
    };
    dictionary.push(vec![first]);
    let mut previous = vec![first];
    let mut output: Vec<u16> = vec![first];

    loop {
        if bits.index > bits.input.len() {
            return Err(invalid("input ended before the end-of-stream marker"));
        }
        let mut code = bits.read(num_bits)? as usize;
        match code {
            0 | 1 => {
                let width = if code == 0 { 8 } else { 16 };
                let literal = bits.read(width)? as u16;
                dictionary.push(vec![literal]);
                code = dictionary.len() - 1;
                enlarge_in -= 1;
            }
            2 => break,
            _ => {}
        }
        if enlarge_in == 0 {
            enlarge_in = 1 << num_bits;
            num_bits += 1;
            if num_bits > 31 {
                return Err(invalid("dictionary grew past any real payload"));
            }
        }
        let entry = if code < dictionary.len() {
            dictionary[code].clone()
        } else if code == dictionary.len() {
            let mut e = previous.clone();
            e.push(previous[0]);
            e
        } else {
            return Err(invalid(&format!("code {code} refers past the dictionary")));
        };
        if output.len() + entry.len() > limit {
            return Err(Rejection::too_large(limit));
        }
        output.extend_from_slice(&entry);
        let mut added = previous;
        added.push(entry[0]);
        dictionary.push(added);
        enlarge_in -= 1;
        previous = entry;
        if enlarge_in == 0 {
            enlarge_in = 1 << num_bits;
            num_bits += 1;
        }
    }
    String::from_utf16(&output).map_err(|_| invalid("result is not valid UTF-16 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_the_reference_compressor() {
        let samples = [
            "a".to_string(),
            r#"[{"event":"$pageview","properties":{"distinct_id":"abc","token":"phc_x"}}]"#.to_string(),
            "ééé ünïcödé ✓ 🎉 ".repeat(50),
            (0..2000).map(|i| format!("{{\"i\":{i}}},")).collect::<String>(),
        ];
        for sample in samples {
            let compressed = lz_str::compress_to_base64(&sample);
            assert_eq!(decompress_from_base64(&compressed, 1 << 20).unwrap(), sample);
        }
    }

    #[test]
    fn stops_at_the_limit() {
        let big = "x".repeat(100_000);
        let compressed = lz_str::compress_to_base64(&big);
        assert!(compressed.len() < 2_000, "highly repetitive input compresses well");
        let err = decompress_from_base64(&compressed, 10_000).unwrap_err();
        assert_eq!(err.status, 413);
    }

    #[test]
    fn garbage_is_a_400_not_a_panic() {
        for input in ["!!!!", "AAAA", "////", "hello world", "=", "NoXQ", "BAAAAAAAAAAAAAA"] {
            match decompress_from_base64(input, 1 << 20) {
                Ok(_) => {}
                Err(e) => assert!(e.status == 400 || e.status == 413, "{input}: {e}"),
            }
        }
    }
}
