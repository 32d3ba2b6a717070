//! Semaphore mode: `parx --semaphore` and parx run as `sem`, by unrelated
//! processes sharing one semaphore.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A private `$PARALLEL_HOME` and a `sem` link to parx in a temp dir.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().expect("temp dir");
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_parx"), dir.path().join("sem"))
            .expect("sem link");
        Setup { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `sem ARGS`, run in the temp dir.
    fn sem(&self, args: &[&str]) -> Command {
        let mut c = Command::new(self.path("sem"));
        c.args(args)
            .current_dir(self.dir.path())
            .env("PARALLEL_HOME", self.path("home"))
            .stdin(Stdio::null());
        c
    }

    fn mkfifo(&self, name: &str) -> PathBuf {
        let p = self.path(name);
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &p,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .expect("mkfifo");
        p
    }
}

/// A job that counts itself in and out of `cnt` (under `flock`), noting
/// how many holders it saw at once in `seen`.
const COUNTED_JOB: &str = "exec 9>lk; flock 9; n=$(( $(cat cnt) + 1 )); echo $n > cnt; \
     echo $n >> seen; flock -u 9; sleep 0.05; flock 9; echo $(( $(cat cnt) - 1 )) > cnt; flock -u 9";

fn seen(setup: &Setup) -> Vec<u32> {
    fs::read_to_string(setup.path("seen"))
        .expect("seen")
        .lines()
        .map(|l| l.parse().expect("number"))
        .collect()
}

/// Waits for `child` at most `limit`: a hang is a failure, not a stuck test.
fn wait_within(mut child: Child, limit: Duration) -> Output {
    let end = Instant::now() + limit;
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if Instant::now() > end {
            let _ = child.kill();
            panic!(
                "still running after {limit:?}: {:?}",
                child.wait_with_output()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn twenty_foreground_callers_never_exceed_three_holders() {
    let setup = Setup::new();
    fs::write(setup.path("cnt"), "0\n").unwrap();
    let callers: Vec<Child> = (0..20)
        .map(|_| {
            setup
                .sem(&["-j3", "--id", "twenty", "--fg", COUNTED_JOB])
                .spawn()
                .expect("sem")
        })
        .collect();
    for c in callers {
        let out = wait_within(c, Duration::from_secs(60));
        assert!(out.status.success(), "{out:?}");
    }
    let seen = seen(&setup);
    assert_eq!(seen.len(), 20, "every caller ran once: {seen:?}");
    assert!(
        seen.iter().all(|&n| (1..=3).contains(&n)),
        "more than 3 holders at once: {seen:?}"
    );
    assert_eq!(fs::read_to_string(setup.path("cnt")).unwrap().trim(), "0");
}

#[test]
fn background_jobs_hold_their_slots_and_wait_returns_when_all_are_done() {
    let setup = Setup::new();
    fs::write(setup.path("cnt"), "0\n").unwrap();
    for _ in 0..20 {
        // Returns once the job has a slot; the job runs on in the background.
        let out = setup
            .sem(&["-j3", "--id", "bg", COUNTED_JOB])
            .output()
            .expect("sem");
        assert!(out.status.success(), "{out:?}");
    }
    let out = setup
        .sem(&["--wait", "--id", "bg"])
        .output()
        .expect("sem --wait");
    assert!(out.status.success(), "{out:?}");
    // --wait returned: every job has finished.
    let seen = seen(&setup);
    assert_eq!(seen.len(), 20, "{seen:?}");
    assert!(
        seen.iter().all(|&n| (1..=3).contains(&n)),
        "more than 3 holders at once: {seen:?}"
    );
    assert_eq!(fs::read_to_string(setup.path("cnt")).unwrap().trim(), "0");
}

/// Starts a holder of the only slot of semaphore `id` that keeps it until
/// `hold` is opened for writing; returns once it holds the slot.
fn hold_slot(setup: &Setup, id: &str) -> (Child, PathBuf) {
    let ready = setup.mkfifo(&format!("{id}-ready"));
    let hold = setup.mkfifo(&format!("{id}-hold"));
    let job = format!(
        "echo held > {}; cat {} > /dev/null",
        ready.display(),
        hold.display()
    );
    let holder = setup
        .sem(&["-j1", "--id", id, "--fg", &job])
        .spawn()
        .expect("sem");
    let mut text = String::new();
    fs::File::open(&ready)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "held\n");
    (holder, hold)
}

fn release(hold: &Path) {
    let mut w = fs::OpenOptions::new()
        .write(true)
        .open(hold)
        .expect("open hold fifo");
    let _ = w.write_all(b"");
}

#[test]
fn a_holder_killed_with_sigkill_frees_its_slot() {
    let setup = Setup::new();
    let (mut holder, hold) = hold_slot(&setup, "kill9");
    let waiter = setup
        .sem(&["-j1", "--id", "kill9", "--fg", "echo got the slot"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("sem");
    holder.kill().expect("kill -9 the holder");
    let _ = holder.wait();
    // The holder's job (`cat`) still runs: it must not hold the slot.
    let out = wait_within(waiter, Duration::from_secs(30));
    release(&hold);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "got the slot\n");
}

#[test]
fn semaphore_timeout_gives_up_or_steals() {
    let setup = Setup::new();
    let (holder, hold) = hold_slot(&setup, "st");
    let out = setup
        .sem(&["-j1", "--id", "st", "--st", "-0.2", "--fg", "echo ran"])
        .output()
        .expect("sem");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(out.stdout, b"");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "parx: Warning: Semaphore timed out. Exiting.\n"
    );
    let out = setup
        .sem(&["-j1", "--id", "st", "--st", "0.2", "--fg", "echo ran"])
        .output()
        .expect("sem");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, b"ran\n");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "parx: Warning: Semaphore timed out. Stealing the semaphore.\n"
    );
    release(&hold);
    assert!(
        wait_within(holder, Duration::from_secs(30))
            .status
            .success()
    );
}

#[test]
fn foreground_exit_status_is_the_commands_and_semaphore_flag_works_without_sem_name() {
    let setup = Setup::new();
    let out = setup.sem(&["--fg", "exit 3"]).output().expect("sem");
    assert_eq!(out.status.code(), Some(3));
    let out = Command::new(env!("CARGO_BIN_EXE_parx"))
        .args(["--semaphore", "--fg", "--id", "flag", "echo", "a", "b"])
        .env("PARALLEL_HOME", setup.path("home"))
        .output()
        .expect("parx --semaphore");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, b"a b\n");
    assert!(setup.path("home/semaphores/id-flag").is_dir());
}
