//! `-k`/`--keep-order`: grouped output, printed in input order while jobs
//! still run in parallel.
//!
//! Finished jobs wait in their (memory-bounded, disk-spilled) buffers until
//! every job before them has been printed or skipped.

use std::collections::BTreeMap;
use std::io;
use std::rc::Rc;

use super::buffer::SharedSpill;
use super::grouped::{JobBuffers, RunningJobs};
use super::sink::Sinks;
use super::{Output, Stream};

/// Keep-order output.
pub struct KeepOrder {
    sinks: Sinks,
    running: RunningJobs,
    /// Finished (`Some`) or skipped (`None`) jobs not yet printed.
    done: BTreeMap<u64, Option<JobBuffers>>,
    next: u64,
    incomplete: u64,
}

impl KeepOrder {
    /// Keep-order output to `sinks`; the first job has sequence number 1.
    pub fn new(sinks: Sinks, spill: SharedSpill) -> KeepOrder {
        KeepOrder {
            sinks,
            running: RunningJobs::new(spill),
            done: BTreeMap::new(),
            next: 1,
            incomplete: 0,
        }
    }

    fn release(&mut self) -> io::Result<()> {
        while let Some(entry) = self.done.first_entry() {
            if *entry.key() != self.next {
                break;
            }
            let seq = self.next;
            self.next += 1;
            if let Some(mut job) = entry.remove()
                && !job.print(seq, &mut self.sinks)?
            {
                self.incomplete += 1;
            }
        }
        Ok(())
    }
}

impl Output for KeepOrder {
    fn started(&mut self, seq: u64, tag: Option<Rc<[u8]>>) {
        self.running.start(seq, tag);
    }

    fn data(&mut self, seq: u64, stream: Stream, data: &[u8]) -> io::Result<()> {
        self.running.push(seq, stream, data)
    }

    fn finished(&mut self, seq: u64) -> io::Result<()> {
        let job = self.running.take(seq);
        self.done.insert(seq, job);
        self.release()
    }

    fn skipped(&mut self, seq: u64) -> io::Result<()> {
        self.done.insert(seq, None);
        self.release()
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
