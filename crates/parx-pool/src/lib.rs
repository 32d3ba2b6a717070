//! A process pool for Rust programs: map a function over items in N forked
//! worker processes, with work handed out over one pipe and results sent
//! back over pipes.
//!
//! ```
//! use parx_pool::Pool;
//!
//! let pool = Pool::new().workers(2);
//! let squares: Vec<u64> = pool
//!     .map(1..=10u64, |n| n * n)?
//!     .collect::<Result<_, _>>()?;
//! assert_eq!(squares, [1, 4, 9, 16, 25, 36, 49, 64, 81, 100]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Why processes
//!
//! Threads share one address space: a segfault, an `abort()` or a runaway
//! allocation in one of them ends the whole program. Each worker here is a
//! process: when one dies, the item it was running comes back as an `Err`
//! ([`TaskError`]: the item's index and how the worker ended — exit code or
//! signal), a fresh worker is forked in its place, and the map goes on.
//!
//! # What fork means (read this)
//!
//! Workers are forked (no `exec`) when a map starts, so the function and
//! everything it can see — captured variables, a slice given to
//! [`Pool::map_slice`] — are already in each worker's copy-on-write memory:
//! the function needs no `Send`, no `'static`, no serialization. The cost
//! and the rules:
//!
//! - Each map forks `workers` processes and kills them when it is done
//!   ([`Pool`] itself is only settings): an empty map with 2 workers costs
//!   ≈0.6 ms (fork, pipes, kill, reap), more for a program with a large
//!   resident set. Forking per map is what lets the function borrow
//!   anything.
//! - Only the forking thread exists in a worker. The function must not
//!   take a lock that another thread of the program might have held at
//!   fork time: don't print with `println!` from the function if other
//!   threads print (the stdout lock), don't use a `Mutex` shared with other
//!   threads. Allocation is fine (glibc's `malloc` is fork-safe). Best:
//!   start maps before starting threads, or keep the function pure.
//! - A worker runs only the function, the codec and `read`/`write` system
//!   calls, and ends with `_exit`: no destructors, no stdio flushing (text
//!   printed without a final newline may be lost). A panic is caught, its
//!   message and location become [`Failure::Panicked`] (nothing is
//!   printed) and the worker carries on. For that, the first map installs
//!   a panic hook in the parent, once, that hands every panic outside the
//!   workers to the hook that was there before; a worker never calls
//!   `set_hook` itself (its lock may be held by a thread that was panicking
//!   at fork time).
//! - Known residual hazards, all needing another thread inside a lock at
//!   the instant of the fork: a pool started *inside* a worker (nested
//!   pools work) registers its children in `sys::reap`'s mutex; a panic
//!   unwinding in a worker uses the dynamic loader's lock.
//! - Changes the function makes to memory stay in the worker; only its
//!   return value comes back. A worker runs many items, so such state
//!   (a cache, say) carries over between the items of one worker only.
//!
//! The alternative — re-executing the program in a worker mode, like
//! Python's `spawn` — needs the function to be found by name and every
//! input serialized; fork keeps the API as light as `rayon`'s.
//!
//! # Pipes
//!
//! - **Work (single producer, many consumers):** one pipe, read by all
//!   workers, which compete for messages. The pipe is in packet mode
//!   (`O_DIRECT`) and each message is at most `PIPE_BUF` bytes, so each
//!   write is atomic and each `read` takes exactly one whole message: no
//!   worker ever sees half an item, and a worker that is free takes the
//!   next message itself. A message is a chunk of entries (8-byte index,
//!   4-byte length, encoded item). [`Pool::map_slice`] sends indices only,
//!   since the workers already hold the slice; [`Pool::map`] and
//!   [`Pool::map_bytes`] send the item itself, up to [`MAX_ITEM_BYTES`]
//!   (4,084; a larger item fails alone with [`Failure::TooLarge`] — put big
//!   items in a slice).
//! - **Chunks** are sized from the measured time per item: about 0.2 ms of
//!   work per message, a single item when items are slow. Trivial items
//!   then cost a few system calls per chunk rather than per item (≈5–7 M
//!   items/s instead of ≈0.3 M), while slow items still spread evenly.
//! - **Results (many producers, one consumer):** each worker writes
//!   length-prefixed frames on its own pipe, one write per chunk, so
//!   results of any size never interleave; the parent multiplexes all
//!   result pipes and each worker's pidfd in one `epoll` loop.
//! - **Which item a worker holds** is in a cell of shared memory the worker
//!   sets before running each item and clears after the chunk's results
//!   are written, so a dead worker is never asked: its item is known, and
//!   the chunk's other unfinished items are sent again (they may run
//!   twice). A worker that dies holding nothing named (killed between
//!   taking a message and starting it) makes the parent check, once the
//!   pool is idle and the pipe empty, for items nobody holds, and resend
//!   them.
//! - **Back-pressure:** at most [`Pool::window`] items are taken from the
//!   input and not yet returned to the caller. A caller that stops reading
//!   stops the input; an endless iterator is read lazily.
//! - **No orphans, no zombies:** the parent is the only holder of the work
//!   pipe's write end, so workers read end-of-file if it dies; each worker
//!   also has `PR_SET_PDEATHSIG` = `SIGKILL`, which covers a worker busy
//!   in a long item. Dropping a map (also while unwinding from a panic)
//!   kills and reaps every worker. The map types are not `Send`: the thread
//!   that forked the workers is the one that owns them (the death signal
//!   follows the forking *thread*).
//!
//! # Why one shared pipe (measured)
//!
//! `cargo bench --bench pool -- --side-by-side` runs bare prototypes of
//! both designs on 100,000 trivial items with 2 workers (details in
//! `bench/pool.md`): a shared pipe with one 8-byte index per message moves
//! ≈0.7 M items/s (one `read` per item per worker); per-worker pipes with
//! length-prefixed frames ≈0.2 M items/s when the parent keeps 2 items in
//! flight per worker, and ≈10 M items/s when it batches 64. Batching, not
//! the pipe layout, is what matters; the shared pipe gets it from chunks
//! (≈5–6 M items/s in the full pool, with failure handling) and keeps what
//! per-worker queues lose: a free worker takes the next chunk itself, so a
//! slow item never strands work queued behind it, and a dead worker holds
//! at most one message.
//!
//! # Serialization: postcard
//!
//! Items and results cross the pipes as [postcard](https://docs.rs/postcard)
//! bytes: a compact, non-self-describing serde format (varint integers, no
//! field names), small enough that typical items fit one atomic pipe
//! message, fast, and already a dependency. [`Pool::map_bytes`] skips serde
//! altogether for callers with their own encoding.

#![forbid(unsafe_code)]

mod core;
mod error;
mod index_map;
mod wire;
mod worker;

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use self::core::{Core, Settings};
pub use self::error::{Failure, PoolError, TaskError};
/// How a dead worker ended, in [`Failure::WorkerDied`].
pub use parx_sys::ExitStatus;

/// Largest serialized item [`Pool::map`] and [`Pool::map_bytes`] can send
/// (one atomic pipe message, minus the 8-byte index).
pub const MAX_ITEM_BYTES: usize = wire::MAX_ITEM;

/// A process pool's settings. Workers are forked by each map and live as
/// long as its iterator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool {
    workers: usize,
    window: Option<usize>,
    timeout: Option<Duration>,
}

impl Default for Pool {
    fn default() -> Self {
        Pool::new()
    }
}

impl Pool {
    /// A pool with one worker per CPU.
    pub fn new() -> Pool {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        Pool {
            workers: cpus,
            window: None,
            timeout: None,
        }
    }

    /// Sets the number of worker processes (at least 1).
    pub fn workers(mut self, n: usize) -> Pool {
        self.workers = n.max(1);
        self
    }

    /// Sets how many items may be taken from the input and not yet returned
    /// to the caller (default: 64 per worker, at least 256). Bounds memory;
    /// in input order a slow item holds back at most this many results.
    pub fn window(mut self, n: usize) -> Pool {
        self.window = Some(n.max(1));
        self
    }

    /// Kills a worker whose item runs longer than `limit`; the item fails
    /// with [`Failure::TimedOut`] and a fresh worker takes over.
    pub fn timeout(mut self, limit: Duration) -> Pool {
        self.timeout = Some(limit);
        self
    }

    /// The number of worker processes a map forks.
    pub fn worker_count(&self) -> usize {
        self.workers
    }

    fn settings(&self) -> Settings {
        Settings {
            workers: self.workers,
            window: self.window.unwrap_or_else(|| (64 * self.workers).max(256)),
            timeout: self.timeout,
        }
    }

    /// Maps `f` over `items` in the workers; results come back in input
    /// order (use [`Map::unordered`] for completion order). Items are read
    /// lazily and sent serialized (postcard, at most [`MAX_ITEM_BYTES`]).
    pub fn map<'a, I, T, R, F>(&'a self, items: I, f: F) -> Result<Map<'a, R>, PoolError>
    where
        I: IntoIterator<Item = T>,
        I::IntoIter: 'a,
        T: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned,
        F: Fn(T) -> R + 'a,
    {
        let mut items = items.into_iter();
        let source = move |buf: &mut Vec<u8>| {
            let item = items.next()?;
            Some(
                postcard::to_extend(&item, Append(buf))
                    .map(|_| ())
                    .map_err(|e| format!("could not serialize the item: {e}")),
            )
        };
        let work = move |_: usize, bytes: &[u8], out: &mut Vec<u8>| {
            let item: T = postcard::from_bytes(bytes)
                .map_err(|e| format!("could not deserialize the item: {e}"))?;
            encode_result(&f(item), out)
        };
        Map::start(
            self.settings(),
            Box::new(source),
            Box::new(work),
            decode::<R>,
        )
    }

    /// Maps `f` over a slice that the workers already hold (they are forked
    /// after it exists): only 8-byte indices cross the work pipe, so items
    /// may be of any size and need no serde.
    pub fn map_slice<'a, T, R, F>(&'a self, items: &'a [T], f: F) -> Result<Map<'a, R>, PoolError>
    where
        R: Serialize + DeserializeOwned,
        F: Fn(&T) -> R + 'a,
    {
        let mut next = 0usize;
        let len = items.len();
        let source = move |_: &mut Vec<u8>| {
            if next >= len {
                return None;
            }
            next += 1;
            Some(Ok(()))
        };
        let work = move |index: usize, _: &[u8], out: &mut Vec<u8>| {
            let item = items
                .get(index)
                .ok_or_else(|| format!("index {index} out of range"))?;
            encode_result(&f(item), out)
        };
        Map::start(
            self.settings(),
            Box::new(source),
            Box::new(work),
            decode::<R>,
        )
    }

    /// Maps `f` over raw byte items, without serde: each item (at most
    /// [`MAX_ITEM_BYTES`]) is sent as is, each result comes back as is.
    pub fn map_bytes<'a, I, B, F>(&'a self, items: I, f: F) -> Result<Map<'a, Vec<u8>>, PoolError>
    where
        I: IntoIterator<Item = B>,
        I::IntoIter: 'a,
        B: AsRef<[u8]>,
        F: Fn(&[u8]) -> Vec<u8> + 'a,
    {
        let mut items = items.into_iter();
        let source = move |buf: &mut Vec<u8>| {
            let item = items.next()?;
            buf.extend_from_slice(item.as_ref());
            Some(Ok(()))
        };
        let work = move |_: usize, bytes: &[u8], out: &mut Vec<u8>| {
            out.extend_from_slice(&f(bytes));
            Ok(())
        };
        Map::start(self.settings(), Box::new(source), Box::new(work), |b| {
            Ok(b.to_vec())
        })
    }
}

/// Appends to a borrowed buffer, so a serializer that fails half-way
/// leaves the buffer's earlier contents (other items) in place.
struct Append<'b>(&'b mut Vec<u8>);

impl Extend<u8> for Append<'_> {
    fn extend<I: IntoIterator<Item = u8>>(&mut self, bytes: I) {
        self.0.extend(bytes);
    }
}

fn encode_result<R: Serialize>(value: &R, out: &mut Vec<u8>) -> Result<(), String> {
    postcard::to_extend(value, Append(out))
        .map(|_| ())
        .map_err(|e| format!("could not serialize the result: {e}"))
}

fn decode<R: DeserializeOwned>(bytes: &[u8]) -> Result<R, String> {
    postcard::from_bytes(bytes).map_err(|e| e.to_string())
}

type Decode<R> = fn(&[u8]) -> Result<R, String>;

/// A running map, yielding each item's result in input order. Dropping it
/// kills and reaps its workers.
pub struct Map<'a, R> {
    core: Core<'a>,
    decode: Decode<R>,
    next: usize,
    waiting: index_map::IndexMap<Result<R, TaskError>>,
}

impl<'a, R> Map<'a, R> {
    fn start(
        settings: Settings,
        source: Box<self::core::SourceFn<'a>>,
        work: Box<self::worker::WorkFn<'a>>,
        decode: Decode<R>,
    ) -> Result<Map<'a, R>, PoolError> {
        Ok(Map {
            core: Core::start(settings, source, work)?,
            decode,
            next: 0,
            waiting: index_map::IndexMap::default(),
        })
    }

    /// Yields results as they complete instead, each with its item's index.
    pub fn unordered(self) -> Unordered<'a, R> {
        Unordered {
            core: self.core,
            decode: self.decode,
        }
    }
}

fn finish<R>(decode: Decode<R>, (index, result): self::core::Completed) -> Result<R, TaskError> {
    result
        .and_then(|bytes| {
            decode(&bytes)
                .map_err(|e| Failure::Codec(format!("could not deserialize the result: {e}")))
        })
        .map_err(|failure| TaskError { index, failure })
}

impl<R> Iterator for Map<'_, R> {
    type Item = Result<R, TaskError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(result) = self.waiting.remove(&self.next) {
                self.next += 1;
                self.core.release();
                return Some(result);
            }
            let (index, result) = self.core.next_completed()?;
            let result = finish(self.decode, (index, result));
            if index == self.next {
                self.next += 1;
                self.core.release();
                return Some(result);
            }
            self.waiting.insert(index, result);
        }
    }
}

impl<R> std::iter::FusedIterator for Map<'_, R> {}

/// A running map, yielding `(index, result)` in completion order.
/// Dropping it kills and reaps its workers.
pub struct Unordered<'a, R> {
    core: Core<'a>,
    decode: Decode<R>,
}

impl<R> Iterator for Unordered<'_, R> {
    type Item = (usize, Result<R, TaskError>);

    fn next(&mut self) -> Option<Self::Item> {
        let (index, result) = self.core.next_completed()?;
        self.core.release();
        Some((index, finish(self.decode, (index, result))))
    }
}

impl<R> std::iter::FusedIterator for Unordered<'_, R> {}
