//! Fuzz target: the command-language parser must not panic or hang on any
//! input, and a command it accepts must parse the same way twice.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let first = parx::shell::parse(data);
    let again = parx::shell::parse(data);
    assert_eq!(first, again);
    let _ = parx::shell::Script::new(data);
});
