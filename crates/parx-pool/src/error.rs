//! What can go wrong: starting a map ([`PoolError`]) and one item of it
//! ([`TaskError`], which names the item and how its worker ended).

use std::io;
use std::time::Duration;

use parx_sys::ExitStatus;

/// The pool could not start a map (pipe, epoll or fork failed).
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// A system call needed to set the workers up failed.
    #[error(
        "process pool: could not {what}: {source} (check the process and file-descriptor limits, `ulimit -u` and `ulimit -n`)"
    )]
    Setup {
        /// What was being done, e.g. "fork a worker".
        what: &'static str,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

impl PoolError {
    pub(crate) fn setup(what: &'static str) -> impl FnOnce(io::Error) -> PoolError {
        move |source| PoolError::Setup { what, source }
    }
}

/// One item of a map failed; every other item is unaffected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("item {index}: {failure}")]
pub struct TaskError {
    /// The item's position in the input, from 0.
    pub index: usize,
    /// What happened to it.
    pub failure: Failure,
}

/// How one item failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The function panicked; the message (and location) of the panic. The
    /// worker caught it and carried on.
    #[error("the function panicked: {0}")]
    Panicked(String),
    /// The worker process ended while running this item: it exited (e.g.
    /// `std::process::exit(3)`) or was killed by a signal (`abort()` is
    /// signal 6, a segfault 11, `kill -9` 9). A fresh worker took its place.
    #[error("its worker process ended ({0}); a new worker replaced it")]
    WorkerDied(ExitStatus),
    /// The item ran longer than the pool's per-item timeout; its worker was
    /// killed and replaced.
    #[error("timed out after {0:?}; its worker was killed and replaced")]
    TimedOut(Duration),
    /// The item does not fit in one work message (one atomic pipe write).
    #[error(
        "the item is {size} bytes serialized, over the {max}-byte limit of one work message; put large items in a slice and use Pool::map_slice"
    )]
    TooLarge {
        /// Serialized size of the item.
        size: usize,
        /// Largest item that fits.
        max: usize,
    },
    /// The item or the result could not be serialized or deserialized
    /// (the message says which).
    #[error("{0}")]
    Codec(String),
    /// The pool itself failed (no worker could be started); the item was not
    /// run.
    #[error("the pool failed: {0}")]
    Pool(String),
}
