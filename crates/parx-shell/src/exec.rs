//! The executor: a stepping state machine that runs a [`Script`] without a
//! shell, for an event loop.
//!
//! [`Execution::start`] runs builtins and spawns the first pipeline, then
//! returns [`Step::Running`] with children to watch (their pidfds); the
//! engine calls [`Execution::child_exited`] when one becomes readable, and
//! gets either `Running` again (maybe with new children: `a && b` spawns
//! `b` after `a` exits) or [`Step::Done`]. Nothing here blocks, except
//! [`crate::run`], the blocking driver for tests and examples.
//!
//! fds: each stage gets its own duplicates of the job's 0/1/2 and of the
//! pipe ends it holds, moved into the spawn and closed in parx right after
//! it; the pipe ends parx keeps for the next stage are dropped as soon as
//! that stage is spawned, and the job's own fds when the job is done, so
//! every reader sees EOF exactly when the last writer exits.
//!
//! How an event loop drives a job:
//!
//! ```no_run
//! use parx_shell::{Context, Execution, ProcessGroup, Script, Step};
//! # fn main() -> std::io::Result<()> {
//! let ctx = Context {
//!     process_group: ProcessGroup::New,
//!     env: vec![("PARALLEL_SEQ".into(), "1".into())],
//!     ..Context::default() // stdin/stdout/stderr: the job's pipes
//! };
//! let mut ex = Execution::new(Script::new(b"echo a | tr a-z A-Z && echo done"), ctx)?;
//! let mut step = ex.start()?;
//! while let Step::Running = step {
//!     // Register each new child's pidfd (ex.children()) with epoll; when
//!     // one is readable:
//!     let pid = ex.children().next().map(|c| c.pid()).unwrap_or(0);
//!     step = ex.child_exited(pid)?;
//! }
//! if let Step::Done(status) = step {
//!     println!("exit {} pipestatus {:?}", status.code, status.pipestatus);
//! }
//! # Ok(())
//! # }
//! ```

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::ast::{Pipeline, RedirOp, Simple};
use crate::builtin::{self, Builtin};
use crate::expand::{self, NeedsShell, Vars};
use crate::script::{Body, Script};
use parx_sys::{Child, Exit, Pipe, Spawn, SpawnError};

/// Which process group the job's processes go in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProcessGroup {
    /// Stay in parx's group.
    #[default]
    Inherit,
    /// Each pipeline gets a new group led by its first stage, so
    /// [`Execution::signal`] reaches every process of the job.
    New,
    /// Join an existing group.
    Join(i32),
}

/// Where and how a job runs.
#[derive(Debug, Default)]
pub struct Context {
    /// The job's stdin; `None` inherits parx's.
    pub stdin: Option<OwnedFd>,
    /// The job's stdout; `None` inherits parx's.
    pub stdout: Option<OwnedFd>,
    /// The job's stderr; `None` inherits parx's.
    pub stderr: Option<OwnedFd>,
    /// Working directory; `None` is parx's.
    pub cwd: Option<PathBuf>,
    /// Extra exported variables (`PARALLEL_SEQ`, …).
    pub env: Vec<(OsString, OsString)>,
    /// Process group of the job's processes.
    pub process_group: ProcessGroup,
    /// A pipeline's status is its rightmost failure (`set -o pipefail`).
    pub pipefail: bool,
    /// The shell for commands parx does not run itself; `None` is
    /// `$PARALLEL_SHELL`, else `/bin/bash`. Messages parx prints itself are
    /// prefixed with this name, as that shell's would be.
    pub shell: Option<OsString>,
    /// stdout and stderr are pipes the caller made for this job alone and
    /// drains itself (the engine's capture pipes): while no process holds
    /// them, builtin output (`echo`) that fits in the pipe is written from
    /// parx directly, so `echo {}` jobs start no process at all.
    pub fresh_output_pipes: bool,
}

/// How one process of the job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageExit {
    /// Its pid.
    pub pid: i32,
    /// Status, times and usage.
    pub exit: Exit,
}

/// How a whole job ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JobStatus {
    /// The status bash's `$?` would show (exit code or 128+signal).
    pub code: i32,
    /// Status of each stage of the last pipeline run (bash's `PIPESTATUS`).
    pub pipestatus: Vec<i32>,
    /// Every process the job started, in order (CPU time, memory).
    pub exits: Vec<StageExit>,
    /// Why the job ran under the fallback shell, if it did.
    pub fallback: Option<&'static str>,
    /// The job was ended from outside ([`Execution::stop`]) with this
    /// signal, which the shell running it would have died of: `code` is
    /// 128 + signal.
    pub killed: Option<i32>,
    /// [`Execution::stop`] ended the job before it was done (its status
    /// may still be the process's own: see there).
    pub stopped: bool,
}

/// What an [`Execution`] is doing.
#[derive(Debug)]
pub enum Step {
    /// Children are running; see [`Execution::children`].
    Running,
    /// The job has finished; its fds are closed.
    Done(JobStatus),
}

struct Live {
    child: Child,
    stage: usize,
    /// A writer process delivering a builtin's output: its own status is
    /// replaced by the builtin's.
    status: Option<i32>,
    /// The process group the job made for this process's pipeline (`None`
    /// when the job makes no groups).
    group: Option<i32>,
}

/// Position of the running pipeline: and-or chain `item`, pipeline `idx`
/// (0 = first, k = `rest[k-1]`).
#[derive(Debug, Clone, Copy, Default)]
struct Pos {
    item: usize,
    idx: usize,
}

/// One job being run; see the module docs.
pub struct Execution {
    script: Script,
    job: Job,
}

struct Job {
    fds: [Option<Arc<OwnedFd>>; 3],
    /// Logical `$PWD`.
    pwd: PathBuf,
    /// Whether children must be given `pwd` as their directory.
    cwd_set: bool,
    vars: Vars,
    pgroup: ProcessGroup,
    pipefail: bool,
    /// `set -e`.
    errexit: bool,
    /// The running pipeline ends its and-or chain (so `set -e` applies).
    chain_last: bool,
    shell: OsString,
    /// Bytes that can still be written to the job's fd 1 / 2 without
    /// blocking (see [`Context::fresh_output_pipes`]); `None` once a child
    /// holds it.
    room: [std::cell::Cell<Option<usize>>; 3],
    /// `$SHLVL` children see (bash increments it, except for the command
    /// it `exec`s at the end).
    shlvl: i64,
    status: i32,
    pos: Pos,
    /// Statuses of the current pipeline's stages.
    stages: Vec<Option<i32>>,
    negate: bool,
    live: Vec<Live>,
    exits: Vec<StageExit>,
    /// Something observable happened (a process ran, a file was opened).
    effects: bool,
    exit: Option<i32>,
    fallback: Option<&'static str>,
    started: bool,
    done: bool,
    /// Line of the command being started, for messages.
    line: u32,
    /// The running pipeline, for bash's report of a command killed by a
    /// signal: whether bash would have exec'd it (no report then), its
    /// source range and line if it is a single command.
    cur: Current,
    /// The last stage of the running pipeline was killed by a signal.
    killed: Option<Killed>,
    /// [`Execution::stop`] ended the job with this signal: nothing more
    /// of the script runs.
    stopped: Option<i32>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Current {
    exec_last: bool,
    single: Option<((usize, usize), u32)>,
}

#[derive(Debug, Clone, Copy)]
struct Killed {
    pid: i32,
    signal: i32,
    core: bool,
}

/// The most output a builtin may produce (Linux's default
/// `pipe-max-size`): more is left to bash.
const MAX_BUILTIN_OUTPUT: usize = 1 << 20;

fn finished() -> io::Error {
    io::Error::other("job already finished")
}

fn own(fd: &Arc<OwnedFd>) -> io::Result<OwnedFd> {
    fd.as_fd().try_clone_to_owned()
}

impl Execution {
    /// Prepares `script` to run in `ctx`. Nothing starts before
    /// [`Execution::start`].
    pub fn new(script: Script, ctx: Context) -> io::Result<Execution> {
        let std = |fd: Option<OwnedFd>, n| -> io::Result<Arc<OwnedFd>> {
            Ok(Arc::new(match fd {
                Some(fd) => fd,
                None => parx_sys::spawn::dup_std(n)?,
            }))
        };
        let fds = [
            Some(std(ctx.stdin, 0)?),
            Some(std(ctx.stdout, 1)?),
            Some(std(ctx.stderr, 2)?),
        ];
        let room: [std::cell::Cell<Option<usize>>; 3] = Default::default();
        if ctx.fresh_output_pipes {
            for n in [1, 2] {
                if let Some(fd) = &fds[n] {
                    room[n].set(rustix::pipe::fcntl_getpipe_size(&**fd).ok());
                }
            }
        }
        let cwd_set = ctx.cwd.is_some();
        let pwd = match ctx.cwd {
            Some(dir) if dir.is_absolute() => dir,
            Some(dir) => std::env::current_dir()?.join(dir),
            None => initial_pwd()?,
        };
        let mut vars = Vars::default();
        for (k, v) in &ctx.env {
            if let Some(k) = k.to_str() {
                vars.set(k, v.as_bytes().to_vec(), true);
            }
        }
        vars.set("PWD", pwd.as_os_str().as_bytes().to_vec(), true);
        // bash keeps an inherited OLDPWD only if it names a directory.
        if !inherited_oldpwd_is_dir() {
            vars.unset("OLDPWD");
        }
        let shlvl = std::env::var("SHLVL")
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .unwrap_or(0);
        let shell = ctx
            .shell
            .or_else(|| std::env::var_os("PARALLEL_SHELL"))
            .unwrap_or_else(|| OsString::from("/bin/bash"));
        Ok(Execution {
            script,
            job: Job {
                fds,
                pwd,
                cwd_set,
                vars,
                pgroup: ctx.process_group,
                pipefail: ctx.pipefail,
                errexit: false,
                chain_last: false,
                shell,
                room,
                shlvl,
                status: 0,
                pos: Pos::default(),
                stages: Vec::new(),
                negate: false,
                live: Vec::new(),
                exits: Vec::new(),
                effects: false,
                exit: None,
                fallback: None,
                started: false,
                done: false,
                line: 1,
                cur: Current::default(),
                killed: None,
                stopped: None,
            },
        })
    }

    /// Starts the job: runs what it can in-process and spawns the first
    /// processes.
    /// Call once; a second call is an error.
    pub fn start(&mut self) -> io::Result<Step> {
        if self.job.started {
            return Err(io::Error::other("job already started"));
        }
        self.job.started = true;
        if let Body::Fallback(reason) = &self.script.body {
            let reason = *reason;
            self.job.run_in_shell(&self.script, None, reason)?;
            return self.job.finish_if_idle();
        }
        self.job.pos = Pos::default();
        self.job.launch_from_pos(&self.script)
    }

    /// The children running now. After each [`Step::Running`] new ones may
    /// have appeared; each pid appears until its [`Execution::child_exited`].
    pub fn children(&self) -> impl Iterator<Item = &Child> {
        self.job.live.iter().map(|l| &l.child)
    }

    /// Call when child `pid`'s pidfd is readable: reaps it and advances.
    /// A pid that has not exited yet (or is unknown) changes nothing. After
    /// [`Step::Done`] this is an error.
    pub fn child_exited(&mut self, pid: i32) -> io::Result<Step> {
        let Some(i) = self.job.live.iter().position(|l| l.child.pid() == pid) else {
            return self.job.current_step();
        };
        if !self.job.reap(i)? {
            return Ok(Step::Running);
        }
        self.job.advance(&self.script)
    }

    /// Blocks until some child exits, reaps it and advances (for [`crate::run`]).
    pub fn wait_one(&mut self) -> io::Result<Step> {
        if self.job.live.is_empty() {
            return self.job.advance(&self.script);
        }
        self.job.live[0].child.wait_exited()?;
        self.job.reap(0)?;
        self.job.advance(&self.script)
    }

    /// Sends `signal` to every running process of the job (their groups
    /// when they lead one).
    pub fn signal(&self, signal: i32) {
        for l in &self.job.live {
            let _ = l.child.signal_group(signal);
        }
    }

    /// Ends the job from outside (a timeout, `--halt now`, a signal to
    /// parx): sends `signal` to every running process, and — if `signal`
    /// ends a process by default — runs nothing more of the script, as a
    /// shell running it would have died of the signal: no later list
    /// item, pipeline or builtin. The job's status is then that signal
    /// (unless the shell would have `exec`'d the running command, or the
    /// job runs under the fallback shell: then the real status of the
    /// process). Calling it again sends the next signal only.
    ///
    /// A job whose processes have all exited already and that has nothing
    /// left to run ended on its own: that is returned as [`Step::Done`]
    /// with its own status. After `Done` this is an error.
    pub fn stop(&mut self, signal: i32) -> io::Result<Step> {
        let job = &mut self.job;
        if job.done {
            return Err(finished());
        }
        if job.stopped.is_none() && parx_sys::signal::ends_process_by_default(signal) {
            for i in (0..job.live.len()).rev() {
                job.reap(i)?;
            }
            if job.live.is_empty() {
                // Between two steps of the script (or at its end): a shell
                // would die here before running the next one.
                job.killed = None;
                job.complete_pipeline();
                if job.exit.is_some() || job.fallback.is_some() || !job.next_pos(&self.script) {
                    return Ok(job.done_step());
                }
                job.cur = Current::default();
                job.stopped = Some(signal);
                return Ok(job.done_step());
            }
            job.stopped = Some(signal);
        }
        self.signal(signal);
        self.job.current_step()
    }
}

impl Job {
    fn current_step(&mut self) -> io::Result<Step> {
        if self.done {
            return Err(finished());
        }
        if !self.live.is_empty() {
            return Ok(Step::Running);
        }
        Ok(self.done_step())
    }

    fn done_step(&mut self) -> Step {
        self.done = true;
        self.fds = [None, None, None];
        let pipestatus: Vec<i32> = self.stages.iter().map(|s| s.unwrap_or(0)).collect();
        // A shell that `exec`'d the command, or the fallback shell itself,
        // reports the process's own status.
        let killed = self
            .stopped
            .filter(|_| self.fallback.is_none() && !self.cur.exec_last);
        Step::Done(JobStatus {
            code: killed.map_or(self.exit.unwrap_or(self.status), |s| 128 + s),
            pipestatus,
            exits: std::mem::take(&mut self.exits),
            fallback: self.fallback,
            killed,
            stopped: self.stopped.is_some(),
        })
    }

    fn finish_if_idle(&mut self) -> io::Result<Step> {
        if self.live.is_empty() {
            self.complete_pipeline();
            Ok(self.done_step())
        } else {
            Ok(Step::Running)
        }
    }

    /// Reaps live process `i` if it has exited; false if it still runs.
    /// When it is the last process of its pipeline's group, whatever else
    /// is in the group (a background descendant) is killed first, while
    /// this unreaped process still holds the group's id: the group ends
    /// with the pipeline, and no descendant keeps the job's pipes open.
    fn reap(&mut self, i: usize) -> io::Result<bool> {
        let l = &self.live[i];
        if !l.child.has_exited()? {
            return Ok(false);
        }
        if let Some(g) = l.group
            && !self
                .live
                .iter()
                .enumerate()
                .any(|(j, other)| j != i && other.group == Some(g))
        {
            let _ = parx_sys::signal::kill_group(g, libc::SIGKILL);
        }
        let mut live = self.live.swap_remove(i);
        let pid = live.child.pid();
        let Some(exit) = live.child.try_wait()? else {
            return Err(io::Error::other("an exited child could not be reaped"));
        };
        self.reaped(pid, live.stage, live.status, exit);
        Ok(true)
    }

    /// The group a new process of the job belongs to, given its
    /// pipeline's group (see [`Live::group`]).
    fn group_of(&self, child: &Child, pipeline: Option<i32>) -> Option<i32> {
        match self.pgroup {
            ProcessGroup::New if child.leads_group() => Some(child.pid()),
            ProcessGroup::New => pipeline,
            _ => None,
        }
    }

    fn reaped(&mut self, pid: i32, stage: usize, status: Option<i32>, exit: Exit) {
        self.exits.push(StageExit { pid, exit });
        if status.is_none()
            && stage + 1 == self.stages.len()
            && let parx_sys::ExitStatus::Signaled {
                signal,
                core_dumped,
            } = exit.status
        {
            self.killed = Some(Killed {
                pid,
                signal,
                core: core_dumped,
            });
        }
        let code = status.unwrap_or_else(|| exit.status.shell_code());
        if let Some(s) = self.stages.get_mut(stage) {
            *s = Some(code);
        }
    }

    fn complete_pipeline(&mut self) {
        let mut codes = self.stages.iter().rev().map(|s| s.unwrap_or(0));
        let mut code = if self.pipefail {
            codes.find(|&c| c != 0).unwrap_or(0)
        } else {
            codes.next().unwrap_or(0)
        };
        if self.negate {
            code = i32::from(code == 0);
        }
        self.status = code;
        if self.errexit && code != 0 && !self.negate && self.chain_last && self.exit.is_none() {
            self.exit = Some(code);
        }
    }

    /// After a child exits: if the pipeline is complete, run the next one.
    fn advance(&mut self, script: &Script) -> io::Result<Step> {
        if !self.live.is_empty() {
            return Ok(Step::Running);
        }
        if self.done {
            return Err(finished());
        }
        if self.stopped.is_some() {
            self.complete_pipeline();
            return Ok(self.done_step());
        }
        if let Some(k) = self.killed.take()
            && self.fallback.is_none()
            && self.report_killed(script, k)?
        {
            return Ok(Step::Running);
        }
        self.complete_pipeline();
        if self.exit.is_some() || self.fallback.is_some() {
            return Ok(self.done_step());
        }
        if !self.next_pos(script) {
            return Ok(self.done_step());
        }
        self.launch_from_pos(script)
    }

    /// Moves to the next pipeline to run given `self.status`; false at the
    /// end of the script.
    fn next_pos(&mut self, script: &Script) -> bool {
        let Body::Native(list) = &script.body else {
            return false;
        };
        let mut pos = self.pos;
        loop {
            let Some(item) = list.items.get(pos.item) else {
                return false;
            };
            pos.idx += 1;
            match item.rest.get(pos.idx - 1) {
                Some((conn, _)) => {
                    let run = match conn {
                        crate::ast::Connector::And => self.status == 0,
                        crate::ast::Connector::Or => self.status != 0,
                    };
                    if run {
                        self.pos = pos;
                        return true;
                    }
                }
                None => {
                    pos = Pos {
                        item: pos.item + 1,
                        idx: 0,
                    };
                    if pos.item >= list.items.len() {
                        return false;
                    }
                    self.pos = pos;
                    return true;
                }
            }
        }
    }

    /// Runs pipelines from `self.pos` until one has running children or
    /// the script ends.
    fn launch_from_pos(&mut self, script: &Script) -> io::Result<Step> {
        let Body::Native(list) = &script.body else {
            return Ok(self.done_step());
        };
        if list.items.is_empty() {
            return Ok(self.done_step());
        }
        loop {
            let Some(item) = list.items.get(self.pos.item) else {
                return Ok(self.done_step());
            };
            let pipeline = if self.pos.idx == 0 {
                &item.first
            } else {
                match item.rest.get(self.pos.idx - 1) {
                    Some((_, p)) => p,
                    None => return Ok(self.done_step()),
                }
            };
            let last = self.pos.item + 1 == list.items.len() && self.pos.idx == item.rest.len();
            self.chain_last = self.pos.idx == item.rest.len();
            match self.launch(pipeline, last) {
                Ok(()) => {}
                Err(Launch::Io(e)) => return Err(e),
                Err(Launch::Shell(NeedsShell(reason))) => {
                    self.kill_live();
                    self.run_in_shell(script, Some(pipeline.start), reason)?;
                    return self.finish_if_idle();
                }
            }
            if !self.live.is_empty() {
                return Ok(Step::Running);
            }
            self.complete_pipeline();
            if self.exit.is_some() || !self.next_pos(script) {
                return Ok(self.done_step());
            }
        }
    }

    /// bash reports a foreground command killed by a signal (other than
    /// SIGINT and SIGPIPE) unless it exec'd it: `Terminated` for SIGTERM,
    /// else `line N:  PID Killed                  cmd` for a single command
    /// (a pipeline's multi-line report is not reproduced). Returns whether
    /// a writer process was started for it.
    fn report_killed(&mut self, script: &Script, k: Killed) -> io::Result<bool> {
        if self.cur.exec_last || k.signal == libc::SIGINT || k.signal == libc::SIGPIPE {
            return Ok(false);
        }
        let msg = if k.signal == libc::SIGTERM && !k.core {
            b"Terminated\n".to_vec()
        } else {
            let Some(((a, b), line)) = self.cur.single else {
                return Ok(false);
            };
            let Some(text) = script.text.get(a..b).and_then(crate::parse::render_simple) else {
                return Ok(false);
            };
            let mut name = signal_name(k.signal);
            if k.core {
                name.push_str(" (core dumped)");
            }
            let mut m = self.shell_name().to_vec();
            m.extend_from_slice(format!(": line {line}: {:>5} {name:<24}", k.pid).as_bytes());
            m.extend_from_slice(&text);
            m.push(b'\n');
            m
        };
        let Some(fd) = self.fds[2].clone() else {
            return Ok(false);
        };
        if self.take_room(&fd, msg.len()) || never_blocks(&fd) {
            let _ = write_all(&fd, &msg);
            return Ok(false);
        }
        let pipe = Pipe::with_capacity(msg.len())?;
        let (r, w) = pipe.into_ends();
        write_all(&w, &msg)?;
        drop(w);
        let mut sp = Spawn::new("/bin/cat");
        sp.arg0("cat").fd(0, r).fd(1, own(&fd)?).fd(2, own(&fd)?);
        self.held(&[(2, fd)]);
        self.set_group(&mut sp, None);
        match sp.spawn() {
            Ok(child) => {
                self.live.push(Live {
                    group: self.group_of(&child, None),
                    child,
                    stage: usize::MAX,
                    status: Some(0),
                });
                Ok(true)
            }
            Err(e) => Err(io::Error::other(e.to_string())),
        }
    }

    fn kill_live(&mut self) {
        for l in self.live.drain(..) {
            drop(l.child);
        }
    }

    /// Hands the job to the fallback shell: the whole script if nothing
    /// has happened yet, else the rest from byte `from` with the job's
    /// state (directory, variables, `$?`) carried over.
    fn run_in_shell(
        &mut self,
        script: &Script,
        from: Option<usize>,
        reason: &'static str,
    ) -> io::Result<()> {
        self.fallback = Some(reason);
        let text: Vec<u8> = match from {
            Some(start) if self.effects => {
                let mut t = Vec::new();
                if self.errexit {
                    t.extend_from_slice(b"set -e; ");
                }
                if self.pipefail {
                    t.extend_from_slice(b"set -o pipefail; ");
                }
                for (name, value) in self.vars.unexported() {
                    t.extend_from_slice(name.as_bytes());
                    t.push(b'=');
                    t.extend_from_slice(&crate::quote(value));
                    t.extend_from_slice(b"; ");
                }
                if self.status != 0 {
                    // `&& :`: a failure there does not trigger `set -e`.
                    t.extend_from_slice(format!("(exit {}) && :; ", self.status).as_bytes());
                }
                // Keep bash's line numbers: the rest starts on its own line.
                let before = script.text.get(..start).unwrap_or(b"");
                t.extend(std::iter::repeat_n(
                    b'\n',
                    memchr::memchr_iter(b'\n', before).count(),
                ));
                t.extend_from_slice(script.text.get(start..).unwrap_or(b""));
                t
            }
            _ if self.pipefail => {
                let mut t = b"set -o pipefail; ".to_vec();
                t.extend_from_slice(&script.text);
                t
            }
            _ => script.text.to_vec(),
        };
        self.stages = vec![None];
        self.negate = false;
        let mut sp = Spawn::new(&self.shell);
        sp.arg("-c").arg(OsString::from_vec(text));
        for (n, fd) in self.fds.iter().enumerate() {
            if let Some(fd) = fd {
                sp.fd(n as i32, own(fd)?);
                self.room_gone(n);
            }
        }
        if self.effects || self.cwd_set {
            sp.current_dir(&self.pwd);
        }
        for (k, v) in self.vars.env_changes() {
            if !self.effects && (k == "PWD" || k == "OLDPWD") {
                continue;
            }
            match v {
                Some(v) => sp.env(k, expand::os(v)),
                None => sp.env_remove(k),
            };
        }
        match self.pgroup {
            ProcessGroup::Inherit => {}
            ProcessGroup::New => {
                sp.process_group(0);
            }
            ProcessGroup::Join(g) => {
                sp.process_group(g);
            }
        }
        match sp.spawn() {
            Ok(child) => self.live.push(Live {
                group: self.group_of(&child, None),
                child,
                stage: 0,
                status: None,
            }),
            Err(e) => {
                let msg = format!("parx: cannot run {}: {e}\n", self.shell.to_string_lossy());
                self.stderr_message(msg.as_bytes());
                self.stages[0] = Some(e.shell_code());
            }
        }
        Ok(())
    }

    fn stderr_message(&mut self, msg: &[u8]) {
        if let Some(fd) = &self.fds[2] {
            let _ = rustix::io::write(fd, msg);
        }
    }

    fn shell_name(&self) -> &[u8] {
        self.shell.as_bytes()
    }

    /// Starts every stage of `pipeline` (builtins run here and now).
    fn launch(&mut self, pipeline: &Pipeline, last: bool) -> Result<(), Launch> {
        let n = pipeline.stages.len();
        if n > 1 {
            // Find out whether bash must run this pipeline before any of
            // its stages starts: a stage killed half-way could have done
            // something that running the pipeline again would repeat.
            for cmd in &pipeline.stages {
                self.validate(cmd)?;
            }
        }
        self.stages.clear();
        self.stages.resize(n, None);
        self.negate = pipeline.negate;
        self.killed = None;
        self.cur = Current {
            exec_last: last && n == 1 && !pipeline.negate,
            single: match pipeline.stages.as_slice() {
                [one] => Some((one.span, one.line)),
                _ => None,
            },
        };
        let mut group: Option<i32> = match self.pgroup {
            ProcessGroup::Join(g) => Some(g),
            _ => None,
        };
        let mut prev_read: Option<Arc<OwnedFd>> = None;
        for (k, cmd) in pipeline.stages.iter().enumerate() {
            let stdin = match prev_read.take() {
                Some(r) => r,
                None => self.fd(0)?,
            };
            let (stdout, fresh) = if k + 1 < n {
                let (r, w) = Pipe::new()?.into_ends();
                prev_read = Some(Arc::new(r));
                let w = Arc::new(w);
                (w.clone(), Some(w))
            } else {
                (self.fd(1)?, None)
            };
            let stderr = self.fd(2)?;
            let table = vec![(0, stdin), (1, stdout), (2, stderr)];
            let exec_last = last && n == 1 && !pipeline.negate;
            self.stage(cmd, k, n == 1, exec_last, table, fresh.as_ref(), &mut group)?;
            if self.exit.is_some() && n == 1 {
                break;
            }
        }
        Ok(())
    }

    /// A child is about to get the fds of `table`: the job's own output
    /// pipes among them no longer have known free room.
    fn held(&self, table: &[(i32, Arc<OwnedFd>)]) {
        for n in [1, 2] {
            if let Some(own) = &self.fds[n]
                && table.iter().any(|(_, fd)| Arc::ptr_eq(fd, own))
            {
                self.room_gone(n);
            }
        }
    }

    fn room_gone(&self, n: usize) {
        self.room[n].set(None);
    }

    /// Whether `len` bytes can go into `fd` now without blocking (it is one
    /// of the job's fresh output pipes with that much room left); if so the
    /// room is taken.
    fn take_room(&self, fd: &Arc<OwnedFd>, len: usize) -> bool {
        for n in [1, 2] {
            if let Some(own) = &self.fds[n]
                && Arc::ptr_eq(own, fd)
                && let Some(room) = self.room[n].get()
                && room >= len
            {
                self.room[n].set(Some(room - len));
                return true;
            }
        }
        false
    }

    /// Runs builtin `b` on a scratch copy of the job's state: what it
    /// changes (`cd`, `export`, `set`) does not last, as for a builtin in
    /// one stage of a pipeline (bash's subshell).
    fn run_builtin_on_copy(
        &self,
        b: Builtin,
        args: &[Vec<u8>],
        shell: &[u8],
    ) -> Result<builtin::Outcome, &'static str> {
        let mut pwd = self.pwd.clone();
        let mut vars = self.vars.clone();
        let (mut errexit, mut pipefail) = (self.errexit, self.pipefail);
        let mut st = builtin::State {
            pwd: &mut pwd,
            vars: &mut vars,
            last_status: self.status,
            pwd_is_set: self.cwd_set,
            errexit: &mut errexit,
            pipefail: &mut pipefail,
        };
        builtin::run(b, args, &mut st, shell)
    }

    /// Everything in `cmd` that could make it need bash, without side
    /// effects: expansions, and builtins run on a scratch copy of the state.
    fn validate(&self, cmd: &Simple) -> Result<(), NeedsShell> {
        let mut fields = Vec::new();
        for w in &cmd.words {
            expand::expand_fields(w, &self.vars, self.status, &mut fields)?;
        }
        for r in &cmd.redirs {
            if let RedirOp::Read(w)
            | RedirOp::Write(w)
            | RedirOp::Append(w)
            | RedirOp::ReadWrite(w)
            | RedirOp::WriteBoth(w)
            | RedirOp::AppendBoth(w) = &r.op
            {
                expand::expand_fields(w, &self.vars, self.status, &mut Vec::new())?;
            }
        }
        let Some(name) = fields.first() else {
            return Ok(());
        };
        if builtin::is_unimplemented_builtin(name) {
            return Err(NeedsShell("a bash builtin parx does not implement"));
        }
        if let Some(b) = Builtin::lookup(name) {
            if b == Builtin::Export && cmd.words.iter().skip(1).any(|w| w.has_unquoted_expansion())
            {
                return Err(NeedsShell("export of an unquoted expansion"));
            }
            let out = self
                .run_builtin_on_copy(b, &fields[1..], b"")
                .map_err(NeedsShell)?;
            if out.stdout.len().max(out.stderr.len()) > MAX_BUILTIN_OUTPUT {
                return Err(NeedsShell("builtin output larger than a pipe"));
            }
        }
        Ok(())
    }

    fn fd(&self, n: usize) -> io::Result<Arc<OwnedFd>> {
        match &self.fds[n] {
            Some(fd) => Ok(fd.clone()),
            None => Err(io::Error::other("job already finished")),
        }
    }

    /// Runs one simple command as stage `k`.
    #[allow(clippy::too_many_arguments)]
    fn stage(
        &mut self,
        cmd: &Simple,
        k: usize,
        alone: bool,
        exec_last: bool,
        mut table: Vec<(i32, Arc<OwnedFd>)>,
        fresh: Option<&Arc<OwnedFd>>,
        group: &mut Option<i32>,
    ) -> Result<(), Launch> {
        self.line = cmd.line;
        let mut fields: Vec<Vec<u8>> = Vec::with_capacity(cmd.words.len());
        for w in &cmd.words {
            expand::expand_fields(w, &self.vars, self.status, &mut fields)?;
        }
        let builtin = match fields.first() {
            Some(name) => {
                if builtin::is_unimplemented_builtin(name) {
                    return Err(NeedsShell("a bash builtin parx does not implement").into());
                }
                Builtin::lookup(name)
            }
            None => None,
        };
        let mut assigns: Vec<(&str, Vec<u8>)> = Vec::with_capacity(cmd.assigns.len());
        if cmd.assigns.len() > 1 {
            // Each assignment sees the ones before it (`A=1 B=$A cmd`).
            let mut scratch = self.vars.clone();
            for a in &cmd.assigns {
                let v = expand::expand_joined(&a.value, &scratch, self.status);
                scratch.set(&a.name, v.clone(), false);
                assigns.push((&a.name, v));
            }
        } else {
            for a in &cmd.assigns {
                assigns.push((
                    &a.name,
                    expand::expand_joined(&a.value, &self.vars, self.status),
                ));
            }
        }
        if fields.is_empty() {
            // No command: bash assigns first, then redirects (`A=f >$A`
            // creates `f`), and keeps the assignments even if the
            // redirection fails; in a pipeline stage they are the stage's own.
            let saved = (!alone).then(|| self.vars.clone());
            for (name, value) in assigns {
                self.vars.set(name, value, false);
            }
            let redirected = self.redirect(cmd, &mut table);
            if let Some(saved) = saved {
                self.vars = saved;
            }
            if !cmd.redirs.is_empty() {
                self.effects = true;
            }
            let status = match redirected? {
                Ok(()) => 0,
                Err(msg) => {
                    self.deliver(&table, fresh, Vec::new(), msg, 1, k, group)?;
                    return Ok(());
                }
            };
            self.stages[k] = Some(status);
            return Ok(());
        }
        let redirected = self.redirect(cmd, &mut table)?;
        if !cmd.redirs.is_empty() {
            self.effects = true;
        }
        if let Err(msg) = redirected {
            self.deliver(&table, fresh, Vec::new(), msg, 1, k, group)?;
            return Ok(());
        }
        let Some(name) = fields.first() else {
            return Ok(());
        };
        if let Some(b) = builtin {
            if b == Builtin::Export && cmd.words.iter().skip(1).any(|w| w.has_unquoted_expansion())
            {
                return Err(NeedsShell("export of an unquoted expansion").into());
            }
            let shell = self.prefix();
            let outcome = if alone {
                let mut st = builtin::State {
                    pwd: &mut self.pwd,
                    vars: &mut self.vars,
                    last_status: self.status,
                    pwd_is_set: self.cwd_set,
                    errexit: &mut self.errexit,
                    pipefail: &mut self.pipefail,
                };
                builtin::run(b, &fields[1..], &mut st, &shell)
            } else {
                self.run_builtin_on_copy(b, &fields[1..], &shell)
            }
            .map_err(NeedsShell)?;
            if alone && b == Builtin::Cd && outcome.status == 0 {
                self.cwd_set = true;
                self.effects = true;
            }
            if alone && outcome.exit.is_some() {
                self.exit = outcome.exit;
            }
            self.deliver(
                &table,
                fresh,
                outcome.stdout,
                outcome.stderr,
                outcome.status,
                k,
                group,
            )?;
            return Ok(());
        }
        let path_override = assigns.iter().rev().find(|(k, _)| *k == "PATH");
        let program = match self.resolve(name, path_override.map(|(_, v)| v.as_slice())) {
            Ok(p) => p,
            Err((code, msg)) => {
                self.deliver(&table, fresh, Vec::new(), msg, code, k, group)?;
                return Ok(());
            }
        };
        self.effects = true;
        let spawn = |job: &Job, program: &Path, argv0: &[u8], script: bool| -> io::Result<Spawn> {
            let mut sp = Spawn::new(program);
            sp.arg0(expand::os(argv0));
            if script {
                sp.arg(expand::os(name));
            }
            for a in &fields[1..] {
                sp.arg(expand::os(a));
            }
            for (n, fd) in &table {
                sp.fd(*n, own(fd)?);
            }
            job.held(&table);
            for (key, v) in job.vars.env_changes() {
                match v {
                    Some(v) => sp.env(key, expand::os(v)),
                    None => sp.env_remove(key),
                };
            }
            for (key, v) in &assigns {
                sp.env(key, expand::os(v));
            }
            let shlvl = if exec_last { job.shlvl } else { job.shlvl + 1 };
            sp.env("SHLVL", shlvl.to_string());
            sp.env("_", program);
            if job.cwd_set {
                sp.current_dir(&job.pwd);
            }
            job.set_group(&mut sp, *group);
            Ok(sp)
        };
        let mut result = spawn(self, &program, name, false)?.spawn();
        if let Err(SpawnError::PermissionDenied { .. }) = &result
            && self.is_executable_file(&program)
        {
            // ENOEXEC: bash runs a file with no `#!` line as a bash script.
            let shell = PathBuf::from(&self.shell);
            result = spawn(self, &shell, self.shell.as_bytes(), true)?.spawn();
        }
        match result {
            Ok(child) => {
                if self.pgroup == ProcessGroup::New && group.is_none() {
                    *group = Some(child.pid());
                }
                self.live.push(Live {
                    group: self.group_of(&child, *group),
                    child,
                    stage: k,
                    status: None,
                });
            }
            Err(e) => {
                let (code, msg) = self.spawn_error(name, e);
                self.deliver(&table, fresh, Vec::new(), msg, code, k, group)?;
            }
        }
        Ok(())
    }

    fn is_executable_file(&self, program: &Path) -> bool {
        let full = if program.is_absolute() || !self.cwd_set {
            program.to_path_buf()
        } else {
            self.pwd.join(program)
        };
        std::fs::metadata(&full).is_ok_and(|m| m.is_file())
            && rustix::fs::access(&full, rustix::fs::Access::EXEC_OK).is_ok()
    }

    fn set_group(&self, sp: &mut Spawn, group: Option<i32>) {
        match (self.pgroup, group) {
            (ProcessGroup::Inherit, _) => {}
            (_, Some(g)) => {
                sp.process_group(g);
            }
            (_, None) => {
                sp.process_group(0);
            }
        }
    }

    /// `{shell}: line {n}`, the prefix of every message bash prints.
    fn prefix(&self) -> Vec<u8> {
        let mut m = self.shell_name().to_vec();
        m.extend_from_slice(format!(": line {}", self.line).as_bytes());
        m
    }

    fn message(&self, parts: &[&[u8]]) -> Vec<u8> {
        let mut m = self.prefix();
        for p in parts {
            m.extend_from_slice(b": ");
            m.extend_from_slice(p);
        }
        m.push(b'\n');
        m
    }

    fn spawn_error(&self, name: &[u8], e: SpawnError) -> (i32, Vec<u8>) {
        match e {
            SpawnError::NotFound { .. } => {
                // The program exists (it was resolved): its interpreter does not.
                (
                    127,
                    self.message(&[name, b"cannot execute: required file not found"]),
                )
            }
            SpawnError::PermissionDenied { .. } => {
                (126, self.message(&[name, b"Permission denied"]))
            }
            SpawnError::Io { source, .. } => (
                126,
                self.message(&[name, builtin::strerror(&source).as_bytes()]),
            ),
        }
    }

    /// Finds the program for `name` the way bash does: `PATH` search for a
    /// name without `/`. `Err((status, message))` if it cannot run.
    fn resolve(
        &self,
        name: &[u8],
        path_override: Option<&[u8]>,
    ) -> Result<PathBuf, (i32, Vec<u8>)> {
        let rel = |p: &Path| -> PathBuf {
            if p.is_absolute() || !self.cwd_set {
                p.to_path_buf()
            } else {
                self.pwd.join(p)
            }
        };
        if name.contains(&b'/') {
            let path = Path::new(expand::os(name));
            return match std::fs::metadata(rel(path)) {
                Ok(m) if m.is_dir() => Err((126, self.message(&[name, b"Is a directory"]))),
                Ok(_) => Ok(path.to_path_buf()),
                Err(e) => Err((127, self.message(&[name, builtin::strerror(&e).as_bytes()]))),
            };
        }
        let not_found = || (127, self.message(&[name, b"command not found"]));
        if name.is_empty() {
            return Err(not_found());
        }
        let path_var = match path_override {
            Some(p) => Some(std::borrow::Cow::Borrowed(p)),
            None => self.vars.get("PATH"),
        };
        let path_var: &[u8] = path_var
            .as_deref()
            .unwrap_or(b"/usr/local/bin:/usr/bin:/bin");
        let mut candidate: Option<PathBuf> = None;
        for dir in path_var.split(|&c| c == b':') {
            let dir = if dir.is_empty() { b"." as &[u8] } else { dir };
            let mut p = PathBuf::from(expand::os(dir));
            p.push(expand::os(name));
            let full = rel(&p);
            match std::fs::metadata(&full) {
                Ok(m) if m.is_file() => {
                    if rustix::fs::access(&full, rustix::fs::Access::EXEC_OK).is_ok() {
                        return Ok(p);
                    }
                    if candidate.is_none() {
                        candidate = Some(p);
                    }
                }
                _ => {}
            }
        }
        match candidate {
            Some(p) => Ok(p),
            None => Err(not_found()),
        }
    }

    /// Applies `cmd`'s redirections to `table`. `Ok(Err(message))` is a
    /// redirection error bash reports with status 1.
    fn redirect(
        &mut self,
        cmd: &Simple,
        table: &mut Vec<(i32, Arc<OwnedFd>)>,
    ) -> Result<Result<(), Vec<u8>>, Launch> {
        for r in &cmd.redirs {
            let set = |table: &mut Vec<(i32, Arc<OwnedFd>)>, fd: i32, to: Arc<OwnedFd>| match table
                .iter_mut()
                .find(|(n, _)| *n == fd)
            {
                Some(slot) => slot.1 = to,
                None => table.push((fd, to)),
            };
            let file = |word, how: u8| -> Result<Result<Arc<OwnedFd>, Vec<u8>>, Launch> {
                let mut fields = Vec::new();
                expand::expand_fields(word, &self.vars, self.status, &mut fields)?;
                if fields.len() != 1 {
                    return Ok(Err(
                        self.message(&[&expand::display(word), b"ambiguous redirect"])
                    ));
                }
                let name = &fields[0];
                if name.is_empty() {
                    return Ok(Err(self.message(&[b"", b"No such file or directory"])));
                }
                let mut path = PathBuf::from(expand::os(name));
                if self.cwd_set && path.is_relative() {
                    path = self.pwd.join(path);
                }
                let mut o = std::fs::OpenOptions::new();
                match how {
                    b'<' => o.read(true),
                    b'>' => o.write(true).create(true).truncate(true),
                    b'a' => o.append(true).create(true),
                    _ => o.read(true).write(true).create(true),
                };
                Ok(match o.open(&path) {
                    Ok(f) => Ok(Arc::new(OwnedFd::from(f))),
                    Err(e) => Err(self.message(&[name, builtin::strerror(&e).as_bytes()])),
                })
            };
            let fd = r.fd;
            match &r.op {
                RedirOp::Read(w)
                | RedirOp::Write(w)
                | RedirOp::Append(w)
                | RedirOp::ReadWrite(w) => {
                    let how = match &r.op {
                        RedirOp::Read(_) => b'<',
                        RedirOp::Write(_) => b'>',
                        RedirOp::Append(_) => b'a',
                        _ => b'+',
                    };
                    match file(w, how)? {
                        Ok(f) => set(table, fd, f),
                        Err(m) => return Ok(Err(m)),
                    }
                }
                RedirOp::WriteBoth(w) | RedirOp::AppendBoth(w) => {
                    let how = if matches!(r.op, RedirOp::WriteBoth(_)) {
                        b'>'
                    } else {
                        b'a'
                    };
                    match file(w, how)? {
                        Ok(f) => {
                            set(table, 1, f.clone());
                            set(table, 2, f);
                        }
                        Err(m) => return Ok(Err(m)),
                    }
                }
                RedirOp::Dup(m) => match table.iter().find(|(n, _)| n == m) {
                    Some((_, src)) => {
                        let src = src.clone();
                        set(table, fd, src);
                    }
                    None => {
                        let num = m.to_string();
                        return Ok(Err(self.message(&[num.as_bytes(), b"Bad file descriptor"])));
                    }
                },
                RedirOp::Close => table.retain(|(n, _)| *n != fd),
            }
        }
        Ok(Ok(()))
    }

    /// Records a builtin's (or a failed command's) status and delivers its
    /// output: written here when that cannot block (a regular file,
    /// `/dev/null`, or the empty pipe this pipeline just made), else by a
    /// writer process.
    #[allow(clippy::too_many_arguments)]
    fn deliver(
        &mut self,
        table: &[(i32, Arc<OwnedFd>)],
        fresh: Option<&Arc<OwnedFd>>,
        stdout: Vec<u8>,
        stderr: Vec<u8>,
        status: i32,
        k: usize,
        group: &mut Option<i32>,
    ) -> Result<(), Launch> {
        self.stages[k] = Some(status);
        for (n, bytes) in [(1, stdout), (2, stderr)] {
            if bytes.is_empty() {
                continue;
            }
            let Some((_, fd)) = table.iter().find(|(m, _)| *m == n) else {
                continue;
            };
            let is_fresh = fresh.is_some_and(|f| Arc::ptr_eq(f, fd)) && bytes.len() <= 4096;
            if is_fresh || self.take_room(fd, bytes.len()) || never_blocks(fd) {
                self.effects = true;
                let _ = write_all(fd, &bytes);
                continue;
            }
            // The bytes go into a fresh pipe big enough to hold them all
            // (so this write cannot block) and `cat` copies them over.
            let pipe = Pipe::with_capacity(bytes.len())?;
            if bytes.len() > MAX_BUILTIN_OUTPUT || pipe.capacity()? < bytes.len() {
                return Err(NeedsShell("builtin output larger than a pipe").into());
            }
            let (r, w) = pipe.into_ends();
            write_all(&w, &bytes)?;
            drop(w);
            self.effects = true;
            let mut sp = Spawn::new("/bin/cat");
            sp.arg0("cat");
            sp.fd(0, r);
            sp.fd(1, own(fd)?);
            if let Some((_, e)) = table.iter().find(|(m, _)| *m == 2) {
                sp.fd(2, own(e)?);
            }
            self.held(table);
            self.set_group(&mut sp, *group);
            match sp.spawn() {
                Ok(child) => {
                    if self.pgroup == ProcessGroup::New && group.is_none() {
                        *group = Some(child.pid());
                    }
                    self.stages[k] = None;
                    self.live.push(Live {
                        group: self.group_of(&child, *group),
                        child,
                        stage: k,
                        status: Some(status),
                    });
                }
                Err(e) => return Err(Launch::Io(io::Error::other(e.to_string()))),
            }
        }
        Ok(())
    }
}

fn write_all(fd: impl AsFd, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match rustix::io::write(&fd, bytes) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
            Ok(n) => bytes = &bytes[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// The C library's description of a signal, as bash prints it.
fn signal_name(signal: i32) -> String {
    let name = match signal {
        libc::SIGHUP => "Hangup",
        libc::SIGQUIT => "Quit",
        libc::SIGILL => "Illegal instruction",
        libc::SIGTRAP => "Trace/breakpoint trap",
        libc::SIGABRT => "Aborted",
        libc::SIGBUS => "Bus error",
        libc::SIGFPE => "Floating point exception",
        libc::SIGKILL => "Killed",
        libc::SIGUSR1 => "User defined signal 1",
        libc::SIGSEGV => "Segmentation fault",
        libc::SIGUSR2 => "User defined signal 2",
        libc::SIGALRM => "Alarm clock",
        libc::SIGTERM => "Terminated",
        libc::SIGSTKFLT => "Stack fault",
        libc::SIGXCPU => "CPU time limit exceeded",
        libc::SIGXFSZ => "File size limit exceeded",
        libc::SIGVTALRM => "Virtual timer expired",
        libc::SIGPROF => "Profiling timer expired",
        libc::SIGIO => "I/O possible",
        libc::SIGPWR => "Power failure",
        libc::SIGSYS => "Bad system call",
        _ => return format!("Unknown signal {signal}"),
    };
    name.to_string()
}

/// A regular file or `/dev/null`: writing there cannot block.
fn never_blocks(fd: &Arc<OwnedFd>) -> bool {
    match rustix::fs::fstat(fd) {
        Ok(st) => {
            let ft = rustix::fs::FileType::from_raw_mode(st.st_mode);
            ft == rustix::fs::FileType::RegularFile
                || (ft == rustix::fs::FileType::CharacterDevice
                    && rustix::fs::major(st.st_rdev) == 1
                    && rustix::fs::minor(st.st_rdev) == 3)
        }
        Err(_) => false,
    }
}

/// bash's initial `$PWD` (see [`find_initial_pwd`]), worked out once:
/// parx never changes its own directory or environment, and doing it per
/// job would cost a `getcwd` and two `stat`s each time.
fn initial_pwd() -> io::Result<PathBuf> {
    static PWD: std::sync::OnceLock<Result<PathBuf, i32>> = std::sync::OnceLock::new();
    match PWD.get_or_init(|| find_initial_pwd().map_err(|e| e.raw_os_error().unwrap_or(libc::EIO)))
    {
        Ok(p) => Ok(p.clone()),
        Err(code) => Err(io::Error::from_raw_os_error(*code)),
    }
}

/// Whether the inherited `$OLDPWD` names a directory (checked once, as
/// [`initial_pwd`]).
fn inherited_oldpwd_is_dir() -> bool {
    static IS_DIR: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *IS_DIR.get_or_init(|| std::env::var_os("OLDPWD").is_some_and(|d| Path::new(&d).is_dir()))
}

/// bash's initial `$PWD`: the inherited one if it names the current
/// directory, else the physical path.
fn find_initial_pwd() -> io::Result<PathBuf> {
    let cwd = std::env::current_dir()?;
    if let Some(pwd) = std::env::var_os("PWD") {
        let pwd = PathBuf::from(pwd);
        if pwd.is_absolute()
            && let (Ok(a), Ok(b)) = (std::fs::metadata(&pwd), std::fs::metadata("."))
        {
            use std::os::unix::fs::MetadataExt;
            if a.dev() == b.dev() && a.ino() == b.ino() {
                return Ok(pwd);
            }
        }
    }
    Ok(cwd)
}

enum Launch {
    Io(io::Error),
    Shell(NeedsShell),
}

impl From<io::Error> for Launch {
    fn from(e: io::Error) -> Launch {
        Launch::Io(e)
    }
}

impl From<NeedsShell> for Launch {
    fn from(e: NeedsShell) -> Launch {
        Launch::Shell(e)
    }
}

/// Runs `script` to completion, blocking (tests, examples, simple callers).
pub fn run_script(script: Script, ctx: Context) -> io::Result<JobStatus> {
    let mut ex = Execution::new(script, ctx)?;
    let mut step = ex.start()?;
    loop {
        match step {
            Step::Done(status) => return Ok(status),
            Step::Running => step = ex.wait_one()?,
        }
    }
}
