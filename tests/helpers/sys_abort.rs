//! Test helper: calls `abort()` (SIGABRT). With `--core-limit N` (bytes, or
//! `max` for the hard limit) it first sets its own soft `RLIMIT_CORE`, so a
//! test can decide whether the kernel may write a core file.

use rustix::process::{Resource, getrlimit, setrlimit};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, value] = args.as_slice()
        && flag == "--core-limit"
    {
        let mut limit = getrlimit(Resource::Core);
        limit.current = if value == "max" {
            limit.maximum
        } else {
            match value.parse() {
                Ok(n) => Some(n),
                Err(_) => {
                    eprintln!("parx-test-sys-abort: bad --core-limit {value}");
                    std::process::exit(2);
                }
            }
        };
        if let Err(e) = setrlimit(Resource::Core, limit) {
            eprintln!("parx-test-sys-abort: setrlimit: {e}");
            std::process::exit(2);
        }
    }
    std::process::abort();
}
