//! `--pipe` and `--pipepart`: the data side of pipe mode.
//!
//! Input is cut into blocks that end on record boundaries, exactly where
//! GNU parallel 20221122 cuts them, so every job sees the same bytes it
//! would see under GNU parallel:
//! - [`spec`]: what the command line says (`--block`, `--recstart`,
//!   `--recend`, `--regexp`, `-N`, `-L`, `--header`) and GNU's size and
//!   escape syntax;
//! - [`split`]: [`Splitter`], streaming blocks out of any `Read` (`--pipe`);
//! - [`part`]: [`plan_parts`], byte ranges of a seekable file found by
//!   reading only near the cut points (`--pipepart`);
//! - `records` (private): the record-separator search primitives.
//!
//! This layer only computes blocks and ranges; feeding them to jobs belongs
//! to the engine side (`run`).

pub mod part;
mod records;
pub mod spec;
pub mod split;

pub use part::{Part, plan_parts};
pub use spec::{
    BlockSize, BlockSpec, DEFAULT_BLOCK_SIZE, Header, MAX_BLOCK_SIZE, SpecError, Warning,
    decode_escapes, parse_block_size, parse_size,
};
pub use split::{Block, Splitter};
