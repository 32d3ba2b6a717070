//! What must hold, beyond a free slot, before another job starts:
//! `--load` (few enough processes running or waiting for disk right now),
//! `--memfree` (enough memory free; below half of it the youngest job is
//! stopped and queued again), `--noswap` (the machine is not swapping in
//! and out), and `-j FILE` (the number of jobs at once, read again from
//! FILE whenever a job ends), as GNU parallel decides them.
//!
//! The machine's state is read from `/proc` (`stat`, `meminfo`,
//! `vmstat`), or from the directory `$PARX_PROC` names, so tests can give
//! parx a load or a free-memory figure of their choosing. A condition that
//! does not hold is looked at again once a second ([`RECHECK`]); the
//! event loop sleeps until then.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long to wait before looking at the machine's state again.
pub const RECHECK: Duration = Duration::from_secs(1);

/// The start conditions asked for on the command line.
#[derive(Debug, Clone, Default)]
pub struct GateOptions {
    /// `--load MAX`: start no job while this many processes are running
    /// or waiting for disk (already turned from `N%` into a number).
    pub max_load: Option<f64>,
    /// `--memfree SIZE` in bytes.
    pub memfree: Option<u64>,
    /// `--noswap`.
    pub noswap: bool,
    /// `-j FILE`: read the number of jobs at once from FILE again
    /// whenever a job ends.
    pub jobs_file: Option<JobsFile>,
}

/// `-j FILE`: the file, and how its text becomes a number of jobs (the
/// command line's `-j` rules, given the number of CPUs; 0 = no limit).
#[derive(Debug, Clone)]
pub struct JobsFile {
    /// The file.
    pub path: PathBuf,
    /// `-j`'s parser.
    pub parse: fn(&str, usize) -> Option<usize>,
}

impl GateOptions {
    /// Whether any condition was asked for.
    pub fn any(&self) -> bool {
        self.max_load.is_some() || self.memfree.is_some() || self.noswap || self.jobs_file.is_some()
    }
}

/// What the scheduler should do about starting a job now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// Start it.
    Go,
    /// Start nothing before this moment (or before a job ends).
    WaitUntil(Instant),
    /// Memory is below half of `--memfree`: stop the youngest running job
    /// (it is queued again), and start nothing before this moment.
    StopYoungest(Instant),
}

/// The conditions, with what they need to remember between checks.
#[derive(Debug)]
pub struct StartGate {
    opts: GateOptions,
    proc_dir: PathBuf,
    /// The number of jobs at once from `-j FILE`, when last read.
    file_jobs: Option<usize>,
    /// Whether `-j FILE` should be read again (a job has ended).
    reread: bool,
    /// `pswpin`, `pswpout` from the last look at `vmstat`.
    last_swap: Option<(u64, u64)>,
    ncpus: usize,
}

impl StartGate {
    /// The gate for `opts`; `/proc` unless `$PARX_PROC` names another
    /// directory.
    pub fn new(opts: GateOptions, ncpus: usize) -> StartGate {
        let proc_dir = std::env::var_os("PARX_PROC")
            .filter(|p| !p.is_empty())
            .map_or_else(|| PathBuf::from("/proc"), PathBuf::from);
        StartGate {
            opts,
            proc_dir,
            file_jobs: None,
            reread: true,
            last_swap: None,
            ncpus,
        }
    }

    /// A job has ended: `-j FILE` is read again before the next start.
    pub fn job_ended(&mut self) {
        self.reread = true;
    }

    /// The number of jobs at once `-j FILE` allows now, if it is used.
    pub fn jobs_limit(&mut self) -> Option<usize> {
        let file = self.opts.jobs_file.as_ref()?;
        if self.reread {
            self.reread = false;
            // A file being rewritten may be empty for a moment: keep the
            // last good value.
            if let Some(n) = std::fs::read_to_string(&file.path)
                .ok()
                .and_then(|text| (file.parse)(text.trim(), self.ncpus))
            {
                self.file_jobs = Some(if n == 0 { usize::MAX } else { n });
            }
        }
        self.file_jobs
    }

    /// Whether a job may start now, with `running` jobs running.
    pub fn check(&mut self, running: usize) -> Verdict {
        let later = Instant::now() + RECHECK;
        if let Some(min) = self.opts.memfree {
            // Unknown free memory counts as enough: parx cannot do better
            // than the jobs-at-once limit then.
            if let Some(free) = mem_free(&self.proc_dir) {
                if free < min / 2 && running > 0 {
                    return Verdict::StopYoungest(later);
                }
                if free < min {
                    return Verdict::WaitUntil(later);
                }
            }
        }
        if let Some(max) = self.opts.max_load {
            // GNU parallel assumes the load is too high when it cannot
            // tell.
            match load(&self.proc_dir) {
                Some(l) if l < max => {}
                _ => return Verdict::WaitUntil(later),
            }
        }
        if self.opts.noswap && self.swapping() {
            return Verdict::WaitUntil(later);
        }
        Verdict::Go
    }

    /// Whether pages were both swapped in and out since the last look.
    fn swapping(&mut self) -> bool {
        let Some(now) = swap_counters(&self.proc_dir) else {
            return false;
        };
        let before = self.last_swap.replace(now);
        before.is_some_and(|(i, o)| now.0 > i && now.1 > o)
    }
}

/// The number of processes running or waiting for disk right now, less
/// parx itself (GNU parallel counts `ps` states R and D, less `ps`).
fn load(proc_dir: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(proc_dir.join("stat")).ok()?;
    let field = |name: &str| -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    let running = field("procs_running ")?;
    let blocked = field("procs_blocked ").unwrap_or(0.0);
    Some((running + blocked - 1.0).max(0.0))
}

/// Free memory as GNU parallel counts it on Linux: `MemFree`, `Buffers`,
/// `Cached` and `SwapCached` of `meminfo`, in bytes.
fn mem_free(proc_dir: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(proc_dir.join("meminfo")).ok()?;
    let mut kib = 0u64;
    let mut found = false;
    for line in text.lines() {
        let Some((name, rest)) = line.split_once(':') else {
            continue;
        };
        if matches!(name, "MemFree" | "Buffers" | "Cached" | "SwapCached") {
            let value = rest.split_whitespace().next()?.parse::<u64>().ok()?;
            kib += value;
            found = true;
        }
    }
    found.then_some(kib * 1024)
}

/// `pswpin` and `pswpout` of `vmstat`: pages swapped in and out so far.
fn swap_counters(proc_dir: &Path) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(proc_dir.join("vmstat")).ok()?;
    let field = |name: &str| -> Option<u64> {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
    };
    Some((field("pswpin ")?, field("pswpout ")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn load_counts_running_and_blocked_less_the_reader() {
        let dir = proc_with(&[("stat", "cpu 1 2 3\nprocs_running 5\nprocs_blocked 2\n")]);
        assert_eq!(load(dir.path()), Some(6.0));
    }

    #[test]
    fn free_memory_is_gnu_parallels_sum() {
        let dir = proc_with(&[(
            "meminfo",
            "MemTotal: 100 kB\nMemFree: 10 kB\nMemAvailable: 50 kB\nBuffers: 1 kB\nCached: 2 kB\nSwapCached: 3 kB\n",
        )]);
        assert_eq!(mem_free(dir.path()), Some(16 * 1024));
    }
}
