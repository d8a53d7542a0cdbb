//! How the query commands write for a person: colour only on a terminal (and never with
//! `NO_COLOR`, see <https://no-color.org>), columns that fit 80 characters, long text cut with
//! `…` or wrapped. Pure functions over strings, so the formatting is unit-tested without a
//! server.

use std::io::IsTerminal;

/// The width human output is laid out for.
pub const WIDTH: usize = 80;

/// Whether to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

/// The colours the commands use, as ANSI SGR codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paint {
    Bold,
    Dim,
    Red,
    Green,
    Yellow,
    Blue,
    Magenta,
    Cyan,
}

impl Paint {
    fn code(self) -> &'static str {
        match self {
            Paint::Bold => "1",
            Paint::Dim => "2",
            Paint::Red => "31",
            Paint::Green => "32",
            Paint::Yellow => "33",
            Paint::Blue => "34",
            Paint::Magenta => "35",
            Paint::Cyan => "36",
        }
    }
}

impl Style {
    /// Colour when standard output is a terminal, `NO_COLOR` is unset or empty and `TERM` is not
    /// `dumb`: piped output (a file, `grep`, a test) stays plain text.
    pub fn detect() -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        Style { color: std::io::stdout().is_terminal() && !no_color && !dumb }
    }

    #[cfg(test)]
    pub const PLAIN: Style = Style { color: false };

    /// `text` in `paint` (as is without colour).
    pub fn paint(self, paint: Paint, text: &str) -> String {
        if self.color && !text.is_empty() {
            format!("\x1b[{}m{text}\x1b[0m", paint.code())
        } else {
            text.to_owned()
        }
    }
}

/// Characters as a terminal counts them (every character one column: the ids and names shown
/// here are ASCII nearly always).
pub fn width(text: &str) -> usize {
    text.chars().count()
}

/// `text` cut to `max` characters, the last one `…` when something was cut.
pub fn cut(text: &str, max: usize) -> String {
    if width(text) <= max {
        return text.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// `text` padded with spaces to `columns` characters (cut first if longer).
pub fn pad(text: &str, columns: usize) -> String {
    let text = cut(text, columns);
    let fill = columns - width(&text);
    format!("{text}{}", " ".repeat(fill))
}

/// `text` wrapped at word boundaries into lines of at most `width - indent` characters, each
/// starting with `indent` spaces. A word longer than a line is cut.
pub fn wrap(text: &str, indent: usize, width: usize) -> Vec<String> {
    let room = width.saturating_sub(indent).max(10);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let word = cut(word, room);
        if !line.is_empty() && self::width(&line) + 1 + self::width(&word) > room {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines.into_iter().map(|l| format!("{}{l}", " ".repeat(indent))).collect()
}

/// The first sentence of `text` (up to the first `. ` or `; `), cut to `max` characters: the
/// short reason a one-line view shows of an engine sentence.
pub fn first_sentence(text: &str, max: usize) -> String {
    let end = [". ", "; "].iter().filter_map(|sep| text.find(sep)).min().unwrap_or(text.len());
    cut(text[..end].trim_end_matches('.'), max)
}

/// A table: a header row and rows of cells, laid out in columns that fit a width.
#[derive(Debug, Clone, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    /// Columns whose cells are numbers: right-aligned.
    numeric: Vec<usize>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table { headers: headers.iter().map(|h| (*h).to_owned()).collect(), ..Table::default() }
    }

    pub fn numeric(mut self, column: usize) -> Table {
        self.numeric.push(column);
        self
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The column widths: each its widest cell, then the widest columns narrowed, one
    /// character at a time, until the line (columns two spaces apart) fits `total`; no column
    /// goes below its header or 6 characters.
    fn widths(&self, total: usize) -> Vec<usize> {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| width(h)).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(cell));
            }
        }
        let floor: Vec<usize> = self.headers.iter().map(|h| width(h).max(6)).collect();
        let gaps = 2 * widths.len().saturating_sub(1);
        while widths.iter().sum::<usize>() + gaps > total {
            let widest = widths.iter().enumerate().filter(|(i, w)| **w > floor[*i]).max_by_key(|(i, w)| (**w, *i));
            let Some((i, _)) = widest else { break };
            widths[i] -= 1;
        }
        widths
    }

    /// The table as lines of at most `total` characters (the header in bold on a terminal),
    /// without trailing spaces.
    pub fn render(&self, total: usize, style: Style) -> Vec<String> {
        let widths = self.widths(total);
        let line = |cells: &[String]| -> String {
            let parts: Vec<String> = cells
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(i, (cell, w))| {
                    if self.numeric.contains(&i) {
                        let cell = cut(cell, *w);
                        format!("{}{cell}", " ".repeat(w - width(&cell)))
                    } else {
                        pad(cell, *w)
                    }
                })
                .collect();
            parts.join("  ").trim_end().to_owned()
        };
        let mut out = vec![style.paint(Paint::Bold, &line(&self.headers))];
        out.extend(self.rows.iter().map(|r| line(r)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutting_and_padding_count_characters() {
        assert_eq!(cut("anonymous-visitor", 8), "anonymo…");
        assert_eq!(cut("short", 8), "short");
        assert_eq!(cut("x", 0), "");
        assert_eq!(pad("ab", 4), "ab  ");
        assert_eq!(pad("ü→é", 4), "ü→é ", "one column per character");
        assert_eq!(pad("abcdef", 4), "abc…");
    }

    #[test]
    fn wrapping_keeps_words_and_the_indent() {
        let lines = wrap("Device dev-2 was used by two users without a reset() between them.", 2, 30);
        assert_eq!(lines, ["  Device dev-2 was used by two", "  users without a reset()", "  between them."]);
        assert!(lines.iter().all(|l| width(l) <= 30));
        assert_eq!(wrap("", 2, 30), Vec::<String>::new());
    }

    #[test]
    fn the_first_sentence_is_the_short_reason() {
        assert_eq!(
            first_sentence("anon-1 merged into user-1's person. PostHog keeps the target's uuid.", 60),
            "anon-1 merged into user-1's person"
        );
        assert_eq!(first_sentence("Refused: user-2 is already identified", 20), "Refused: user-2 is …");
    }

    #[test]
    fn a_table_fits_80_columns_by_narrowing_its_widest_column() {
        let mut t = Table::new(&["PERSON", "PROJECT", "IDS", "DISTINCT IDS"]).numeric(2);
        t.row(vec!["ada@example.com".into(), "phc_a".into(), "2".into(), "anon-1, ada@example.com".into()]);
        t.row(vec!["user-2".into(), "phc_a".into(), "12".into(), "x".repeat(100)]);
        let lines = t.render(WIDTH, Style::PLAIN);
        assert!(lines.iter().all(|l| width(l) <= WIDTH), "{lines:#?}");
        assert_eq!(lines[0], "PERSON           PROJECT  IDS  DISTINCT IDS");
        assert_eq!(lines[1], "ada@example.com  phc_a      2  anon-1, ada@example.com");
        assert!(lines[2].starts_with("user-2           phc_a     12  xxx") && lines[2].ends_with('…'), "{}", lines[2]);
        assert_eq!(width(&lines[2]), WIDTH);
    }

    #[test]
    fn colour_only_when_asked() {
        assert_eq!(Style::PLAIN.paint(Paint::Red, "refused"), "refused");
        assert_eq!(Style { color: true }.paint(Paint::Red, "refused"), "\x1b[31mrefused\x1b[0m");
        assert_eq!(Style { color: true }.paint(Paint::Red, ""), "", "nothing to colour");
    }
}
