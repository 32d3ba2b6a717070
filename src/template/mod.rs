//! How records become command lines: the command template with its
//! replacement strings, GNU parallel's quoting of substituted values, and
//! grouping several inputs into one job (`-n`, `-N`, `-X`, `-m`, `-L`,
//! `-s`).
//!
//! The output is a stream of [`Job`]s whose [`Job::command_line`] is byte
//! for byte the line GNU parallel would hand to the shell (and print with
//! `--dry-run`). Nothing here runs anything.

mod build;
mod command;
mod job;
mod ops;
pub mod perl;
pub mod quote;
mod rpl;

pub use build::{Grouping, JobIter, MAX_COMMAND_LINE, Records};
pub use command::{Template, TemplateError, TemplateOptions, Trim};
pub use job::Job;
pub use ops::{JobContext, Op};
pub use rpl::{Renames, RplError, Table};
