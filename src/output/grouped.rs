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

    /// Prints stdout then stderr, each line tagged if a tag is set; or,
    /// if bytes of job `seq` were lost, none of them and a line on stderr
    /// saying so. Returns whether the output was whole.
    pub(crate) fn print(&mut self, seq: u64, sinks: &mut Sinks) -> io::Result<bool> {
        if let Some(why) = self.out.lost().or(self.err.lost()) {
            let msg = format!("parx: job {seq}: output is incomplete ({why}): not printed\n");
            self.out.clear();
            self.err.clear();
            sinks.get(Stream::Stderr).write_all(msg.as_bytes())?;
            return Ok(false);
        }
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
        Ok(true)
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
    incomplete: u64,
}

impl Grouped {
    /// Grouped output to `sinks`, buffering through `spill`.
    pub fn new(sinks: Sinks, spill: SharedSpill) -> Grouped {
        Grouped {
            sinks,
            running: RunningJobs::new(spill),
            incomplete: 0,
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
        if let Some(mut job) = self.running.take(seq)
            && !job.print(seq, &mut self.sinks)?
        {
            self.incomplete += 1;
        }
        Ok(())
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

    fn incomplete(&self) -> u64 {
        self.incomplete
    }
}
