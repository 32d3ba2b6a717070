//! How a child ended, exactly as the kernel reports it: exit code, signal,
//! core dump; the wall time and resource usage; polling and waiting.

mod sys_support;

use std::time::Duration;

use parx::sys::ExitStatus;
use rustix::process::{Resource, getrlimit};
use sys_support::*;

#[test]
fn exit_code_3_is_exited_3() {
    let exit = sh("exit 3").spawn().unwrap().wait().unwrap();
    assert_eq!(exit.status, ExitStatus::Exited(3));
    assert_eq!(exit.status.code(), Some(3));
    assert_eq!(exit.status.signal(), None);
    assert_eq!(exit.status.shell_code(), 3);
    assert!(!exit.status.success());
    assert_eq!(exit.status.to_string(), "status 3");
}

#[test]
fn exit_code_0_is_success() {
    let exit = cmd(&["true"]).spawn().unwrap().wait().unwrap();
    assert_eq!(exit.status, ExitStatus::Exited(0));
    assert!(exit.status.success());
}

#[test]
fn kill_9_is_signaled_9() {
    let child = cmd(&["sleep", "30"]).spawn().unwrap();
    child.signal(libc::SIGKILL).unwrap();
    let exit = child.wait().unwrap();
    assert_eq!(
        exit.status,
        ExitStatus::Signaled {
            signal: 9,
            core_dumped: false
        }
    );
    assert_eq!(exit.status.shell_code(), 137);
    assert_eq!(exit.status.to_string(), "killed by signal 9");
    assert!(exit.elapsed < Duration::from_secs(30));
}

/// Whether the kernel will write a core for a process with soft
/// `RLIMIT_CORE` = `limit` (None = unlimited) whose working directory is
/// writable, under the machine's `core_pattern`; `None` if that depends on
/// things a test can not see (a pipe to a crash collector, another directory).
fn expect_core_dump(limit: Option<u64>) -> Option<bool> {
    let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap();
    let pattern = pattern.trim_end();
    let page = rustix::param::page_size() as u64;
    if let Some(handler) = pattern.strip_prefix('|') {
        // Piped to a program: RLIMIT_CORE is not applied, except that 1
        // means "no core" (the kernel's guard against recursive dumps).
        let _ = handler;
        return if limit == Some(1) { Some(false) } else { None };
    }
    if pattern.is_empty() {
        return Some(false);
    }
    // A file: written only if the limit allows at least one page.
    if limit.is_some_and(|l| l < page) {
        return Some(false);
    }
    if pattern.starts_with('/') {
        None // depends on that directory
    } else {
        Some(true) // relative to the (writable, temporary) working directory
    }
}

/// Runs the abort helper in a fresh directory; returns its status and
/// whether a core file appeared there.
fn abort_in_tempdir(core_limit: Option<&str>) -> (ExitStatus, bool) {
    let dir = tempfile::tempdir().unwrap();
    let mut s = cmd(&[&ABORT]);
    if let Some(limit) = core_limit {
        s.args(["--core-limit", limit]);
    }
    s.current_dir(dir.path());
    let exit = s.spawn().unwrap().wait().unwrap();
    let core_file = std::fs::read_dir(dir.path()).unwrap().next().is_some();
    (exit.status, core_file)
}

#[test]
fn abort_is_signaled_6_with_core_dumped_as_the_kernel_reports() {
    let inherited = getrlimit(Resource::Core);
    let hard = inherited.maximum;
    let cases: [(Option<&str>, Option<u64>); 3] = [
        // As this process's limit is (often 0 on CI, sometimes unlimited).
        (None, inherited.current),
        // No core allowed at all.
        (Some("0"), Some(0)),
        // As large as allowed.
        (Some("max"), hard),
    ];
    for (arg, limit) in cases {
        let (status, core_file) = abort_in_tempdir(arg);
        let ExitStatus::Signaled {
            signal,
            core_dumped,
        } = status
        else {
            panic!("abort() with --core-limit {arg:?} gave {status:?}");
        };
        assert_eq!(signal, libc::SIGABRT);
        assert_eq!(status.shell_code(), 134);
        if let Some(expected) = expect_core_dump(limit) {
            assert_eq!(core_dumped, expected, "core limit {limit:?}");
        }
        // A core written as a file lands in the working directory.
        let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap();
        if !pattern.starts_with('|') && !pattern.starts_with('/') {
            assert_eq!(core_file, core_dumped, "core file vs flag, limit {limit:?}");
        }
        let shown = status.to_string();
        assert_eq!(
            shown,
            if core_dumped {
                "killed by signal 6 (core dumped)"
            } else {
                "killed by signal 6"
            }
        );
    }
}

#[test]
fn elapsed_is_wall_time_from_spawn_to_exit() {
    let exit = cmd(&["sleep", "0.3"]).spawn().unwrap().wait().unwrap();
    assert!(exit.status.success());
    assert!(
        exit.elapsed >= Duration::from_millis(300),
        "{:?}",
        exit.elapsed
    );
    assert!(exit.elapsed < Duration::from_secs(10), "{:?}", exit.elapsed);
}

#[test]
fn resource_usage_reports_cpu_time_and_peak_memory() {
    // A busy shell loop: measurable CPU time, a few MiB resident.
    let exit = sh("i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done")
        .spawn()
        .unwrap()
        .wait()
        .unwrap();
    assert!(exit.status.success());
    let cpu = exit.usage.user + exit.usage.system;
    assert!(cpu > Duration::ZERO, "{:?}", exit.usage);
    assert!(cpu <= exit.elapsed + Duration::from_millis(20), "{exit:?}");
    assert!(exit.usage.max_rss_kb > 100, "{:?}", exit.usage);
}

#[test]
fn the_pidfd_becomes_readable_when_the_child_exits() {
    let mut child = cmd(&["sleep", "30"]).spawn().unwrap();
    let pidfd = child.pidfd().expect("pidfd (Linux >= 5.3)");
    assert!(!readable_within(pidfd, Duration::from_millis(100)));
    assert!(child.try_wait().unwrap().is_none());
    child.signal(libc::SIGTERM).unwrap();
    let pidfd = child.pidfd().unwrap();
    assert!(
        readable_within(pidfd, SOON),
        "pidfd not readable after exit"
    );
    let exit = child.try_wait().unwrap().expect("exited: pidfd said so");
    assert_eq!(exit.status.signal(), Some(libc::SIGTERM));
}

#[test]
fn wait_after_try_wait_reaped_returns_the_same_exit() {
    let mut child = sh("exit 7").spawn().unwrap();
    assert!(readable_within(child.pidfd().unwrap(), SOON));
    let first = child.try_wait().unwrap().expect("exited");
    assert_eq!(first.status, ExitStatus::Exited(7));
    // The child was reaped already: no second wait4 on a pid that may now
    // belong to another process.
    assert_eq!(child.try_wait().unwrap(), Some(first));
    assert_eq!(child.wait().unwrap(), first);
}

#[test]
fn a_dropped_child_is_killed_and_reaped() {
    let child = cmd(&["sleep", "30"]).spawn().unwrap();
    let pid = child.pid();
    drop(child);
    // Not a zombie, not running: gone (or, if the pid was reused at once,
    // not our child any more).
    if let Some((_, parent)) = state_and_parent(pid) {
        assert_ne!(parent as u32, std::process::id());
    }
}

#[test]
fn exit_statuses_decode_from_raw_wait_words() {
    assert_eq!(ExitStatus::from_raw(3 << 8), ExitStatus::Exited(3));
    assert_eq!(
        ExitStatus::from_raw(9),
        ExitStatus::Signaled {
            signal: 9,
            core_dumped: false
        }
    );
    assert_eq!(
        ExitStatus::from_raw(6 | 0x80),
        ExitStatus::Signaled {
            signal: 6,
            core_dumped: true
        }
    );
}
