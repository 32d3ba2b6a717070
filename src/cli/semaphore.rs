//! Semaphore mode: `parx --semaphore CMD` (implied by `--fg`, `--bg`,
//! `--wait`, `--id`, `--st`, and by running parx under the name `sem`).
//!
//! One command runs once a slot of the named semaphore is free (`-j`
//! slots, 1 by default). `--fg` runs it here and exits with its status;
//! by default (`--bg`) parx starts a *holder* — parx again, with the
//! locked slot as fd 3 — that runs the command in the background and
//! keeps the slot until the command ends, and returns at once. `--wait`
//! waits until no slot is held. The semaphore itself is
//! [`crate::semaphore`].

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::time::{Duration, Instant};

use super::config::{cpus, parse_duration, parse_jobs};
use super::{CliError, EXIT_USAGE, LowArgs};
use crate::semaphore::Semaphore;
use crate::shell::Context;
use crate::sys::Spawn;

/// The first argument that makes parx a semaphore holder (internal).
pub const HOLDER_ARG: &str = "--internal-semaphore-holder";

/// The fd a holder finds its locked slot on.
const HOLDER_LOCK_FD: i32 = 3;

/// Whether the options ask for semaphore mode (GNU's rule: any semaphore
/// option, or `--wait` outside `--sqlmaster`).
pub fn wanted(low: &LowArgs, invoked_as_sem: bool) -> bool {
    invoked_as_sem
        || low.semaphore
        || low.semaphore_name.is_some()
        || low.semaphore_timeout.is_some()
        || low.fg
        || low.bg
        || (low.wait && low.sqlmaster.is_none())
}

/// Whether `program` (argv[0]) names `sem`.
pub fn is_sem(program: &OsStr) -> bool {
    std::path::Path::new(program)
        .file_name()
        .is_some_and(|n| n == "sem")
}

/// What `--st` asks for when the wait is too long.
#[derive(Debug, Clone, Copy, PartialEq)]
enum OnTimeout {
    /// `--st N`: run anyway after N seconds.
    Steal(Duration),
    /// `--st -N`: give up after N seconds, exit 1.
    Exit(Duration),
}

/// Runs semaphore mode and returns parx's exit status.
pub fn run(low: &LowArgs) -> i32 {
    match run_inner(low) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("parx: {e}");
            e.exit_code()
        }
    }
}

fn run_inner(low: &LowArgs) -> Result<i32, CliError> {
    let home = super::profile::parallel_home()
        .ok_or_else(|| CliError::Other("semaphore mode needs $HOME or $PARALLEL_HOME".into()))?;
    let name = match &low.semaphore_name {
        Some(n) => n.as_bytes().to_vec(),
        None => tty_name(),
    };
    let sem = Semaphore::open(&home, &name).map_err(|e| CliError::Other(e.to_string()))?;
    let command = command_line(low)?;
    if low.wait && command.is_none() {
        sem.wait_idle()
            .map_err(|e| CliError::Other(format!("semaphore {}: {e}", sem.dir().display())))?;
        return Ok(0);
    }
    let Some(command) = command else {
        return Err(CliError::Other(
            "semaphore mode needs a command (or --wait)".into(),
        ));
    };
    let slots = match &low.jobs {
        None => 1,
        Some(j) => parse_jobs(&j.to_string_lossy(), cpus())?.max(1),
    };
    let on_timeout = low
        .semaphore_timeout
        .as_ref()
        .map(|t| parse_timeout(&t.to_string_lossy()))
        .transpose()?;
    let deadline = on_timeout.map(|t| match t {
        OnTimeout::Steal(d) | OnTimeout::Exit(d) => Instant::now() + d,
    });
    let held = sem
        .acquire(slots, deadline)
        .map_err(|e| CliError::Other(format!("semaphore {}: {e}", sem.dir().display())))?;
    if held.is_none() {
        match on_timeout {
            Some(OnTimeout::Exit(_)) => {
                eprintln!("parx: Warning: Semaphore timed out. Exiting.");
                return Ok(1);
            }
            _ => eprintln!("parx: Warning: Semaphore timed out. Stealing the semaphore."),
        }
    }
    if low.fg {
        // The slot is held by this process until it exits.
        let code = run_command(&command);
        drop(held);
        return Ok(code);
    }
    let exe = std::env::current_exe()
        .map_err(|e| CliError::Other(format!("cannot find parx's own program: {e}")))?;
    let mut holder = Spawn::new(exe);
    holder.arg(HOLDER_ARG).arg(OsString::from_vec(command));
    if let Some(h) = held {
        holder.fd(HOLDER_LOCK_FD, h.into_fd());
    }
    let child = holder
        .spawn()
        .map_err(|e| CliError::Other(format!("cannot start the background job: {e}")))?;
    child.detach();
    Ok(0)
}

/// The holder: keeps the slot (fd 3, if the semaphore was not stolen)
/// while the command runs, then exits with the command's status.
pub fn holder_main(args: &[OsString]) -> i32 {
    let lock = crate::sys::stdio::adopt_inherited(HOLDER_LOCK_FD).ok();
    let Some(command) = args.first() else {
        return EXIT_USAGE;
    };
    let code = run_command(command.as_bytes());
    drop(lock);
    code
}

/// Runs `command` with parx's stdin, stdout and stderr.
fn run_command(command: &[u8]) -> i32 {
    match crate::shell::run(command, Context::default()) {
        Ok(status) => status.code,
        Err(e) => {
            eprintln!("parx: {e}");
            EXIT_USAGE
        }
    }
}

/// The command words joined by spaces (each quoted with `-q`), as GNU
/// parallel joins them; `None` without any. Input sources make no sense
/// for one command and are refused.
fn command_line(low: &LowArgs) -> Result<Option<Vec<u8>>, CliError> {
    let words = &low.positional;
    if words
        .iter()
        .any(|w| matches!(w.as_bytes(), b":::" | b"::::" | b":::+" | b"::::+"))
    {
        return Err(CliError::Other(
            "a semaphore runs one command and takes no input sources".into(),
        ));
    }
    if words.is_empty() {
        return Ok(None);
    }
    let mut line = Vec::new();
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            line.push(b' ');
        }
        if low.quote {
            line.extend_from_slice(&crate::template::quote::quote(w.as_bytes()));
        } else {
            line.extend_from_slice(w.as_bytes());
        }
    }
    Ok(Some(line))
}

/// `--st N` or `--st -N` (GNU's time units allowed).
fn parse_timeout(s: &str) -> Result<OnTimeout, CliError> {
    let s = s.trim();
    Ok(match s.strip_prefix('-') {
        Some(rest) => OnTimeout::Exit(parse_duration("--semaphoretimeout", rest)?),
        None => OnTimeout::Steal(parse_duration("--semaphoretimeout", s)?),
    })
}

/// GNU's default semaphore name: what `tty` prints for stdin.
fn tty_name() -> Vec<u8> {
    match rustix::termios::ttyname(std::io::stdin(), Vec::new()) {
        Ok(name) => name.into_bytes(),
        Err(_) => b"not a tty".to_vec(),
    }
}
