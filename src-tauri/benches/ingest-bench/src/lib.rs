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

/// CPU seconds of this process's thread named `name`; NaN when there is none.
pub fn thread_cpu_seconds(name: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return f64::NAN };
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim() == name {
            return stat_cpu_seconds(&std::fs::read_to_string(task.path().join("stat")).unwrap_or_default());
        }
    }
    f64::NAN
}
