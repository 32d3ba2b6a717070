//! The pool's examples run and print what they promise.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Once;

/// The path of example `name`, built by the cargo that runs the tests.
fn example(name: &str) -> PathBuf {
    static BUILD: Once = Once::new();
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>")
        .to_path_buf();
    BUILD.call_once(|| {
        let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => "dev",
            Some(other) => other,
        };
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--examples", "--profile", profile])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build --examples");
        assert!(status.success(), "cargo build --examples failed");
    });
    profile_dir.join("examples").join(name)
}

fn run(name: &str, args: &[&str]) -> (Output, Vec<String>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(example(name))
        .args(args)
        .current_dir(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("run example {name}: {e}"));
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect();
    (out, lines)
}

#[test]
fn pool_crash_reports_the_abort_and_the_panic_and_finishes() {
    let (out, lines) = run("pool_crash", &[]);
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
    let (out, lines) = run("pool_primes", &["100000", "2"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(lines[0], "9592 primes below 100000 (5 ranges of 20000)");
    assert!(lines[1].starts_with("1 worker process:"), "{lines:?}");
    assert!(lines[2].starts_with("2 worker processes:"), "{lines:?}");
    assert!(lines[2].contains("speedup"), "{lines:?}");
}
