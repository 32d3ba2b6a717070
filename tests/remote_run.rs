//! `-S` end to end against real sshd servers (see `remote_support`):
//! hosts, `{host}`, the joblog's Host column, quoting of any value through
//! the remote login shell, exit statuses, ControlMaster reuse.

mod remote_support;

use assert_cmd::Command;
use remote_support::servers;

fn parx() -> Command {
    let mut c = Command::cargo_bin("parx").unwrap();
    c.env_remove("PARALLEL_SSH").env_remove("PARALLEL");
    c
}

#[test]
fn two_hosts_and_host_replacement() {
    let s = servers();
    let out = parx()
        .args(["--ssh", &s.ssh, "-S"])
        .arg(format!("1/{},1/{}", s.hosts[0], s.hosts[1]))
        .args([
            "--plus",
            "-k",
            "echo {} {host} $PARALLEL_SEQ",
            ":::",
            "a",
            "b",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("a {} 1\nb {} 2\n", s.hosts[0], s.hosts[1])
    );
}

/// The wrapper's start marker never reaches the user. (Other stderr is
/// allowed: a login shell may print its own noise, as root's `.bashrc`
/// does on some machines.)
fn no_marker(stderr: &[u8]) {
    assert!(
        !stderr.windows(15).any(|w| w == b"parx-remote-job"),
        "{}",
        String::from_utf8_lossy(stderr)
    );
}

fn remote(s: &remote_support::Servers, logins: &str) -> Command {
    let mut c = parx();
    c.args(["--ssh", &s.ssh, "-S", logins]);
    c
}

#[test]
fn any_value_reaches_the_remote_command_intact() {
    let s = servers();
    let values: Vec<&[u8]> = vec![
        b"two words",
        b"it's",
        b"\"dq\" \\ back",
        b"$(echo executed) `echo executed` $HOME",
        b"line1\nline2",
        b"\xff\xfe not utf-8",
        b"*; echo pwned",
        b"",
        b"-n",
        b"'\"'\"'",
    ];
    let mut input = Vec::new();
    for v in &values {
        input.extend_from_slice(v);
        input.push(0);
    }
    let out = remote(s, &format!("{},{}", s.hosts[0], s.hosts[1]))
        .args(["-0", "-k", "printf '%s\\0' {}"])
        .write_stdin(input.clone())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, input);
    no_marker(&out.stderr);
}

#[test]
fn joblog_has_the_host_and_job_exit_statuses() {
    let s = servers();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let out = remote(s, &format!("1/{},1/{}", s.hosts[0], s.hosts[1]))
        .args(["--joblog"])
        .arg(&log)
        .args(["exit {}", ":::", "0", "3", "255"])
        .output()
        .unwrap();
    // Two jobs failed: parx's status is their count, as GNU parallel's.
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&log).unwrap();
    let mut rows: Vec<(String, String, String)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_string(), f[1].to_string(), f[6].to_string())
        })
        .collect();
    rows.sort();
    assert_eq!(rows.len(), 3, "{text}");
    assert_eq!(rows[0], ("1".into(), s.hosts[0].clone(), "0".into()));
    assert_eq!(rows[1], ("2".into(), s.hosts[1].clone(), "3".into()));
    // The job's own 255 is its status; the host stays usable.
    assert_eq!(rows[2].2, "255");
    no_marker(&out.stderr);
}

#[test]
fn an_unreachable_host_fails_with_ssh_status_and_filter_hosts_drops_it() {
    let s = servers();
    // Nothing listens on this address.
    let dead = format!("root@127.0.0.9:{}", s.port);
    let out = remote(s, &format!("1/{dead}"))
        .args(["echo", ":::", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("127.0.0.9"), "{err}");

    let out = remote(s, &format!("1/{dead},1/{}", s.hosts[0]))
        .args(["--filter-hosts", "-k", "echo", ":::", "x", "y"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, b"x\ny\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("Removed {dead}")), "{err}");
}

#[test]
fn jobs_share_one_connection_per_host() {
    let s = servers();
    let out = remote(s, &format!("3/{}", s.hosts[1]))
        .args(["echo $SSH_CONNECTION; true", ":::"])
        .args((0..20).map(|i| i.to_string()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut conns: Vec<&str> = text.lines().collect();
    assert_eq!(conns.len(), 20);
    conns.sort();
    conns.dedup();
    assert_eq!(conns.len(), 1, "one master carries every job: {conns:?}");
}

#[test]
fn more_masters_past_max_sessions() {
    let s = servers();
    // node2 keeps sshd's default MaxSessions 10. 15 jobs run at once: each
    // waits (bounded) until all 15 have started.
    let dir = tempfile::tempdir().unwrap();
    let barrier = dir.path().join("b");
    std::fs::create_dir(&barrier).unwrap();
    let cmd = format!(
        "touch {b}/{{}}; i=0; while [ $(ls {b} | wc -l) -lt 15 ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; ls {b} | wc -l; echo $SSH_CONNECTION >&2",
        b = barrier.display()
    );
    let out = remote(s, &format!("15/{}", s.hosts[0]))
        .args([&cmd, ":::"])
        .args((0..15).map(|i| i.to_string()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().all(|l| l.trim() == "15"), "{text}");
    let err = String::from_utf8_lossy(&out.stderr);
    let mut conns: Vec<&str> = err.lines().collect();
    conns.sort();
    conns.dedup();
    assert_eq!(conns.len(), 2, "{err}");
}
