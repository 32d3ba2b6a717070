//! `--results NAME`: where each job's stdout, stderr and sequence number
//! are saved, in GNU parallel's layout.
//!
//! Three forms, decided per job as GNU parallel decides them (by whether
//! replacing the replacement strings in NAME changed it):
//!
//! - no replacement string: `NAME/<h1>/<v1>/<h2>/<v2>/…/{stdout,stderr,seq}`,
//!   one `<header>/<value>` pair per input column, headers being the
//!   `--header` names or the column numbers, sorted numerically then
//!   asciibetically; values escaped (`\` → `\\`, TAB → `\t`, NUL → `\0`,
//!   `/` → `\_`);
//! - a replaced name ending in `/`: that directory, same three files;
//! - any other replaced name: stdout in that file, stderr and the
//!   sequence number beside it with `.err` and `.seq` appended.
//!
//! This module only computes paths and makes directories; `output::files`
//! writes the files.

use std::cmp::Ordering;
use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The three files one job's output is saved in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// Receives the job's stdout.
    pub stdout: PathBuf,
    /// Receives the job's stderr.
    pub stderr: PathBuf,
    /// Holds the job's sequence number (no newline).
    pub seq: PathBuf,
}

/// One job's inputs to the `--results` layout.
#[derive(Debug, Clone, Copy)]
pub struct ResultsJob<'a> {
    /// NAME as given (after `--header` names were turned into numbers).
    pub name: &'a [u8],
    /// NAME with this job's replacement strings replaced.
    pub rendered: &'a [u8],
    /// The header of every column (`--header` name or column number).
    pub headers: &'a [Vec<u8>],
    /// The job's values, all columns of all its records in order.
    pub args: &'a [Vec<u8>],
    /// Columns per record (values are cut into records of this many).
    pub columns: usize,
}

/// Works out where job output goes and makes the directories, as GNU
/// parallel's `results_out` does when the job starts.
pub fn destination(job: &ResultsJob<'_>) -> io::Result<Destination> {
    if job.rendered == job.name {
        let mut dir = dir_path(job, None);
        if mkdir_all(&dir).is_err() {
            // A value too long for a file name: cut every value to the
            // longest name the file system takes, as GNU parallel does.
            let max = max_file_name_length(path(job.name));
            dir = dir_path(job, Some(max));
            mkdir_all(&dir).map_err(|e| dir_error(&dir, e))?;
        }
        dir.push(b'/');
        return Ok(in_dir(&dir));
    }
    let out = job.rendered;
    if out.ends_with(b"/") {
        mkdir_all(out).map_err(|e| dir_error(out, e))?;
        return Ok(in_dir(out));
    }
    if let Some(i) = memchr::memrchr(b'/', out) {
        let parent = &out[..i];
        if !parent.is_empty() {
            mkdir_all(parent).map_err(|e| dir_error(parent, e))?;
        }
    }
    Ok(Destination {
        stdout: path(out).to_path_buf(),
        stderr: path(&[out, b".err"].concat()).to_path_buf(),
        seq: path(&[out, b".seq"].concat()).to_path_buf(),
    })
}

/// `NAME/<args as dirname>`.
fn dir_path(job: &ResultsJob<'_>, max: Option<usize>) -> Vec<u8> {
    let mut out = job.name.to_vec();
    out.push(b'/');
    out.extend_from_slice(&args_as_dirname(job, max));
    out
}

fn in_dir(dir: &[u8]) -> Destination {
    let file = |name: &[u8]| path(&[dir, name].concat()).to_path_buf();
    Destination {
        stdout: file(b"stdout"),
        stderr: file(b"stderr"),
        seq: file(b"seq"),
    }
}

fn path(bytes: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(bytes))
}

fn mkdir_all(dir: &[u8]) -> io::Result<()> {
    std::fs::create_dir_all(path(dir))
}

fn dir_error(dir: &[u8], e: io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        format!(
            "can not make directory {} for --results: {e}",
            path(dir).display()
        ),
    )
}

/// `<h1>/<v1>/<h2>/<v2>…` for every record of the job, headers sorted
/// numerically then asciibetically (GNU's `args_as_dirname`).
fn args_as_dirname(job: &ResultsJob<'_>, max: Option<usize>) -> Vec<u8> {
    let mut parts: Vec<Vec<u8>> = Vec::new();
    for record in job.args.chunks(job.columns.max(1)) {
        let mut order: Vec<usize> = (0..record.len()).collect();
        let header = |i: usize| -> Vec<u8> {
            job.headers
                .get(i)
                .cloned()
                .unwrap_or_else(|| (i + 1).to_string().into_bytes())
        };
        order.sort_by(|&a, &b| compare_headers(&header(a), &header(b)));
        for i in order {
            parts.push(header(i));
            let mut value = escape(&record[i]);
            if let Some(max) = max {
                value.truncate(max);
            }
            parts.push(value);
        }
    }
    parts.join(&b'/')
}

/// `\` → `\\`, TAB → `\t`, NUL → `\0`, `/` → `\_`.
pub fn escape(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    for &b in value {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0 => out.extend_from_slice(b"\\0"),
            b'/' => out.extend_from_slice(b"\\_"),
            _ => out.push(b),
        }
    }
    out
}

/// Perl's `$a <=> $b or $a cmp $b`.
fn compare_headers(a: &[u8], b: &[u8]) -> Ordering {
    perl_number(a)
        .partial_cmp(&perl_number(b))
        .unwrap_or(Ordering::Equal)
        .then_with(|| a.cmp(b))
}

/// The number Perl sees in a string: leading blanks, then the longest
/// decimal prefix (`inf`/`nan` too); no number is 0.
fn perl_number(s: &[u8]) -> f64 {
    let s = s.trim_ascii_start();
    let mut end = 0;
    if matches!(s.first(), Some(b'+' | b'-')) {
        end = 1;
    }
    let rest = s[end..].to_ascii_lowercase();
    if rest.starts_with(b"inf") || rest.starts_with(b"nan") {
        let sign = if s.first() == Some(&b'-') { -1.0 } else { 1.0 };
        return if rest.starts_with(b"nan") {
            f64::NAN
        } else {
            sign * f64::INFINITY
        };
    }
    let digits =
        |s: &[u8], from: usize| from + s[from..].iter().take_while(|b| b.is_ascii_digit()).count();
    let int_end = digits(s, end);
    let mut stop = int_end;
    if s.get(stop) == Some(&b'.') {
        stop = digits(s, stop + 1);
    }
    if stop == end || (stop == end + 1 && int_end == end) {
        return 0.0;
    }
    if matches!(s.get(stop), Some(b'e' | b'E')) {
        let mut e = stop + 1;
        if matches!(s.get(e), Some(b'+' | b'-')) {
            e += 1;
        }
        let exp_end = digits(s, e);
        if exp_end > e {
            stop = exp_end;
        }
    }
    std::str::from_utf8(&s[..stop])
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0.0)
}

/// The longest directory name `dir` takes, searched with `mkdir` as GNU
/// parallel searches it (to within 5 bytes, from below).
fn max_file_name_length(dir: &Path) -> usize {
    let try_mkdir = |len: usize| {
        let d = dir.join("d".repeat(len));
        let ok = std::fs::create_dir(&d).is_ok();
        if ok {
            let _ = std::fs::remove_dir(&d);
        }
        ok
    };
    let upper = 100_000_000;
    let mut len = 8;
    loop {
        len *= 16;
        if len >= upper || !try_mkdir(len) {
            break;
        }
    }
    let (mut min, mut max) = (len / 16, len);
    while max - min > 5 {
        let test = (min + max) / 2;
        if try_mkdir(test) {
            min = test;
        } else {
            max = test;
        }
    }
    min
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_gnu() {
        assert_eq!(escape(b"a/b\\c\td\0e"), b"a\\_b\\\\c\\td\\0e");
    }

    #[test]
    fn headers_sort_numerically_then_asciibetically() {
        let mut h: Vec<&[u8]> = vec![b"10", b"9", b"b", b"a", b"1a", b"11a", b"1b"];
        h.sort_by(|a, b| compare_headers(a, b));
        assert_eq!(h, [&b"a"[..], b"b", b"1a", b"1b", b"9", b"10", b"11a"]);
    }

    #[test]
    fn perl_numbers() {
        assert_eq!(perl_number(b" 12abc"), 12.0);
        assert_eq!(perl_number(b"-1.5e2x"), -150.0);
        assert_eq!(perl_number(b"."), 0.0);
        assert_eq!(perl_number(b"abc"), 0.0);
        assert_eq!(perl_number(b".5"), 0.5);
    }

    #[test]
    fn layout_per_record() {
        let headers = vec![b"1".to_vec(), b"2".to_vec()];
        let args = vec![b"p".to_vec(), b"q/r".to_vec(), b"s".to_vec(), b"t".to_vec()];
        let job = ResultsJob {
            name: b"out",
            rendered: b"out",
            headers: &headers,
            args: &args,
            columns: 2,
        };
        assert_eq!(args_as_dirname(&job, None), b"1/p/2/q\\_r/1/s/2/t");
    }
}
