//! Starting a program: argv as bytes, an explicit fd map, a process group,
//! a clean signal state, through `posix_spawn`.
//!
//! `posix_spawn` in glibc starts the child with `clone(CLONE_VM|CLONE_VFORK)`
//! and no page-table copy, so its cost does not grow with parx's memory;
//! exec failures come back as its return value and glibc reaps the failed
//! child itself, so a missing program leaves no zombie. This is the fast
//! path Rust's std uses too; a `fork`+`exec` with arbitrary code in the
//! child (std's `pre_exec`) is up to 10× slower and is never used here.
//!
//! The fd map is the only way a child gets an fd: every fd parx creates is
//! close-on-exec, and the fds given with [`Spawn::fd`] are moved in and
//! closed in the parent right after the child starts. So the classic pipe
//! bug — the parent keeps a write end open and the reader never sees EOF —
//! can not be written with this API.

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::child::Child;
use crate::{reap, trace};

/// Why a program could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// No such program (a shell reports this as status 127).
    #[error("{}: command not found", program.to_string_lossy())]
    NotFound { program: OsString },
    /// The program exists but can not be executed (status 126).
    #[error("{}: Permission denied", program.to_string_lossy())]
    PermissionDenied { program: OsString },
    /// Any other failure (out of processes, bad argument, …).
    #[error("{}: {source}", program.to_string_lossy())]
    Io {
        program: OsString,
        #[source]
        source: io::Error,
    },
}

impl SpawnError {
    /// The status a shell gives a command that could not be started.
    pub fn shell_code(&self) -> i32 {
        match self {
            SpawnError::NotFound { .. } => 127,
            SpawnError::PermissionDenied { .. } => 126,
            SpawnError::Io { .. } => 126,
        }
    }
}

/// Signals whose disposition a child gets reset to the default, whatever
/// parx (or parx's own parent) set: an ignored disposition would otherwise
/// survive `exec`. Handled signals are reset by exec itself.
const RESET_SIGNALS: [i32; 14] = [
    libc::SIGPIPE,
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGCHLD,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGALRM,
    libc::SIGTSTP,
    libc::SIGTTIN,
    libc::SIGTTOU,
    libc::SIGXFSZ,
    libc::SIGWINCH,
];

/// A program to start: build it, then [`Spawn::spawn`] it (once).
#[derive(Debug)]
pub struct Spawn {
    program: OsString,
    argv: Vec<OsString>,
    env: Option<Vec<(OsString, Option<OsString>)>>,
    env_clear: bool,
    cwd: Option<PathBuf>,
    fds: Vec<(RawFd, OwnedFd)>,
    pgroup: Option<i32>,
}

impl Spawn {
    /// A program to run with `argv[0] = program`. A name without `/` is
    /// searched in `PATH`.
    pub fn new(program: impl AsRef<OsStr>) -> Spawn {
        let program = program.as_ref().to_os_string();
        Spawn {
            argv: vec![program.clone()],
            program,
            env: None,
            env_clear: false,
            cwd: None,
            fds: Vec::new(),
            pgroup: None,
        }
    }

    /// Appends one argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Self {
        self.argv.push(arg.as_ref().to_os_string());
        self
    }

    /// Appends arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        for a in args {
            self.arg(a);
        }
        self
    }

    /// Replaces `argv[0]` (what the program sees as its name).
    pub fn arg0(&mut self, arg0: impl AsRef<OsStr>) -> &mut Self {
        self.argv[0] = arg0.as_ref().to_os_string();
        self
    }

    /// Sets an environment variable in the child.
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Self {
        self.env.get_or_insert_with(Vec::new).push((
            key.as_ref().to_os_string(),
            Some(value.as_ref().to_os_string()),
        ));
        self
    }

    /// Removes an environment variable from the child's environment.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Self {
        self.env
            .get_or_insert_with(Vec::new)
            .push((key.as_ref().to_os_string(), None));
        self
    }

    /// Starts the child with an empty environment (plus later `env` calls).
    pub fn env_clear(&mut self) -> &mut Self {
        self.env_clear = true;
        self.env.get_or_insert_with(Vec::new).clear();
        self
    }

    /// Runs the child in `dir`.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.cwd = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Gives the child `fd` as its fd number `child_fd`. The fd is moved in
    /// and closed in the parent once the child has started (or failed to).
    /// fds 0, 1 and 2 that are not mapped are inherited from parx.
    pub fn fd(&mut self, child_fd: RawFd, fd: OwnedFd) -> &mut Self {
        self.fds.retain(|(n, _)| *n != child_fd);
        self.fds.push((child_fd, fd));
        self
    }

    /// Puts the child in process group `pgid`; `0` makes it the leader of
    /// a new group whose id is its pid.
    pub fn process_group(&mut self, pgid: i32) -> &mut Self {
        self.pgroup = Some(pgid);
        self
    }

    /// The program name as given.
    pub fn program(&self) -> &OsStr {
        &self.program
    }

    /// The argument vector, `argv[0]` first.
    pub fn argv(&self) -> &[OsString] {
        &self.argv
    }

    /// Starts the child. The fds of the fd map are closed in the parent
    /// whatever the outcome.
    pub fn spawn(self) -> Result<Child, SpawnError> {
        let started = Instant::now();
        let program = self.program.clone();
        let io_err = |source: io::Error| SpawnError::Io {
            program: program.clone(),
            source,
        };
        let mut prog_c = cstring(self.program.as_bytes()).map_err(io_err)?;
        let argv_c = self
            .argv
            .iter()
            .map(|a| cstring(a.as_bytes()))
            .collect::<io::Result<Vec<_>>>()
            .map_err(io_err)?;
        let mut argv_p: Vec<*mut libc::c_char> =
            argv_c.iter().map(|a| a.as_ptr() as *mut _).collect();
        argv_p.push(std::ptr::null_mut());
        let env_c = match &self.env {
            Some(changes) => Some(build_env(self.env_clear, changes).map_err(io_err)?),
            None => None,
        };
        // posix_spawnp searches *parx's* PATH. A child given another PATH
        // (or none) has its program looked up here in that PATH, as a shell
        // or std's Command would.
        let mut search_path = !self.program.as_bytes().contains(&b'/');
        if search_path && let Some(env) = &env_c {
            let child_path = env
                .iter()
                .find_map(|kv| kv.as_bytes().strip_prefix(b"PATH="));
            let parent_path = std::env::var_os("PATH");
            if child_path != parent_path.as_ref().map(|p| p.as_bytes()) {
                // Without PATH, glibc's default search path.
                let dirs = child_path.unwrap_or(b"/bin:/usr/bin");
                match search(self.program.as_bytes(), dirs) {
                    Ok(found) => {
                        prog_c = found;
                        search_path = false;
                    }
                    Err(libc::EACCES) => return Err(SpawnError::PermissionDenied { program }),
                    Err(_) => return Err(SpawnError::NotFound { program }),
                }
            }
        }
        let env_p: Option<Vec<*mut libc::c_char>> = env_c.as_ref().map(|env| {
            let mut p: Vec<_> = env.iter().map(|e| e.as_ptr() as *mut _).collect();
            p.push(std::ptr::null_mut());
            p
        });
        let cwd_c = match &self.cwd {
            Some(dir) => Some(cstring(dir.as_os_str().as_bytes()).map_err(io_err)?),
            None => None,
        };

        // A source fd whose number is also a target would be overwritten by
        // an earlier dup2 in the child: move such sources out of the way.
        let targets: Vec<RawFd> = self.fds.iter().map(|(n, _)| *n).collect();
        let high = targets.iter().copied().max().unwrap_or(2).max(2) + 1;
        let mut sources: Vec<(RawFd, OwnedFd)> = Vec::with_capacity(self.fds.len());
        for (child_fd, fd) in self.fds {
            let raw = fd.as_raw_fd();
            if raw != child_fd && targets.contains(&raw) {
                let moved =
                    rustix::io::fcntl_dupfd_cloexec(&fd, high).map_err(|e| io_err(e.into()))?;
                sources.push((child_fd, moved));
            } else {
                sources.push((child_fd, fd));
            }
        }

        let mut actions = FileActions::new().map_err(io_err)?;
        for (child_fd, fd) in &sources {
            actions.dup2(fd.as_raw_fd(), *child_fd).map_err(io_err)?;
        }
        if let Some(dir) = &cwd_c {
            actions.chdir(dir).map_err(io_err)?;
        }
        let attr = SpawnAttr::new(self.pgroup).map_err(io_err)?;

        // Until `Child::new` registers the pid, `reap_orphans` must wait.
        let _gate = reap::spawn_gate();
        let mut pid: libc::pid_t = 0;
        let envp = match &env_p {
            Some(p) => p.as_ptr(),
            None => environ(),
        };
        // SAFETY: every pointer is valid for the call: `prog_c`, `argv_c`,
        // `env_c` (or the process environment) are NUL-terminated strings
        // in NUL-terminated arrays that outlive the call; `actions` and
        // `attr` are initialised.
        let r = unsafe {
            if search_path {
                libc::posix_spawnp(
                    &mut pid,
                    prog_c.as_ptr(),
                    &actions.0,
                    &attr.0,
                    argv_p.as_ptr(),
                    envp,
                )
            } else {
                libc::posix_spawn(
                    &mut pid,
                    prog_c.as_ptr(),
                    &actions.0,
                    &attr.0,
                    argv_p.as_ptr(),
                    envp,
                )
            }
        };
        if r == 0 {
            let map: Vec<(RawFd, BorrowedFd<'_>)> =
                sources.iter().map(|(c, fd)| (*c, fd.as_fd())).collect();
            trace::spawned(pid, &self.argv, &map);
        }
        for (_, fd) in sources {
            if r == 0 {
                trace::closed(fd.as_fd());
            }
            drop(fd);
        }
        // posix_spawn reports a failed chdir with the same errno as a failed
        // exec: do not call a missing directory a missing program.
        if matches!(r, libc::ENOENT | libc::ENOTDIR | libc::EACCES)
            && let Some(dir) = &self.cwd
            && let Some(source) = dir_problem(dir)
        {
            return Err(SpawnError::Io { program, source });
        }
        match r {
            0 => Ok(Child::new(pid, self.pgroup == Some(0), started)),
            libc::ENOENT | libc::ENOTDIR => Err(SpawnError::NotFound { program }),
            libc::EACCES | libc::EISDIR | libc::ENOEXEC => {
                Err(SpawnError::PermissionDenied { program })
            }
            e => Err(SpawnError::Io {
                program,
                source: io::Error::from_raw_os_error(e),
            }),
        }
    }
}

/// Looks `program` up in the `:`-separated `dirs` like `execvp`: the first
/// executable regular file wins; `Err(EACCES)` if only non-executable ones
/// were found, else `Err(ENOENT)`.
fn search(program: &[u8], dirs: &[u8]) -> Result<CString, i32> {
    let mut denied = false;
    for dir in dirs.split(|b| *b == b':') {
        let dir = if dir.is_empty() { &b"."[..] } else { dir };
        let mut candidate = dir.to_vec();
        candidate.push(b'/');
        candidate.extend_from_slice(program);
        let Ok(path) = CString::new(candidate) else {
            continue;
        };
        let is_file = rustix::fs::stat(&path).is_ok_and(|st| {
            rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::RegularFile
        });
        if !is_file {
            continue;
        }
        match rustix::fs::access(&path, rustix::fs::Access::EXEC_OK) {
            Ok(()) => return Ok(path),
            Err(_) => denied = true,
        }
    }
    Err(if denied { libc::EACCES } else { libc::ENOENT })
}

/// Why a child could not change to `dir`, if it could not.
fn dir_problem(dir: &Path) -> Option<io::Error> {
    let err = match std::fs::metadata(dir) {
        Err(e) => e,
        Ok(m) if !m.is_dir() => io::Error::from_raw_os_error(libc::ENOTDIR),
        Ok(_) => rustix::fs::access(dir, rustix::fs::Access::EXEC_OK)
            .err()?
            .into(),
    };
    Some(io::Error::new(
        err.kind(),
        format!("can not change to directory {}: {err}", dir.display()),
    ))
}

fn cstring(bytes: &[u8]) -> io::Result<CString> {
    CString::new(bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "argument contains a NUL byte"))
}

fn build_env(clear: bool, changes: &[(OsString, Option<OsString>)]) -> io::Result<Vec<CString>> {
    let mut vars: Vec<(OsString, OsString)> = if clear {
        Vec::new()
    } else {
        std::env::vars_os().collect()
    };
    for (key, value) in changes {
        vars.retain(|(k, _)| k != key);
        if let Some(v) = value {
            vars.push((key.clone(), v.clone()));
        }
    }
    vars.into_iter()
        .map(|(k, v)| {
            let mut kv = k.into_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            cstring(&kv)
        })
        .collect()
}

fn environ() -> *const *mut libc::c_char {
    unsafe extern "C" {
        static environ: *const *mut libc::c_char;
    }
    // SAFETY: `environ` is the C library's environment array; parx never
    // modifies the environment while spawning, so reading it is sound.
    unsafe { environ }
}

fn check(r: libc::c_int) -> io::Result<()> {
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(r))
    }
}

struct FileActions(libc::posix_spawn_file_actions_t);

impl FileActions {
    fn new() -> io::Result<FileActions> {
        // SAFETY: the struct is initialised by the init call before any use.
        let mut a: libc::posix_spawn_file_actions_t = unsafe { std::mem::zeroed() };
        // SAFETY: `a` is valid writable memory for the actions object.
        check(unsafe { libc::posix_spawn_file_actions_init(&mut a) })?;
        Ok(FileActions(a))
    }

    fn dup2(&mut self, fd: RawFd, child_fd: RawFd) -> io::Result<()> {
        // SAFETY: self.0 was initialised by posix_spawn_file_actions_init.
        check(unsafe { libc::posix_spawn_file_actions_adddup2(&mut self.0, fd, child_fd) })
    }

    fn chdir(&mut self, dir: &CString) -> io::Result<()> {
        // SAFETY: initialised actions; glibc copies the path string.
        check(unsafe { libc::posix_spawn_file_actions_addchdir_np(&mut self.0, dir.as_ptr()) })
    }
}

impl Drop for FileActions {
    fn drop(&mut self) {
        // SAFETY: initialised in `new` and destroyed exactly once here.
        unsafe { libc::posix_spawn_file_actions_destroy(&mut self.0) };
    }
}

struct SpawnAttr(libc::posix_spawnattr_t);

impl SpawnAttr {
    fn new(pgroup: Option<i32>) -> io::Result<SpawnAttr> {
        // SAFETY: initialised by posix_spawnattr_init before any use.
        let mut a: libc::posix_spawnattr_t = unsafe { std::mem::zeroed() };
        // SAFETY: `a` is valid writable memory.
        check(unsafe { libc::posix_spawnattr_init(&mut a) })?;
        let mut attr = SpawnAttr(a);
        let mut flags = libc::POSIX_SPAWN_SETSIGMASK | libc::POSIX_SPAWN_SETSIGDEF;
        // SAFETY: sigset_t is plain data initialised by sigemptyset.
        let mut empty: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: `empty` is a valid sigset_t.
        unsafe { libc::sigemptyset(&mut empty) };
        // SAFETY: as above.
        let mut reset: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: `reset` is a valid sigset_t; the signal numbers are valid.
        unsafe {
            libc::sigemptyset(&mut reset);
            for sig in RESET_SIGNALS {
                libc::sigaddset(&mut reset, sig);
            }
        }
        // SAFETY: initialised attr; the sets are copied by the calls.
        check(unsafe { libc::posix_spawnattr_setsigmask(&mut attr.0, &empty) })?;
        // SAFETY: as above.
        check(unsafe { libc::posix_spawnattr_setsigdefault(&mut attr.0, &reset) })?;
        if let Some(pgid) = pgroup {
            flags |= libc::POSIX_SPAWN_SETPGROUP;
            // SAFETY: initialised attr.
            check(unsafe { libc::posix_spawnattr_setpgroup(&mut attr.0, pgid) })?;
        }
        // SAFETY: initialised attr; the flags are valid POSIX_SPAWN_* bits.
        check(unsafe { libc::posix_spawnattr_setflags(&mut attr.0, flags as libc::c_short) })?;
        Ok(attr)
    }
}

impl Drop for SpawnAttr {
    fn drop(&mut self) {
        // SAFETY: initialised in `new` and destroyed exactly once here.
        unsafe { libc::posix_spawnattr_destroy(&mut self.0) };
    }
}

/// Opens `/dev/null` close-on-exec, e.g. as a job's stdin.
pub fn dev_null() -> io::Result<OwnedFd> {
    let fd = rustix::fs::open(
        "/dev/null",
        rustix::fs::OFlags::RDWR | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )?;
    Ok(fd)
}

/// Duplicates one of parx's own standard fds (0, 1, 2) as an owned,
/// close-on-exec fd, to hand to a child's fd map.
pub fn dup_std(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: fds 0–2 are open for the life of the process (the runtime
    // opens /dev/null on any that were closed at start); the borrow lasts
    // only for the dup call.
    let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    Ok(rustix::io::fcntl_dupfd_cloexec(borrowed, 3)?)
}
