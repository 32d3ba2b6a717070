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
//! - every worker holds exactly one item at a time, named in its `busy`
//!   cell, so a dead worker's item is known without asking it;
//! - an fd is removed from the epoll set before it is closed (forked
//!   siblings hold copies, so closing alone would not remove it).

use std::collections::{HashSet, VecDeque};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rustix::event::epoll;
use rustix::io::Errno;

use crate::pool::error::{Failure, PoolError};
use crate::pool::wire::{self, Tag};
use crate::pool::worker::{WorkFn, Worker};
use crate::sys::fork::{SharedCells, fork_with};
use crate::sys::{Child, ExitStatus, Pipe};

/// Produces the next item: encodes it after the index already in the
/// buffer. `None` when the input is exhausted; `Err` if it could not be
/// encoded (that item fails, the map goes on).
pub(crate) type SourceFn<'a> = dyn FnMut(&mut Vec<u8>) -> Option<Result<(), String>> + 'a;

/// What the core hands out: an item's index and its encoded result.
pub(crate) type Completed = (usize, Result<Vec<u8>, Failure>);

const WORK_KEY: u64 = u64::MAX;
const PIDFD_BIT: u64 = 1 << 62;
const READ_CHUNK: usize = 64 * 1024;

/// Settings of one map, from the `Pool`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub workers: usize,
    pub window: usize,
    pub timeout: Option<Duration>,
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
    /// A message that met a full pipe, written as soon as there is room.
    pending: Option<usize>,
    message: Vec<u8>,
    /// Items written to the work pipe whose result has not come back.
    in_flight: HashSet<usize>,
    /// Items taken from the input and not yet released by the caller.
    outstanding: usize,
    ready: VecDeque<Completed>,
    watching_out: bool,
    scratch: Vec<u8>,
    events: Vec<epoll::Event>,
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
            pending: None,
            message: Vec::with_capacity(wire::PIPE_BUF),
            in_flight: HashSet::new(),
            outstanding: 0,
            ready: VecDeque::new(),
            watching_out: false,
            scratch: vec![0u8; READ_CHUNK],
            events: Vec::with_capacity(64),
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
            if self.exhausted && self.pending.is_none() && self.in_flight.is_empty() {
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
            if self.pending.is_none() {
                if self.exhausted || self.outstanding >= self.settings.window {
                    return;
                }
                let index = self.next_index;
                self.message.clear();
                self.message
                    .extend_from_slice(&(index as u64).to_le_bytes());
                match (self.source)(&mut self.message) {
                    None => {
                        self.exhausted = true;
                        return;
                    }
                    Some(Err(e)) => {
                        self.next_index += 1;
                        self.outstanding += 1;
                        self.ready.push_back((index, Err(Failure::Encode(e))));
                        continue;
                    }
                    Some(Ok(())) => {
                        self.next_index += 1;
                        self.outstanding += 1;
                        if self.message.len() > wire::PIPE_BUF {
                            let size = self.message.len() - wire::WORK_HEADER;
                            let max = wire::MAX_ITEM;
                            self.ready
                                .push_back((index, Err(Failure::TooLarge { size, max })));
                            continue;
                        }
                        self.pending = Some(index);
                    }
                }
            }
            let Some(index) = self.pending else { return };
            let Some(w) = self.work_write.as_ref() else {
                return;
            };
            match rustix::io::write(w, &self.message) {
                Ok(_) => {
                    // ≤ PIPE_BUF on a pipe: all or nothing.
                    self.pending = None;
                    self.in_flight.insert(index);
                }
                Err(Errno::INTR) => {}
                Err(Errno::AGAIN) => {
                    self.watch_out(true);
                    return;
                }
                Err(e) => {
                    self.pending = None;
                    let msg = format!("writing to the work pipe failed: {e}");
                    self.ready.push_back((index, Err(Failure::Pool(msg))));
                }
            }
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
        let timeout = self.next_deadline().map(|d| rustix::event::Timespec {
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
        loop {
            let Some(fd) = worker.results.as_ref() else {
                return;
            };
            match rustix::io::read(fd, &mut self.scratch[..]) {
                Ok(0) => {
                    // The worker closed its end: it is exiting (its pidfd
                    // reports when it is gone).
                    let _ = epoll::delete(&self.epoll, fd);
                    worker.results = None;
                    break;
                }
                Ok(n) => worker.buf.extend_from_slice(&self.scratch[..n]),
                Err(Errno::INTR) => continue,
                Err(_) => break,
            }
        }
        let mut used = 0;
        while let Some((frame, len)) = wire::parse_result(&worker.buf[used..]) {
            used += len;
            if !self.in_flight.remove(&frame.index) {
                continue;
            }
            let result = match frame.tag {
                Some(Tag::Ok) => Ok(frame.payload.to_vec()),
                Some(Tag::Panic) => Err(Failure::Panicked(lossy(frame.payload))),
                Some(Tag::Error) => Err(Failure::Encode(lossy(frame.payload))),
                None => Err(Failure::Pool("malformed result frame".into())),
            };
            self.ready.push_back((frame.index, result));
        }
        worker.buf.drain(..used);
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
        if let Some(busy) = self.cells.get(wire::busy_cell(slot)) {
            let held = busy.swap(0, Ordering::AcqRel);
            if held > 0 {
                let index = (held - 1) as usize;
                if self.in_flight.remove(&index) {
                    let failure = match (timed_out, self.settings.timeout) {
                        (Some(i), Some(limit)) if i == index => Failure::TimedOut(limit),
                        _ => Failure::WorkerDied(status),
                    };
                    self.ready.push_back((index, Err(failure)));
                }
            }
        }
        let work_left = !(self.exhausted && self.pending.is_none() && self.in_flight.is_empty());
        if work_left {
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
            base: self.base,
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
        let mut lost: Vec<usize> = self.in_flight.drain().collect();
        lost.extend(self.pending.take());
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
