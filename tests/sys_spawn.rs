//! Starting programs: typed errors for missing and non-executable programs,
//! argv as bytes, environment, working directory, process group, and a
//! clean signal state in the child.

mod sys_support;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;

use parx::sys::{ExitStatus, Spawn, SpawnError};
use sys_support::*;

#[test]
fn a_missing_program_is_not_found_127() {
    let err = cmd(&["parx-no-such-program-xyz", "arg"])
        .spawn()
        .unwrap_err();
    assert!(matches!(err, SpawnError::NotFound { .. }), "{err:?}");
    assert_eq!(err.shell_code(), 127);
    assert_eq!(
        err.to_string(),
        "parx-no-such-program-xyz: command not found"
    );
}

#[test]
fn a_non_executable_file_is_permission_denied_126() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("script");
    std::fs::write(&path, "#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = Spawn::new(&path).spawn().unwrap_err();
    assert!(
        matches!(err, SpawnError::PermissionDenied { .. }),
        "{err:?}"
    );
    assert_eq!(err.shell_code(), 126);
    assert!(
        err.to_string().ends_with("script: Permission denied"),
        "{err}"
    );
}

#[test]
fn a_directory_is_permission_denied_126() {
    let dir = tempfile::tempdir().unwrap();
    let err = Spawn::new(dir.path()).spawn().unwrap_err();
    assert!(
        matches!(err, SpawnError::PermissionDenied { .. }),
        "{err:?}"
    );
}

#[test]
fn a_missing_working_directory_is_not_a_missing_program() {
    let mut s = cmd(&["true"]);
    s.current_dir("/nonexistent/parx-dir");
    let err = s.spawn().unwrap_err();
    assert!(
        !matches!(err, SpawnError::NotFound { .. }),
        "`true` exists; the directory does not: {err:?}"
    );
    assert!(err.to_string().contains("/nonexistent/parx-dir"), "{err}");
}

#[test]
fn arguments_are_bytes_not_utf8() {
    let raw = OsStr::from_bytes(b"caf\xe9 \xff\n*");
    let mut s = cmd(&["sh", "-c", "printf %s \"$1\"", "sh"]);
    s.arg(raw);
    let pipe = parx::sys::Pipe::new().unwrap();
    s.fd(1, pipe.write);
    let child = s.spawn().unwrap();
    assert_eq!(read_all(pipe.read), raw.as_bytes());
    assert!(child.wait().unwrap().status.success());
}

#[test]
fn arg0_is_what_the_program_sees_as_its_name() {
    let mut s = cmd(&["cat", "/proc/self/cmdline"]);
    s.arg0("kitty");
    let (exit, text) = output(s);
    assert!(exit.status.success());
    assert_eq!(text, "kitty\0/proc/self/cmdline\0");
}

#[test]
fn the_child_runs_in_current_dir() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = cmd(&["pwd", "-P"]);
    s.current_dir(dir.path());
    let (exit, text) = output(s);
    assert!(exit.status.success());
    let expected = dir.path().canonicalize().unwrap();
    assert_eq!(text.trim_end(), expected.to_str().unwrap());
}

#[test]
fn env_sets_and_env_remove_unsets_variables() {
    let mut s = sh("printf '%s|%s|%s' \"$PARX_A\" \"${HOME-unset}\" \"$PATH\"");
    s.env("PARX_A", "a b=c").env_remove("HOME");
    let (exit, text) = output(s);
    assert!(exit.status.success());
    let path = std::env::var("PATH").unwrap_or_default();
    assert_eq!(text, format!("a b=c|unset|{path}"));
}

#[test]
fn env_clear_starts_from_an_empty_environment() {
    let mut s = cmd(&["/usr/bin/env"]);
    s.env("BEFORE", "dropped").env_clear().env("ONLY", "1");
    let (exit, text) = output(s);
    assert!(exit.status.success());
    assert_eq!(text, "ONLY=1\n");
}

#[test]
fn without_env_changes_the_child_inherits_the_environment() {
    let (exit, text) = output(sh("printf %s \"$PATH\""));
    assert!(exit.status.success());
    assert_eq!(text, std::env::var("PATH").unwrap_or_default());
}

/// A field of `/proc/<pid>/status`, e.g. `SigIgn`.
fn status_field(status: &str, name: &str) -> String {
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("{name} in status"))
        .trim()
        .to_string()
}

#[test]
fn children_start_with_no_ignored_or_blocked_signals() {
    // This process ignores SIGPIPE (Rust's runtime does); the child must not.
    let mine = std::fs::read_to_string("/proc/self/status").unwrap();
    let ignored = u64::from_str_radix(&status_field(&mine, "SigIgn"), 16).unwrap();
    assert_ne!(ignored & (1 << (libc::SIGPIPE - 1)), 0, "test premise");
    let (exit, text) = output(cmd(&["cat", "/proc/self/status"]));
    assert!(exit.status.success());
    // glibc's posix_spawn sets its two internal signals (32 and 33, below
    // SIGRTMIN) to SIG_IGN in the child on purpose, and that survives exec;
    // it can not be undone through posix_spawn (std's Command does the
    // same). Every other signal must have its default action.
    let glibc_internal: u64 = (32..libc::SIGRTMIN()).map(|s| 1u64 << (s - 1)).sum();
    let ignored = u64::from_str_radix(&status_field(&text, "SigIgn"), 16).unwrap();
    assert_eq!(ignored & !glibc_internal, 0, "child ignores {ignored:#x}");
    assert_eq!(status_field(&text, "SigBlk"), "0000000000000000");
}

#[test]
fn process_group_0_makes_the_child_lead_a_new_group() {
    let mut s = cmd(&["sleep", "30"]);
    s.process_group(0);
    let child = s.spawn().unwrap();
    assert!(child.leads_group());
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", child.pid())).unwrap();
    let pgrp: i32 = stat[stat.rfind(')').unwrap() + 1..]
        .split_whitespace()
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(pgrp, child.pid());
    assert_ne!(pgrp, rustix::process::getpgrp().as_raw_nonzero().get());
    child.signal_group(libc::SIGKILL).unwrap();
    assert_eq!(child.wait().unwrap().status.signal(), Some(libc::SIGKILL));
}

#[test]
fn a_program_with_a_slash_is_not_searched_in_path() {
    let mut s = cmd(&["bin/true"]);
    s.current_dir("/usr");
    // Relative to the child's working directory, like exec after chdir.
    let exit = s.spawn().unwrap().wait().unwrap();
    assert_eq!(exit.status, ExitStatus::Exited(0));
    let err = cmd(&["./true"]).spawn().unwrap_err();
    assert!(matches!(err, SpawnError::NotFound { .. }), "{err:?}");
}

#[test]
fn a_nul_byte_in_an_argument_is_an_io_error_not_a_truncated_argument() {
    let err = cmd(&["echo", "a\0b"]).spawn().unwrap_err();
    match err {
        SpawnError::Io { source, .. } => {
            assert_eq!(source.kind(), std::io::ErrorKind::InvalidInput)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_program_is_searched_in_the_childs_path_when_it_is_changed() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("parx-hello");
    // Written by a child process: a write fd of this process would be
    // inherited by children other tests are spawning at that moment, and
    // exec'ing the script would then fail with ETXTBSY.
    let written = std::process::Command::new("/bin/sh")
        .args([
            "-c",
            "printf '%s' \"$2\" > \"$1\" && chmod 755 \"$1\"",
            "sh",
        ])
        .arg(&script)
        .arg("#!/bin/sh\necho hello from $0\n")
        .status()
        .unwrap();
    assert!(written.success());
    let mut s = cmd(&["parx-hello"]);
    s.env(
        "PATH",
        format!("/nonexistent:{}:/usr/bin:/bin", dir.path().display()),
    );
    let (exit, text) = output(s);
    assert!(exit.status.success());
    assert_eq!(text, format!("hello from {}\n", script.display()));

    // Found in parx's PATH but not in the child's: not found.
    let mut s = cmd(&["true"]);
    s.env("PATH", dir.path());
    let err = s.spawn().unwrap_err();
    assert!(matches!(err, SpawnError::NotFound { .. }), "{err:?}");

    // Only a non-executable file in the child's PATH: permission denied.
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut s = cmd(&["parx-hello"]);
    s.env("PATH", dir.path());
    let err = s.spawn().unwrap_err();
    assert!(
        matches!(err, SpawnError::PermissionDenied { .. }),
        "{err:?}"
    );
}
