//! The lecture's `selfpipe`: one process writes a message into a pipe and
//! reads it back. The bytes wait in a kernel buffer in between, not in our
//! memory.
//!
//! ```text
//! cargo run --example selfpipe
//! ```

use std::fs::File;
use std::io::{Read, Write};

use parx::sys::Pipe;

fn main() -> std::io::Result<()> {
    // `read` is pfd[0], `write` is pfd[1]: data written to one comes out of
    // the other, in order. Both are owned: dropping one closes it.
    let Pipe { read, write } = Pipe::new()?;
    let mut write = File::from(write);
    let mut read = File::from(read);

    let message = format!("Hello from pid {}\n", std::process::id());
    write.write_all(message.as_bytes())?;

    // One read gets what is in the pipe (it would block if it were empty).
    let mut buf = [0u8; 8192];
    let n = read.read(&mut buf)?;
    let got = String::from_utf8_lossy(&buf[..n]);
    assert_eq!(got, message);

    print!("Wrote {message}");
    print!("Read {got}");
    Ok(())
}
