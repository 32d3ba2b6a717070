//! The event loop: start jobs into free slots, read their output, reap
//! them, and apply the run's policies when each one ends.

use std::collections::{HashSet, VecDeque};
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rustix::event::epoll;

use super::capacity::{self, Capacity};
use super::feed::{Feed, StdinWriter, WriteState};
use super::gate::{StartGate, Verdict};
use super::launch::{JobIo, JobState, Launched, Outcome, StartError};
use super::place::{MarkerFilter, Place, Placement};
use super::policy::{HaltOn, HaltWhen, Timeout, exit_code_for_failures};
use super::sentinel::Sentinel;
use super::slots::Slots;
use super::source::{Finished, JobSource, Observer, Supply};
use super::{JobSpec, RunOptions};
use crate::joblog::{self, JobLog, JobRecord};
use crate::output::{self, Output, Sinks, Spill, Stream};
use crate::progress::{Counts, Progress};
use crate::sys::{self, ExitStatus, Pipe, signal::SignalPipe};

const SIGNAL_TOKEN: u64 = u64::MAX;

/// Pipe size for jobs fed with `--pipe` blocks (the kernel's default
/// `pipe-max-size`), and parx's read buffer.
const BULK_PIPE_SIZE: usize = 1 << 20;

/// How often orphaned grandchildren (re-parented to parx, the subreaper)
/// are reaped while jobs run; also once at the end. Jobs themselves are
/// reaped the moment their pidfd says so. Watching SIGCHLD instead would
/// cost a signal, a wakeup and a `/proc` scan per job.
const ORPHAN_REAP_EVERY: Duration = Duration::from_secs(1);
const KIND_STDOUT: u64 = 0;
const KIND_STDERR: u64 = 1;
const KIND_PIDFD: u64 = 2;
const KIND_STDIN: u64 = 3;

/// An epoll token: which fd of which job. The job's start number is part
/// of it, because one `epoll_wait` can return an event for a job that an
/// earlier event of the same batch finished, while a new job already
/// runs in its slot: such a stale event must not reach the new job.
fn token(generation: u64, slot: usize, kind: u64) -> u64 {
    (generation << 24) | ((slot as u64) << 2) | kind
}

fn token_parts(token: u64) -> (u64, usize, u64) {
    (token >> 24, ((token >> 2) & 0x3f_ffff) as usize, token & 3)
}

/// Why the run stopped starting new jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// A `--halt` condition held; the exit status is decided.
    Halted(i32),
    /// parx received this signal.
    Signal(i32),
    /// parx's stdout was closed by its reader.
    BrokenPipe,
}

fn signal_job(launched: &Option<Launched>, signal: i32) {
    if let Some(l) = launched {
        l.signal(signal);
    }
}

/// A job that is running in a slot.
struct Running<J> {
    /// Distinguishes this job from earlier ones in the same slot.
    generation: u64,
    job: J,
    seq: u64,
    attempt: u32,
    command: Vec<u8>,
    /// `None` if the job's processes could not be started.
    launched: Option<Launched>,
    /// Process groups registered with the sentinel.
    groups: Vec<i32>,
    started_wall: SystemTime,
    started: Instant,
    stdout: Option<File>,
    stderr: Option<File>,
    stdin: Option<StdinWriter>,
    sent: u64,
    registered: Vec<i32>,
    outcome: Option<Outcome>,
    received: u64,
    deadline: Option<Instant>,
    /// Next step of the termination sequence and when it is due.
    kill: Option<(usize, Instant)>,
    /// Why the termination sequence was started.
    ending: Option<Ending>,
    /// The job was ended because it ran past `--timeout`.
    timed_out: bool,
    /// The job was ended because the run is stopping (`--halt now`, a
    /// signal to parx, output closed): it is neither printed nor logged,
    /// as in GNU parallel, so `--resume` runs it again.
    interrupted: bool,
    /// The job's stdout and stderr, kept for the observer.
    captured: Option<(Vec<u8>, Vec<u8>)>,
    /// Stopped to free memory (`--memfree`): queued again, not counted.
    requeued: bool,
    /// Where the job runs (`-S`), and hosts it failed on before.
    place: Option<Place>,
    avoid: Vec<usize>,
    /// Strips the remote wrapper's start marker from stderr.
    marker: Option<MarkerFilter>,
}

/// Why parx ends a running job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Timeout,
    RunStopping,
}

impl<J> Running<J> {
    fn finished(&self) -> bool {
        self.outcome.is_some()
            && self.stdout.is_none()
            && self.stderr.is_none()
            && self.stdin.is_none()
    }
}

/// How the joblog is opened: `+FILE` appends, `--resume` appends to the
/// log it read.
fn open_mode(append: bool, resume: bool) -> joblog::OpenMode {
    match (append, resume) {
        (true, _) => joblog::OpenMode::Append,
        (false, true) => joblog::OpenMode::Resume,
        (false, false) => joblog::OpenMode::Truncate,
    }
}

/// A job waiting to be (re)started.
struct Pending<J> {
    job: J,
    attempt: u32,
    /// Hosts the job failed on (retried elsewhere when it can be).
    avoid: Vec<usize>,
    /// The job's stdin, kept from a start that ran short of fds or
    /// processes (`None`: ask the job).
    stdin: Option<Box<dyn Feed>>,
    /// Starts of this job that ran short of fds or processes.
    short_tries: u32,
}

impl<J> Pending<J> {
    fn new(job: J, attempt: u32) -> Pending<J> {
        Pending {
            job,
            attempt,
            stdin: None,
            short_tries: 0,
            avoid: Vec::new(),
        }
    }

    /// The same job, kept away from the hosts it failed on.
    fn avoiding(mut self, avoid: Vec<usize>) -> Pending<J> {
        self.avoid = avoid;
        self
    }
}

/// The fds a job starts with ([`Scheduler::job_fds`]).
struct JobFds {
    io: JobIo,
    out_r: Option<OwnedFd>,
    err_r: Option<OwnedFd>,
    writer: Option<StdinWriter>,
}

/// A job's fds could not be made: what failed, and the job's stdin feed
/// if it had been taken already.
struct FdError {
    what: &'static str,
    error: io::Error,
    feed: Option<Box<dyn Feed>>,
}

/// A command line and a newline, as `-v` and `-t` print it.
fn command_line(command: &[u8]) -> Vec<u8> {
    let mut line = command.to_vec();
    line.push(b'\n');
    line
}

struct Scheduler<'a, J, I> {
    opts: &'a RunOptions,
    jobs: I,
    input_done: bool,
    /// The source said "later": not asked again before this, unless a
    /// job ends first.
    wake: Option<Instant>,
    observer: Option<&'a mut dyn Observer>,
    retry_queue: VecDeque<Pending<J>>,
    slots: Slots,
    /// How many jobs may run at once (lowered when fds or processes run out).
    capacity: Capacity,
    running: Vec<Option<Running<J>>>,
    n_running: usize,
    epoll: OwnedFd,
    signals: Option<SignalPipe>,
    sentinel: Option<Sentinel>,
    progress: Progress,
    output: Box<dyn Output>,
    joblog: Option<JobLog>,
    skip: HashSet<u64>,
    /// Every job's stdin unless it is fed: `/dev/null`, or
    /// [`RunOptions::job_stdin`].
    devnull: OwnedFd,
    env_pid: OsString,
    stop: Option<Stop>,
    started_count: u64,
    done_count: u64,
    failed: u64,
    succeeded: u64,
    runtimes: Vec<f64>,
    last_start: Option<Instant>,
    /// `--load`, `--memfree`, `--noswap`, `-j FILE` (`None`: none given).
    gate: Option<StartGate>,
    /// When the gate is next looked at, while it holds jobs back.
    gate_wait: Option<Instant>,
    /// When orphaned grandchildren are next reaped (see [`ORPHAN_REAP_EVERY`]).
    next_orphan_reap: Instant,
    error: Option<String>,
    buf: Vec<u8>,
    placement: Option<&'a mut dyn Placement>,
}

/// Runs every job from `jobs` as `opts` says and returns parx's exit
/// status. An input error stops the run with status 255 after the jobs
/// already started have finished.
pub fn run<S: JobSource>(opts: &RunOptions, jobs: S) -> i32 {
    run_with(opts, jobs, None, None)
}

/// [`run`], telling `observer` about every job that has ended for good.
pub fn run_observed<'a, S: JobSource>(
    opts: &'a RunOptions,
    jobs: S,
    observer: Option<&'a mut dyn Observer>,
) -> i32 {
    run_with(opts, jobs, observer, None)
}

/// [`run`], with jobs placed by `placement` (e.g. on `-S` hosts).
pub fn run_placed<'a, S: JobSource>(
    opts: &'a RunOptions,
    jobs: S,
    placement: Option<&'a mut dyn Placement>,
) -> i32 {
    run_with(opts, jobs, None, placement)
}

fn run_with<'a, S: JobSource>(
    opts: &'a RunOptions,
    jobs: S,
    observer: Option<&'a mut dyn Observer>,
    placement: Option<&'a mut dyn Placement>,
) -> i32 {
    match Scheduler::new(opts, jobs, observer, placement) {
        Ok(mut s) => s.run(),
        Err(e) => {
            eprintln!("parx: {e}");
            255
        }
    }
}

impl<'a, J, I> Scheduler<'a, J, I>
where
    J: JobSpec,
    I: JobSource<Job = J>,
{
    fn new(
        opts: &'a RunOptions,
        jobs: I,
        observer: Option<&'a mut dyn Observer>,
        placement: Option<&'a mut dyn Placement>,
    ) -> Result<Self, String> {
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC)
            .map_err(|e| format!("can not create an epoll instance: {e}"))?;
        let signals = SignalPipe::new(&[libc::SIGINT, libc::SIGTERM, libc::SIGHUP])
            .map_err(|e| format!("can not install signal handlers: {e}"))?;
        epoll::add(
            &epoll,
            signals.fd(),
            epoll::EventData::new_u64(SIGNAL_TOKEN),
            epoll::EventFlags::IN,
        )
        .map_err(|e| format!("epoll: {e}"))?;
        // Orphaned grandchildren come back to parx, which reaps them.
        let _ = sys::reap::become_subreaper();
        let skip = match (&opts.resume, &opts.joblog) {
            (Some(mode), Some((path, _))) => joblog::read_done(path, *mode)
                .map_err(|e| format!("can not read joblog {}: {e}", path.display()))?,
            _ => HashSet::new(),
        };
        let joblog = match &opts.joblog {
            Some((path, append)) => Some(
                JobLog::open(
                    path,
                    open_mode(*append, opts.resume.is_some()),
                    opts.joblog_format,
                )
                .map_err(|e| format!("can not write to --joblog {}: {e}", path.display()))?,
            ),
            None => None,
        };
        // Writing past a file size limit (`ulimit -f`) fails with EFBIG
        // rather than killing parx: a spill that fails is reported.
        sys::signal::ignore_file_size_signal();
        let spill = Spill::shared_in(opts.memory_budget, opts.tmpdir.clone());
        let save = opts.save.as_ref();
        let output = output::make_with(opts.output, opts.keep_order, save, Sinks::std(), spill);
        let devnull = match &opts.job_stdin {
            None => sys::spawn::dev_null().map_err(|e| format!("can not open /dev/null: {e}"))?,
            Some(path) => std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(path)
                .map(OwnedFd::from)
                .map_err(|e| format!("can not open {}: {e}", path.display()))?,
        };
        let sentinel = match &opts.sentinel {
            Some(exe) => {
                Some(Sentinel::start(exe).map_err(|e| format!("can not start the sentinel: {e}"))?)
            }
            None => None,
        };
        // Last, once parx's own fds are open: they count against the limit.
        let mut capacity = Capacity::new(opts.jobs);
        capacity.refill_reserve(&devnull, 0);
        Ok(Scheduler {
            opts,
            jobs,
            input_done: false,
            wake: None,
            observer,
            retry_queue: VecDeque::new(),
            slots: Slots::new(opts.jobs),
            capacity,
            running: (0..=opts.jobs.max(1)).map(|_| None).collect(),
            n_running: 0,
            epoll,
            signals: Some(signals),
            progress: Progress::new(opts.progress),
            sentinel,
            output,
            joblog,
            skip,
            devnull,
            env_pid: std::process::id().to_string().into(),
            stop: None,
            started_count: 0,
            done_count: 0,
            failed: 0,
            succeeded: 0,
            runtimes: Vec::new(),
            last_start: None,
            gate: opts
                .gate
                .any()
                .then(|| StartGate::new(opts.gate.clone(), super::cpus())),
            gate_wait: None,
            next_orphan_reap: Instant::now() + ORPHAN_REAP_EVERY,
            error: None,
            buf: vec![0; BULK_PIPE_SIZE],
            placement,
        })
    }

    fn run(&mut self) -> i32 {
        let mut events: Vec<epoll::Event> = Vec::with_capacity(64);
        loop {
            self.start_jobs();
            if self.n_running == 0 && self.nothing_left_to_start() {
                break;
            }
            let timeout = self.next_deadline().map(|at| {
                let left = at.saturating_duration_since(Instant::now());
                rustix::fs::Timespec {
                    tv_sec: left.as_secs() as i64,
                    tv_nsec: i64::from(left.subsec_nanos()),
                }
            });
            events.clear();
            let spare = rustix::buffer::spare_capacity(&mut events);
            match epoll::wait(&self.epoll, spare, timeout.as_ref()) {
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => {
                    self.error = Some(format!("epoll_wait: {e}"));
                    self.begin_stop(Stop::Halted(255));
                    break;
                }
            }
            let tokens: Vec<u64> = events.iter().map(|e| e.data.u64()).collect();
            for t in tokens {
                self.dispatch(t);
            }
            self.fire_timers();
            if self.next_orphan_reap <= Instant::now() {
                self.next_orphan_reap = Instant::now() + ORPHAN_REAP_EVERY;
                let _ = sys::reap::reap_orphans();
            }
        }
        self.finish()
    }

    fn nothing_left_to_start(&self) -> bool {
        self.stop.is_some() || (self.input_done && self.retry_queue.is_empty())
    }

    fn counts(&self) -> Counts {
        Counts {
            running: self.n_running as u64,
            done: self.done_count,
            failed: self.failed,
            total: self
                .input_done
                .then_some(self.started_count + self.retry_queue.len() as u64)
                .or(self.opts.total_jobs),
        }
    }

    fn finish(&mut self) -> i32 {
        let counts = self.counts();
        self.progress.finish(counts);
        let _ = sys::reap::reap_orphans();
        // Make sure nothing of ours outlives us.
        for slot in 0..self.running.len() {
            if let Some(r) = self.running[slot].take() {
                signal_job(&r.launched, libc::SIGKILL);
            }
        }
        if let Some(e) = &self.error {
            eprintln!("parx: {e}");
        }
        match self.stop {
            Some(Stop::Signal(sig)) => 128 + sig,
            Some(Stop::BrokenPipe) => 128 + libc::SIGPIPE,
            Some(Stop::Halted(code)) => code,
            None if self.error.is_some() || self.output.incomplete() > 0 => 255,
            None => match self.opts.halt {
                Some(halt) => halt.status_unreached(self.failed, self.started_count),
                None => exit_code_for_failures(self.failed),
            },
        }
    }

    fn next_job(&mut self) -> Option<Pending<J>> {
        if let Some(p) = self.retry_queue.pop_front() {
            return Some(p);
        }
        if self.wake.is_some_and(|w| Instant::now() < w) {
            return None;
        }
        self.wake = None;
        while !self.input_done {
            match self.jobs.supply() {
                Supply::Done => self.input_done = true,
                Supply::Later(at) => {
                    self.wake = Some(at);
                    return None;
                }
                Supply::Error(e) => {
                    self.error = Some(e.to_string());
                    self.input_done = true;
                    self.stop = Some(Stop::Halted(255));
                }
                Supply::Job(job) => {
                    let seq = job.seq();
                    if self.skip.contains(&seq) || job.done_before() {
                        if let Err(e) = self.output.skipped(seq) {
                            self.output_failed(e);
                        }
                        continue;
                    }
                    return Some(Pending::new(job, 1));
                }
            }
        }
        None
    }

    fn start_jobs(&mut self) {
        while self.stop.is_none() && self.slots.any_free() && self.n_running < self.capacity.limit()
        {
            if let (Some(delay), Some(last)) = (self.opts.delay, self.last_start)
                && last.elapsed() < delay
            {
                return;
            }
            let Some(pending) = self.next_job() else {
                return;
            };
            if !self.gate_allows_start() {
                self.retry_queue.push_front(pending);
                return;
            }
            let place = match self.placement.as_mut() {
                Some(p) => match p.acquire(&pending.avoid, pending.job.pinned_host()) {
                    Some(place) => Some(place),
                    None => {
                        // Every host is busy: wait for a job to end.
                        self.retry_queue.push_front(pending);
                        return;
                    }
                },
                None => None,
            };
            let Some(slot) = self.slots.take() else {
                return;
            };
            if let Err(e) = self.start(pending, slot, place) {
                self.error = Some(e);
                self.begin_stop(Stop::Halted(255));
            }
        }
    }

    /// Gives a remote host's slot back (`transport_failed`: ssh itself
    /// failed there).
    fn release_place(&mut self, place: Option<Place>, transport_failed: bool) {
        if let (Some(place), Some(p)) = (place, self.placement.as_mut()) {
            p.release(place, transport_failed);
        }
    }

    /// Asks the start gate (`--load`, `--memfree`, `--noswap`, `-j FILE`)
    /// whether another job may start now.
    fn gate_allows_start(&mut self) -> bool {
        let Some(gate) = self.gate.as_mut() else {
            return true;
        };
        if gate
            .jobs_limit()
            .is_some_and(|limit| self.n_running >= limit)
        {
            // Looked at again when a job ends.
            self.gate_wait = None;
            return false;
        }
        match gate.check(self.n_running) {
            Verdict::Go => {
                self.gate_wait = None;
                true
            }
            Verdict::WaitUntil(at) => {
                self.gate_wait = Some(at);
                false
            }
            Verdict::StopYoungest(at) => {
                self.gate_wait = Some(at);
                self.stop_youngest();
                false
            }
        }
    }

    /// `--memfree`: stops the job started last (along `--termseq`); it is
    /// queued again when it has ended.
    fn stop_youngest(&mut self) {
        let youngest = self
            .running
            .iter_mut()
            .flatten()
            .filter(|r| r.outcome.is_none() && r.kill.is_none())
            .max_by_key(|r| r.started);
        if let Some(r) = youngest {
            r.requeued = true;
            r.kill = Some((0, Instant::now()));
        }
    }

    /// The fds a job starts with, and the writer of its stdin. On failure,
    /// what failed, the error, and the job's stdin feed if it was taken.
    fn job_fds(&mut self, job: &mut Pending<J>) -> Result<JobFds, FdError> {
        let ungrouped = self.opts.output == output::Mode::Ungroup;
        let feed = match job.stdin.take() {
            Some(feed) => Some(feed),
            None => job.job.take_stdin(),
        };
        let bulk = feed.is_some();
        let fail = |what: &'static str, feed: Option<Box<dyn Feed>>| {
            move |e: io::Error| FdError {
                what,
                error: e,
                feed,
            }
        };
        let (out_r, out_w, err_r, err_w) = if ungrouped {
            let out = match sys::spawn::dup_std(1) {
                Ok(fd) => fd,
                Err(e) => return Err(fail("dup stdout", feed)(e)),
            };
            let err = match sys::spawn::dup_std(2) {
                Ok(fd) => fd,
                Err(e) => return Err(fail("dup stderr", feed)(e)),
            };
            (None, out, None, err)
        } else {
            // Jobs fed with blocks move megabytes: a bigger pipe means
            // fewer writes and wakeups per block.
            let o = if bulk {
                Pipe::with_capacity(BULK_PIPE_SIZE)
            } else {
                Pipe::new()
            };
            let o = match o {
                Ok(p) => p,
                Err(e) => return Err(fail("can not create a pipe", feed)(e)),
            };
            let e = match Pipe::new() {
                Ok(p) => p,
                Err(e) => return Err(fail("can not create a pipe", feed)(e)),
            };
            // parx's read ends never block the event loop; the jobs' write
            // ends stay blocking, as programs expect.
            for end in [&o.read, &e.read] {
                if let Err(e) = rustix::io::ioctl_fionbio(end, true) {
                    return Err(fail("can not make a pipe non-blocking", feed)(e.into()));
                }
            }
            (Some(o.read), o.write, Some(e.read), e.write)
        };
        let (stdin, writer) = match feed {
            Some(feed) => {
                let p = match Pipe::with_capacity(BULK_PIPE_SIZE) {
                    Ok(p) => p,
                    Err(e) => return Err(fail("can not create a pipe", Some(feed))(e)),
                };
                if let Err(e) = rustix::io::ioctl_fionbio(&p.write, true) {
                    return Err(fail("can not make a pipe non-blocking", Some(feed))(
                        e.into(),
                    ));
                }
                (p.read, Some(StdinWriter::new(p.write, feed)))
            }
            None => match self.devnull.try_clone() {
                Ok(fd) => (fd, None),
                Err(e) => return Err(fail("dup /dev/null", None)(e)),
            },
        };
        Ok(JobFds {
            io: JobIo {
                stdin,
                stdout: out_w,
                stderr: err_w,
                cwd: self.opts.workdir.clone(),
                fresh_pipes: !ungrouped,
            },
            out_r,
            err_r,
            writer,
        })
    }

    fn start(
        &mut self,
        mut pending: Pending<J>,
        slot: usize,
        place: Option<Place>,
    ) -> Result<(), String> {
        let seq = pending.job.seq();
        let command = pending.job.command_line(slot);
        let fds = match self.job_fds(&mut pending) {
            Ok(fds) => fds,
            Err(FdError { what, error, feed }) => {
                pending.stdin = feed;
                self.release_place(place, false);
                return match capacity::shortage(&error) {
                    Some(kind) => {
                        self.short_of(pending, slot, command, error, kind);
                        Ok(())
                    }
                    None => Err(format!("{what}: {error}")),
                };
            }
        };
        let JobFds {
            mut io,
            out_r,
            err_r,
            writer: feed,
        } = fds;
        // On a remote host (`-S`): the command line that reaches it there.
        let (run_command, marker) = match (place, self.placement.as_mut()) {
            (Some(place), Some(p)) => {
                let at = super::place::JobAt {
                    seq,
                    slot,
                    stdin_is_data: feed.is_some(),
                };
                let placed = match p.place(place, &command, at, &pending.job.files(slot)) {
                    Ok(placed) => placed,
                    Err(e) => {
                        p.release(place, false);
                        return Err(format!("can not place job {seq}: {e}"));
                    }
                };
                if let (Some(fd), None) = (placed.stdin, &feed) {
                    io.stdin = fd;
                }
                (
                    Some(placed.command),
                    placed.started_marker.map(MarkerFilter::new),
                )
            }
            _ => (None, None),
        };
        let tag: Option<Rc<[u8]>> = pending.job.tag(slot).map(|mut t| {
            t.push(b'\t');
            t.into()
        });
        let mut env = vec![
            ("PARALLEL_SEQ", OsString::from(seq.to_string())),
            ("PARALLEL_JOBSLOT", OsString::from(slot.to_string())),
            ("PARALLEL_PID", self.env_pid.clone()),
        ];
        if let Some(name) = &self.opts.process_slot_var {
            // GNU parallel's --process-slot-var counts from 0.
            env.push((name, OsString::from(slot.saturating_sub(1).to_string())));
        }
        if let Some(place) = pending.job.destination(slot) {
            // GNU parallel too stops before the job when it has nowhere
            // to save its output.
            self.output
                .destination(seq, place.map_err(|e| e.to_string())?);
        }
        self.output.started(seq, tag);
        if self.opts.print_command
            && let Err(e) = self
                .output
                .data(seq, Stream::Stdout, &command_line(&command))
        {
            self.output_failed(e);
        }
        if pending.job.skipped() {
            // GNU parallel runs `true` in its place and logs exit value -2.
            self.release_place(place, false);
            let Pending { job, attempt, .. } = pending;
            self.finish_unstarted(
                job,
                seq,
                slot,
                attempt,
                command,
                Outcome::failed_to_start(-2),
            );
            return Ok(());
        }
        self.capacity.release_reserve();
        let to_run = run_command.as_deref().unwrap_or(&command);
        let launched = Launched::start(to_run, io, &env, &self.opts.shell);
        self.capacity.refill_reserve(
            &self.devnull,
            self.n_running + usize::from(launched.is_ok()),
        );
        let launched = match launched {
            Ok(l) => l,
            Err(StartError { error, repeatable }) => {
                self.release_place(place, false);
                match capacity::shortage(&error) {
                    Some(kind) if repeatable => {
                        // Nothing of the job ran: it starts again later, as
                        // if for the first time.
                        self.output.discard(seq);
                        pending.stdin = feed.map(StdinWriter::into_feed);
                        self.short_of(pending, slot, command, error, kind);
                    }
                    _ => {
                        if let Some(kind) = capacity::shortage(&error) {
                            self.capacity.lower(self.n_running, kind);
                        }
                        self.start_failed(pending, seq, slot, command, error);
                    }
                }
                return Ok(());
            }
        };
        if self.opts.trace_command {
            use std::io::Write;
            let _ = io::stderr().lock().write_all(&command_line(&command));
        }
        let Pending {
            job,
            attempt,
            avoid,
            ..
        } = pending;
        let generation = self.started_count;
        let add = |fd: &OwnedFd, kind| {
            epoll::add(
                &self.epoll,
                fd.as_fd(),
                epoll::EventData::new_u64(token(generation, slot, kind)),
                epoll::EventFlags::IN,
            )
        };
        if let Some(fd) = &out_r {
            add(fd, KIND_STDOUT).map_err(|e| format!("epoll: {e}"))?;
        }
        if let Some(fd) = &err_r {
            add(fd, KIND_STDERR).map_err(|e| format!("epoll: {e}"))?;
        }
        if let Some(w) = &feed {
            epoll::add(
                &self.epoll,
                w.fd(),
                epoll::EventData::new_u64(token(generation, slot, KIND_STDIN)),
                epoll::EventFlags::OUT,
            )
            .map_err(|e| format!("epoll: {e}"))?;
        }
        let now = Instant::now();
        let deadline = self.timeout_for_new_job().map(|d| now + d);
        let capture = self.observer.as_ref().is_some_and(|o| o.wants_output());
        let mut running = Running {
            generation,
            job,
            seq,
            attempt,
            command,
            launched: Some(launched),
            groups: Vec::new(),
            started_wall: SystemTime::now(),
            started: now,
            stdout: out_r.map(File::from),
            stderr: err_r.map(File::from),
            stdin: feed,
            sent: 0,
            registered: Vec::new(),
            outcome: None,
            received: 0,
            deadline,
            kill: None,
            ending: None,
            timed_out: false,
            interrupted: false,
            captured: capture.then(Default::default),
            requeued: false,
            place,
            avoid,
            marker,
        };
        self.register_pidfds(slot, &mut running)?;
        self.running[slot] = Some(running);
        self.n_running += 1;
        self.started_count += 1;
        self.last_start = Some(now);
        // A job may have been reaped already if it has no pidfd (old
        // kernel): poll once so it is not forgotten.
        if self.running[slot]
            .as_ref()
            .is_some_and(|r| r.registered.is_empty())
        {
            self.poll_job(slot);
        }
        Ok(())
    }

    /// A job could not start because fds or processes ran out, and nothing
    /// of it ran. With other jobs running, it waits at the head of the
    /// queue and fewer jobs run at once from now on. With none running,
    /// parx's own orphans are reaped and the job is tried once more; if it
    /// still can not start, it is reported as failed and the run goes on.
    fn short_of(
        &mut self,
        mut pending: Pending<J>,
        slot: usize,
        command: Vec<u8>,
        error: io::Error,
        kind: capacity::Shortage,
    ) {
        if self.n_running > 0 || pending.short_tries == 0 {
            if self.n_running > 0 {
                self.capacity.lower(self.n_running, kind);
            } else {
                let _ = sys::reap::reap_orphans();
            }
            pending.short_tries += 1;
            self.slots.give_back(slot);
            self.retry_queue.push_front(pending);
            return;
        }
        let seq = pending.job.seq();
        let tag: Option<Rc<[u8]>> = pending.job.tag(slot).map(|mut t| {
            t.push(b'\t');
            t.into()
        });
        self.output.started(seq, tag);
        self.start_failed(pending, seq, slot, command, error);
    }

    /// A job whose processes could not be started at all (out of fds or
    /// processes): it fails with status 126, the run goes on.
    fn start_failed(
        &mut self,
        pending: Pending<J>,
        seq: u64,
        slot: usize,
        command: Vec<u8>,
        err: io::Error,
    ) {
        let Pending { job, attempt, .. } = pending;
        let msg = format!("parx: can not start job {seq}: {err}\n");
        let _ = self.output.data(seq, Stream::Stderr, msg.as_bytes());
        let outcome = Outcome::failed_to_start(126);
        self.finish_unstarted(job, seq, slot, attempt, command, outcome);
    }

    /// A job that ends without processes (not started, or skipped).
    fn finish_unstarted(
        &mut self,
        job: J,
        seq: u64,
        slot: usize,
        attempt: u32,
        command: Vec<u8>,
        outcome: Outcome,
    ) {
        let now = Instant::now();
        let running = Running {
            generation: self.started_count,
            job,
            seq,
            attempt,
            command,
            launched: None,
            groups: Vec::new(),
            started_wall: SystemTime::now(),
            started: now,
            stdout: None,
            stderr: None,
            stdin: None,
            sent: 0,
            registered: Vec::new(),
            outcome: Some(outcome),
            received: 0,
            deadline: None,
            kill: None,
            ending: None,
            timed_out: false,
            interrupted: false,
            captured: None,
            requeued: false,
            place: None,
            avoid: Vec::new(),
            marker: None,
        };
        self.running[slot] = Some(running);
        self.n_running += 1;
        self.started_count += 1;
        self.complete(slot);
    }

    /// Watches the pidfds of the job's new processes, and tells the
    /// sentinel about its new process groups.
    fn register_pidfds(&mut self, slot: usize, running: &mut Running<J>) -> Result<(), String> {
        let Some(launched) = running.launched.as_ref() else {
            return Ok(());
        };
        if let Some(s) = self.sentinel.as_mut() {
            for g in launched.groups() {
                if !running.groups.contains(&g) {
                    s.started(g);
                    running.groups.push(g);
                }
            }
        }
        for (pid, fd) in launched.pidfds() {
            if running.registered.contains(&pid) {
                continue;
            }
            epoll::add(
                &self.epoll,
                fd,
                epoll::EventData::new_u64(token(running.generation, slot, KIND_PIDFD)),
                epoll::EventFlags::IN,
            )
            .map_err(|e| format!("epoll: {e}"))?;
            running.registered.push(pid);
        }
        Ok(())
    }

    fn timeout_for_new_job(&self) -> Option<Duration> {
        match self.opts.timeout? {
            Timeout::Fixed(d) => Some(d),
            Timeout::PercentOfMedian(p) => {
                if self.runtimes.len() < 3 {
                    return None;
                }
                let mut sorted = self.runtimes.clone();
                sorted.sort_by(f64::total_cmp);
                let median = sorted[sorted.len() / 2];
                Some(Duration::from_secs_f64(median * p / 100.0))
            }
        }
    }

    fn dispatch(&mut self, token: u64) {
        if token == SIGNAL_TOKEN {
            self.handle_signals();
            return;
        }
        let (generation, slot, kind) = token_parts(token);
        if self
            .running
            .get(slot)
            .and_then(|r| r.as_ref())
            .map(|r| r.generation)
            != Some(generation)
        {
            return;
        }
        match kind {
            KIND_STDOUT => {
                self.read_output(slot, Stream::Stdout);
            }
            KIND_STDERR => {
                self.read_output(slot, Stream::Stderr);
            }
            KIND_STDIN => self.write_input(slot),
            _ => self.poll_job(slot),
        }
    }

    /// Reads once from a job's output pipe: the number of bytes read
    /// (there may be more), `Some(0)` at EOF, `None` if nothing was
    /// read.
    fn read_output(&mut self, slot: usize, stream: Stream) -> Option<usize> {
        let r = self.running[slot].as_mut()?;
        let pipe = match stream {
            Stream::Stdout => &mut r.stdout,
            Stream::Stderr => &mut r.stderr,
        };
        let file = pipe.as_mut()?;
        // Level-triggered: one read per wakeup never blocks, and a job
        // that writes a lot can not starve the others.
        let got = loop {
            match file.read(&mut self.buf) {
                Ok(0) => {
                    // EOF: every write end is closed. Closing our read end
                    // removes it from the epoll set.
                    *pipe = None;
                    if stream == Stream::Stderr
                        && let Some(m) = r.marker.as_mut()
                    {
                        let rest = m.flush();
                        let seq = r.seq;
                        if !rest.is_empty()
                            && let Err(e) = self.output.data(seq, stream, &rest)
                        {
                            self.output_failed(e);
                        }
                    }
                    break Some(0);
                }
                Ok(n) => {
                    let seq = r.seq;
                    // The remote wrapper's start marker never reaches the user.
                    let data = match (stream, r.marker.as_mut()) {
                        (Stream::Stderr, Some(m)) => m.filter(&self.buf[..n]),
                        _ => std::borrow::Cow::Borrowed(&self.buf[..n]),
                    };
                    r.received += data.len() as u64;
                    if let Some((out, err)) = r.captured.as_mut() {
                        match stream {
                            Stream::Stdout => out,
                            Stream::Stderr => err,
                        }
                        .extend_from_slice(&data);
                    }
                    if let Err(e) = self.output.data(seq, stream, &data) {
                        self.output_failed(e);
                    }
                    break Some(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break None,
                Err(e) => {
                    self.error = Some(format!("reading job output: {e}"));
                    *pipe = None;
                    break None;
                }
            }
        };
        if self.running[slot].as_ref().is_some_and(|r| r.finished()) {
            self.complete(slot);
        }
        got
    }

    fn write_input(&mut self, slot: usize) {
        let Some(r) = self.running[slot].as_mut() else {
            return;
        };
        let Some(w) = r.stdin.as_mut() else {
            return;
        };
        match w.write_some() {
            Ok(WriteState::Blocked) => {}
            Ok(WriteState::Done) => {
                r.sent = w.sent;
                // Closing the write end gives the job EOF.
                r.stdin = None;
            }
            Err(e) => {
                r.sent = w.sent;
                r.stdin = None;
                self.error = Some(format!("reading input: {e}"));
                self.begin_stop(Stop::Halted(255));
            }
        }
        if self.running[slot].as_ref().is_some_and(|r| r.finished()) {
            self.complete(slot);
        }
    }

    fn poll_job(&mut self, slot: usize) {
        let Some(r) = self.running[slot].as_mut() else {
            return;
        };
        let Some(launched) = r.launched.as_mut() else {
            return;
        };
        self.capacity.release_reserve();
        let polled = launched.poll();
        self.capacity.refill_reserve(&self.devnull, self.n_running);
        match polled {
            Ok(JobState::Done(outcome)) => self.ended(slot, outcome),
            Ok(JobState::Running) => {
                // A later stage of an and-or list may have started.
                let mut r = self.running[slot].take();
                if let Some(running) = r.as_mut()
                    && let Err(e) = self.register_pidfds(slot, running)
                {
                    self.error = Some(e);
                }
                self.running[slot] = r;
            }
            Err(e) => self.end_broken_job(slot, e),
        }
        if self.running[slot].as_ref().is_some_and(|r| r.finished()) {
            self.complete(slot);
        }
    }

    /// A running job could not go on (a later command of it could not be
    /// started: out of fds or processes). It ends here as failed, with
    /// the reason on its stderr: its processes are killed and its fds
    /// closed, so its output pipes reach EOF and it is reported like any
    /// job. Its later commands do not run.
    fn end_broken_job(&mut self, slot: usize, e: io::Error) {
        if let Some(kind) = capacity::shortage(&e) {
            self.capacity.lower(self.n_running, kind);
        }
        let Some(r) = self.running[slot].as_mut() else {
            return;
        };
        let msg = format!("parx: job {} could not go on: {e}\n", r.seq);
        let seq = r.seq;
        if let Some(l) = r.launched.take() {
            l.signal(libc::SIGKILL);
        }
        if let Err(e) = self.output.data(seq, Stream::Stderr, msg.as_bytes()) {
            self.output_failed(e);
        }
        self.ended(slot, Outcome::failed_to_start(126));
    }

    /// Every process of the job in `slot` has ended. All they wrote is in
    /// the output pipes now: read it, and close the pipes even without
    /// EOF — a process still holding them (one that left the job's
    /// process group, like a `setsid` daemon) is no longer the job, and
    /// neither the job nor parx waits for it.
    fn ended(&mut self, slot: usize, outcome: Outcome) {
        let Some(r) = self.running[slot].as_mut() else {
            return;
        };
        r.outcome = Some(outcome);
        for stream in [Stream::Stdout, Stream::Stderr] {
            let Some(r) = self.running[slot].as_ref() else {
                return;
            };
            let pipe = match stream {
                Stream::Stdout => &r.stdout,
                Stream::Stderr => &r.stderr,
            };
            // At most what the pipe holds: anything beyond that was
            // written after the job ended, by a process that is not it.
            let Some(mut left) = pipe
                .as_ref()
                .map(|f| rustix::pipe::fcntl_getpipe_size(f).unwrap_or(BULK_PIPE_SIZE))
            else {
                continue;
            };
            while left > 0 {
                match self.read_output(slot, stream) {
                    Some(n) if n > 0 => left = left.saturating_sub(n),
                    _ => break,
                }
            }
            if let Some(r) = self.running[slot].as_mut() {
                match stream {
                    Stream::Stdout => r.stdout = None,
                    Stream::Stderr => r.stderr = None,
                }
            }
        }
        if self.running[slot].as_ref().is_some_and(|r| r.finished()) {
            self.complete(slot);
        }
    }

    /// A job has ended and all its output is read: account for it.
    fn complete(&mut self, slot: usize) {
        let Some(r) = self.running[slot].take() else {
            return;
        };
        self.n_running -= 1;
        self.slots.give_back(slot);
        // A source that said "later" may have work now.
        self.wake = None;
        // A 255 without the wrapper's start marker: ssh itself failed, the
        // job never ran.
        let transport_failed = r.marker.as_ref().is_some_and(|m| !m.seen())
            && r.outcome
                .as_ref()
                .is_some_and(|o| o.status.code() == Some(255));
        if let (Some(place), Some(p)) = (r.place, self.placement.as_mut()) {
            p.release(place, transport_failed);
        }
        if let Some(s) = self.sentinel.as_mut() {
            for &g in &r.groups {
                s.ended(g);
            }
        }
        if let Some(g) = self.gate.as_mut() {
            g.job_ended();
        }
        let Some(outcome) = r.outcome.clone() else {
            return;
        };
        if r.requeued && self.stop.is_none() {
            self.output.discard(r.seq);
            self.retry_queue
                .push_front(Pending::new(r.job, r.attempt).avoiding(r.avoid));
            return;
        }
        let runtime = r.started.elapsed().as_secs_f64();
        let success = outcome.status.success() && !r.timed_out;
        if r.interrupted {
            // Killed because the run is stopping: as GNU parallel, drop
            // its output and do not log it, so that --resume runs it again.
            if let Err(e) = self.output.abandoned(r.seq) {
                self.output_failed(e);
            }
            return;
        }
        if !success && r.attempt < self.opts.retries && self.stop.is_none() {
            self.output.discard(r.seq);
            let mut avoid = r.avoid;
            if let Some(place) = r.place {
                avoid.push(place.host);
            }
            self.retry_queue
                .push_back(Pending::new(r.job, r.attempt + 1).avoiding(avoid));
            return;
        }
        if let Err(e) = self.output.finished(r.seq) {
            self.output_failed(e);
        }
        self.done_count += 1;
        // Only `--timeout N%` needs past runtimes: memory stays flat in the
        // number of jobs otherwise.
        if matches!(self.opts.timeout, Some(Timeout::PercentOfMedian(_))) {
            self.runtimes.push(runtime);
        }
        if success {
            self.succeeded += 1;
        } else {
            self.failed += 1;
        }
        self.log(&r, &outcome, runtime);
        self.observe(&r, &outcome, runtime);
        let counts = self.counts();
        self.progress.update(counts);
        self.check_halt(success, &outcome, r.timed_out, &r.command);
    }

    fn log(&mut self, r: &Running<J>, outcome: &Outcome, runtime: f64) {
        let Some(log) = self.joblog.as_mut() else {
            return;
        };
        let (exitval, signal) = match outcome.status {
            ExitStatus::Exited(code) => (code, 0),
            ExitStatus::Signaled { signal, .. } => (0, signal),
        };
        let exitval = if r.timed_out { -1 } else { exitval };
        let start_time = r
            .started_wall
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let host = match (r.place, self.placement.as_ref()) {
            (Some(place), Some(p)) => p.host_name(place.host),
            _ => ":".to_string(),
        };
        let record = JobRecord {
            seq: r.seq,
            host,
            start_time,
            runtime,
            send: r.sent,
            receive: r.received,
            exitval,
            signal,
            command: r.command.clone(),
            stages: outcome.stages.clone(),
            user_time: outcome.usage.user.as_secs_f64(),
            system_time: outcome.usage.system.as_secs_f64(),
            max_rss_kb: outcome.usage.max_rss_kb,
        };
        if let Err(e) = log.write(&record) {
            self.error = Some(format!("can not write the joblog: {e}"));
        }
    }

    fn observe(&mut self, r: &Running<J>, outcome: &Outcome, runtime: f64) {
        let Some(observer) = self.observer.as_mut() else {
            return;
        };
        let (stdout, stderr) = r
            .captured
            .as_ref()
            .map_or((&[][..], &[][..]), |(o, e)| (&o[..], &e[..]));
        observer.finished(&Finished {
            seq: r.seq,
            command: &r.command,
            status: outcome.status,
            timed_out: r.timed_out,
            start_time: r
                .started_wall
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
            runtime,
            send: r.sent,
            receive: r.received,
            stdout,
            stderr,
        });
    }

    /// GNU parallel's `--halt` step after each finished job: name the job
    /// on stderr when it counts, then stop if the condition holds.
    fn check_halt(&mut self, success: bool, outcome: &Outcome, timed_out: bool, command: &[u8]) {
        let Some(halt) = self.opts.halt else {
            return;
        };
        if !matches!(self.stop, None | Some(Stop::Halted(_))) {
            return;
        }
        let (counted, what) = match halt.on {
            HaltOn::Fail if !success => (self.failed, "failed"),
            HaltOn::Success if success => (self.succeeded, "succeeded"),
            HaltOn::Done => (self.done_count, "finished"),
            _ => return,
        };
        let mut msg = format!("parx: This job {what}:\n").into_bytes();
        msg.extend_from_slice(command);
        msg.push(b'\n');
        let _ = io::Write::write_all(&mut io::stderr().lock(), &msg);
        let total = self
            .opts
            .total_jobs
            .unwrap_or(self.started_count.max(self.done_count));
        if !halt.reached(counted, total) {
            return;
        }
        // GNU logs -1 for a timed-out job; as an exit status that reads as 255.
        let job_status = if timed_out {
            255
        } else {
            outcome.status.shell_code()
        };
        self.begin_stop(Stop::Halted(halt.status(self.failed, total, job_status)));
        match halt.when {
            HaltWhen::Now => self.terminate_all(),
            HaltWhen::Soon if self.n_running > 0 => eprintln!(
                "parx: Starting no more jobs. Waiting for {} jobs to finish.",
                self.n_running
            ),
            HaltWhen::Soon => {}
        }
    }

    fn begin_stop(&mut self, why: Stop) {
        if self.stop.is_none() {
            self.stop = Some(why);
        }
    }

    /// Starts the termination sequence (`--termseq`) on every running
    /// job, because the run is stopping.
    fn terminate_all(&mut self) {
        let now = Instant::now();
        for r in self.running.iter_mut().flatten() {
            if r.outcome.is_some() || r.kill.is_some() {
                continue;
            }
            r.ending = Some(Ending::RunStopping);
            r.kill = Some((0, now));
        }
        self.fire_timers();
    }

    fn handle_signals(&mut self) {
        let Some(signals) = self.signals.as_mut() else {
            return;
        };
        for sig in signals.drain() {
            match self.stop {
                Some(Stop::Signal(_)) => {
                    // Second interrupt: no more patience.
                    for r in self.running.iter().flatten() {
                        signal_job(&r.launched, libc::SIGKILL);
                    }
                }
                _ => {
                    // As GNU parallel: the jobs get the termination
                    // sequence, ending in SIGKILL, whatever signal parx got.
                    self.stop = Some(Stop::Signal(sig));
                    self.terminate_all();
                }
            }
        }
    }

    fn output_failed(&mut self, e: io::Error) {
        if e.kind() == io::ErrorKind::BrokenPipe {
            // The reader of our stdout is gone (`parx … | head -1`): stop
            // quietly, ending the jobs still running.
            if self.stop.is_none() {
                self.stop = Some(Stop::BrokenPipe);
                self.terminate_all();
            }
        } else if self.error.is_none() {
            self.error = Some(format!("can not write output: {e}"));
            self.begin_stop(Stop::Halted(255));
            self.terminate_all();
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut consider = |t: Instant| {
            next = Some(next.map_or(t, |n: Instant| n.min(t)));
        };
        if self.n_running > 0 {
            consider(self.next_orphan_reap);
        }
        for r in self.running.iter().flatten() {
            if r.outcome.is_some() {
                continue;
            }
            if let Some((_, at)) = r.kill {
                consider(at);
            } else if let Some(d) = r.deadline {
                consider(d);
            }
        }
        if let (Some(delay), Some(last)) = (self.opts.delay, self.last_start)
            && self.slots.any_free()
            && !self.nothing_left_to_start()
        {
            consider(last + delay);
        }
        if let Some(at) = self.wake
            && self.slots.any_free()
            && !self.nothing_left_to_start()
        {
            consider(at);
        }
        if let Some(at) = self.gate_wait
            && !self.nothing_left_to_start()
        {
            consider(at);
        }
        next
    }

    fn fire_timers(&mut self) {
        let now = Instant::now();
        let termseq = &self.opts.termseq.0;
        let mut due = Vec::new();
        for (slot, r) in self.running.iter_mut().enumerate() {
            let Some(r) = r else {
                continue;
            };
            if r.outcome.is_some() {
                continue;
            }
            if r.kill.is_none() && r.deadline.is_some_and(|d| d <= now) {
                r.ending = Some(Ending::Timeout);
                r.kill = Some((0, now));
            }
            if let Some((step, at)) = r.kill {
                if at > now {
                    continue;
                }
                let (sig, grace) = termseq
                    .get(step)
                    .copied()
                    .unwrap_or((libc::SIGKILL, Duration::from_millis(25)));
                r.kill = Some((step + 1, now + grace));
                due.push((slot, sig, step == 0));
            }
        }
        for (slot, sig, first) in due {
            self.send_stop(slot, sig, first);
        }
    }

    /// Sends the job in `slot` one signal of its termination sequence;
    /// the first one ends the job (nothing more of it runs).
    fn send_stop(&mut self, slot: usize, sig: i32, first: bool) {
        let Some(r) = self.running[slot].as_mut() else {
            return;
        };
        let Some(launched) = r.launched.as_mut() else {
            return;
        };
        let state = match launched.stop(sig) {
            Ok(state) => state,
            Err(e) => {
                self.error = Some(format!("stopping a job: {e}"));
                return;
            }
        };
        // A job that ended on its own before the signal keeps its status.
        let stopped = match &state {
            JobState::Running => true,
            JobState::Done(outcome) => outcome.stopped,
        };
        if first && stopped {
            match r.ending {
                Some(Ending::Timeout) => {
                    r.timed_out = true;
                    timeout_warning(&r.command);
                }
                Some(Ending::RunStopping) => r.interrupted = true,
                None => {}
            }
        }
        if let JobState::Done(outcome) = state {
            self.ended(slot, outcome);
        }
    }
}

/// GNU parallel's warning for a job ended by `--timeout`, on stderr.
fn timeout_warning(command: &[u8]) {
    use std::io::Write;
    let mut msg =
        b"parx: Warning: This job was killed because it timed out:\nparx: Warning: ".to_vec();
    msg.extend_from_slice(command);
    msg.push(b'\n');
    let _ = io::stderr().lock().write_all(&msg);
}
