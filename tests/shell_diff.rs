//! Differential tests: every curated command runs through parx's executor
//! and through `bash -c`, each in a fresh temporary directory with the
//! same files, and everything observable must agree: stdout, stderr, exit
//! status, and the files left in the directory (names and contents).
//!
//! Normalisation (the only one): the temporary directory's path is
//! replaced by `$DIR` in outputs, since the two runs use different
//! directories. parx prefixes its own messages with the fallback shell's
//! name (`bash` here) and, like bash with a non-terminal stdin, prints no
//! `line N:`, so messages are compared byte for byte.
//!
//! Cases live in `tests/fixtures/shell/cases.txt`, one per line; `{NL}`
//! stands for a newline inside a command. The summary line reports how
//! many ran without a shell.

use std::collections::BTreeMap;
use std::fs;
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use parx::shell::{self, Context};

#[derive(Debug, PartialEq, Eq)]
struct Observed {
    status: i32,
    stdout: String,
    stderr: String,
    files: BTreeMap<String, String>,
}

fn setup(dir: &Path) {
    fs::write(dir.join("a.txt"), "hello world\nfoo bar\n").unwrap();
    fs::write(dir.join("b.txt"), "line1\nline2\nline3\n").unwrap();
    fs::create_dir(dir.join("sub")).unwrap();
    fs::write(dir.join("sub/c.txt"), "in sub\n").unwrap();
    fs::create_dir(dir.join("dir.d")).unwrap();
    fs::write(dir.join("space name.txt"), "spaced\n").unwrap();
    fs::write(dir.join("noexec"), "echo hi\n").unwrap();
    fs::write(dir.join("script.sh"), "#!/bin/sh\necho script \"$@\"\n").unwrap();
    fs::set_permissions(dir.join("script.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(dir.join("badinterp"), "#!/nonexistent/interp\necho x\n").unwrap();
    fs::set_permissions(dir.join("badinterp"), fs::Permissions::from_mode(0o755)).unwrap();
}

fn snapshot(dir: &Path, base: &Path, out: &mut BTreeMap<String, String>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
        let meta = fs::symlink_metadata(&p).unwrap();
        if meta.is_dir() {
            out.insert(rel + "/", String::new());
            snapshot(&p, base, out);
        } else {
            let body = fs::read(&p).unwrap_or_default();
            out.insert(rel, String::from_utf8_lossy(&body).into_owned());
        }
    }
}

fn normalise(s: &[u8], dir: &Path) -> String {
    String::from_utf8_lossy(s).replace(&*dir.to_string_lossy(), "$DIR")
}

fn via_bash(cmd: &str) -> Observed {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let out = Command::new("bash")
        .arg("-c")
        .arg(cmd)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let mut files = BTreeMap::new();
    snapshot(dir.path(), dir.path(), &mut files);
    Observed {
        status: out.status.code().unwrap_or_else(|| {
            use std::os::unix::process::ExitStatusExt;
            128 + out.status.signal().unwrap_or(0)
        }),
        stdout: normalise(&out.stdout, dir.path()),
        stderr: normalise(&out.stderr, dir.path()),
        files,
    }
}

fn via_parx(cmd: &str) -> (Observed, Option<&'static str>) {
    let dir = tempfile::tempdir().unwrap();
    let cap = tempfile::tempdir().unwrap();
    setup(dir.path());
    let out_path = cap.path().join("out");
    let err_path = cap.path().join("err");
    let out = fs::File::create(&out_path).unwrap();
    let err = fs::File::create(&err_path).unwrap();
    let ctx = Context {
        stdin: Some(OwnedFd::from(fs::File::open("/dev/null").unwrap())),
        stdout: Some(OwnedFd::from(out)),
        stderr: Some(OwnedFd::from(err)),
        cwd: Some(dir.path().to_path_buf()),
        shell: Some("bash".into()),
        ..Context::default()
    };
    let status = shell::run(cmd.as_bytes(), ctx).unwrap();
    let mut files = BTreeMap::new();
    snapshot(dir.path(), dir.path(), &mut files);
    (
        Observed {
            status: status.code,
            stdout: normalise(&fs::read(&out_path).unwrap(), dir.path()),
            stderr: normalise(&fs::read(&err_path).unwrap(), dir.path()),
            files,
        },
        status.fallback,
    )
}

fn cases() -> Vec<String> {
    let text = include_str!("fixtures/shell/cases.txt");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("#"))
        .map(|l| l.replace("{NL}", "\n"))
        .collect()
}

#[test]
fn curated_cases_agree_with_bash() {
    let cases = cases();
    assert!(cases.len() >= 300, "only {} cases", cases.len());
    let mut failures = Vec::new();
    let mut fallbacks: BTreeMap<&'static str, usize> = BTreeMap::new();
    for cmd in &cases {
        let expected = via_bash(cmd);
        let (got, fallback) = via_parx(cmd);
        if let Some(why) = fallback {
            *fallbacks.entry(why).or_default() += 1;
        }
        if got != expected {
            failures.push(format!(
                "case {cmd:?}\n  bash: {expected:?}\n  parx: {got:?} (fallback: {fallback:?})"
            ));
        }
    }
    let fell_back: usize = fallbacks.values().sum();
    println!(
        "shell differential: {} cases, {} ran without a shell ({:.1}%), {} fell back to bash: {:?}",
        cases.len(),
        cases.len() - fell_back,
        100.0 * (cases.len() - fell_back) as f64 / cases.len() as f64,
        fell_back,
        fallbacks
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from bash:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
