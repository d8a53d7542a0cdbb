//! What the benchmark binaries (`ingest-bench`, `rebuild-bench`) share: CPU time read from
//! `/proc` (Linux; NaN elsewhere), which tells how much of a slow run was the machine's other
//! load.

/// Seconds of CPU (user + system) in a `/proc/.../stat` line.
fn stat_cpu_seconds(stat: &str) -> f64 {
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN);
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU seconds a process has used so far; `pid` "self" is this process. NaN when it is gone.
pub fn cpu_seconds(pid: &str) -> f64 {
    stat_cpu_seconds(&std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default())
}

/// CPU seconds of this process's threads named `name` ([`cpu_by_thread`]); NaN when there is
/// none.
pub fn thread_cpu_seconds(name: &str) -> f64 {
    cpu_by_thread().get(name).copied().unwrap_or(f64::NAN)
}

/// CPU seconds of this process's threads so far, summed by thread name (`tokio` workers of one
/// runtime share a name). A thread that ended is missing, so a difference of two of these is
/// what the threads alive at the end used, and close to all when threads live long.
pub fn cpu_by_thread() -> std::collections::BTreeMap<String, f64> {
    let mut by_name = std::collections::BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return by_name };
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        let cpu = stat_cpu_seconds(&std::fs::read_to_string(task.path().join("stat")).unwrap_or_default());
        if cpu.is_finite() {
            *by_name.entry(comm.trim().to_owned()).or_insert(0.0) += cpu;
        }
    }
    by_name
}

/// What each thread name used between two [`cpu_by_thread`] readings, largest first, as
/// `name 1.23` pairs (names under 0.05 s left out).
pub fn cpu_spent(
    before: &std::collections::BTreeMap<String, f64>,
    after: &std::collections::BTreeMap<String, f64>,
) -> String {
    let mut spent: Vec<(&str, f64)> =
        after.iter().map(|(name, cpu)| (name.as_str(), cpu - before.get(name).copied().unwrap_or(0.0))).collect();
    spent.sort_by(|a, b| b.1.total_cmp(&a.1));
    spent.iter().filter(|(_, s)| *s >= 0.05).map(|(n, s)| format!("{n} {s:.2}")).collect::<Vec<_>>().join(", ")
}
