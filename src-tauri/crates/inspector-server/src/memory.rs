//! Process-wide memory settings, applied by each binary first thing in `main` (before any
//! thread starts), so the server and the benchmarks that measure it run alike.

/// Turns transparent huge pages off for this process (Linux; elsewhere a no-op), which is what
/// mimalloc's own `MIMALLOC_ALLOW_THP=0` does at its start.
///
/// mimalloc asks for huge pages on the memory it reserves (`MADV_HUGEPAGE`), so the first
/// touch of each new 2 MB zeroes all of it, used or not, and the identity model's thread, which
/// grows by ~600 MB in a 1 000 000-event rebuild, spent a quarter to a third of its time in that
/// zeroing. With 4 KB pages the kernel zeroes only the pages touched: the rebuild's peak memory
/// drops by ~25 MB and the model thread's CPU by 5–10% (docs/PERFORMANCE.md, "Identity
/// rebuild"). Failure (an old kernel) only leaves the default.
pub fn small_pages() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: a plain prctl with integer arguments; it sets a flag on this process's memory
        // map and touches no memory of ours.
        let result = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
        if result != 0 {
            tracing::debug!("could not turn transparent huge pages off");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(target_os = "linux")]
    fn turns_huge_pages_off_for_the_process() {
        super::small_pages();
        // SAFETY: reads this process's flag; no pointers.
        assert_eq!(unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) }, 1);
    }
}
