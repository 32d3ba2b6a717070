//! Where output goes in the end: parx's stdout and stderr (or, in tests,
//! any writers), and writing lines with a `--tag` prefix.

use std::fs::File;
use std::io::{self, Write};
use std::mem::ManuallyDrop;

use super::Stream;

/// The two destinations of job output.
pub struct Sinks {
    /// Receives jobs' stdout.
    pub out: Box<dyn Write>,
    /// Receives jobs' stderr.
    pub err: Box<dyn Write>,
}

/// A writer on one of parx's own standard fds, unbuffered: parx does its
/// own buffering, and big outputs go straight to the kernel.
struct RawStd(ManuallyDrop<File>);

impl Write for RawStd {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Sinks {
    /// parx's own stdout and stderr.
    pub fn std() -> Sinks {
        Sinks {
            out: Box::new(RawStd(crate::sys::stdio::std_file(1))),
            err: Box::new(RawStd(crate::sys::stdio::std_file(2))),
        }
    }

    /// The writer for `stream`.
    pub fn get(&mut self, stream: Stream) -> &mut dyn Write {
        match stream {
            Stream::Stdout => &mut *self.out,
            Stream::Stderr => &mut *self.err,
        }
    }
}

/// Writes `data` with `tag` at the start of every line. `at_line_start`
/// carries, between calls, whether the next byte starts a line.
pub fn write_tagged(
    out: &mut dyn Write,
    tag: &[u8],
    data: &[u8],
    at_line_start: &mut bool,
) -> io::Result<()> {
    if tag.is_empty() {
        if let Some(&last) = data.last() {
            *at_line_start = last == b'\n';
        }
        return out.write_all(data);
    }
    let mut chunk = Vec::with_capacity(data.len() + tag.len() * 4);
    let mut rest = data;
    while !rest.is_empty() {
        if *at_line_start {
            chunk.extend_from_slice(tag);
        }
        match memchr::memchr(b'\n', rest) {
            Some(i) => {
                chunk.extend_from_slice(&rest[..=i]);
                rest = &rest[i + 1..];
                *at_line_start = true;
            }
            None => {
                chunk.extend_from_slice(rest);
                rest = &[];
                *at_line_start = false;
            }
        }
    }
    out.write_all(&chunk)
}

/// A writer that puts `tag` in front of every line written through it.
pub struct Tagged<'a> {
    out: &'a mut dyn Write,
    tag: &'a [u8],
    at_line_start: bool,
}

impl<'a> Tagged<'a> {
    /// Wraps `out`; the first byte written starts a line.
    pub fn new(out: &'a mut dyn Write, tag: &'a [u8]) -> Tagged<'a> {
        Tagged {
            out,
            tag,
            at_line_start: true,
        }
    }
}

impl Write for Tagged<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        write_tagged(self.out, self.tag, buf, &mut self.at_line_start)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
