//! How job output reaches the user: grouped (default), `--line-buffer`,
//! `--ungroup`, `-k` keep-order, `--tag`; or saved to files (`--files`,
//! `--results`).
//!
//! The engine reports what happens — a job started, a job wrote bytes on
//! its stdout or stderr, a job finished — to one [`Output`]; each mode is
//! one implementation in its own file. Buffered bytes live in
//! [`buffer::OutputBuffer`]s, memory-bounded and spilled to disk, so no
//! byte is lost and no two jobs' output is mixed (except with `-u`, where
//! the user asked for it).

pub mod buffer;
mod files;
mod grouped;
mod keep_order;
mod line_buffer;
pub mod results;
mod sink;
mod ungrouped;

use std::io;
use std::rc::Rc;

pub use buffer::{OutputBuffer, SharedSpill, Spill};
pub use files::{NameTiming, Save, Saved};
pub use grouped::Grouped;
pub use keep_order::KeepOrder;
pub use line_buffer::LineBuffered;
pub use results::Destination;
pub use sink::{Sinks, Tagged, write_tagged};
pub use ungrouped::Ungrouped;

/// Which of a job's output streams bytes came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// The job's stdout.
    Stdout,
    /// The job's stderr.
    Stderr,
}

/// The user's choice of output mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Each job's stdout then stderr, whole, when it ends (GNU's default).
    #[default]
    Group,
    /// Whole lines as they come, from all jobs interleaved.
    LineBuffer,
    /// Bytes as they come: fastest, may mix half-lines (`-u`).
    Ungroup,
}

/// Receives what jobs produce and prints it according to one mode.
pub trait Output {
    /// Where job `seq`, about to start, saves its output (`--results`);
    /// called before [`Output::started`]. Outputs that print ignore it.
    fn destination(&mut self, _seq: u64, _place: Destination) {}
    /// Job `seq` started; `tag` (with its trailing tab) prefixes its lines.
    fn started(&mut self, seq: u64, tag: Option<Rc<[u8]>>);
    /// Job `seq` wrote `data` on `stream`.
    fn data(&mut self, seq: u64, stream: Stream, data: &[u8]) -> io::Result<()>;
    /// Job `seq` ended and all its output has been read.
    fn finished(&mut self, seq: u64) -> io::Result<()>;
    /// Job `seq` will not run (`--resume`): nothing to wait for in order.
    fn skipped(&mut self, seq: u64) -> io::Result<()>;
    /// Forget job `seq`'s output so far (an attempt that will be retried).
    fn discard(&mut self, seq: u64);
    /// Job `seq` was killed because the run is stopping: its output is
    /// dropped, as GNU parallel drops it (what `-u` and `--line-buffer`
    /// printed already stays), and it holds back no later job (`-k`).
    fn abandoned(&mut self, seq: u64) -> io::Result<()> {
        self.discard(seq);
        self.finished(seq)
    }
    /// Bytes buffered in memory right now (for tests and `--trace`).
    fn buffered_in_memory(&self) -> usize {
        0
    }
}

/// Builds the output: saved to files if `save` says so (`-u` wins over
/// `--files` alone, as in GNU parallel), else printed in `mode`.
pub fn make_with(
    mode: Mode,
    keep_order: bool,
    save: Option<&Save>,
    sinks: Sinks,
    spill: SharedSpill,
) -> Box<dyn Output> {
    match save {
        Some(save) if save.results || mode != Mode::Ungroup => {
            let timing = if mode == Mode::LineBuffer {
                NameTiming::AtStart
            } else if keep_order {
                NameTiming::InOrder
            } else {
                NameTiming::AtEnd
            };
            Box::new(Saved::new(save.clone(), timing, sinks))
        }
        _ => make(mode, keep_order, sinks, spill),
    }
}

/// Builds the output for a mode.
pub fn make(mode: Mode, keep_order: bool, sinks: Sinks, spill: SharedSpill) -> Box<dyn Output> {
    match (mode, keep_order) {
        (Mode::Ungroup, _) => Box::new(Ungrouped::new(sinks)),
        (_, true) => Box::new(KeepOrder::new(sinks, spill)),
        (Mode::Group, false) => Box::new(Grouped::new(sinks, spill)),
        (Mode::LineBuffer, false) => Box::new(LineBuffered::new(sinks)),
    }
}
