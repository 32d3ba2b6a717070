//! From a resolved [`Config`] to a run of the engine: the options the
//! engine understands, and the jobs it runs.

use super::Config;
use super::config::OutputMode;
use crate::engine::{self, GateOptions, JobSpec, JobsFile, ProgressStyle, RunOptions, Threshold};
use crate::joblog::{self, ResumeMode};
use crate::output;
use crate::template::Job;

/// Exit status for a command line parx understood but cannot run.
const EXIT_UNSUPPORTED: i32 = 255;

/// `-j 0`: "as many as possible". Each job holds a few fds (two pipes, a
/// pidfd) and a process; stay well inside the usual limits.
const UNLIMITED_JOBS: usize = 250;

impl JobSpec for Job {
    fn seq(&self) -> u64 {
        self.seq
    }

    fn command_line(&self, slot: usize) -> Vec<u8> {
        Job::command_line(self, slot)
    }

    /// [`Job::tag`] renders `--tag`/`--tagstring` as GNU parallel does
    /// (every replacement string, `--header` names, values unquoted).
    fn tag(&self, slot: usize) -> Option<Vec<u8>> {
        Job::tag(self, slot)
    }

    fn skipped(&self) -> bool {
        Job::skipped(self)
    }
}

/// A failed job from an earlier joblog (`--retry-failed`).
struct Logged {
    seq: u64,
    command: Vec<u8>,
}

impl JobSpec for Logged {
    fn seq(&self) -> u64 {
        self.seq
    }

    fn command_line(&self, _slot: usize) -> Vec<u8> {
        self.command.clone()
    }
}

/// The engine's options from the command line.
pub fn run_options(config: &Config) -> RunOptions {
    let mut o = RunOptions {
        jobs: if config.jobs == 0 {
            UNLIMITED_JOBS
        } else {
            config.jobs
        },
        output: match config.output {
            OutputMode::Group => output::Mode::Group,
            OutputMode::LineBuffer => output::Mode::LineBuffer,
            OutputMode::Ungroup => output::Mode::Ungroup,
        },
        keep_order: config.keep_order,
        retries: config.retries.max(1),
        delay: config.delay,
        ..RunOptions::default()
    };
    if let Some(j) = &config.joblog {
        o.joblog = Some((j.path.clone(), j.append));
    }
    if config.joblog_format.as_deref() == Some("json") {
        o.joblog_format = joblog::Format::Json;
    }
    o.resume = if config.resume_failed {
        Some(ResumeMode::ResumeFailed)
    } else if config.resume {
        Some(ResumeMode::Resume)
    } else {
        None
    };
    o.timeout = config.timeout;
    o.halt = config.halt;
    o.termseq = config.termseq.clone();
    o.progress = if config.bar {
        ProgressStyle::Bar
    } else if config.eta {
        ProgressStyle::Eta
    } else if config.progress {
        ProgressStyle::Progress
    } else {
        ProgressStyle::None
    };
    o.workdir = config.workdir.clone().filter(|w| w.as_os_str() != ".");
    o.process_slot_var = config
        .process_slot_var
        .as_ref()
        .map(|v| v.to_string_lossy().into_owned());
    o.tmpdir = config.tmpdir.clone();
    if let Some(m) = config.output_memory {
        o.memory_budget = m;
    }
    o.print_command = config.verbose > 0;
    o.trace_command = config.print_stderr;
    o.sentinel = std::env::current_exe().ok();
    o.gate = GateOptions {
        max_load: config.load,
        memfree: config.memfree,
        noswap: config.noswap,
        jobs_file: config.jobs_file.clone().map(|path| JobsFile {
            path,
            parse: |text, ncpus| super::parse_jobs(text, ncpus).ok(),
        }),
    };
    o.total_jobs = config.total_jobs;
    // Without a terminal, GNU parallel's jobs run on: so do parx's, with
    // /dev/null as stdin.
    if config.tty && std::fs::File::open("/dev/tty").is_ok() {
        o.job_stdin = Some("/dev/tty".into());
    }
    if o.gate.jobs_file.is_some() {
        // The file's number may grow while parx runs: slots for as many
        // as `-j 0` allows, the file's number in use at once.
        o.jobs = UNLIMITED_JOBS;
    }
    o
}

/// `--workdir DIR`: made with its parents if missing, as GNU parallel
/// does; an error (before any job runs) if it still cannot be entered.
fn make_workdir(dir: &std::path::Path) -> Result<(), String> {
    let made = std::fs::create_dir_all(dir);
    let usable = std::fs::metadata(dir).is_ok_and(|m| m.is_dir())
        && rustix::fs::access(dir, rustix::fs::Access::EXEC_OK).is_ok();
    match made {
        Ok(()) if usable => Ok(()),
        Ok(()) => Err(format!(
            "--workdir: cannot change into directory {}: permission denied",
            dir.display()
        )),
        Err(e) => Err(format!(
            "--workdir: cannot change into directory {}: {e}",
            dir.display()
        )),
    }
}

/// Runs the jobs of `config`; returns parx's exit status.
pub fn run(config: &Config) -> i32 {
    if config.trace {
        crate::sys::trace::enable_stderr();
    }
    let mut opts = run_options(config);
    apply_nice(config);
    match engine::JobShell::from_env() {
        Ok(shell) => opts.shell = shell,
        Err(e) => {
            eprintln!("parx: {e}");
            return EXIT_UNSUPPORTED;
        }
    }
    if let Some(dir) = &opts.workdir
        && let Err(e) = make_workdir(dir)
    {
        eprintln!("parx: {e}");
        return EXIT_UNSUPPORTED;
    }
    if let Some(sql) = &config.sql {
        return super::sql::run(config, sql, opts);
    }
    if config.pipe.is_some() && (config.files || config.results.is_some()) {
        eprintln!("parx: --files/--results with --pipe is not supported yet (see docs/compat.md)");
        return EXIT_UNSUPPORTED;
    }
    if config.remote.any_host() {
        return super::remote::run(config, opts);
    }
    if let Some(pipe) = &config.pipe {
        return super::pipe::run(config, pipe, &opts);
    }
    if config.retry_failed {
        let Some(j) = &config.joblog else {
            eprintln!("parx: --retry-failed needs --joblog FILE");
            return EXIT_UNSUPPORTED;
        };
        let entries = match joblog::read_entries(&j.path) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("parx: can not read joblog {}: {e}", j.path.display());
                return EXIT_UNSUPPORTED;
            }
        };
        let mut last = std::collections::BTreeMap::new();
        for e in entries {
            last.insert(e.seq, e);
        }
        let failed = last.into_values().filter(|e| !e.succeeded()).map(|e| {
            Ok::<_, String>(Logged {
                seq: e.seq,
                command: e.command,
            })
        });
        opts.resume = None;
        opts.joblog = Some((j.path.clone(), true));
        return engine::run(&opts, failed);
    }
    let mut jobs = match config.jobs() {
        Ok(jobs) => jobs,
        Err(e) => {
            eprintln!("parx: {e}");
            return EXIT_UNSUPPORTED;
        }
    };
    if opts.total_jobs.is_none()
        && opts
            .halt
            .is_some_and(|h| matches!(h.threshold, Threshold::Percent(_)))
    {
        // GNU parallel's percentage is a share of all jobs (`--total-jobs`,
        // else counted first).
        match jobs.count_all() {
            Ok(n) => opts.total_jobs = Some(n),
            Err(e) => {
                eprintln!("parx: {e}");
                return EXIT_UNSUPPORTED;
            }
        }
    }
    let header_names = jobs.header_names().to_vec();
    let jobs: Box<dyn Iterator<Item = _>> = if config.shuf {
        Box::new(shuffled(jobs.collect()).into_iter())
    } else {
        Box::new(jobs)
    };
    if config.files || config.results.is_some() {
        return super::save::run(config, opts, &header_names, jobs);
    }
    engine::run(&opts, jobs)
}

/// `--shuf`: every job made first, then run in a random order (a
/// Fisher–Yates shuffle; the order need not be unpredictable, only
/// different from run to run).
fn shuffled<T>(mut items: Vec<T>) -> Vec<T> {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        ^ (u64::from(std::process::id()) << 32);
    // xorshift64*: never 0 once seeded with a non-zero state.
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    for i in (1..items.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
    items
}

/// `--nice N`: parx lowers its own priority, which every job inherits
/// (GNU parallel starts each job under `nice -n N`). As with `nice`, a
/// priority that cannot be set is a warning, and the jobs run anyway.
fn apply_nice(config: &Config) {
    if let Some(n) = config.nice
        && n != 0
        && let Err(e) = rustix::process::nice(n)
    {
        eprintln!("parx: Warning: cannot set niceness {n}: {e}");
    }
}
