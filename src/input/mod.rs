//! Where arguments come from: `:::` lists, `::::`/`-a` files, stdin.
//!
//! Everything here is bytes: a value is a `Vec<u8>` and is never assumed to
//! be UTF-8. Sources are streamed: the first input source (or linked group
//! of sources) is read one record at a time, so ten million lines never sit
//! in memory at once. Only the sources after the first are held in memory,
//! because every combination with them is needed again for each value of
//! the first (GNU parallel does the same).
//!
//! This module knows nothing of commands or quoting; it yields records
//! (one value per input source, or per `--colsep` column) to `template`.

mod colsep;
mod combine;
mod reader;
mod source;

pub use colsep::ColumnSplitter;
pub use combine::Combiner;
pub use reader::{ReadOptions, RecordReader, is_space};
pub use source::{Source, SourceKind, ready_probe};

use std::path::PathBuf;

/// Errors while reading inputs. Each names what went wrong and where.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// An input file (`::::`, `-a`) could not be opened.
    #[error("cannot open input file '{}': {source} (check the path after :::: or -a)", path.display())]
    Open {
        /// The file named on the command line.
        path: PathBuf,
        /// Why the open failed.
        source: std::io::Error,
    },
    /// Reading an input source failed part way.
    #[error("cannot read input {what}: {source}")]
    Read {
        /// Which source ("stdin", a file name, ...).
        what: String,
        /// The read error.
        source: std::io::Error,
    },
    /// The command template became invalid once `--header` names were
    /// put in.
    #[error("bad command after reading --header: {0}")]
    Command(String),
    /// A Perl expression failed (`die`), or perl did.
    #[error("{0}")]
    Perl(String),
    /// A job's command line would exceed the length limit.
    #[error(
        "command line too long ({len} >= {max}) at input {input}: {start} (lower -s/-n or use fewer arguments)"
    )]
    TooLong {
        /// Computed length.
        len: usize,
        /// The limit (`-s` or the system's).
        max: usize,
        /// Number of the input record that did not fit.
        input: u64,
        /// The start of the input value.
        start: String,
    },
}
