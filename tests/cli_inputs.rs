//! Inputs at scale and as streams: 100,000 values, output that starts
//! before input ends, non-UTF-8 bytes and NUL-separated input, and a
//! property test that GNU parallel's quoting round-trips through bash.

use assert_cmd::Command;
use proptest::prelude::*;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

#[test]
fn one_hundred_thousand_inputs() {
    let input: String = (1..=100_000).map(|i| format!("{i}\n")).collect();
    let out = Command::cargo_bin("parx")
        .expect("parx")
        .args(["--dry-run", "echo"])
        .write_stdin(input)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    // Exactly GNU parallel 20221122's output: `seq 100000 | parallel -k
    // --dry-run echo | md5sum` gave 91a7440b694ac5a522f27f8c81c29da2, the
    // md5 of these lines (checked when this test was written).
    let want: String = (1..=100_000).map(|i| format!("echo {i}\n")).collect();
    assert!(
        out.stdout == want.as_bytes(),
        "100,000 dry-run lines differ"
    );
}

#[test]
fn one_hundred_thousand_combined_and_grouped() {
    let out = Command::cargo_bin("parx")
        .expect("parx")
        .args(["-j1", "-X", "--dry-run", "echo", "x{}"])
        .write_stdin((1..=100_000).map(|i| format!("{i}\n")).collect::<String>())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let values: Vec<&str> = text.lines().flat_map(|l| l.split(' ').skip(1)).collect();
    assert_eq!(values.len(), 100_000);
    assert_eq!(values[0], "x1");
    assert_eq!(values[99_999], "x100000");
    // Every line stays under GNU parallel's limit of (130329 - 3000) / 2.
    assert!(text.lines().all(|l| l.len() < 63_664));
    assert!(text.lines().count() > 1);
}

#[test]
fn endless_input_is_streamed() {
    // Like `yes | parx --dry-run echo | head -n 100000`: if parx read all
    // input before printing, this would never end.
    let bin = assert_cmd::cargo::cargo_bin("parx");
    let mut child = std::process::Command::new(bin)
        .args(["--dry-run", "echo"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn parx");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        let chunk = b"y\n".repeat(4096);
        // Ends when parx exits and the pipe breaks.
        while stdin.write_all(&chunk).is_ok() {}
    });
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    for _ in 0..100_000 {
        line.clear();
        stdout.read_line(&mut line).expect("read");
        assert_eq!(line, "echo y\n");
    }
    drop(stdout);
    child.wait().expect("wait");
    writer.join().expect("writer");
}

#[test]
fn non_utf8_and_nul_separated_values() {
    let out = Command::cargo_bin("parx")
        .expect("parx")
        .args(["-0", "--dry-run", "printf", "%s"])
        .write_stdin(&b"caf\xe9\0a\nb\0\xff\xfe\0"[..])
        .output()
        .expect("run");
    assert_eq!(
        out.stdout,
        b"printf %s 'caf\xe9'\nprintf %s 'a\nb'\nprintf %s '\xff\xfe'\n"
    );
}

/// Undoes one level of shell quoting by asking bash what the word is.
fn bash_unquote(quoted: &[u8]) -> Vec<u8> {
    let mut script = b"printf %s ".to_vec();
    script.extend_from_slice(quoted);
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(std::ffi::OsStr::from_encoded_bytes_unchecked_safe(&script))
        .output()
        .expect("bash");
    out.stdout
}

trait FromBytes {
    fn from_encoded_bytes_unchecked_safe(b: &[u8]) -> &std::ffi::OsStr;
}

impl FromBytes for std::ffi::OsStr {
    fn from_encoded_bytes_unchecked_safe(b: &[u8]) -> &std::ffi::OsStr {
        use std::os::unix::ffi::OsStrExt;
        std::ffi::OsStr::from_bytes(b)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn quoting_round_trips_through_bash(value in proptest::collection::vec(1u8..=255, 0..24)) {
        let quoted = parx::template::quote::quote(&value);
        prop_assert_eq!(parx::template::quote::quote_len(&value), quoted.len());
        prop_assert_eq!(bash_unquote(&quoted), value);
    }

    #[test]
    fn quote_len_matches(value in proptest::collection::vec(prop_oneof![Just(b'\''), Just(b'a'), Just(b' '), any::<u8>()], 0..12)) {
        prop_assert_eq!(parx::template::quote::quote_len(&value), parx::template::quote::quote(&value).len());
    }
}
