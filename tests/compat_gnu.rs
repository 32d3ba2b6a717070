//! Runs that must behave as GNU parallel's: every case in
//! `fixtures/compat/cases.txt` is a bash snippet run with `$PAR` set to
//! parx in a fresh directory; its stdout, stderr (with `parx: ` read as
//! GNU's `parallel: `) and exit status must equal what GNU parallel
//! 20221122 gave, recorded in `fixtures/compat/expected.txt` by
//! `fixtures/compat/generate.sh`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

struct Expected {
    name: String,
    code: i32,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compat")
}

fn field<'a>(parts: &mut impl Iterator<Item = &'a str>, key: &str) -> &'a str {
    parts
        .next()
        .and_then(|p| p.strip_prefix(key))
        .unwrap_or_else(|| panic!("expected.txt: no {key}"))
}

fn parse_expected(data: &[u8]) -> Vec<Expected> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let end = pos
            + data[pos..]
                .iter()
                .position(|&b| b == b'\n')
                .expect("header line");
        let header = std::str::from_utf8(&data[pos..end]).expect("utf-8 header");
        let mut parts = header.strip_prefix("=== ").expect("=== prefix").split(' ');
        let name = parts.next().expect("name").to_string();
        let code = field(&mut parts, "exit=").parse().expect("exit code");
        let n_out: usize = field(&mut parts, "out=").parse().expect("out=");
        let n_err: usize = field(&mut parts, "err=").parse().expect("err=");
        let start = end + 1;
        out.push(Expected {
            name,
            code,
            stdout: data[start..start + n_out].to_vec(),
            stderr: data[start + n_out..start + n_out + n_err].to_vec(),
        });
        pos = start + n_out + n_err + 1;
    }
    out
}

fn cases() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(fixture_dir().join("cases.txt")).expect("cases.txt");
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, snippet) = l.split_once('\t').expect("NAME<TAB>snippet");
            (name.to_string(), snippet.to_string())
        })
        .collect()
}

/// parx's stderr with its program name spelled as in the fixtures.
fn normalise_stderr(err: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(err.len());
    for line in err.split_inclusive(|&b| b == b'\n') {
        match line.strip_prefix(b"parx: ") {
            Some(rest) => {
                out.extend_from_slice(b"PROG: ");
                out.extend_from_slice(rest);
            }
            None => out.extend_from_slice(line),
        }
    }
    out
}

#[test]
fn runs_match_gnu_parallel() {
    let expected =
        parse_expected(&std::fs::read(fixture_dir().join("expected.txt")).expect("expected.txt"));
    let cases = cases();
    assert_eq!(
        cases.len(),
        expected.len(),
        "cases.txt and expected.txt differ in length: rerun generate.sh"
    );
    let bin = assert_cmd::cargo::cargo_bin("parx");
    let mut failures = Vec::new();
    for ((name, snippet), want) in cases.iter().zip(&expected) {
        assert_eq!(*name, want.name, "case order: rerun generate.sh");
        let dir = tempfile::tempdir().expect("tempdir");
        let out = Command::new("bash")
            .arg("-c")
            .arg(snippet)
            .env("PAR", &bin)
            .env("LC_ALL", "C")
            .env_remove("PARALLEL")
            .env_remove("PARALLEL_SHELL")
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("run bash");
        let code = out.status.code().unwrap_or(-1);
        let stderr = normalise_stderr(&out.stderr);
        if out.stdout != want.stdout || stderr != want.stderr || code != want.code {
            failures.push(format!(
                "{name}: {snippet}\n  want exit {} stdout {:?} stderr {:?}\n  got  exit {} stdout {:?} stderr {:?}",
                want.code,
                String::from_utf8_lossy(&want.stdout),
                String::from_utf8_lossy(&want.stderr),
                code,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&stderr),
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from GNU parallel:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
