//! The scheduler: runs jobs N at a time as child processes, one event loop
//! over every job's output pipes and pidfds, and decides what happens when
//! a job ends (output, joblog, retries, `--halt`, exit status).
//!
//! The engine does not care where jobs come from: anything implementing
//! [`JobSpec`] can be run. It never polls with sleeps and never starts a
//! thread per job: one `epoll_wait` sleeps until a pipe has data, a child
//! exits, a signal arrives or a deadline (timeout, `--delay`) passes.

mod capacity;
mod feed;
pub mod gate;
mod job_shell;
mod launch;
mod place;
pub mod policy;
mod scheduler;
pub mod sentinel;
mod slots;
mod source;

use std::path::PathBuf;
use std::time::Duration;

pub use feed::{Chunk, Chunks, Feed};
pub use gate::{GateOptions, JobsFile};
pub use job_shell::JobShell;
pub use launch::{JobIo, JobState, Launched, Outcome, StartError};
pub use place::{JobAt, JobFiles, MarkerFilter, Place, Placed, Placement};
pub use policy::{Halt, HaltOn, HaltWhen, TermSeq, Threshold, Timeout};
pub use scheduler::{run, run_observed, run_placed};
pub use source::{Finished, JobSource, Observer, Supply};

use crate::joblog;
use crate::output;

/// One job the engine can run.
pub trait JobSpec {
    /// The job's sequence number (`{#}`), from 1, in input order.
    fn seq(&self) -> u64;
    /// The command line to run, given the job slot (`{%}`) it runs in.
    fn command_line(&self, slot: usize) -> Vec<u8>;
    /// The `--tag`/`--tagstring` text for the job (without the tab), if
    /// tagging is on.
    fn tag(&self, _slot: usize) -> Option<Vec<u8>> {
        None
    }
    /// Where the job saves its output with `--results` (directories made
    /// already); called once, when the job starts.
    fn destination(&self, _slot: usize) -> Option<std::io::Result<output::Destination>> {
        None
    }
    /// `skip()` in a Perl expression: the job does not run and counts
    /// as failed with exit value -2, as in GNU parallel.
    fn skipped(&self) -> bool {
        false
    }
    /// The job ran in an earlier run and is skipped (`--resume` with
    /// `--results`: its output is there).
    fn done_before(&self) -> bool {
        false
    }
    /// Where the job's stdin comes from; `None` is `/dev/null`. Called
    /// each time the job starts (again for a retry).
    fn take_stdin(&mut self) -> Option<Box<dyn Feed>> {
        None
    }
    /// The host the job must run on (`--onall`: each job on every host).
    fn pinned_host(&self) -> Option<usize> {
        None
    }
    /// Files the job takes to a remote host and brings back.
    fn files(&self, _slot: usize) -> JobFiles {
        JobFiles::default()
    }
}

/// Progress display on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProgressStyle {
    /// Nothing (the default).
    #[default]
    None,
    /// `--progress`: running/done counts.
    Progress,
    /// `--eta`: estimated time left.
    Eta,
    /// `--bar`: a percentage bar.
    Bar,
}

/// Everything the engine needs to know about how to run jobs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Number of job slots (`-j`), at least 1.
    pub jobs: usize,
    /// Output mode.
    pub output: output::Mode,
    /// `-k`: print output in input order.
    pub keep_order: bool,
    /// `--files`/`--results`: output saved to files, not printed.
    pub save: Option<output::Save>,
    /// `--joblog FILE` (and whether to append: `+FILE`, or resuming).
    pub joblog: Option<(PathBuf, bool)>,
    /// Joblog format.
    pub joblog_format: joblog::Format,
    /// `--resume` / `--resume-failed`: skip jobs the joblog has as done.
    pub resume: Option<joblog::ResumeMode>,
    /// `--retries N`: run a failing job up to N times in all.
    pub retries: u32,
    /// `--timeout`.
    pub timeout: Option<Timeout>,
    /// `--halt`.
    pub halt: Option<Halt>,
    /// `--delay`: at least this long between two job starts.
    pub delay: Option<Duration>,
    /// `--termseq`: how jobs are stopped.
    pub termseq: TermSeq,
    /// Progress display.
    pub progress: ProgressStyle,
    /// The shell for commands parx does not run itself, and which those are.
    pub shell: JobShell,
    /// Bytes of job output held in memory before spilling to disk
    /// (`--output-memory`).
    pub memory_budget: usize,
    /// Where output past the memory budget is spilled (`--tmpdir`;
    /// `None`: `$TMPDIR`, else `/tmp`).
    pub tmpdir: Option<PathBuf>,
    /// `--workdir`: the directory jobs run in (`None`: parx's own).
    pub workdir: Option<PathBuf>,
    /// `--process-slot-var NAME`: NAME is set to the job's slot - 1.
    pub process_slot_var: Option<String>,
    /// `-v`: print each job's command line on stdout, with its output.
    pub print_command: bool,
    /// `-t`: print each job's command line on stderr when it starts.
    pub trace_command: bool,
    /// parx's own executable, to start the sentinel that ends every job
    /// if parx is killed (`None`: no sentinel, e.g. in library use).
    pub sentinel: Option<PathBuf>,
    /// Conditions on starting jobs: `--load`, `--memfree`, `--noswap`,
    /// `-j FILE`.
    pub gate: GateOptions,
    /// The file every job reads as stdin (`--tty`: `/dev/tty`); `None`
    /// is `/dev/null`. Jobs fed with `--pipe` blocks read their block.
    pub job_stdin: Option<PathBuf>,
    /// The number of jobs of the whole run, when known before the input
    /// is all read: `--total-jobs`, or counted first for a `--halt`
    /// percentage (a share of all jobs). `--eta`/`--bar` count with it too.
    pub total_jobs: Option<u64>,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            jobs: cpus(),
            output: output::Mode::Group,
            keep_order: false,
            save: None,
            joblog: None,
            joblog_format: joblog::Format::Tsv,
            resume: None,
            retries: 1,
            timeout: None,
            halt: None,
            delay: None,
            termseq: TermSeq::default(),
            progress: ProgressStyle::None,
            shell: JobShell::default(),
            memory_budget: 16 << 20,
            tmpdir: None,
            workdir: None,
            process_slot_var: None,
            print_command: false,
            trace_command: false,
            sentinel: None,
            gate: GateOptions::default(),
            job_stdin: None,
            total_jobs: None,
        }
    }
}

/// The number of CPUs parx counts with (`-j 100%`, `--load 100%`).
pub fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
