//! `--line-buffer`: whole lines as soon as they are complete, interleaved
//! between jobs but never split; a job's unterminated last line is printed
//! when the job ends.

use std::collections::HashMap;
use std::io;
use std::rc::Rc;

use super::sink::{Sinks, write_tagged};
use super::{Output, Stream};

struct Partial {
    tag: Option<Rc<[u8]>>,
    out: Vec<u8>,
    err: Vec<u8>,
}

/// Line-buffered output.
pub struct LineBuffered {
    sinks: Sinks,
    running: HashMap<u64, Partial>,
}

impl LineBuffered {
    /// Line-buffered output to `sinks`.
    pub fn new(sinks: Sinks) -> LineBuffered {
        LineBuffered {
            sinks,
            running: HashMap::new(),
        }
    }
}

fn emit(sinks: &mut Sinks, stream: Stream, tag: &Option<Rc<[u8]>>, lines: &[u8]) -> io::Result<()> {
    let mut at_start = true;
    let tag: &[u8] = tag.as_deref().unwrap_or(&[]);
    write_tagged(sinks.get(stream), tag, lines, &mut at_start)
}

impl Output for LineBuffered {
    fn started(&mut self, seq: u64, tag: Option<Rc<[u8]>>) {
        self.running.insert(
            seq,
            Partial {
                tag,
                out: Vec::new(),
                err: Vec::new(),
            },
        );
    }

    fn data(&mut self, seq: u64, stream: Stream, data: &[u8]) -> io::Result<()> {
        let Some(job) = self.running.get_mut(&seq) else {
            return Ok(());
        };
        let pending = match stream {
            Stream::Stdout => &mut job.out,
            Stream::Stderr => &mut job.err,
        };
        let Some(last_nl) = memchr::memrchr(b'\n', data) else {
            pending.extend_from_slice(data);
            return Ok(());
        };
        if pending.is_empty() {
            emit(&mut self.sinks, stream, &job.tag, &data[..=last_nl])?;
        } else {
            pending.extend_from_slice(&data[..=last_nl]);
            let lines = std::mem::take(pending);
            emit(&mut self.sinks, stream, &job.tag, &lines)?;
        }
        let pending = match stream {
            Stream::Stdout => &mut job.out,
            Stream::Stderr => &mut job.err,
        };
        pending.extend_from_slice(&data[last_nl + 1..]);
        Ok(())
    }

    fn finished(&mut self, seq: u64) -> io::Result<()> {
        if let Some(job) = self.running.remove(&seq) {
            if !job.out.is_empty() {
                emit(&mut self.sinks, Stream::Stdout, &job.tag, &job.out)?;
            }
            if !job.err.is_empty() {
                emit(&mut self.sinks, Stream::Stderr, &job.tag, &job.err)?;
            }
        }
        Ok(())
    }

    fn skipped(&mut self, _seq: u64) -> io::Result<()> {
        Ok(())
    }

    fn discard(&mut self, seq: u64) {
        if let Some(job) = self.running.get_mut(&seq) {
            job.out.clear();
            job.err.clear();
        }
    }
}
