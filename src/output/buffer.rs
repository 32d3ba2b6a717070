//! Job output held until it may be printed: in memory up to a shared
//! budget, then spilled to one unlinked temp file.
//!
//! All buffers of a run share one [`Spill`]: a single `O_TMPFILE` (deleted
//! at creation, so nothing is left behind even after `kill -9`) that
//! buffers append to once the run's in-memory budget is spent. One file for
//! the whole run means `-k` behind a slow job holds one fd, not one per
//! waiting job, and memory stays bounded however many jobs wait. The file
//! is emptied whenever no buffer holds bytes in it, so it does not grow
//! with the run.
//!
//! If the spill file can not be written (disk full, file size limit), the
//! buffer that needed it is marked incomplete and drops its bytes: a job's
//! output is printed whole or not at all, never with a hole in it.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::rc::Rc;

/// The run-wide spill file and in-memory budget, shared by every buffer.
#[derive(Debug)]
pub struct Spill {
    file: Option<File>,
    end: u64,
    /// Bytes of the file that buffers still hold.
    live: u64,
    in_memory: usize,
    budget: usize,
    /// Where the spill file is made (`None`: `$TMPDIR`, else `/tmp`).
    dir: Option<PathBuf>,
}

/// A handle to the shared spill state (the engine is single-threaded).
pub type SharedSpill = Rc<RefCell<Spill>>;

impl Spill {
    /// A spill area allowing `budget` bytes of buffered output in memory
    /// across all buffers before spilling to disk.
    pub fn shared(budget: usize) -> SharedSpill {
        Spill::shared_in(budget, None)
    }

    /// As [`Spill::shared`], with the spill file in `dir` (`--tmpdir`).
    pub fn shared_in(budget: usize, dir: Option<PathBuf>) -> SharedSpill {
        Rc::new(RefCell::new(Spill {
            file: None,
            end: 0,
            live: 0,
            in_memory: 0,
            budget,
            dir,
        }))
    }

    /// Bytes currently held in memory by all buffers.
    pub fn in_memory(&self) -> usize {
        self.in_memory
    }

    /// Bytes written to the spill file so far.
    pub fn spilled(&self) -> u64 {
        self.end
    }

    fn append(&mut self, data: &[u8]) -> io::Result<u64> {
        let file = match &self.file {
            Some(f) => f,
            None => {
                let f = match &self.dir {
                    Some(dir) => tempfile::tempfile_in(dir),
                    None => tempfile::tempfile(),
                }?;
                self.file.insert(f)
            }
        };
        let offset = self.end;
        file.write_all_at(data, offset)?;
        self.end += data.len() as u64;
        self.live += data.len() as u64;
        Ok(offset)
    }

    /// `len` bytes of the file are no longer held by any buffer; once none
    /// are, the file is emptied and reused from its start.
    fn release(&mut self, len: usize) {
        self.live = self.live.saturating_sub(len as u64);
        if self.live == 0 && self.end > 0 {
            if let Some(f) = &self.file
                && f.set_len(0).is_err()
            {
                // Keep appending after the old bytes rather than fail.
                return;
            }
            self.end = 0;
        }
    }
}

#[derive(Debug)]
enum Segment {
    Memory(Vec<u8>),
    Spilled { offset: u64, len: usize },
}

/// One stream of one job (its stdout, or its stderr), buffered.
#[derive(Debug)]
pub struct OutputBuffer {
    spill: SharedSpill,
    segments: Vec<Segment>,
    len: u64,
    /// Why bytes were lost (the spill file could not be written): the
    /// buffer then holds nothing and takes nothing more.
    lost: Option<String>,
}

/// Memory chunks smaller than this are kept while the budget allows;
/// larger appends go to memory in chunks of up to this size.
const CHUNK: usize = 64 * 1024;

impl OutputBuffer {
    /// An empty buffer drawing on `spill`.
    pub fn new(spill: &SharedSpill) -> OutputBuffer {
        OutputBuffer {
            spill: spill.clone(),
            segments: Vec::new(),
            len: 0,
            lost: None,
        }
    }

    /// Why this buffer lost bytes, if it did: its contents are incomplete
    /// and must not be printed.
    pub fn lost(&self) -> Option<&str> {
        self.lost.as_deref()
    }

    /// Total bytes held.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True if nothing was buffered.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `data`: to memory while the run's budget allows, else to the
    /// spill file.
    /// If the spill file can not be written, the buffer drops everything
    /// it holds and is marked incomplete ([`OutputBuffer::lost`]).
    pub fn push(&mut self, data: &[u8]) -> io::Result<()> {
        if data.is_empty() || self.lost.is_some() {
            return Ok(());
        }
        self.len += data.len() as u64;
        let mut spill = self.spill.borrow_mut();
        if spill.in_memory + data.len() <= spill.budget {
            spill.in_memory += data.len();
            if let Some(Segment::Memory(last)) = self.segments.last_mut()
                && last.len() + data.len() <= CHUNK.max(last.capacity())
            {
                last.extend_from_slice(data);
                return Ok(());
            }
            self.segments.push(Segment::Memory(data.to_vec()));
            return Ok(());
        }
        let offset = match spill.append(data) {
            Ok(offset) => offset,
            Err(e) => {
                drop(spill);
                self.clear();
                self.lost = Some(format!("can not write to the spill file: {e}"));
                return Ok(());
            }
        };
        match self.segments.last_mut() {
            Some(Segment::Spilled { offset: o, len }) if *o + *len as u64 == offset => {
                *len += data.len();
            }
            _ => self.segments.push(Segment::Spilled {
                offset,
                len: data.len(),
            }),
        }
        Ok(())
    }

    /// Writes everything held to `out`, in order, and empties the buffer.
    pub fn drain_to(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let mut segments = std::mem::take(&mut self.segments).into_iter();
        self.len = 0;
        let mut scratch = Vec::new();
        while let Some(seg) = segments.next() {
            let written = match seg {
                Segment::Memory(bytes) => {
                    self.spill.borrow_mut().in_memory -= bytes.len();
                    out.write_all(&bytes)
                }
                Segment::Spilled { offset, len } => {
                    let r = copy_spilled(&self.spill, offset, len, out, &mut scratch);
                    self.spill.borrow_mut().release(len);
                    r
                }
            };
            if let Err(e) = written {
                // Give back what the rest held.
                self.segments = segments.collect();
                self.clear();
                return Err(e);
            }
        }
        Ok(())
    }

    /// Drops everything held (a retried job's failed attempt).
    pub fn clear(&mut self) {
        for seg in self.segments.drain(..) {
            match seg {
                Segment::Memory(bytes) => self.spill.borrow_mut().in_memory -= bytes.len(),
                Segment::Spilled { len, .. } => self.spill.borrow_mut().release(len),
            }
        }
        self.len = 0;
    }
}

/// Copies `len` bytes at `offset` of the spill file to `out`.
fn copy_spilled(
    spill: &SharedSpill,
    offset: u64,
    len: usize,
    out: &mut dyn Write,
    scratch: &mut Vec<u8>,
) -> io::Result<()> {
    let mut done = 0;
    while done < len {
        let n = (len - done).min(1 << 20);
        scratch.resize(n, 0);
        {
            let spill = spill.borrow();
            let file = spill
                .file
                .as_ref()
                .ok_or_else(|| io::Error::other("spill file missing"))?;
            file.read_exact_at(scratch, offset + done as u64)?;
        }
        out.write_all(scratch)?;
        done += n;
    }
    Ok(())
}

impl Drop for OutputBuffer {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_bytes_in_order_across_memory_and_disk() {
        let spill = Spill::shared(10);
        let mut a = OutputBuffer::new(&spill);
        let mut b = OutputBuffer::new(&spill);
        a.push(b"hello").unwrap();
        b.push(b"0123456789").unwrap(); // over budget: spilled
        a.push(b" world").unwrap(); // over budget: spilled
        assert_eq!(spill.borrow().in_memory(), 5);
        assert!(spill.borrow().spilled() > 0);
        let mut out = Vec::new();
        a.drain_to(&mut out).unwrap();
        b.drain_to(&mut out).unwrap();
        assert_eq!(out, b"hello world0123456789");
        assert_eq!(spill.borrow().in_memory(), 0);
    }

    #[test]
    fn memory_stays_within_budget_for_many_buffers() {
        let spill = Spill::shared(1000);
        let mut bufs: Vec<_> = (0..100).map(|_| OutputBuffer::new(&spill)).collect();
        for (i, b) in bufs.iter_mut().enumerate() {
            b.push(&[i as u8; 100]).unwrap();
        }
        assert!(spill.borrow().in_memory() <= 1000);
        let mut out = Vec::new();
        for b in &mut bufs {
            b.drain_to(&mut out).unwrap();
        }
        let want: Vec<u8> = (0..100).flat_map(|i| vec![i as u8; 100]).collect();
        assert_eq!(out, want);
    }
}
