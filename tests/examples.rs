//! Runs each example of `examples/` and checks what it prints.
//!
//! The example programs are built by `cargo build --examples`, run once per
//! test binary through the same cargo that runs the tests (a no-op when
//! `cargo test` already built them), so a test never runs a stale example.

use std::process::{Command, Output};

#[path = "sys_support/mod.rs"]
mod sys_support;

/// Runs example `name` in a fresh temporary directory (where a core dump
/// would land, if the machine writes them).
fn run(name: &str, args: &[&str]) -> Output {
    let dir = tempfile::tempdir().expect("temp dir");
    Command::new(sys_support::example_program(name))
        .args(args)
        .current_dir(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("run example {name}: {e}"))
}

/// The number after `prefix` at the start of `line`, up to `end`.
fn number_between(line: &str, prefix: &str, end: &str) -> u32 {
    line.strip_prefix(prefix)
        .and_then(|rest| rest.split(end).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line:?} does not start {prefix:?}<number>{end:?}"))
}

fn stdout_lines(out: &Output) -> Vec<String> {
    String::from_utf8(out.stdout.clone())
        .expect("utf-8 output")
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn waitdemo() {
    let out = run("waitdemo", &[]);
    assert!(out.status.success());
    let lines = stdout_lines(&out);
    assert_eq!(lines.len(), 3, "{lines:?}");
    let parent = number_between(&lines[0], "Hello from parent pid ", "\n");
    let child = number_between(&lines[1], "Goodbye from child pid ", "\n");
    assert_ne!(parent, child);
    let secs: f64 = lines[2]
        .strip_prefix("Child exited with status 0 after ")
        .and_then(|l| l.strip_suffix(" sec"))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert!((0.5..5.0).contains(&secs), "{secs}");
}

#[test]
fn waitdemo_reports_an_exit_code_and_an_abnormal_exit() {
    let out = run("waitdemo", &["exit", "3"]);
    assert!(out.status.success());
    let lines = stdout_lines(&out);
    assert!(
        lines[2].starts_with("Child exited with status 3 after 0."),
        "{lines:?}"
    );

    let out = run("waitdemo", &["abort"]);
    assert!(out.status.success());
    let lines = stdout_lines(&out);
    assert!(lines[1].starts_with("Goodbye from child pid "), "{lines:?}");
    // "(core dumped)" or not, as the kernel decided (core_pattern, limit).
    let last = &lines[2];
    let rest = last
        .strip_prefix("Child exited abnormally: killed by signal 6")
        .unwrap_or_else(|| panic!("{lines:?}"));
    let rest = rest.strip_prefix(" (core dumped)").unwrap_or(rest);
    assert!(rest.starts_with(" after 0."), "{last}");
}

#[test]
fn selfpipe() {
    let out = run("selfpipe", &[]);
    assert!(out.status.success());
    let lines = stdout_lines(&out);
    assert_eq!(lines.len(), 2, "{lines:?}");
    let pid = number_between(&lines[0], "Wrote Hello from pid ", "\n");
    assert_eq!(lines[1], format!("Read Hello from pid {pid}"));
}

#[test]
fn childpipe() {
    let out = run("childpipe", &[]);
    assert!(out.status.success());
    let lines = stdout_lines(&out);
    assert_eq!(lines.len(), 2, "{lines:?}");
    let parent = number_between(&lines[0], "[parent: ", "]");
    assert_eq!(
        lines[0],
        format!("[parent: {parent}] I got a message! It was “Hello, mama!”")
    );
    let child = number_between(&lines[1], &format!("[parent: {parent}] child "), " ");
    assert_eq!(
        lines[1],
        format!("[parent: {parent}] child {child} exited with status 0")
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr, format!("[child: {child}] sending message\n"));
}

#[test]
fn pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<String> = [("a", "1\n"), ("b", "1\n2\n3\n"), ("c", "1\n2\n")]
        .iter()
        .map(|(name, text)| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path.to_str().unwrap().to_string()
        })
        .collect();
    let args: Vec<&str> = files.iter().map(String::as_str).collect();
    let out = run("pipeline", &args);
    assert!(out.status.success());
    let words: Vec<Vec<String>> = stdout_lines(&out)
        .iter()
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect();
    let expected = [
        vec!["1".to_string(), files[0].clone()],
        vec!["2".to_string(), files[2].clone()],
        vec!["3".to_string(), files[1].clone()],
        vec!["6".to_string(), "total".to_string()],
        vec!["wc".into(), "-l:".into(), "status".into(), "0".into()],
        vec!["sort".into(), "-n:".into(), "status".into(), "0".into()],
    ];
    assert_eq!(words, expected);
}

#[test]
fn pipeline_prints_each_stages_own_status() {
    let out = run("pipeline", &["/nonexistent/parx-file"]);
    assert!(out.status.success());
    let lines = stdout_lines(&out);
    assert_eq!(lines, ["wc -l: status 1", "sort -n: status 0"]);
}

#[test]
fn zombies() {
    let out = run("zombies", &[]);
    assert!(out.status.success());
    let lines = stdout_lines(&out);
    let pid = number_between(&lines[0], "started child pid ", "\n");
    assert_eq!(
        lines,
        [
            format!("started child pid {pid}"),
            format!("child {pid} has exited; not waited for yet"),
            format!("/proc/{pid}/stat: state Z (zombie)"),
            format!("waited for child {pid}: status 0"),
            format!("/proc/{pid}: gone"),
        ]
    );
}

/// Runs example `name` and splits its stdout into lines.
fn run_lines(name: &str, args: &[&str]) -> (Output, Vec<String>) {
    let out = run(name, args);
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect();
    (out, lines)
}

#[test]
fn pool_crash_reports_the_abort_and_the_panic_and_finishes() {
    let (out, lines) = run_lines("pool_crash", &[]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(lines.len(), 3, "{lines:?}");
    // "(core dumped)" follows the signal where the machine writes cores.
    assert!(
        lines[0].starts_with("item 13: its worker process ended (killed by signal 6"),
        "{lines:?}"
    );
    assert!(
        lines[0].ends_with("; a new worker replaced it"),
        "{lines:?}"
    );
    assert_eq!(
        lines[1],
        "item 21: the function panicked: no blackjack for item 21 (at examples/pool_crash.rs:15:9)"
    );
    assert_eq!(
        lines[2],
        "30 items completed, 2 failed; this process is still alive"
    );
}

#[test]
fn pool_primes_counts_the_primes_below_the_limit() {
    // There are 9,592 primes below 100,000.
    let (out, lines) = run_lines("pool_primes", &["100000", "2"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(lines[0], "9592 primes below 100000 (5 ranges of 20000)");
    assert!(lines[1].starts_with("1 worker process:"), "{lines:?}");
    assert!(lines[2].starts_with("2 worker processes:"), "{lines:?}");
    assert!(lines[2].contains("speedup"), "{lines:?}");
}
