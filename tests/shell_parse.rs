//! The parser on free-form input: no panic and bounded time on any bytes,
//! and on strings dense in shell metacharacters; and the public parse API
//! agrees with `bash -n` on which commands are syntax errors (for those
//! parx parses itself).

use std::time::Duration;

use proptest::prelude::*;

/// CPU time this thread has used: unlike the wall clock, it does not
/// grow when other processes load the machine (a wall-clock bound failed
/// under load).
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("read thread stat");
    // Fields after the `(comm)`: state is the 3rd, utime and stime the
    // 14th and 15th, in clock ticks.
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let f: Vec<u64> = rest
        .split(' ')
        .skip(11)
        .take(2)
        .map(|v| v.parse().expect("ticks"))
        .collect();
    let hz = rustix::param::clock_ticks_per_second();
    Duration::from_secs_f64((f[0] + f[1]) as f64 / hz as f64)
}

fn check(bytes: &[u8]) {
    let start = thread_cpu();
    let parsed = parx::shell::parse(bytes);
    let script = parx::shell::Script::new(bytes);
    assert!(
        thread_cpu() - start < Duration::from_secs(1),
        "slow parse: {bytes:?}"
    );
    if let Ok(s) = parsed {
        assert_eq!(s, script);
    }
}

fn shellish() -> impl Strategy<Value = Vec<u8>> {
    let alphabet: Vec<u8> = b"ab01 \t\n'\"\\$`{}[]()|&;<>*?~#=!-_.,:+/%@".to_vec();
    prop::collection::vec(prop::sample::select(alphabet), 0..64)
}

/// Property-test settings: a failure is reported with its minimal input
/// and never written to a tracked `.proptest-regressions` file (which
/// would make every later run fail); cases worth keeping are listed in
/// `past_failures_pass`.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(2000))]
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        check(&bytes);
    }

    #[test]
    fn shell_metacharacter_soup_never_panics(bytes in shellish()) {
        check(&bytes);
    }
}

#[test]
fn huge_inputs_parse_in_linear_time() {
    let mut big = Vec::new();
    for _ in 0..20_000 {
        big.extend_from_slice(b"echo 'a b' \"$X\" | tr a b && true; ");
    }
    let start = thread_cpu();
    let s = parx::shell::parse(&big).unwrap();
    assert!(s.fallback_reason().is_none());
    assert!(thread_cpu() - start < Duration::from_secs(2));
    let deep = "! a |".repeat(10_000) + " b";
    check(deep.as_bytes());
    let quotes = "'".repeat(100_001);
    check(quotes.as_bytes());
}

proptest! {
    #![proptest_config(config(500))]
    /// Where parx parses a command itself, bash accepts it; where parx
    /// calls it a syntax error, bash rejects it too.
    #[test]
    fn syntax_errors_agree_with_bash_n(bytes in shellish()) {
        syntax_agrees_with_bash(&bytes)?;
    }
}

/// Inputs proptest once found failing (from the regression file this
/// test no longer writes).
#[test]
fn past_failures_pass() {
    let cases: [&[u8]; 7] = [
        b"+aa",
        b"{\\",
        b"a[a",
        b"!",
        b"{''$[",
        b"''$\\\n[",
        b"\"$\\\n[\"",
    ];
    for bytes in cases {
        check(bytes);
        syntax_agrees_with_bash(bytes).unwrap_or_else(|e| panic!("{bytes:?}: {e}"));
    }
}

fn syntax_agrees_with_bash(bytes: &[u8]) -> Result<(), TestCaseError> {
    let Ok(text) = String::from_utf8(bytes.to_vec()) else {
        return Ok(());
    };
    let ours = parx::shell::parse(bytes);
    let native = matches!(&ours, Ok(s) if s.fallback_reason().is_none());
    if !native && ours.is_ok() {
        return Ok(());
    }
    // `--`: a text starting with `-` or `+` is the command, not options.
    let bash_ok = std::process::Command::new("bash")
        .args(["-n", "-c", "--", &text])
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
        .success();
    prop_assert_eq!(native, bash_ok, "{:?}: parx {:?}", text, ours);
    Ok(())
}
