//! `test` and `[`, for the forms whose result bash defines without an
//! error: file tests, string tests and integer comparisons with 0–4
//! arguments (POSIX's rules by argument count). Anything else — options
//! bash has and coreutils lacks, malformed integers, `-a`/`-o`, parentheses
//! — is left to bash, so its messages and status 2 come out exactly.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Evaluates `args` (after `test`, or after `[` with the final `]`
/// removed); `Ok(true)` is status 0.
pub(crate) fn eval(args: &[Vec<u8>], pwd: &Path, relative: bool) -> Result<bool, &'static str> {
    let path = |a: &[u8]| -> PathBuf {
        let p = Path::new(crate::expand::os(a));
        if relative && p.is_relative() {
            pwd.join(p)
        } else {
            p.to_path_buf()
        }
    };
    match args {
        [] => Ok(false),
        [a] => Ok(!a.is_empty()),
        [op, a] if op.as_slice() == b"!" => Ok(a.is_empty()),
        [op, a] => unary(op, a, &path),
        [not, a, op, b] if not.as_slice() == b"!" => binary(a, op, b).map(|r| !r),
        [a, op, b] => match binary(a, op, b) {
            Ok(r) => Ok(r),
            Err(e) if a.as_slice() == b"!" => unary(op, b, &path).map(|r| !r).map_err(|_| e),
            Err(e) => Err(e),
        },
        _ => Err("test with more than 4 arguments"),
    }
}

fn unary(op: &[u8], a: &[u8], path: &dyn Fn(&[u8]) -> PathBuf) -> Result<bool, &'static str> {
    let meta = || std::fs::metadata(path(a)).ok();
    let access = |mode| rustix::fs::access(path(a), mode).is_ok();
    if a.is_empty() && op.len() == 2 && op[0] == b'-' && !matches!(op[1], b'n' | b'z') {
        return Ok(false);
    }
    Ok(match op {
        b"-n" => !a.is_empty(),
        b"-z" => a.is_empty(),
        b"-e" | b"-a" => meta().is_some(),
        b"-f" => meta().is_some_and(|m| m.is_file()),
        b"-d" => meta().is_some_and(|m| m.is_dir()),
        b"-s" => meta().is_some_and(|m| m.len() > 0),
        b"-p" => meta().is_some_and(|m| m.file_type().is_fifo()),
        b"-S" => meta().is_some_and(|m| m.file_type().is_socket()),
        b"-b" => meta().is_some_and(|m| m.file_type().is_block_device()),
        b"-c" => meta().is_some_and(|m| m.file_type().is_char_device()),
        b"-u" => meta().is_some_and(|m| m.mode() & 0o4000 != 0),
        b"-g" => meta().is_some_and(|m| m.mode() & 0o2000 != 0),
        b"-k" => meta().is_some_and(|m| m.mode() & 0o1000 != 0),
        b"-L" | b"-h" => std::fs::symlink_metadata(path(a)).is_ok_and(|m| m.is_symlink()),
        b"-r" => access(rustix::fs::Access::READ_OK),
        b"-w" => access(rustix::fs::Access::WRITE_OK),
        b"-x" => access(rustix::fs::Access::EXEC_OK),
        _ => return Err("a test operator parx does not implement"),
    })
}

fn binary(a: &[u8], op: &[u8], b: &[u8]) -> Result<bool, &'static str> {
    let int = |s: &[u8]| -> Result<i64, &'static str> {
        let (neg, digits) = match s.split_first() {
            Some((b'-', rest)) => (true, rest),
            Some((b'+', rest)) => (false, rest),
            _ => (false, s),
        };
        if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
            return Err("test with a non-integer operand");
        }
        let n = digits
            .iter()
            .fold(0i64, |n, &d| n * 10 + i64::from(d - b'0'));
        Ok(if neg { -n } else { n })
    };
    Ok(match op {
        b"=" | b"==" => a == b,
        b"!=" => a != b,
        b"-eq" => int(a)? == int(b)?,
        b"-ne" => int(a)? != int(b)?,
        b"-lt" => int(a)? < int(b)?,
        b"-le" => int(a)? <= int(b)?,
        b"-gt" => int(a)? > int(b)?,
        b"-ge" => int(a)? >= int(b)?,
        _ => return Err("a test operator parx does not implement"),
    })
}
