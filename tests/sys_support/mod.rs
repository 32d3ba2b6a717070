//! Shared helpers for the `sys` integration tests: bounded waits on fds,
//! reading a child's output, and looking at this process's fds in `/proc`.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{LazyLock, Once};
use std::time::Duration;

use parx::sys::{Exit, Pipe, Spawn};
use rustix::event::{PollFd, PollFlags, Timespec, poll};

/// Helper program that lists its own open fds (`N TARGET` per line).
pub static FDS: LazyLock<String> = LazyLock::new(|| example_program("parx-test-sys-fds"));
/// Helper program that calls `abort()`.
pub static ABORT: LazyLock<String> = LazyLock::new(|| example_program("parx-test-sys-abort"));
/// Helper program that becomes a subreaper and reaps an orphan.
pub static SUBREAPER: LazyLock<String> =
    LazyLock::new(|| example_program("parx-test-sys-subreaper"));

/// The path of example program `name` (the lecture's examples and the test
/// helpers of `tests/helpers/`), built by `cargo build --examples` once per
/// test binary through the cargo that runs the tests (a no-op when `cargo
/// test` already built them), so a test never runs a stale program.
pub fn example_program(name: &str) -> String {
    static BUILD: Once = Once::new();
    // A test runs as target/<profile>/deps/<test>-<hash>; examples are in
    // target/<profile>/examples/.
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    BUILD.call_once(|| {
        let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => "dev",
            Some(other) => other,
        };
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--examples", "--profile", profile])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build --examples");
        assert!(status.success(), "cargo build --examples failed");
    });
    let path = profile_dir.join("examples").join(name);
    path.into_os_string()
        .into_string()
        .expect("UTF-8 target directory")
}

/// Waits at most `timeout` for `fd` to become readable (data or EOF).
/// A `false` is how a test shows a hang without hanging.
pub fn readable_within(fd: impl AsFd, timeout: Duration) -> bool {
    let ts = Timespec {
        tv_sec: timeout.as_secs() as i64,
        tv_nsec: timeout.subsec_nanos() as i64,
    };
    loop {
        let mut fds = [PollFd::new(&fd, PollFlags::IN)];
        match poll(&mut fds, Some(&ts)) {
            Ok(n) => return n > 0,
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => panic!("poll: {e}"),
        }
    }
}

/// Reads `fd` to EOF.
pub fn read_all(fd: OwnedFd) -> Vec<u8> {
    let mut buf = Vec::new();
    File::from(fd).read_to_end(&mut buf).expect("read pipe");
    buf
}

/// Runs `spawn` with its stdout on a pipe; returns how it ended and what it
/// wrote.
pub fn output(mut spawn: Spawn) -> (Exit, String) {
    let pipe = Pipe::new().expect("pipe");
    spawn.fd(1, pipe.write);
    let child = spawn.spawn().expect("spawn");
    let out = read_all(pipe.read);
    let exit = child.wait().expect("wait");
    (exit, String::from_utf8_lossy(&out).into_owned())
}

/// A `Spawn` of `sh -c script`.
pub fn sh(script: &str) -> Spawn {
    let mut s = Spawn::new("sh");
    s.arg("-c").arg(script);
    s
}

/// This process's open fds → what they point at.
pub fn open_fds() -> BTreeMap<i32, String> {
    let me = format!("/proc/{}/fd", std::process::id());
    let mut fds = BTreeMap::new();
    for entry in std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd") {
        let entry = entry.expect("fd entry");
        let Some(n) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        let Ok(target) = std::fs::read_link(entry.path()) else {
            continue; // closed since the listing began
        };
        let target = target.display().to_string();
        if target != me {
            fds.insert(n, target);
        }
    }
    fds
}

/// The fds this process got from its own parent and would pass on to any
/// program it executes: open and *not* close-on-exec (the `flags` line of
/// `/proc/self/fdinfo/N` includes `O_CLOEXEC` = 02000000 octal when set).
pub fn inherited_fds() -> BTreeMap<i32, String> {
    open_fds()
        .into_iter()
        .filter(|(n, _)| {
            let Ok(info) = std::fs::read_to_string(format!("/proc/self/fdinfo/{n}")) else {
                return false;
            };
            let flags = info
                .lines()
                .find_map(|l| l.strip_prefix("flags:"))
                .and_then(|f| u32::from_str_radix(f.trim(), 8).ok())
                .expect("flags line in fdinfo");
            flags & 0o2000000 == 0
        })
        .collect()
}

/// The fd numbers a program started by parx should hold: 0, 1, 2 and
/// whatever this process inherited without close-on-exec.
pub fn expected_child_fds() -> Vec<i32> {
    let mut fds: Vec<i32> = inherited_fds().into_keys().collect();
    fds.extend([0, 1, 2]);
    fds.sort();
    fds.dedup();
    fds
}

/// Parses the output of the `parx-test-sys-fds` helper into fd numbers.
pub fn parse_fd_list(text: &str) -> Vec<i32> {
    text.lines()
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}

/// The state letter and parent pid of `pid` from `/proc/<pid>/stat`.
pub fn state_and_parent(pid: i32) -> Option<(char, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut rest = stat[stat.rfind(')')? + 1..].split_whitespace();
    let state = rest.next()?.chars().next()?;
    let parent = rest.next()?.parse().ok()?;
    Some((state, parent))
}

/// A `Spawn` of `argv[0]` with the rest of `argv` as arguments.
pub fn cmd(argv: &[&str]) -> Spawn {
    let mut s = Spawn::new(argv[0]);
    s.args(&argv[1..]);
    s
}

/// Reads `fd` to EOF, failing the test if no data or EOF arrives within
/// `timeout` of the previous read (a hang shown as a failure).
pub fn read_all_within(fd: OwnedFd, timeout: Duration) -> Vec<u8> {
    let mut file = File::from(fd);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        assert!(
            readable_within(&file, timeout),
            "no data and no EOF within {timeout:?}: a write end is still open somewhere"
        );
        match file.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("read: {e}"),
        }
    }
}

/// Generous bound for things that happen "at once" (a loaded CI machine).
pub const SOON: Duration = Duration::from_secs(10);
