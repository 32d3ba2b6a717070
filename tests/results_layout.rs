//! `--results`: the files parx writes are, name for name and byte for
//! byte, the ones GNU parallel 20221122 writes for the same command line.
//!
//! The expected trees in `tests/fixtures/results/` were made by GNU
//! parallel itself: `cargo test --test results_layout -- --ignored`
//! regenerates them (needs `parallel` on PATH).

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A case: its name and parallel's arguments (bytes: values need not be
/// UTF-8).
fn cases() -> Vec<(&'static str, Vec<Vec<u8>>)> {
    let w = |args: &[&[u8]]| args.iter().map(|a| a.to_vec()).collect::<Vec<_>>();
    let long = vec![b'a'; 300];
    vec![
        (
            "escapes",
            w(&[
                b"--results",
                b"out",
                b"echo o{}; echo e{} >&2",
                b":::",
                b"a",
                b"b/c",
                b"d e",
                b"x\\y",
                b"t\tz",
                b"",
                b"..",
            ]),
        ),
        (
            "non_utf8",
            w(&[
                b"--results",
                b"out",
                b"printf",
                b"%s",
                b":::",
                b"\xff\xfe",
                b"caf\xe9",
            ]),
        ),
        (
            "too_long",
            w(&[b"--results", b"out", b"echo", b":::", &long, b"b"]),
        ),
        (
            "two_sources",
            w(&[
                b"--results",
                b"out",
                b"echo",
                b":::",
                b"I",
                b"II",
                b":::",
                b"III",
                b"IIII",
            ]),
        ),
        (
            "header_sorted",
            w(&[
                b"--header",
                b":",
                b"--results",
                b"out",
                b"echo",
                b":::",
                b"10",
                b"x",
                b":::",
                b"9",
                b"y",
                b":::",
                b"b",
                b"z",
                b":::",
                b"a",
                b"w",
            ]),
        ),
        (
            "header_file_name",
            w(&[
                b"--header",
                b":",
                b"--results",
                b"out",
                b"echo",
                b"{a}",
                b"::::",
                b"f1",
            ]),
        ),
        (
            "colsep_header",
            w(&[
                b"--header",
                b":",
                b"--colsep",
                b"\t",
                b"--results",
                b"out",
                b"echo",
                b"{y}",
                b"::::",
                b"f2",
            ]),
        ),
        (
            "records_per_job",
            w(&[
                b"--results",
                b"out",
                b"-N2",
                b"echo",
                b":::",
                b"a",
                b"b",
                b"c",
                b"d",
                b"e",
            ]),
        ),
        (
            "no_arg",
            w(&[
                b"--results",
                b"out",
                b"-N0",
                b"echo",
                b"x",
                b":::",
                b"1",
                b"2",
                b":::",
                b"3",
            ]),
        ),
        (
            "file_name",
            w(&[
                b"--results",
                b"out/{}.txt",
                b"echo {}; echo e{} >&2; exit 1",
                b":::",
                b"a",
                b"b/c",
            ]),
        ),
        (
            "dir_name",
            w(&[b"--results", b"out/{#}-{}/", b"echo", b":::", b"a", b"b"]),
        ),
        (
            "header_in_name",
            w(&[
                b"--header",
                b":",
                b"--results",
                b"o_{b}/",
                b"echo",
                b":::",
                b"b",
                b"p",
                b"q",
            ]),
        ),
        (
            "name_with_spaces",
            w(&[b"--results", b"my dir/{}  x", b"echo", b":::", b"a", b"b c"]),
        ),
        (
            "name_replacements",
            w(&[b"--results", b"o/{.}/{/}", b"echo", b":::", b"d/a.txt"]),
        ),
        (
            "tag_keep_order",
            w(&[
                b"--results",
                b"out",
                b"--tag",
                b"-k",
                b"echo",
                b":::",
                b"a",
                b"b",
            ]),
        ),
        (
            "line_buffer_prints_names",
            w(&[b"--results", b"out", b"--lb", b"echo", b":::", b"a"]),
        ),
        (
            "files_and_results",
            w(&[
                b"--results",
                b"out",
                b"--files",
                b"-k",
                b"echo",
                b":::",
                b"a",
                b"b",
            ]),
        ),
        (
            "ungroup_saves",
            w(&[
                b"--results",
                b"out",
                b"-u",
                b"echo {}; echo e >&2",
                b":::",
                b"a",
            ]),
        ),
        (
            "retries_truncate",
            w(&[
                b"--results",
                b"out",
                b"--retries",
                b"2",
                b"echo {}; exit 1",
                b":::",
                b"a",
            ]),
        ),
    ]
}

/// Bytes as text: printable ASCII as is, `\` doubled, the rest `\xNN`.
fn escape(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        match b {
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

/// Every file and directory under `root` (sorted by name bytes), files
/// with their contents.
fn tree(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(Vec<u8>, Option<Vec<u8>>)>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .as_os_str()
                .as_bytes()
                .to_vec();
            if path.is_dir() {
                out.push((rel, None));
                walk(root, &path, out);
            } else {
                out.push((rel, Some(std::fs::read(&path).unwrap())));
            }
        }
    }
    let mut entries = Vec::new();
    walk(root, root, &mut entries);
    entries.sort();
    entries
        .into_iter()
        .map(|(p, c)| match c {
            None => format!("{}/", escape(&p)),
            Some(c) => format!("{} = {}", escape(&p), escape(&c)),
        })
        .collect()
}

/// Runs `program` with `args` in a fresh directory holding the input
/// files; returns "exit", "stdout" and the tree as text.
fn observe(program: &OsString, args: &[Vec<u8>]) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f1"), b"a\n1\n2\n").unwrap();
    std::fs::write(dir.path().join("f2"), b"x\ty\n1\t2\n3\t4\n").unwrap();
    let out = Command::new(program)
        .args(args.iter().map(|a| OsString::from_vec(a.clone())))
        .current_dir(dir.path())
        .env_remove("PARALLEL")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let mut text = format!("exit: {}\n", out.status.code().unwrap_or(-1));
    text.push_str(&format!("stdout: {}\n", escape(&out.stdout)));
    text.push_str(&format!("stderr: {}\n", escape(&out.stderr)));
    for line in tree(dir.path()) {
        text.push_str(&line);
        text.push('\n');
    }
    text
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/results")
        .join(format!("{name}.txt"))
}

#[test]
fn results_trees_match_gnu_parallel() {
    let parx = OsString::from(env!("CARGO_BIN_EXE_parx"));
    let mut failures = Vec::new();
    for (name, args) in cases() {
        let expected = std::fs::read_to_string(fixture(name)).unwrap();
        let got = observe(&parx, &args);
        if got != expected {
            failures.push(format!(
                "case {name}:\n--- GNU parallel\n{expected}--- parx\n{got}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Regenerates the fixtures with GNU parallel.
#[test]
#[ignore]
fn regenerate_with_gnu_parallel() {
    let gnu = OsString::from("parallel");
    std::fs::create_dir_all(fixture("x").parent().unwrap()).unwrap();
    for (name, args) in cases() {
        std::fs::write(fixture(name), observe(&gnu, &args)).unwrap();
    }
}
