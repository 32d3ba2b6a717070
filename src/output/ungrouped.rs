//! `-u`/`--ungroup`: every byte is written the moment it is read. Fastest;
//! lines of different jobs may mix, as the user asked.

use std::io;
use std::rc::Rc;

use super::sink::Sinks;
use super::{Output, Stream};

/// Ungrouped output.
pub struct Ungrouped {
    sinks: Sinks,
}

impl Ungrouped {
    /// Ungrouped output to `sinks`.
    pub fn new(sinks: Sinks) -> Ungrouped {
        Ungrouped { sinks }
    }
}

impl Output for Ungrouped {
    fn started(&mut self, _seq: u64, _tag: Option<Rc<[u8]>>) {}

    fn data(&mut self, _seq: u64, stream: Stream, data: &[u8]) -> io::Result<()> {
        self.sinks.get(stream).write_all(data)
    }

    fn finished(&mut self, _seq: u64) -> io::Result<()> {
        Ok(())
    }

    fn skipped(&mut self, _seq: u64) -> io::Result<()> {
        Ok(())
    }

    fn discard(&mut self, _seq: u64) {}
}
