//! Table-driven comparison with GNU parallel: every case in
//! `fixtures/cli/cases.txt` (and `fixtures/perl/cases.txt`, the Perl
//! expressions) is a bash snippet run with `$PAR` set to parx; its stdout
//! and exit status must equal what GNU parallel 20221122 gave (recorded in
//! `expected.txt` next to it by `fixtures/cli/generate.sh`).

use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

struct Expected {
    name: String,
    code: i32,
    stdout: Vec<u8>,
}

fn fixture_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
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
        let code = parts
            .next()
            .and_then(|p| p.strip_prefix("exit="))
            .expect("exit=")
            .parse()
            .expect("code");
        let n: usize = parts
            .next()
            .and_then(|p| p.strip_prefix("bytes="))
            .expect("bytes=")
            .parse()
            .expect("n");
        let start = end + 1;
        out.push(Expected {
            name,
            code,
            stdout: data[start..start + n].to_vec(),
        });
        pos = start + n + 1;
    }
    out
}

fn cases(dir: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(dir.join("cases.txt")).expect("cases.txt");
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, snippet) = l.split_once('\t').expect("NAME<TAB>snippet");
            (name.to_string(), snippet.to_string())
        })
        .collect()
}

#[test]
fn dry_run_matches_gnu_parallel() {
    matches_gnu_parallel(&fixture_dir("cli"));
}

#[test]
fn perl_expressions_match_gnu_parallel() {
    matches_gnu_parallel(&fixture_dir("perl"));
}

fn matches_gnu_parallel(dir: &Path) {
    let expected = parse_expected(&std::fs::read(dir.join("expected.txt")).expect("expected.txt"));
    let cases = cases(dir);
    assert_eq!(
        cases.len(),
        expected.len(),
        "cases.txt and expected.txt differ in length: rerun generate.sh"
    );
    let bin = assert_cmd::cargo::cargo_bin("parx");
    for ((name, _), want) in cases.iter().zip(&expected) {
        assert_eq!(*name, want.name, "case order: rerun generate.sh");
    }
    let failures: Vec<String> = cases
        .par_iter()
        .zip(expected.par_iter())
        .filter_map(|((name, snippet), want)| {
            let out = Command::new("bash")
                .arg("-c")
                .arg(snippet)
                .env("PAR", &bin)
                .env("LC_ALL", "C")
                .env_remove("PARALLEL")
                .current_dir(dir)
                .stdin(Stdio::null())
                .output()
                .expect("run bash");
            let code = out.status.code().unwrap_or(-1);
            (out.stdout != want.stdout || code != want.code).then(|| {
                format!(
                    "{name}: {snippet}\n  want exit {} stdout {:?}\n  got  exit {} stdout {:?}\n  stderr {:?}",
                    want.code,
                    String::from_utf8_lossy(&want.stdout),
                    code,
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr),
                )
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from GNU parallel:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
