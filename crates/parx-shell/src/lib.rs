//! The command language parx runs itself: `a | b > f && c`, without a
//! shell per job.
//!
//! - [`parse()`]: lexer and parser to a syntax tree ([`ast`]); syntax parx
//!   does not implement (command substitution, globs, control flow, …) is
//!   detected here, and such a command runs under `bash -c` instead;
//! - `expand`: variables, `$?`, field splitting;
//! - `builtin`: `cd`, `export`, `exit`, `true`, `false`, `:`, `echo`,
//!   with `printf` and `test_builtin` (`test`, `[`);
//! - [`exec`]: the executor, a stepping state machine for one event loop
//!   ([`Execution`]) plus the blocking [`run`].
//!
//! The reference is `bash -c`: every observable difference (output,
//! messages, statuses, files, environment) is a bug, checked by the
//! differential tests in `tests/shell_diff.rs`. This layer decides what
//! runs; `sys` does the spawning.

#![forbid(unsafe_code)]

pub mod ast;
mod builtin;
pub mod exec;
mod expand;
pub mod parse;
mod printf;
mod script;
mod test_builtin;

pub use exec::{Context, Execution, JobStatus, ProcessGroup, StageExit, Step};
pub use parse::ParseError;
pub use script::Script;

/// Parses `cmd`; see [`Script::parse`].
pub fn parse(cmd: &[u8]) -> Result<Script, ParseError> {
    Script::parse(cmd)
}

/// Runs `cmd` to completion, blocking: parsed with [`Script::new`] (so a
/// syntax error is reported by the fallback shell, as bash would).
pub fn run(cmd: &[u8], ctx: Context) -> std::io::Result<JobStatus> {
    exec::run_script(Script::new(cmd), ctx)
}

/// Quotes `value` as one shell word (`'…'`, with `'\''` for quotes); a
/// value made only of safe characters is returned as is.
pub fn quote(value: &[u8]) -> Vec<u8> {
    let safe = !value.is_empty()
        && value
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || b"_-.,/:@%+=".contains(&c));
    if safe {
        return value.to_vec();
    }
    let mut out = Vec::with_capacity(value.len() + 2);
    out.push(b'\'');
    for &c in value {
        if c == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(c);
        }
    }
    out.push(b'\'');
    out
}
