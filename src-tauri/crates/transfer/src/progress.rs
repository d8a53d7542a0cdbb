//! Progress of long work, reported to whoever shows it (indicatif bars in the CLI, nothing in
//! the API). Shared across threads: an import reads its file on the store's writer thread.

pub trait Progress: Send + Sync {
    /// The work's size (`None`: unknown) and what it counts (`bytes`, `events`...).
    fn start(&self, total: Option<u64>, unit: &'static str);
    fn advance(&self, by: u64);
    fn finish(&self);
}

pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: Option<u64>, _: &'static str) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}
