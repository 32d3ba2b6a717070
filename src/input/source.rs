//! One input source: a list of `:::` values, a file, or stdin, opened as a
//! stream of raw bytes.

use super::InputError;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;

/// Where one input source reads from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceKind {
    /// Values given after `:::` on the command line.
    Args(Vec<Vec<u8>>),
    /// A file named after `::::` or `-a`.
    File(PathBuf),
    /// Standard input (`-`, or no source given).
    Stdin,
}

/// An input source and whether it is linked to the one before it
/// (`:::+` / `::::+`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Where the values come from.
    pub kind: SourceKind,
    /// Linked to the previous source (`:::+`, `::::+`): values are paired
    /// up instead of combined.
    pub linked: bool,
}

impl Source {
    /// A short name for messages.
    pub fn describe(&self) -> String {
        match &self.kind {
            SourceKind::Args(_) => "':::' arguments".to_string(),
            SourceKind::File(p) => format!("'{}'", p.display()),
            SourceKind::Stdin => "stdin".to_string(),
        }
    }

    /// Opens the source as a buffered byte stream. `:::` values are
    /// presented as if written to a file, each followed by `delimiter`
    /// (which is what GNU parallel does, so `-d`, `-E`, `-r` apply to them).
    pub fn open(&self, delimiter: &[u8]) -> Result<Box<dyn BufRead>, InputError> {
        Ok(match &self.kind {
            SourceKind::Args(values) => Box::new(ArgsRead::new(values.clone(), delimiter.to_vec())),
            SourceKind::File(path) if path.as_os_str() == "-" => {
                Box::new(BufReader::with_capacity(1 << 16, io::stdin()))
            }
            SourceKind::File(path) => {
                let file = File::open(path).map_err(|source| InputError::Open {
                    path: path.clone(),
                    source,
                })?;
                Box::new(BufReader::with_capacity(1 << 16, file))
            }
            SourceKind::Stdin => Box::new(BufReader::with_capacity(1 << 16, io::stdin())),
        })
    }
}

/// `:::` values as one byte stream: `value delimiter value delimiter ...`.
struct ArgsRead {
    values: std::vec::IntoIter<Vec<u8>>,
    delimiter: Vec<u8>,
    current: Vec<u8>,
    pos: usize,
}

impl ArgsRead {
    fn new(values: Vec<Vec<u8>>, delimiter: Vec<u8>) -> Self {
        ArgsRead {
            values: values.into_iter(),
            delimiter,
            current: Vec::new(),
            pos: 0,
        }
    }
}

impl Read for ArgsRead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for ArgsRead {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos >= self.current.len() {
            match self.values.next() {
                Some(mut value) => {
                    value.extend_from_slice(&self.delimiter);
                    self.current = value;
                    self.pos = 0;
                }
                None => return Ok(&[]),
            }
        }
        Ok(&self.current[self.pos..])
    }

    fn consume(&mut self, amt: usize) {
        self.pos += amt;
    }
}

/// A probe telling whether the next record of `sources` can be read
/// without waiting: always for `:::` values and regular files; for
/// standard input, when it has data or is at its end (`poll`); never for
/// other files (FIFOs, terminals), which are read as they come.
pub fn ready_probe(sources: &[Source]) -> Box<dyn FnMut() -> bool> {
    let mut stdin = false;
    for s in sources {
        match &s.kind {
            SourceKind::Args(_) => {}
            SourceKind::File(p) if p.as_os_str() == "-" => stdin = true,
            SourceKind::File(p) => {
                if !std::fs::metadata(p).is_ok_and(|m| m.is_file()) {
                    return Box::new(|| false);
                }
            }
            SourceKind::Stdin => stdin = true,
        }
    }
    if !stdin {
        return Box::new(|| true);
    }
    Box::new(|| {
        use rustix::event::{PollFd, PollFlags, Timespec, poll};
        use std::os::fd::AsFd;
        let stdin = io::stdin();
        let fd = stdin.as_fd();
        let mut fds = [PollFd::new(&fd, PollFlags::IN)];
        let now = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        poll(&mut fds, Some(&now)).is_ok_and(|n| n > 0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_read_appends_delimiter() {
        let mut r = ArgsRead::new(
            vec![b"a".to_vec(), b"".to_vec(), b"b c".to_vec()],
            b"\n".to_vec(),
        );
        let mut all = Vec::new();
        r.read_to_end(&mut all).unwrap();
        assert_eq!(all, b"a\n\nb c\n");
    }
}
