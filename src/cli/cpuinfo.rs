//! `--number-of-sockets`, `--number-of-cores`, `--number-of-threads` (and
//! the older `--number-of-cpus`, which GNU parallel 20221122 answers with
//! the number of cores): counted from `/proc/cpuinfo` (or `$PARX_PROC/
//! cpuinfo`, for tests) as GNU parallel counts them on Linux, falling back
//! to the CPUs parx may use.

use std::collections::HashSet;

/// Which count to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuCount {
    /// Physical packages.
    Sockets,
    /// Physical cores.
    Cores,
    /// Hardware threads.
    Threads,
}

/// The count asked for.
pub fn count(which: CpuCount) -> usize {
    let proc_dir = std::env::var_os("PARX_PROC")
        .filter(|p| !p.is_empty())
        .map_or_else(|| std::path::PathBuf::from("/proc"), Into::into);
    std::fs::read_to_string(proc_dir.join("cpuinfo"))
        .ok()
        .and_then(|text| from_cpuinfo(&text, which))
        .unwrap_or_else(crate::engine::cpus)
}

/// Counts from the text of `/proc/cpuinfo`; `None` if it has no
/// `processor` lines.
fn from_cpuinfo(text: &str, which: CpuCount) -> Option<usize> {
    let mut threads = 0;
    let mut sockets = HashSet::new();
    let mut cores = HashSet::new();
    let mut socket = "";
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        match key.trim() {
            "processor" => threads += 1,
            "physical id" => {
                socket = value.trim();
                sockets.insert(socket);
            }
            "core id" => {
                cores.insert((socket, value.trim()));
            }
            _ => {}
        }
    }
    if threads == 0 {
        return None;
    }
    // Machines (and VMs) that do not show the topology count each thread
    // as a core on a socket of its own, as GNU parallel does.
    Some(match which {
        CpuCount::Threads => threads,
        CpuCount::Cores if cores.is_empty() => threads,
        CpuCount::Cores => cores.len(),
        CpuCount::Sockets => sockets.len().max(1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_sockets_cores_and_threads() {
        let mut text = String::new();
        let mut n = 0;
        for socket in 0..2 {
            for core in 0..4 {
                for _ in 0..2 {
                    text.push_str(&format!(
                        "processor\t: {n}\nphysical id\t: {socket}\ncore id\t\t: {core}\n\n"
                    ));
                    n += 1;
                }
            }
        }
        assert_eq!(from_cpuinfo(&text, CpuCount::Sockets), Some(2));
        assert_eq!(from_cpuinfo(&text, CpuCount::Cores), Some(8));
        assert_eq!(from_cpuinfo(&text, CpuCount::Threads), Some(16));
        assert_eq!(from_cpuinfo("", CpuCount::Cores), None);
    }
}
