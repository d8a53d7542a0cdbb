//! indicatif progress bars for the transfer commands.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Bar(ProgressBar);

impl Bar {
    /// A bar on stderr, hidden when stderr is not a terminal.
    pub fn new(label: &'static str) -> Bar {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_prefix(label);
        Bar(bar)
    }
}

impl transfer::Progress for Bar {
    fn start(&self, total: Option<u64>, unit: &'static str) {
        let template = match (total, unit) {
            (Some(_), "bytes") => "{prefix} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)",
            (Some(_), _) => "{prefix} [{bar:30}] {human_pos}/{human_len} ({per_sec}, {eta} left)",
            (None, "bytes") => "{prefix} {spinner} {bytes} ({bytes_per_sec})",
            (None, _) => "{prefix} {spinner} {human_pos} ({per_sec})",
        };
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        self.0.set_style(style);
        self.0.set_length(total.unwrap_or(0));
        self.0.set_position(0);
    }

    fn advance(&self, by: u64) {
        self.0.inc(by);
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}
