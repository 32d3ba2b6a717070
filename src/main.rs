//! The `parx` binary: parse the command line, run, exit with the status.
fn main() {
    std::process::exit(parx::cli::main(std::env::args_os().skip(1).collect()));
}
