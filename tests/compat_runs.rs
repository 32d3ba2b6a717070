//! Options that must behave as in GNU parallel 20221122 but whose output
//! cannot be a recorded fixture (timing, or parx is deliberately better):
//! a joblog sharing parx's stdout file, `--process-slot-var`,
//! `--roundrobin` spreading, `--workdir` and `-j` errors.

use std::process::{Command, Stdio};

fn parx() -> Command {
    Command::new(env!("CARGO_BIN_EXE_parx"))
}

/// Runs with `input` on stdin (written from a thread, so a full pipe
/// cannot block the test).
trait WithStdin {
    fn write_stdin_bytes(&mut self, input: &'static [u8]) -> std::io::Result<std::process::Output>;
}

impl WithStdin for Command {
    fn write_stdin_bytes(&mut self, input: &'static [u8]) -> std::io::Result<std::process::Output> {
        use std::io::Write;
        let mut child = self
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let mut stdin = child.stdin.take().expect("stdin");
        let writer = std::thread::spawn(move || stdin.write_all(input));
        let out = child.wait_with_output()?;
        writer.join().expect("writer thread")?;
        Ok(out)
    }
}

fn run_in(dir: &std::path::Path, args: &[&str]) -> (i32, Vec<u8>, Vec<u8>) {
    let out = parx()
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run parx");
    (out.status.code().unwrap_or(-1), out.stdout, out.stderr)
}

/// Fields 1, 2 and 5 on of each joblog line (no times), other lines as is.
fn untimed(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            if f.len() >= 9 {
                [&f[..2], &f[4..]].concat().join("\t")
            } else {
                l.to_string()
            }
        })
        .collect()
}

#[test]
fn joblog_to_dev_stdout_redirected_to_a_file_loses_no_line() {
    // GNU parallel reopens /dev/stdout at offset 0 and overwrites the
    // jobs' output; parx writes through its own stdout.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = std::fs::File::create(dir.path().join("out")).expect("out");
    let status = parx()
        .args([
            "-j1",
            "--joblog",
            "/dev/stdout",
            "echo",
            ":::",
            "a",
            "b",
            "c",
        ])
        .stdout(file)
        .stdin(Stdio::null())
        .status()
        .expect("run parx");
    assert!(status.success());
    let got = std::fs::read_to_string(dir.path().join("out")).expect("read out");
    assert_eq!(
        untimed(&got),
        [
            "Seq\tHost\tSend\tReceive\tExitval\tSignal\tCommand",
            "a",
            "1\t:\t0\t2\t0\t0\techo a",
            "b",
            "2\t:\t0\t2\t0\t0\techo b",
            "c",
            "3\t:\t0\t2\t0\t0\techo c",
        ]
    );
}

/// A usage error: exit 255, one line `parx: …` on stderr, nothing run.
fn assert_usage_error(dir: &std::path::Path, args: &[&str], about: &str) {
    let (code, out, err) = run_in(dir, args);
    let err = String::from_utf8_lossy(&err);
    assert_eq!(code, 255, "{args:?}: {err}");
    assert!(out.is_empty(), "{args:?} printed {out:?}");
    assert!(
        err.starts_with("parx: ") && err.lines().count() == 1 && err.contains(about),
        "{args:?}: {err:?}"
    );
    assert!(!dir.join("ran").exists(), "{args:?} ran a job");
}

#[test]
fn no_job_slot_is_an_error_before_any_job() {
    let dir = tempfile::tempdir().expect("tempdir");
    for j in ["-999", "0%", "-99999"] {
        assert_usage_error(
            dir.path(),
            &["-j", j, "touch", "ran", ":::", "a"],
            "cannot run any jobs",
        );
    }
}

#[test]
fn a_workdir_that_cannot_be_made_is_an_error_before_any_job() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("file"), b"").expect("file");
    assert_usage_error(
        dir.path(),
        &["--workdir", "file", "touch", "../ran", ":::", "a"],
        "--workdir",
    );
    assert_usage_error(
        dir.path(),
        &["--workdir", "file/sub", "touch", "ran", ":::", "a"],
        "--workdir",
    );
}

#[test]
fn roundrobin_implies_pipe() {
    // GNU parallel's manual says so; its 20221122 binary still ran one job
    // per line (`wc: 1: No such file or directory` …).
    let out = parx()
        .args(["--roundrobin", "-j2", "wc", "-l"])
        .write_stdin_bytes(b"1\n2\n3\n")
        .expect("run parx");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "3");
}

/// A `bash` that notes each run in `log` before running the real one
/// under its own name (a bash script: dash would drop `BASH_FUNC_f%%`).
fn logging_bash(dir: &std::path::Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("bash");
    let log = dir.join("log");
    let script = format!(
        "#!/bin/bash\necho ran >> '{}'\nexec -a \"$0\" /bin/bash \"$@\"\n",
        log.display()
    );
    std::fs::write(&path, script).expect("write wrapper");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

#[test]
fn a_message_in_the_shells_name_comes_from_that_shell() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bash = logging_bash(dir.path());
    std::fs::write(dir.path().join("notexec"), b"echo hi\n").expect("write");
    for (command, message) in [
        ("no-such-command-parx-test", "command not found"),
        ("./notexec", "Permission denied"),
        ("./no-such-file", "No such file or directory"),
    ] {
        let _ = std::fs::remove_file(dir.path().join("log"));
        let out = parx()
            .env("PARALLEL_SHELL", &bash)
            .args([command, ":::", "a"])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("run parx");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert_eq!(
            err,
            format!("{}: line 1: {command}: {message}\n", bash.display())
        );
        let log = std::fs::read_to_string(dir.path().join("log")).unwrap_or_default();
        assert_eq!(
            log, "ran\n",
            "{command}: the shell named in the message did not run"
        );
    }
}

#[test]
fn exported_functions_run_under_the_shell_and_other_jobs_do_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bash = logging_bash(dir.path());
    let out = parx()
        .env("PARALLEL_SHELL", &bash)
        .env("BASH_FUNC_f%%", "() {  echo func \"$1\"\n}")
        .args(["-k", "-j1", "{}", ":::", "f a", "echo b | tr b B"])
        .stdin(Stdio::null())
        .output()
        .expect("run parx");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "func a\nB\n");
    let log = std::fs::read_to_string(dir.path().join("log")).unwrap_or_default();
    assert_eq!(log, "ran\n", "only the function job runs under the shell");
}
