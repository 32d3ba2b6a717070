//! The lecture's pipeline `wc -l FILES | sort -n`, wired by hand: one pipe,
//! two children, and the parent holding no end of it.
//!
//! ```text
//! cargo run --example pipeline -- src/sys/*.rs
//! ```
//!
//! Without arguments it counts the lines of this crate's examples.

use std::ffi::OsString;

use parx::sys::{Pipe, Spawn};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut files: Vec<OsString> = std::env::args_os().skip(1).collect();
    if files.is_empty() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
        for entry in std::fs::read_dir(dir)? {
            files.push(entry?.path().into());
        }
        files.sort();
    }

    // wc writes into the pipe, sort reads from it.
    let pipe = Pipe::new()?;

    let mut wc = Spawn::new("wc");
    wc.arg("-l").args(&files).fd(1, pipe.write); // wc's stdout = write end
    let mut sort = Spawn::new("sort");
    sort.arg("-n").fd(0, pipe.read); // sort's stdin = read end

    // Each end moved into its child is closed in the parent at spawn. sort
    // inherits our stdout and prints there.
    let wc = wc.spawn()?;
    let sort = sort.spawn()?;

    // sort sees EOF when wc exits: wc held the only write end. Wait for
    // both, so neither is left a zombie.
    let wc_exit = wc.wait()?;
    let sort_exit = sort.wait()?;
    println!("wc -l: {}", wc_exit.status);
    println!("sort -n: {}", sort_exit.status);
    Ok(())
}
