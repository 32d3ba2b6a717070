//! Safe wrappers over the Unix process and pipe primitives. No policy.
//!
//! - [`pipe`]: `Pipe` — two owned, close-on-exec ends;
//! - [`spawn`]: `Spawn` — start a program with an explicit fd map, process
//!   group and clean signal state (`posix_spawn`);
//! - [`child`]: `Child`, `Exit`, `ExitStatus` — pidfd-pollable children,
//!   waited for exactly once, with CPU time and peak memory;
//! - [`reap`]: subreaper and orphan reaping: no zombies, ever;
//! - [`signal`]: signals to job process groups, and signals to parx as a
//!   readable fd;
//! - [`stdio`]: parx's own stdout/stderr as unbuffered files;
//! - [`trace`]: the `--trace` event stream.
//!
//! This is the only crate of parx with `unsafe` code.

pub mod child;
pub mod fork;
pub mod pipe;
pub mod reap;
pub mod signal;
pub mod spawn;
pub mod stdio;
pub mod trace;

pub use child::{Child, Exit, ExitStatus, ResourceUsage};
pub use pipe::Pipe;
pub use spawn::{Spawn, SpawnError};
