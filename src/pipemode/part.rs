//! `--pipepart`: byte ranges of a seekable file, cut where GNU parallel
//! 20221122 cuts them (its `find_split_positions`), found by reading small
//! windows at the cut points with `pread` — never the whole file, and
//! without moving the file's offset (except to learn a block device's size).
//!
//! GNU's rule, which differs from `--pipe`: a part is *at least* the block
//! size. From `start + block` it looks forward for the first
//! `recend ++ recstart` and cuts after `recend`; the next search starts a
//! block size after that cut. With `--regexp` it reads 128 KiB windows and
//! takes the *last* match in what it has read (its greedy regex), so that
//! is what parx does too. The header (if any) is sent before every part.
//! `--rrs` does nothing with `--pipepart` in GNU (checked), so it is ignored.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, FileTypeExt};

use super::records::{HeaderMatcher, Separator};
use super::spec::BlockSpec;

/// One `--pipepart` job's input: `header` (if any) then `len` bytes from
/// `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    /// Where the part starts in the file.
    pub offset: u64,
    /// How many bytes.
    pub len: u64,
    /// `(offset, len)` of the header to send first.
    pub header: Option<(u64, u64)>,
}

/// GNU's read size when looking for a cut point (`$dd_block_size`).
const GNU_WINDOW: usize = 128 * 1024;

/// Plans the parts of `file` (its current offset is not used or moved).
///
/// Errors: `-N`/`-L` (GNU refuses them with `--pipepart`), a file that is
/// not a regular file or block device, an invalid `--regexp`, read errors.
pub fn plan_parts(file: &File, spec: &BlockSpec) -> io::Result<Vec<Part>> {
    if spec.records.is_some_and(|n| n > 0) || spec.lines.is_some() {
        return Err(invalid(
            "--pipepart is incompatible with --max-replace-args, --max-lines, and -L.",
        ));
    }
    let separator = Separator::compile(spec).map_err(|e| invalid(&e.to_string()))?;
    let header_matcher =
        HeaderMatcher::compile(&spec.header).map_err(|e| invalid(&e.to_string()))?;
    let size = file_size(file)?;
    let block = spec.block_size.max(1) as u64;

    let first_line_len = if spec.skip_first_line {
        skip_line(file, size)?
    } else {
        0
    };
    let header_len = find_header(file, first_line_len, block as usize, &header_matcher)?;
    let skip = first_line_len + header_len;

    let mut cuts = vec![skip];
    let mut pos = skip + block;
    while pos < size {
        if let Some(cut) = find_cut(file, pos, &separator)? {
            pos = cut;
            cuts.push(cut);
        }
        pos += block;
    }
    if cuts.last() != Some(&size) {
        cuts.push(size);
    }
    let header = (header_len > 0).then_some((first_line_len, header_len));
    Ok(cuts
        .windows(2)
        .map(|w| Part {
            offset: w[0],
            len: w[1] - w[0],
            header,
        })
        .collect())
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.to_owned())
}

fn file_size(file: &File) -> io::Result<u64> {
    let meta = file.metadata()?;
    let kind = meta.file_type();
    if kind.is_file() {
        Ok(meta.len())
    } else if kind.is_block_device() {
        let mut f = file;
        let here = f.stream_position()?;
        let end = f.seek(SeekFrom::End(0))?;
        f.seek(SeekFrom::Start(here))?;
        Ok(end)
    } else {
        Err(invalid(
            "--pipepart only works on seekable files, not streams/pipes: give a regular file with -a.",
        ))
    }
}

/// `pread` as a `Read` from a moving offset.
struct At<'a> {
    file: &'a File,
    pos: u64,
}

impl Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// Reads into `buf` until `want` more bytes or end of file; returns how
/// many were added.
fn fill(reader: &mut impl Read, buf: &mut Vec<u8>, want: usize) -> io::Result<usize> {
    let start = buf.len();
    buf.resize(start + want, 0);
    let mut got = 0;
    while got < want {
        match reader.read(&mut buf[start + got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                buf.truncate(start + got);
                return Err(e);
            }
        }
    }
    buf.truncate(start + got);
    Ok(got)
}

/// `--skip-first-line`: length of the first line, newline included.
fn skip_line(file: &File, size: u64) -> io::Result<u64> {
    let mut reader = At { file, pos: 0 };
    let mut buf = Vec::new();
    loop {
        let from = buf.len();
        if fill(&mut reader, &mut buf, 4096)? == 0 {
            return Ok(size.min(buf.len() as u64));
        }
        if let Some(i) = memchr::memchr(b'\n', &buf[from..]) {
            return Ok((from + i + 1) as u64);
        }
    }
}

/// GNU's `find_header`: read block-sized chunks until the header pattern
/// matches at the start or the file ends.
fn find_header(file: &File, from: u64, block: usize, matcher: &HeaderMatcher) -> io::Result<u64> {
    if matcher.is_none() {
        return Ok(0);
    }
    let mut reader = At { file, pos: from };
    let mut buf = Vec::new();
    let chunk = block.min(1 << 24);
    while fill(&mut reader, &mut buf, chunk)? > 0 {
        if let Some(len) = matcher.find(&buf) {
            return Ok(len as u64);
        }
    }
    Ok(0)
}

/// The first cut at or after `pos`, or `None` if the file ends first.
fn find_cut(file: &File, pos: u64, separator: &Separator) -> io::Result<Option<u64>> {
    let mut reader = At { file, pos };
    let mut buf = Vec::new();
    match separator {
        Separator::Fixed(sep) if sep.len() == 0 => Ok(Some(pos)),
        Separator::Fixed(sep) => {
            // Any window size finds the same first match; start small.
            let mut window = 4096;
            loop {
                let from = buf.len().saturating_sub(sep.len() - 1);
                if fill(&mut reader, &mut buf, window)? == 0 {
                    return Ok(None);
                }
                if let Some(i) = sep.index(&buf, from) {
                    return Ok(Some(pos + (i + sep.recend_len()) as u64));
                }
                window = (window * 2).min(GNU_WINDOW);
            }
        }
        Separator::Regex(re) => loop {
            // GNU's greedy match over what it has read so far, in its
            // 128 KiB reads: the window size changes the answer.
            if fill(&mut reader, &mut buf, GNU_WINDOW)? == 0 {
                return Ok(None);
            }
            if let Some(m) = re.last_dotall(&buf) {
                return Ok(Some(pos + m.cut as u64));
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(data: &[u8]) -> File {
        let mut f = tempfile::tempfile().unwrap_or_else(|e| panic!("tempfile: {e}"));
        f.write_all(data).unwrap_or_else(|e| panic!("write: {e}"));
        f
    }

    fn ranges(data: &[u8], block: usize) -> Vec<(u64, u64)> {
        let spec = BlockSpec {
            block_size: block,
            ..BlockSpec::default()
        };
        plan_parts(&file_with(data), &spec)
            .unwrap_or_else(|e| panic!("plan: {e}"))
            .iter()
            .map(|p| (p.offset, p.len))
            .collect()
    }

    #[test]
    fn parts_are_at_least_a_block() {
        // seq 10 | cut at the first newline at or after each block start.
        assert_eq!(
            ranges(b"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", 5),
            vec![(0, 6), (6, 6), (12, 6), (18, 3)]
        );
    }

    #[test]
    fn empty_file_has_no_parts() {
        assert!(ranges(b"", 5).is_empty());
    }

    #[test]
    fn no_separator_is_one_part() {
        assert_eq!(ranges(b"abcdefghijkl", 5), vec![(0, 12)]);
    }

    #[test]
    fn pipes_are_refused() {
        let pipe = std::io::pipe().map(|(r, _w)| File::from(std::os::fd::OwnedFd::from(r)));
        if let Ok(f) = pipe {
            assert!(plan_parts(&f, &BlockSpec::default()).is_err());
        }
    }
}
