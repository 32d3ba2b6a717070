//! GNU parallel's command line, parsed into one `Config`.

/// Runs parx with the given arguments (without the program name) and
/// returns the process exit status.
pub fn main(args: Vec<std::ffi::OsString>) -> i32 {
    match args.first().and_then(|a| a.to_str()) {
        Some("--version") => {
            println!("parx {}", env!("CARGO_PKG_VERSION"));
            0
        }
        _ => {
            println!("Usage: parx [OPTIONS] COMMAND [ARGS] ::: INPUTS");
            0
        }
    }
}
