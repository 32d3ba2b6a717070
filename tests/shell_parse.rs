//! The parser on free-form input: no panic and bounded time on any bytes,
//! and on strings dense in shell metacharacters; and the public parse API
//! agrees with `bash -n` on which commands are syntax errors (for those
//! parx parses itself).

use std::time::{Duration, Instant};

use proptest::prelude::*;

fn check(bytes: &[u8]) {
    let start = Instant::now();
    let parsed = parx::shell::parse(bytes);
    let script = parx::shell::Script::new(bytes);
    assert!(
        start.elapsed() < Duration::from_secs(1),
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]
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
    let start = Instant::now();
    let s = parx::shell::parse(&big).unwrap();
    assert!(s.fallback_reason().is_none());
    assert!(start.elapsed() < Duration::from_secs(2));
    let deep = "! a |".repeat(10_000) + " b";
    check(deep.as_bytes());
    let quotes = "'".repeat(100_001);
    check(quotes.as_bytes());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]
    /// Where parx parses a command itself, bash accepts it; where parx
    /// calls it a syntax error, bash rejects it too.
    #[test]
    fn syntax_errors_agree_with_bash_n(bytes in shellish()) {
        let Ok(text) = String::from_utf8(bytes.clone()) else { return Ok(()) };
        let ours = parx::shell::parse(&bytes);
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
    }
}
