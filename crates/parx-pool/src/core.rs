//! The parent side of one map: forks the workers, feeds the shared work
//! pipe (single producer, many competing consumers), and multiplexes the
//! workers' result pipes and pidfds in one `epoll` loop (many producers, one
//! consumer). Results come out in completion order as raw bytes; `Map` and
//! `Unordered` in `mod.rs` decode and order them.
//!
//! Invariants:
//! - at most `window` items are taken from the input and not yet handed to
//!   the caller (back-pressure: memory stays bounded for endless inputs);
//! - the parent never blocks on a write: the work pipe's write end is
//!   non-blocking and watched for `EPOLLOUT` only after `EAGAIN`;
//! - a worker holds one message (a chunk of items) at a time and names
//!   the item it is running in its `busy` cell, so a dead worker's item is
//!   known without asking it; the chunk's other unfinished items are sent
//!   again (they may run twice; a duplicate result is dropped);
//! - chunks are sized from the measured time per item (~0.2 ms of work
//!   each, one item when items are slow), so trivial items cost a few
//!   system calls per chunk instead of per item, and slow items still
//!   spread evenly;
//! - an fd is removed from the epoll set before it is closed (forked
//!   siblings hold copies, so closing alone would not remove it).

use std::collections::VecDeque;
use std::io;
use std::ops::Range;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rustix::event::epoll;
use rustix::io::Errno;

use crate::error::{Failure, PoolError};
use crate::index_map::IndexMap;
use crate::wire::{self, Tag};
use crate::worker::{self, WorkFn, Worker};
use parx_sys::fork::{SharedCells, fork_with};
use parx_sys::{Child, ExitStatus, Pipe};

/// Produces the next item: appends its encoding to the buffer (the work
/// message being filled, whose entry header is already in place). `None`
/// when the input is exhausted; `Err` if the item could not be encoded
/// (that item fails, the map goes on).
pub(crate) type SourceFn<'a> = dyn FnMut(&mut Vec<u8>) -> Option<Result<(), String>> + 'a;

/// What the core hands out: an item's index and its encoded result.
pub(crate) type Completed = (usize, Outcome);
/// One item's outcome: its encoded result, or how it failed.
pub(crate) type Outcome = Result<Vec<u8>, Failure>;

const WORK_KEY: u64 = u64::MAX;
const PIDFD_BIT: u64 = 1 << 62;
const READ_CHUNK: usize = 64 * 1024;
/// Work per message the chunk sizing aims for.
const CHUNK_TARGET: Duration = Duration::from_micros(200);
/// How long the loop may sleep while an item may have been lost (see
/// `Core::recover_lost`).
const LOST_CHECK: Duration = Duration::from_millis(50);

/// Settings of one map, from the `Pool`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub workers: usize,
    pub window: usize,
    pub timeout: Option<Duration>,
}

/// A message written to the work pipe, kept until all its items are
/// resolved so that a dead worker's unfinished items can be sent again.
struct Chunk {
    message: Vec<u8>,
    /// Each item's index and where its bytes are in `message`.
    entries: Vec<(usize, Range<usize>)>,
    left: usize,
}

struct Slot {
    child: Child,
    results: Option<OwnedFd>,
    buf: Vec<u8>,
    timed_out: Option<usize>,
}

pub(crate) struct Core<'a> {
    settings: Settings,
    source: Box<SourceFn<'a>>,
    work: Box<WorkFn<'a>>,
    work_read: OwnedFd,
    work_write: Option<OwnedFd>,
    epoll: OwnedFd,
    cells: SharedCells,
    base: Instant,
    slots: Vec<Option<Slot>>,
    /// Index of the next item the input will give.
    next_index: usize,
    exhausted: bool,
    /// The message being filled, or written as soon as the pipe has room.
    message: Vec<u8>,
    entries: Vec<(usize, Range<usize>)>,
    pending: bool,
    /// Items to send again (their worker died before finishing them).
    requeue: VecDeque<(usize, Vec<u8>)>,
    /// An item taken from the input that did not fit in the last message.
    carry: Option<(usize, Vec<u8>)>,
    /// Items written to the work pipe whose result has not come back, and
    /// the chunk each went in.
    in_flight: IndexMap<usize>,
    chunks: IndexMap<Chunk>,
    next_chunk: usize,
    /// Items taken from the input and not yet released by the caller.
    outstanding: usize,
    ready: VecDeque<Completed>,
    watching_out: bool,
    scratch: Vec<u8>,
    events: Vec<epoll::Event>,
    /// Chunk sizing: items per message, and the last measurement point.
    chunk_items: usize,
    completed: u64,
    measured: (Instant, u64),
    /// A worker died holding no named item: a message may have been lost.
    suspect: bool,
}

impl<'a> Core<'a> {
    pub(crate) fn start(
        settings: Settings,
        source: Box<SourceFn<'a>>,
        work: Box<WorkFn<'a>>,
    ) -> Result<Core<'a>, PoolError> {
        let settings = Settings {
            workers: settings.workers.max(1),
            window: settings.window.max(1),
            ..settings
        };
        // Packet mode: each write is one message and each read takes one.
        let (work_read, work_write) = rustix::pipe::pipe_with(
            rustix::pipe::PipeFlags::CLOEXEC | rustix::pipe::PipeFlags::DIRECT,
        )
        .map_err(|e| PoolError::setup("create the work pipe")(e.into()))?;
        // Room for a window's worth of messages (one pipe buffer each in
        // packet mode); best effort, a small pipe only means more EAGAIN.
        let _ = rustix::pipe::fcntl_setpipe_size(
            &work_write,
            (settings.window * wire::PIPE_BUF).min(1 << 20),
        );
        rustix::io::ioctl_fionbio(&work_write, true)
            .map_err(|e| PoolError::setup("make the work pipe non-blocking")(e.into()))?;
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC)
            .map_err(|e| PoolError::setup("create an epoll instance")(e.into()))?;
        let cells = SharedCells::new(2 * settings.workers)
            .map_err(PoolError::setup("map the shared worker cells"))?;
        let mut core = Core {
            settings,
            source,
            work,
            work_read,
            work_write: Some(work_write),
            epoll,
            cells,
            base: Instant::now(),
            slots: (0..settings.workers).map(|_| None).collect(),
            next_index: 0,
            exhausted: false,
            message: Vec::with_capacity(wire::PIPE_BUF),
            entries: Vec::new(),
            pending: false,
            requeue: VecDeque::new(),
            carry: None,
            in_flight: IndexMap::default(),
            chunks: IndexMap::default(),
            next_chunk: 0,
            outstanding: 0,
            ready: VecDeque::new(),
            watching_out: false,
            scratch: vec![0u8; READ_CHUNK],
            events: Vec::with_capacity(64),
            chunk_items: 1,
            completed: 0,
            measured: (Instant::now(), 0),
            suspect: false,
        };
        if let Some(w) = core.work_write.as_ref() {
            epoll::add(
                &core.epoll,
                w,
                epoll::EventData::new_u64(WORK_KEY),
                epoll::EventFlags::empty(),
            )
            .map_err(|e| PoolError::setup("watch the work pipe")(e.into()))?;
        }
        worker::install_panic_capture();
        for slot in 0..settings.workers {
            core.spawn(slot)
                .map_err(PoolError::setup("fork a worker"))?;
        }
        Ok(core)
    }

    /// The caller has handed one result on: one more item may be taken.
    pub(crate) fn release(&mut self) {
        self.outstanding = self.outstanding.saturating_sub(1);
    }

    /// The next finished item, in completion order; `None` when every item
    /// of the input has been handed out (the workers are then gone).
    pub(crate) fn next_completed(&mut self) -> Option<Completed> {
        loop {
            if let Some(done) = self.ready.pop_front() {
                return Some(done);
            }
            self.dispatch();
            if !self.ready.is_empty() {
                continue;
            }
            if self.all_done() {
                self.shutdown();
                return None;
            }
            if self.live_workers() == 0 && !self.refill_workers() {
                self.fail_everything("no worker process could be started");
                continue;
            }
            if let Err(e) = self.wait() {
                self.fail_everything(&format!("waiting for workers failed: {e}"));
            }
        }
    }

    fn all_done(&self) -> bool {
        self.exhausted
            && !self.pending
            && self.carry.is_none()
            && self.requeue.is_empty()
            && self.in_flight.is_empty()
    }

    fn live_workers(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }

    /// Forks workers into empty slots; false if none is alive afterwards.
    fn refill_workers(&mut self) -> bool {
        for slot in 0..self.slots.len() {
            if self.slots[slot].is_none() {
                let _ = self.spawn(slot);
            }
        }
        self.live_workers() > 0
    }

    /// Takes items from the input and writes them to the work pipe while
    /// the window and the pipe have room.
    fn dispatch(&mut self) {
        loop {
            if !self.pending {
                self.fill_message();
                if self.entries.is_empty() {
                    return;
                }
                self.pending = true;
            }
            let Some(w) = self.work_write.as_ref() else {
                return;
            };
            match rustix::io::write(w, &self.message) {
                Ok(_) => {
                    // ≤ PIPE_BUF on a pipe: all or nothing.
                    self.pending = false;
                    let id = self.next_chunk;
                    self.next_chunk += 1;
                    for (index, _) in &self.entries {
                        self.in_flight.insert(*index, id);
                    }
                    let chunk = Chunk {
                        message: std::mem::replace(
                            &mut self.message,
                            Vec::with_capacity(wire::PIPE_BUF),
                        ),
                        left: self.entries.len(),
                        entries: std::mem::take(&mut self.entries),
                    };
                    self.chunks.insert(id, chunk);
                }
                Err(Errno::INTR) => {}
                Err(Errno::AGAIN) => {
                    self.watch_out(true);
                    return;
                }
                Err(e) => {
                    self.pending = false;
                    let msg = format!("writing to the work pipe failed: {e}");
                    for (index, _) in self.entries.drain(..) {
                        self.ready
                            .push_back((index, Err(Failure::Pool(msg.clone()))));
                    }
                }
            }
        }
    }

    /// Fills `message` with up to `chunk_items` entries: items to resend
    /// first, then new items from the input, while the window has room.
    fn fill_message(&mut self) {
        self.message.clear();
        self.entries.clear();
        let limit = self.chunk_limit();
        while self.entries.len() < limit {
            let at = self.message.len();
            if let Some((index, item)) = self.requeue.pop_front().or_else(|| self.carry.take()) {
                if at + wire::ENTRY_HEADER + item.len() > wire::PIPE_BUF {
                    // Does not fit: first in line for the next message.
                    match self.carry {
                        None => self.carry = Some((index, item)),
                        Some(_) => self.requeue.push_front((index, item)),
                    }
                    return;
                }
                self.message.extend_from_slice(&[0u8; wire::ENTRY_HEADER]);
                self.message.extend_from_slice(&item);
                self.push_entry(at, index);
                continue;
            }
            if self.exhausted || self.outstanding >= self.settings.window {
                return;
            }
            let index = self.next_index;
            // The item is encoded in place, right after its entry header.
            self.message.extend_from_slice(&[0u8; wire::ENTRY_HEADER]);
            let encoded = (self.source)(&mut self.message);
            let size = self.message.len() - at - wire::ENTRY_HEADER;
            match encoded {
                None => {
                    self.message.truncate(at);
                    self.exhausted = true;
                    return;
                }
                Some(Err(e)) => {
                    self.message.truncate(at);
                    self.took(index, Some(Err(Failure::Codec(e))));
                }
                Some(Ok(())) if size > wire::MAX_ITEM => {
                    self.message.truncate(at);
                    let max = wire::MAX_ITEM;
                    self.took(index, Some(Err(Failure::TooLarge { size, max })));
                }
                Some(Ok(())) if self.message.len() > wire::PIPE_BUF => {
                    let item = self.message[at + wire::ENTRY_HEADER..].to_vec();
                    self.message.truncate(at);
                    self.took(index, None);
                    self.carry = Some((index, item));
                    return;
                }
                Some(Ok(())) => {
                    self.took(index, None);
                    self.push_entry(at, index);
                }
            }
        }
    }

    /// Counts one item taken from the input; `failed` if it already failed.
    fn took(&mut self, index: usize, failed: Option<Outcome>) {
        self.next_index += 1;
        self.outstanding += 1;
        if let Some(result) = failed {
            self.ready.push_back((index, result));
        }
    }

    fn push_entry(&mut self, at: usize, index: usize) {
        wire::fill_entry_header(&mut self.message, at, index);
        let start = at + wire::ENTRY_HEADER;
        self.entries.push((index, start..self.message.len()));
    }

    /// Items per message: about [`CHUNK_TARGET`] of work at the measured
    /// rate, and never more than a share of the window that keeps every
    /// worker busy.
    fn chunk_limit(&self) -> usize {
        let by_window = (self.settings.window / (2 * self.settings.workers)).max(1);
        self.chunk_items.min(by_window)
    }

    /// Counts `n` results and re-sizes chunks from the time they took.
    fn note_completed(&mut self, n: u64) {
        self.completed += n;
        let (since, at) = self.measured;
        let done = self.completed - at;
        let workers = self.settings.workers as u64;
        if done < (2 * workers).max(self.chunk_items as u64 * workers) {
            return;
        }
        let per_item = since.elapsed().as_nanos() as u64 * workers / done.max(1);
        let target = CHUNK_TARGET.as_nanos() as u64;
        self.chunk_items = (target / per_item.max(1)).clamp(1, wire::PIPE_BUF as u64) as usize;
        self.measured = (Instant::now(), self.completed);
    }

    /// Marks `index` resolved; false if it was not in flight (a duplicate).
    fn resolve(&mut self, index: usize) -> bool {
        let Some(id) = self.in_flight.remove(&index) else {
            return false;
        };
        if let Some(chunk) = self.chunks.get_mut(&id) {
            chunk.left = chunk.left.saturating_sub(1);
            if chunk.left == 0 {
                self.chunks.remove(&id);
            }
        }
        true
    }

    /// Sends again every unresolved item of chunk `id` (its worker died).
    fn requeue_chunk(&mut self, id: usize) {
        let Some(chunk) = self.chunks.remove(&id) else {
            return;
        };
        for (index, range) in chunk.entries {
            if self.in_flight.remove(&index).is_some() {
                let item = chunk.message.get(range).unwrap_or_default().to_vec();
                self.requeue.push_back((index, item));
            }
        }
    }

    /// A message may have been lost: a worker died after taking it but
    /// before naming its item. When nothing is running and nothing is
    /// queued in the pipe, every item still in flight was lost: send it
    /// again (a late duplicate result would be dropped).
    fn recover_lost(&mut self) {
        if self.in_flight.is_empty() {
            self.suspect = false;
            return;
        }
        let idle = (0..self.slots.len()).all(|slot| {
            self.cells
                .get(wire::busy_cell(slot))
                .is_none_or(|c| c.load(Ordering::Acquire) == 0)
        });
        let queued = rustix::io::ioctl_fionread(&self.work_read).unwrap_or(1);
        if idle && queued == 0 && !self.pending {
            let ids: Vec<usize> = self.chunks.keys().copied().collect();
            for id in ids {
                self.requeue_chunk(id);
            }
            self.suspect = false;
        }
    }

    fn watch_out(&mut self, on: bool) {
        if self.watching_out == on {
            return;
        }
        let Some(w) = self.work_write.as_ref() else {
            return;
        };
        let flags = if on {
            epoll::EventFlags::OUT
        } else {
            epoll::EventFlags::empty()
        };
        if epoll::modify(&self.epoll, w, epoll::EventData::new_u64(WORK_KEY), flags).is_ok() {
            self.watching_out = on;
        }
    }

    /// Sleeps until a result, a worker's death, room in the work pipe or a
    /// per-item deadline.
    fn wait(&mut self) -> io::Result<()> {
        let mut sleep = self.next_deadline();
        if self.suspect {
            sleep = Some(sleep.map_or(LOST_CHECK, |d| d.min(LOST_CHECK)));
        }
        let timeout = sleep.map(|d| rustix::event::Timespec {
            tv_sec: d.as_secs() as i64,
            tv_nsec: i64::from(d.subsec_nanos()),
        });
        self.events.clear();
        let mut events = std::mem::take(&mut self.events);
        let r = epoll::wait(
            &self.epoll,
            rustix::buffer::spare_capacity(&mut events),
            timeout.as_ref(),
        );
        let result = match r {
            Ok(_) if events.is_empty() && self.suspect => {
                self.recover_lost();
                Ok(())
            }
            Ok(_) | Err(Errno::INTR) => {
                for event in &events {
                    self.handle(event.data.u64());
                }
                Ok(())
            }
            Err(e) => Err(e.into()),
        };
        self.events = events;
        if self.settings.timeout.is_some() {
            self.kill_overdue();
        }
        result
    }

    fn handle(&mut self, key: u64) {
        if key == WORK_KEY {
            self.watch_out(false);
        } else if key & PIDFD_BIT != 0 {
            self.reap((key & !PIDFD_BIT) as usize);
        } else {
            self.read_results(key as usize);
        }
    }

    /// Reads whatever the worker in `slot` has sent and queues its results.
    fn read_results(&mut self, slot: usize) {
        let Some(Some(worker)) = self.slots.get_mut(slot) else {
            return;
        };
        let mut exited = false;
        loop {
            let Some(fd) = worker.results.as_ref() else {
                return;
            };
            match rustix::io::read(fd, &mut self.scratch[..]) {
                Ok(0) => {
                    // The worker closed its end: it is exiting. Its pidfd
                    // reports when it is gone; without one (Linux < 5.3),
                    // this is the only notice.
                    let _ = epoll::delete(&self.epoll, fd);
                    worker.results = None;
                    exited = worker.child.pidfd().is_none();
                    break;
                }
                Ok(n) => worker.buf.extend_from_slice(&self.scratch[..n]),
                Err(Errno::INTR) => continue,
                Err(_) => break,
            }
        }
        let mut used = 0;
        let mut results = Vec::new();
        while let Some((frame, len)) = wire::parse_result(&worker.buf[used..]) {
            used += len;
            let result = match frame.tag {
                Some(Tag::Ok) => Ok(frame.payload.to_vec()),
                Some(Tag::Panic) => Err(Failure::Panicked(lossy(frame.payload))),
                Some(Tag::Error) => Err(Failure::Codec(lossy(frame.payload))),
                None => Err(Failure::Pool("malformed result frame".into())),
            };
            results.push((frame.index, result));
        }
        worker.buf.drain(..used);
        let n = results.len() as u64;
        for (index, result) in results {
            if self.resolve(index) {
                self.ready.push_back((index, result));
            }
        }
        if n > 0 {
            self.note_completed(n);
        }
        if exited {
            self.reap(slot);
        }
    }

    /// The worker in `slot` has exited: collect its last results, report
    /// the item it held, and start a fresh worker if work remains.
    fn reap(&mut self, slot: usize) {
        self.read_results(slot);
        let Some(worker) = self.slots.get_mut(slot).and_then(Option::take) else {
            return;
        };
        if let Some(fd) = worker.results.as_ref() {
            let _ = epoll::delete(&self.epoll, fd);
        }
        if let Some(pidfd) = worker.child.pidfd() {
            let _ = epoll::delete(&self.epoll, pidfd);
        }
        let timed_out = worker.timed_out;
        let status = match worker.child.wait() {
            Ok(exit) => exit.status,
            Err(_) => ExitStatus::Signaled {
                signal: libc::SIGKILL,
                core_dumped: false,
            },
        };
        let held = self
            .cells
            .get(wire::busy_cell(slot))
            .map_or(0, |busy| busy.swap(0, Ordering::AcqRel));
        let chunk = held
            .checked_sub(1)
            .and_then(|i| self.in_flight.get(&(i as usize)).copied());
        match chunk {
            Some(id) => {
                let index = (held - 1) as usize;
                self.resolve(index);
                let failure = match (timed_out, self.settings.timeout) {
                    (Some(i), Some(limit)) if i == index => Failure::TimedOut(limit),
                    _ => Failure::WorkerDied(status),
                };
                self.ready.push_back((index, Err(failure)));
                self.requeue_chunk(id);
            }
            // It named no unfinished item: it may have died between taking
            // a message and naming its first item.
            None => self.suspect = !self.in_flight.is_empty(),
        }
        if !self.all_done() {
            // A failed fork leaves the slot empty; `next_completed` retries
            // and gives up only when no worker is left at all.
            let _ = self.spawn(slot);
        }
    }

    fn spawn(&mut self, slot: usize) -> io::Result<()> {
        let Pipe { read, write } = Pipe::new()?;
        rustix::io::ioctl_fionbio(&read, true)?;
        if let Some(busy) = self.cells.get(wire::busy_cell(slot)) {
            busy.store(0, Ordering::Release);
        }
        let work_write = &mut self.work_write;
        let worker = Worker {
            work_read: self.work_read.as_fd(),
            results: write.as_fd(),
            cells: &self.cells,
            slot,
            base: self.settings.timeout.map(|_| self.base),
            work: &*self.work,
        };
        let child = fork_with(move || {
            // The one fd a worker must not keep: while any copy of the
            // work pipe's write end is open, no worker sees end-of-file.
            drop(work_write.take());
            worker.run()
        })?;
        drop(write);
        if let Some(pidfd) = child.pidfd() {
            epoll::add(
                &self.epoll,
                pidfd,
                epoll::EventData::new_u64(slot as u64 | PIDFD_BIT),
                epoll::EventFlags::IN,
            )?;
        }
        epoll::add(
            &self.epoll,
            &read,
            epoll::EventData::new_u64(slot as u64),
            epoll::EventFlags::IN,
        )?;
        self.slots[slot] = Some(Slot {
            child,
            results: Some(read),
            buf: Vec::new(),
            timed_out: None,
        });
        Ok(())
    }

    /// How long until the earliest per-item deadline could pass.
    fn next_deadline(&self) -> Option<Duration> {
        let limit = self.settings.timeout?;
        let now = self.base.elapsed();
        let mut next = limit;
        for (slot, worker) in self.slots.iter().enumerate() {
            let Some(worker) = worker else { continue };
            if worker.timed_out.is_some() {
                continue;
            }
            if let Some(started) = self.busy_since(slot) {
                next = next.min((started + limit).saturating_sub(now));
            }
        }
        // Round up to whole milliseconds so a wake-up is never early.
        Some(next + Duration::from_millis(1))
    }

    fn busy_since(&self, slot: usize) -> Option<Duration> {
        let busy = self
            .cells
            .get(wire::busy_cell(slot))?
            .load(Ordering::Acquire);
        if busy == 0 {
            return None;
        }
        let since = self
            .cells
            .get(wire::since_cell(slot))?
            .load(Ordering::Relaxed);
        Some(Duration::from_nanos(since))
    }

    fn kill_overdue(&mut self) {
        let Some(limit) = self.settings.timeout else {
            return;
        };
        let now = self.base.elapsed();
        for slot in 0..self.slots.len() {
            let Some(started) = self.busy_since(slot) else {
                continue;
            };
            let held = self
                .cells
                .get(wire::busy_cell(slot))
                .map_or(0, |c| c.load(Ordering::Acquire));
            if let Some(Some(worker)) = self.slots.get_mut(slot)
                && worker.timed_out.is_none()
                && now >= started + limit
                && held > 0
            {
                worker.timed_out = Some((held - 1) as usize);
                let _ = worker.child.signal(libc::SIGKILL);
            }
        }
    }

    /// Reports every unfinished item as failed and stops taking input.
    fn fail_everything(&mut self, why: &str) {
        let mut lost: Vec<usize> = self.in_flight.drain().map(|(i, _)| i).collect();
        self.chunks.clear();
        lost.extend(self.requeue.drain(..).map(|(i, _)| i));
        lost.extend(self.carry.take().map(|(i, _)| i));
        if self.pending {
            lost.extend(self.entries.drain(..).map(|(i, _)| i));
            self.pending = false;
        }
        lost.sort_unstable();
        for index in lost {
            self.ready
                .push_back((index, Err(Failure::Pool(why.to_string()))));
        }
        self.exhausted = true;
    }

    /// Ends the map: closes the work pipe, kills and reaps every worker.
    fn shutdown(&mut self) {
        self.work_write = None;
        for slot in self.slots.iter_mut() {
            if let Some(worker) = slot.take() {
                if let Some(fd) = worker.results.as_ref() {
                    let _ = epoll::delete(&self.epoll, fd);
                }
                if let Some(pidfd) = worker.child.pidfd() {
                    let _ = epoll::delete(&self.epoll, pidfd);
                }
                // Dropping a `Child` kills and reaps it.
                drop(worker);
            }
        }
    }
}

impl Drop for Core<'_> {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use crate::Pool;
    use crate::worker::test_hook;

    #[test]
    fn a_message_taken_by_a_worker_that_dies_before_naming_an_item_is_resent() {
        test_hook::arm();
        let items: Vec<u64> = (0..2000).collect();
        let pool = Pool::new().workers(2);
        let got: Vec<u64> = pool
            .map_slice(&items, |n| n * 3)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(got, items.iter().map(|n| n * 3).collect::<Vec<_>>());
    }
}
