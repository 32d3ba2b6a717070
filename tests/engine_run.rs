//! The runner end to end, through the real binary: grouping, keep-order,
//! exit statuses, joblog, resume, timeouts, halt, signals, broken pipes.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn parx() -> Command {
    Command::new(env!("CARGO_BIN_EXE_parx"))
}

fn run(args: &[&str]) -> (i32, Vec<u8>, Vec<u8>) {
    let out = parx().args(args).stdin(Stdio::null()).output().unwrap();
    (out.status.code().unwrap_or(-1), out.stdout, out.stderr)
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Processes anywhere on the machine whose command line contains `marker`.
fn processes_with(marker: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline"))
            && cmd.windows(marker.len()).any(|w| w == marker.as_bytes())
        {
            found.push(pid);
        }
    }
    found
}

/// Waits (bounded) until `cond` holds; the observed processes are what
/// the test is about, so this polls the system rather than sleeping.
fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn echo_runs_every_job() {
    let (code, out, _) = run(&["-k", "echo", ":::", "a", "b", "c"]);
    assert_eq!(code, 0);
    assert_eq!(out, b"a\nb\nc\n");
}

#[test]
fn grouped_output_is_never_mixed() {
    // Two jobs write 50 MB each at the same time, in small writes.
    let (code, out, _) = run(&[
        "-j2",
        "yes {} | head -c 50000000",
        ":::",
        "aaaaaaa",
        "bbbbbbb",
    ]);
    assert_eq!(code, 0);
    assert_eq!(out.len(), 100_000_000);
    let a: Vec<u8> = b"aaaaaaa\n"
        .iter()
        .copied()
        .cycle()
        .take(50_000_000)
        .collect();
    let b: Vec<u8> = b"bbbbbbb\n"
        .iter()
        .copied()
        .cycle()
        .take(50_000_000)
        .collect();
    let (first, second) = out.split_at(50_000_000);
    assert!(
        (first == a.as_slice() && second == b.as_slice())
            || (first == b.as_slice() && second == a.as_slice()),
        "outputs of the two jobs were interleaved"
    );
}

#[test]
fn stdout_then_stderr_per_job() {
    let (code, out, err) = run(&["-j1", "echo out{}; echo err{} >&2", ":::", "1", "2"]);
    assert_eq!(code, 0);
    assert_eq!(out, b"out1\nout2\n");
    assert_eq!(err, b"err1\nerr2\n");
}

#[test]
fn keep_order_with_random_sleeps() {
    let inputs: Vec<String> = (1..=1000).map(|i| i.to_string()).collect();
    let mut args = vec!["-k", "-j8", "sleep 0.00$((RANDOM%3)); echo {}", ":::"];
    args.extend(inputs.iter().map(String::as_str));
    let (code, out, _) = run(&args);
    assert_eq!(code, 0);
    let want: String = inputs.iter().map(|i| format!("{i}\n")).collect();
    assert_eq!(String::from_utf8(out).unwrap(), want);
}

#[test]
fn keep_order_behind_a_slow_job_spills_and_stays_small() {
    // Job 1 blocks on a FIFO that only the last job opens for writing, so
    // all 2,000 other outputs (50 KB each, 100 MB) wait behind it.
    let dir = tempdir();
    let fifo = dir.path().join("fifo");
    let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    let script = format!(
        "if [ {{}} = 1 ]; then cat {f}; elif [ {{}} = 2001 ]; then echo go > {f}; else head -c 50000 /dev/zero | tr '\\0' x; echo; fi",
        f = fifo.display()
    );
    let input: String = (1..=2001).map(|i| format!("{i}\n")).collect();
    // Measured by /usr/bin/time: it forks a small child, whereas a child
    // vforked from this (big) test process would count the test's memory.
    let rss_file = dir.path().join("rss");
    let mut spawn = parx::sys::Spawn::new("/usr/bin/time");
    spawn.args(["-f", "%M", "-o"]).arg(&rss_file).args([
        env!("CARGO_BIN_EXE_parx"),
        "-k",
        "-j2",
        &script,
    ]);
    let inp = parx::sys::Pipe::new().unwrap();
    let outp = parx::sys::Pipe::new().unwrap();
    spawn.fd(0, inp.read).fd(1, outp.write);
    let child = spawn.spawn().unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        std::fs::File::from(inp.write)
            .write_all(input.as_bytes())
            .unwrap();
    });
    let mut out = Vec::new();
    std::fs::File::from(outp.read)
        .read_to_end(&mut out)
        .unwrap();
    writer.join().unwrap();
    let exit = child.wait().unwrap();
    assert!(exit.status.success(), "{:?}", exit.status);
    assert_eq!(&out[..3], b"go\n");
    assert_eq!(out.len(), 3 + 1999 * 50001);
    let rss_kb: u64 = std::fs::read_to_string(&rss_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        rss_kb < 60 * 1024,
        "parx held {rss_kb} KiB with 100 MB waiting: output was not spilled"
    );
}

#[test]
fn exit_status_counts_failures() {
    let (code, _, _) = run(&["exit {}", ":::", "0", "1", "2", "3"]);
    assert_eq!(code, 3);
    let many: Vec<String> = (0..150).map(|_| "1".to_string()).collect();
    let mut args = vec!["exit {}", ":::"];
    args.extend(many.iter().map(String::as_str));
    let (code, _, _) = run(&args);
    assert_eq!(code, 101);
}

#[test]
fn missing_command_fails_with_127_and_the_run_goes_on() {
    let (code, out, err) = run(&["-k", "{}", ":::", "no-such-command-xyz", "true"]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    let err = String::from_utf8_lossy(&err);
    assert!(err.contains("no-such-command-xyz"), "{err}");
    assert!(err.contains("not found"), "{err}");
}

#[test]
fn halt_now_fail_stops_at_first_failure_and_kills_the_rest() {
    let marker = format!("sleep 31{}", std::process::id() % 1000);
    let cmd = format!("if [ {{}} = 2 ]; then exit 7; else {marker}.5; fi");
    let (code, _, _) = run(&[
        "-j3",
        "--halt",
        "now,fail=1",
        &cmd,
        ":::",
        "1",
        "2",
        "3",
        "4",
    ]);
    assert_eq!(code, 7);
    assert!(
        wait_until(Duration::from_secs(5), || processes_with(&marker)
            .is_empty()),
        "jobs survived --halt now"
    );
}

#[test]
fn joblog_records_success_failure_signal_and_timeout() {
    let dir = tempdir();
    let log = dir.path().join("log");
    let (code, _, _) = run(&[
        "-j4",
        "--timeout",
        "1",
        "--joblog",
        log.to_str().unwrap(),
        "{}",
        ":::",
        "true",
        "exit 3",
        "kill -9 $$",
        "sleep 30",
    ]);
    assert_eq!(code, 3);
    let rows = lines(&log);
    assert_eq!(
        rows[0],
        "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand"
    );
    let mut by_cmd = std::collections::HashMap::new();
    for row in &rows[1..] {
        let cols: Vec<&str> = row.split('\t').collect();
        assert_eq!(cols.len(), 9, "{row}");
        assert_eq!(cols[1], ":");
        assert!(cols[2].parse::<f64>().is_ok());
        assert_eq!(cols[3].len(), 10, "JobRuntime is %10.3f: {row}");
        by_cmd.insert(
            cols[8].to_string(),
            (cols[6].to_string(), cols[7].to_string()),
        );
    }
    assert_eq!(by_cmd["true"], ("0".into(), "0".into()));
    assert_eq!(by_cmd["exit 3"], ("3".into(), "0".into()));
    assert_eq!(by_cmd["kill -9 $$"], ("0".into(), "9".into()));
    assert_eq!(by_cmd["sleep 30"], ("-1".into(), "15".into()));
}

#[test]
fn resume_after_sigkill_runs_every_job_exactly_once() {
    // Job N may only do its work once the test opens FIFO gateN for
    // writing, so the test decides exactly which jobs complete.
    let dir = tempdir();
    let log = dir.path().join("log");
    let ran = dir.path().join("ran");
    for i in 1..=5 {
        let fifo = dir.path().join(format!("gate{i}"));
        assert!(
            Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
    }
    let release = |i: u32| {
        let gate = dir.path().join(format!("gate{i}"));
        std::thread::spawn(move || {
            use std::io::Write;
            // Blocks until job i opens its end.
            let mut f = std::fs::OpenOptions::new().write(true).open(gate).unwrap();
            let _ = f.write_all(b"go\n");
        })
    };
    let cmd = format!(
        "read x < {d}/gate{{#}}; echo {{#}} >> {r}",
        d = dir.path().display(),
        r = ran.display()
    );
    let args = |extra: &[&str]| {
        let mut v: Vec<String> = vec!["-j1".into(), "--joblog".into()];
        v.push(log.display().to_string());
        v.extend(extra.iter().map(|s| s.to_string()));
        v.push(cmd.clone());
        v.push(":::".into());
        v.extend((1..=5).map(|i| i.to_string()));
        v
    };
    let mut child = parx().args(args(&[])).stdin(Stdio::null()).spawn().unwrap();
    release(1).join().unwrap();
    release(2).join().unwrap();
    // Jobs 1 and 2 are logged; job 3 waits at its gate. Kill parx with
    // SIGKILL: the sentinel must end job 3, and the log must not list it.
    assert!(wait_until(Duration::from_secs(20), || lines(&log).len() >= 3));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(wait_until(Duration::from_secs(10), || {
        processes_with(&format!("{}/gate3", dir.path().display())).is_empty()
    }));
    let gates: Vec<_> = (3..=5).map(release).collect();
    let (code, _, _) = run(&args(&["--resume"])
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>());
    assert_eq!(code, 0);
    for g in gates {
        g.join().unwrap();
    }
    let mut seen: Vec<u32> = lines(&ran).iter().map(|l| l.parse().unwrap()).collect();
    seen.sort();
    assert_eq!(seen, (1..=5).collect::<Vec<_>>(), "each job exactly once");
}

#[test]
fn timeout_kills_grandchildren_too() {
    let marker = format!("sleep 32{}", std::process::id() % 1000);
    let cmd = format!("sh -c '{marker}.1 & {marker}.2'");
    let start = Instant::now();
    let (code, _, _) = run(&["--timeout", "0.5", &cmd, ":::", "x"]);
    assert_eq!(code, 1);
    assert!(start.elapsed() < Duration::from_secs(20));
    assert!(
        wait_until(Duration::from_secs(5), || processes_with(&marker)
            .is_empty()),
        "a grandchild survived the timeout"
    );
}

#[test]
fn sigint_stops_jobs_and_exits_130() {
    let dir = tempdir();
    let log = dir.path().join("log");
    let started = dir.path().join("started");
    let marker = format!("sleep 33{}", std::process::id() % 1000);
    let cmd = format!("touch {}/{{}}; {marker}.5", started.display());
    std::fs::create_dir(&started).unwrap();
    let mut child = parx()
        .args([
            "-j2",
            "--joblog",
            log.to_str().unwrap(),
            &cmd,
            ":::",
            "1",
            "2",
            "3",
        ])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    assert!(wait_until(Duration::from_secs(10), || {
        std::fs::read_dir(&started).map_or(0, |d| d.count()) == 2
    }));
    parx::sys::signal::kill(child.id() as i32, libc::SIGINT).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(
        wait_until(Duration::from_secs(5), || processes_with(&marker)
            .is_empty()),
        "jobs survived Ctrl-C"
    );
    // Interrupted jobs are not logged as done, so --resume runs them.
    assert_eq!(lines(&log).len(), 1, "only the header: {:?}", lines(&log));
}

#[test]
fn closed_stdout_ends_quietly() {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} -k echo ::: $(seq 1 2000) | head -1",
            env!("CARGO_BIN_EXE_parx")
        ))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().next(),
        Some("1")
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn gzip_a_hundred_files() {
    let dir = tempdir();
    let mut files: Vec<PathBuf> = Vec::new();
    for i in 0..100 {
        let p = dir.path().join(format!("file {i}.txt"));
        std::fs::write(&p, format!("line {i}\n").repeat(100)).unwrap();
        files.push(p);
    }
    let mut args = vec!["gzip".to_string(), "-k".to_string(), ":::".to_string()];
    args.extend(files.iter().map(|p| p.display().to_string()));
    let (code, _, err) = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
    for (i, p) in files.iter().enumerate() {
        let gz = format!("{}.gz", p.display());
        let out = Command::new("gzip").args(["-dc", &gz]).output().unwrap();
        assert!(out.status.success());
        assert_eq!(out.stdout, format!("line {i}\n").repeat(100).into_bytes());
    }
}

#[test]
fn pipeline_per_job_with_wc_and_sort() {
    let dir = tempdir();
    let a = dir.path().join("a b.txt");
    let b = dir.path().join("c'd.txt");
    std::fs::write(&a, "1\n2\n3\n").unwrap();
    std::fs::write(&b, "1\n").unwrap();
    let (code, out, _) = run(&[
        "-k",
        "wc -l < {} | sort",
        ":::",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    assert_eq!(out, b"3\n1\n");
}

#[test]
fn env_vars_and_slots() {
    let (code, out, _) = run(&[
        "-k",
        "-j2",
        "echo $PARALLEL_SEQ {#} $PARALLEL_JOBSLOT {%}",
        ":::",
        "a",
        "b",
        "c",
    ]);
    assert_eq!(code, 0);
    let text = String::from_utf8(out).unwrap();
    for (i, line) in text.lines().enumerate() {
        let cols: Vec<&str> = line.split(' ').collect();
        assert_eq!(cols[0], (i + 1).to_string());
        assert_eq!(cols[0], cols[1]);
        assert_eq!(cols[2], cols[3]);
        assert!(cols[2] == "1" || cols[2] == "2", "{line}");
    }
}

#[test]
fn retries_rerun_a_failing_job() {
    let dir = tempdir();
    let count = dir.path().join("count");
    // Fails twice, then succeeds.
    let cmd = format!(
        "echo x >> {c}; [ $(wc -l < {c}) -ge 3 ] && echo ok{{}}",
        c = count.display()
    );
    let (code, out, _) = run(&["--retries", "3", &cmd, ":::", "1"]);
    assert_eq!(code, 0);
    assert_eq!(out, b"ok1\n");
    assert_eq!(lines(&count).len(), 3);
}

#[test]
fn tag_prefixes_every_line() {
    let (code, out, _) = run(&["-k", "--tag", "echo {}-1; echo {}-2", ":::", "a", "b"]);
    assert_eq!(code, 0);
    assert_eq!(out, b"a\ta-1\na\ta-2\nb\tb-1\nb\tb-2\n");
}

#[test]
fn line_buffer_keeps_lines_whole() {
    let (code, out, _) = run(&[
        "--line-buffer",
        "-j2",
        "for i in 1 2 3; do printf '{}%s' $i; echo; done",
        ":::",
        "a",
        "b",
    ]);
    assert_eq!(code, 0);
    let mut got: Vec<String> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    got.sort();
    assert_eq!(got, ["a1", "a2", "a3", "b1", "b2", "b3"]);
}

#[path = "sys_support/mod.rs"]
mod sys_support;

#[test]
fn jobs_hold_only_fds_0_1_2_and_what_parx_inherited() {
    // 40 jobs, 8 at a time, each listing its own fds while others run
    // with their pipes open.
    let lister = sys_support::FDS.as_str();
    let inputs: Vec<String> = (0..40).map(|i| i.to_string()).collect();
    let mut args = vec!["-j8", "-k", lister, ":::"];
    args.extend(inputs.iter().map(String::as_str));
    let out = parx().args(&args).output().unwrap();
    assert!(out.status.success());
    let expected = sys_support::expected_child_fds();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut seen = Vec::new();
    for line in text.lines() {
        let fd: i32 = line.split_whitespace().next().unwrap().parse().unwrap();
        seen.push(fd);
    }
    for fd in &seen {
        assert!(
            expected.contains(fd),
            "a job held fd {fd}, which is not 0-2 or inherited by parx:\n{text}"
        );
    }
}

#[test]
fn trace_shows_pipes_spawns_and_exits() {
    let (code, out, err) = run(&["--trace", "-j1", "echo {} | tr a-z A-Z", ":::", "ab"]);
    assert_eq!(code, 0);
    assert_eq!(out, b"AB\n");
    let err = String::from_utf8(err).unwrap();
    let spawn = err
        .lines()
        .find(|l| l.contains("spawn pid") && l.contains("tr a-z A-Z"))
        .unwrap_or_else(|| panic!("no spawn line:\n{err}"));
    assert!(spawn.contains("stdin=pipe#"), "{spawn}");
    assert!(spawn.contains("stdout=pipe#"), "{spawn}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("parx: trace: exit pid ") && l.contains(": status 0 after ")),
        "{err}"
    );
    assert!(err.lines().any(|l| l.contains("in parent")), "{err}");
}
