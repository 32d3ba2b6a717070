//! Files to and from hosts over real sshd servers: `--trc`, `--return`,
//! `--cleanup`, `--basefile`, `--workdir` (incl. `...`), `--env`.
//! The "remote" side is this machine, so the test looks at the remote
//! working directory directly.

mod remote_support;

use assert_cmd::Command;
use remote_support::servers;
use std::path::Path;

fn parx(cwd: &Path, logins: &str) -> Command {
    let s = servers();
    let mut c = Command::cargo_bin("parx").unwrap();
    c.env_remove("PARALLEL_SSH")
        .env_remove("PARALLEL")
        .current_dir(cwd)
        .args(["--ssh", &s.ssh, "-S", logins]);
    c
}

#[test]
fn trc_round_trips_awkward_names_and_cleans_up() {
    let s = servers();
    let local = tempfile::tempdir().unwrap();
    let remote = tempfile::tempdir().unwrap();
    let wd = remote.path().join("wd");
    let names: [&[u8]; 4] = [b"a b.txt", b"it's.txt", b"new\nline.txt", b"sub/dir f.txt"];
    std::fs::create_dir(local.path().join("sub")).unwrap();
    let mut input = Vec::new();
    for n in names {
        let p = local
            .path()
            .join(std::ffi::OsStr::new(std::str::from_utf8(n).unwrap()));
        std::fs::write(&p, n).unwrap();
        input.extend_from_slice(n);
        input.push(0);
    }
    let out = parx(local.path(), &format!("{},{}", s.hosts[1], s.hosts[2]))
        .arg("--wd")
        .arg(&wd)
        .args(["-0", "--trc", "{}.out", "tr a-z A-Z < {} > {}.out"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for n in names {
        let name = std::str::from_utf8(n).unwrap();
        let back = std::fs::read(local.path().join(format!("{name}.out"))).unwrap();
        assert_eq!(back, n.to_ascii_uppercase(), "{name}");
    }
    // --cleanup removed what it sent and fetched, and the empty dirs.
    assert!(
        !wd.exists(),
        "{:?}",
        std::fs::read_dir(&wd).map(|d| d.count())
    );
}

#[test]
fn return_keeps_the_job_status() {
    let s = servers();
    let local = tempfile::tempdir().unwrap();
    let remote = tempfile::tempdir().unwrap();
    let out = parx(local.path(), &s.hosts[1])
        .arg("--wd")
        .arg(remote.path())
        .args([
            "--return",
            "{}.res",
            "echo got {} > {}.res; exit 3",
            ":::",
            "r",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read(local.path().join("r.res")).unwrap(),
        b"got r\n"
    );
    // No --cleanup: the remote copy stays.
    assert!(remote.path().join("r.res").exists());
}

#[test]
fn basefile_once_per_host_and_per_job_workdir() {
    let s = servers();
    let local = tempfile::tempdir().unwrap();
    std::fs::write(local.path().join("base.dat"), "shared\n").unwrap();
    let home = std::env::var("HOME").unwrap();
    let out = parx(local.path(), &format!("{},{}", s.hosts[1], s.hosts[2]))
        .args(["--wd", "...", "--bf", "base.dat", "--cleanup", "-k"])
        .args(["cat ~/base.dat; pwd; echo {}", ":::", "1", "2"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "{text}");
    assert_eq!(lines[0], "shared");
    let tmp = format!("{home}/.parallel/tmp/");
    assert!(
        lines[1].starts_with(&tmp) && lines[1].ends_with("-1"),
        "{text}"
    );
    assert!(
        lines[4].starts_with(&tmp) && lines[4].ends_with("-2"),
        "{text}"
    );
    // --cleanup removed the per-job directories and the base file.
    assert!(!Path::new(lines[1]).exists());
    assert!(!Path::new(lines[4]).exists());
    assert!(!Path::new(&format!("{home}/base.dat")).exists());
}

#[test]
fn env_reaches_the_remote_job() {
    let s = servers();
    let local = tempfile::tempdir().unwrap();
    let out = parx(local.path(), &s.hosts[2])
        .env("PARX_TEST_VAR", "v'a $(l) \"x\"")
        .args([
            "--env",
            "PARX_TEST_VAR",
            "printf '%s\\n' \"$PARX_TEST_VAR\" {}",
        ])
        .args([":::", "a"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"v'a $(l) \"x\"\na\n");
}
