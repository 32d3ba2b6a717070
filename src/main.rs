//! The `parx` binary: parse the command line, run, exit with the status.
fn main() {
    let mut args = std::env::args_os();
    let program = args.next().unwrap_or_default();
    std::process::exit(parx::cli::main_as(&program, args.collect()));
}
