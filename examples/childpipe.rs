//! The lecture's `childpipe`: a child sends `Hello, mama!` to its parent
//! through a pipe, with every unused end closed on both sides.
//!
//! ```text
//! cargo run --example childpipe
//! ```
//!
//! - The child gets only the write end, as its stdout: `Spawn::fd` *moves*
//!   the end in, and it is closed in the parent right after the spawn.
//! - The read end is close-on-exec, so the child never holds it.
//!
//! That is why the parent's read ends with EOF once the child exits: no
//! write end is left anywhere. (Keep a write end in the parent and the read
//! would wait forever.)

use std::fs::File;
use std::io::{Read, Write};

use parx::sys::{Pipe, Spawn};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().nth(1).as_deref() == Some("--child") {
        return child();
    }
    let me = std::process::id();
    let pipe = Pipe::new()?;

    let mut spawn = Spawn::new(std::env::current_exe()?);
    spawn.arg("--child").fd(1, pipe.write); // child's stdout = write end
    let child = spawn.spawn()?;
    // `pipe.write` was moved into the spawn and is closed here already.

    let mut message = String::new();
    File::from(pipe.read).read_to_string(&mut message)?; // to EOF
    println!("[parent: {me}] I got a message! It was “{message}”");

    let pid = child.pid();
    let exit = child.wait()?;
    println!("[parent: {me}] child {pid} exited with {}", exit.status);
    Ok(())
}

/// The child's side: its stdout is the pipe's write end.
fn child() -> Result<(), Box<dyn std::error::Error>> {
    eprintln!("[child: {}] sending message", std::process::id());
    std::io::stdout().write_all(b"Hello, mama!")?;
    Ok(())
}
