//! Test and benchmark helper: runs a command N times, one after the other,
//! through parx's shell executor (or through the fallback shell with
//! `--via-shell`, or only parses it with `--parse-only`) and prints the
//! mean time per run.
//!
//! `parx-test-shell-run [-n N] [--via-shell | --parse-only] [--quiet] CMD`
//! Job output goes to /dev/null with `--quiet`, else to stdout. Exits with
//! the last run's status.

use std::time::Instant;

use parx::shell::{self, Context, Script};

fn main() {
    let mut n: usize = 1;
    let mut mode = "exec";
    let mut quiet = false;
    let mut cmd: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "-n" => n = args.next().and_then(|v| v.parse().ok()).unwrap_or(1),
            "--via-shell" => mode = "shell",
            "--parse-only" => mode = "parse",
            "--quiet" => quiet = true,
            _ => cmd = Some(a),
        }
    }
    let Some(cmd) = cmd else {
        eprintln!("usage: parx-test-shell-run [-n N] [--via-shell | --parse-only] [--quiet] CMD");
        std::process::exit(2);
    };
    let start = Instant::now();
    let mut code = 0;
    for _ in 0..n {
        if mode == "parse" {
            let script = shell::parse(cmd.as_bytes());
            std::hint::black_box(&script);
            continue;
        }
        let script = if mode == "shell" {
            Script::in_shell(cmd.as_bytes(), "benchmark")
        } else {
            Script::new(cmd.as_bytes())
        };
        let mut ctx = Context::default();
        if quiet {
            match parx::sys::spawn::dev_null() {
                Ok(fd) => ctx.stdout = Some(fd),
                Err(e) => {
                    eprintln!("parx-test-shell-run: /dev/null: {e}");
                    std::process::exit(1);
                }
            }
        }
        match shell::exec::run_script(script, ctx) {
            Ok(status) => code = status.code,
            Err(e) => {
                eprintln!("parx-test-shell-run: {e}");
                std::process::exit(1);
            }
        }
    }
    let per = start.elapsed().as_secs_f64() / n as f64;
    eprintln!("{mode}: {n} runs, {:.2} us per run", per * 1e6);
    std::process::exit(code);
}
