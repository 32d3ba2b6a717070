//! parx runs many commands at once as child processes wired with pipes.
//!
//! Layers, each using only those listed before it (see
//! `docs/ARCHITECTURE.md`):
//! - [`sys`]: safe wrappers over pipes, spawning, waiting and signals;
//! - [`shell`]: the command language parx runs itself (`a | b > f && c`);
//! - [`input`] and [`template`]: where arguments come from, how they become
//!   command lines;
//! - [`engine`]: the scheduler and its event loop;
//! - [`output`]: how job output reaches the user;
//! - [`pipemode`]: `--pipe` and `--pipepart`;
//! - [`queue`]: the SQL job queue (`--sqlmaster`, `--sqlworker`);
//! - [`semaphore`]: the counting semaphore of `parx --semaphore` (`sem`);
//! - [`pool`]: a process pool for Rust programs;
//! - [`cli`]: GNU parallel's command line, turned into one `Config`.

#![forbid(unsafe_code)]

pub mod cli;
pub mod engine;
pub mod input;
pub mod joblog;
pub mod output;
pub mod pipemode;
pub mod progress;
pub mod queue;
pub mod remote;
pub mod semaphore;
pub mod template;

pub use parx_pool as pool;
pub use parx_shell as shell;
pub use parx_sys as sys;
