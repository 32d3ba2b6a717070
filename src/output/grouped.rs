//! `--group` (the default): a job's stdout, then its stderr, printed whole
//! when the job ends, never mixed with another job's.

use std::collections::HashMap;
use std::io;
use std::rc::Rc;

use super::buffer::{OutputBuffer, SharedSpill};
use super::sink::{Sinks, Tagged};
use super::{Output, Stream};

/// The two buffered streams of one running job, and its tag.
pub(crate) struct JobBuffers {
    pub(crate) tag: Option<Rc<[u8]>>,
    pub(crate) out: OutputBuffer,
    pub(crate) err: OutputBuffer,
}

impl JobBuffers {
    pub(crate) fn new(spill: &SharedSpill, tag: Option<Rc<[u8]>>) -> JobBuffers {
        JobBuffers {
            tag,
            out: OutputBuffer::new(spill),
            err: OutputBuffer::new(spill),
        }
    }

    pub(crate) fn push(&mut self, stream: Stream, data: &[u8]) -> io::Result<()> {
        match stream {
            Stream::Stdout => self.out.push(data),
            Stream::Stderr => self.err.push(data),
        }
    }

    /// Prints stdout then stderr, each line tagged if a tag is set.
    pub(crate) fn print(&mut self, sinks: &mut Sinks) -> io::Result<()> {
        let tag = self.tag.clone();
        for (buf, stream) in [
            (&mut self.out, Stream::Stdout),
            (&mut self.err, Stream::Stderr),
        ] {
            if buf.is_empty() {
                continue;
            }
            let sink = sinks.get(stream);
            match &tag {
                Some(tag) => buf.drain_to(&mut Tagged::new(sink, tag))?,
                None => buf.drain_to(sink)?,
            }
        }
        Ok(())
    }
}

/// The buffers of the jobs that are running, shared by the modes that
/// print whole jobs (grouped, keep-order).
pub(crate) struct RunningJobs {
    spill: SharedSpill,
    jobs: HashMap<u64, JobBuffers>,
}

impl RunningJobs {
    pub(crate) fn new(spill: SharedSpill) -> RunningJobs {
        RunningJobs {
            spill,
            jobs: HashMap::new(),
        }
    }

    pub(crate) fn start(&mut self, seq: u64, tag: Option<Rc<[u8]>>) {
        self.jobs.insert(seq, JobBuffers::new(&self.spill, tag));
    }

    pub(crate) fn push(&mut self, seq: u64, stream: Stream, data: &[u8]) -> io::Result<()> {
        match self.jobs.get_mut(&seq) {
            Some(job) => job.push(stream, data),
            None => Ok(()),
        }
    }

    /// Takes a job's buffers (it ended, or its attempt is discarded).
    pub(crate) fn take(&mut self, seq: u64) -> Option<JobBuffers> {
        self.jobs.remove(&seq)
    }

    pub(crate) fn in_memory(&self) -> usize {
        self.spill.borrow().in_memory()
    }
}

/// Grouped output, printed in the order jobs end.
pub struct Grouped {
    sinks: Sinks,
    running: RunningJobs,
}

impl Grouped {
    /// Grouped output to `sinks`, buffering through `spill`.
    pub fn new(sinks: Sinks, spill: SharedSpill) -> Grouped {
        Grouped {
            sinks,
            running: RunningJobs::new(spill),
        }
    }
}

impl Output for Grouped {
    fn started(&mut self, seq: u64, tag: Option<Rc<[u8]>>) {
        self.running.start(seq, tag);
    }

    fn data(&mut self, seq: u64, stream: Stream, data: &[u8]) -> io::Result<()> {
        self.running.push(seq, stream, data)
    }

    fn finished(&mut self, seq: u64) -> io::Result<()> {
        match self.running.take(seq) {
            Some(mut job) => job.print(&mut self.sinks),
            None => Ok(()),
        }
    }

    fn skipped(&mut self, _seq: u64) -> io::Result<()> {
        Ok(())
    }

    fn discard(&mut self, seq: u64) {
        self.running.take(seq);
    }

    fn buffered_in_memory(&self) -> usize {
        self.running.in_memory()
    }
}
