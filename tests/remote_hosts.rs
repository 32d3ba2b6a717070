//! Host lists against real sshd servers: `--onall`, `--nonall`,
//! `--retries` moving a job to another host, `--sshloginfile`, `:` (this
//! machine) among the hosts.

mod remote_support;

use assert_cmd::Command;
use remote_support::servers;

fn parx() -> Command {
    let s = servers();
    let mut c = Command::cargo_bin("parx").unwrap();
    c.env_remove("PARALLEL_SSH")
        .env_remove("PARALLEL")
        .args(["--ssh", &s.ssh]);
    c
}

#[test]
fn onall_runs_every_job_on_every_host() {
    let s = servers();
    let out = parx()
        .args(["-S", &format!("{},{}", s.hosts[0], s.hosts[1])])
        .args([
            "-k",
            "--tag",
            "--onall",
            "echo {} $PARALLEL_SSHHOST",
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
    let (h0, h1) = (&s.hosts[0], &s.hosts[1]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{h0}\ta {h0}\n{h0}\tb {h0}\n{h1}\ta {h1}\n{h1}\tb {h1}\n")
    );
}

#[test]
fn nonall_runs_the_command_once_per_host() {
    let s = servers();
    let out = parx()
        .args(["-S", &format!("{},{}", s.hosts[1], s.hosts[2])])
        .args(["-k", "--nonall", "echo $PARALLEL_SSHLOGIN; exit 2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}\n{}\n", s.hosts[1], s.hosts[2])
    );
}

#[test]
fn retries_move_a_failing_job_to_another_host() {
    let s = servers();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    // Fails on the first host it gets (the first listed), works on the other.
    let out = parx()
        .args(["-S", &format!("1/{},1/{}", s.hosts[0], s.hosts[1])])
        .args(["--retries", "2", "--joblog"])
        .arg(&log)
        .arg(format!(
            "[ $PARALLEL_SSHHOST = {} ] && echo {{}}",
            s.hosts[1]
        ))
        .args([":::", "x"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"x\n");
    let text = std::fs::read_to_string(&log).unwrap();
    let last = text.lines().last().unwrap();
    assert_eq!(last.split('\t').nth(1), Some(s.hosts[1].as_str()), "{text}");
}

#[test]
fn sshloginfile_with_comments_and_this_machine() {
    let s = servers();
    let dir = tempfile::tempdir().unwrap();
    let slf = dir.path().join("hosts");
    std::fs::write(
        &slf,
        format!("# the hosts\n1/{}  # remote\n1/:\n", s.hosts[2]),
    )
    .unwrap();
    let log = dir.path().join("log");
    let out = parx()
        .arg("--slf")
        .arg(&slf)
        .args(["-k", "--joblog"])
        .arg(&log)
        .args(["echo {}; true", ":::", "a", "b"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"a\nb\n");
    // One job ran on each host.
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains(&format!("\t{}\t", s.hosts[2])), "{text}");
    assert!(text.contains("\t:\t"), "{text}");
}
