//! `--pipe`: cutting a stream into [`Block`]s exactly where GNU parallel
//! 20221122 cuts it (its `spreadstdin`), fast and in bounded memory.
//!
//! GNU's loop, which this follows step for step because its cut points
//! depend on it: fill a buffer up to a multiple of the block size (reading
//! until full or end of input); cut it after the last record separator;
//! carry the rest over to the next round. In the last round (end of input
//! reached) nothing is cut: everything left is the last block. If a round
//! cuts nothing, the block size grows to `ceil(size × 1.3 + 1)` for the rest
//! of the run, with a warning. `-N` cuts every group of N records, `-L`
//! every multiple of L lines, `--regexp` uses regexes for the separator.
//!
//! The splitter only cuts; it does not spawn or write to anything.

use std::io::{self, Read};

use super::records::{HeaderMatcher, RegexSep, Separator};
use super::spec::{BlockSpec, MAX_BLOCK_SIZE, SpecError, Warning};

/// One block: what one job reads on its stdin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Block number, from 1 (the job's `{#}` under `--pipe`).
    pub seq: u64,
    /// The `--header` (if any) followed by the block's records.
    pub data: Vec<u8>,
    /// How many leading bytes of `data` are the repeated header
    /// (`--roundrobin` sends the header only once per worker).
    pub header_len: usize,
}

impl Block {
    /// The records, without the header.
    pub fn records(&self) -> &[u8] {
        &self.data[self.header_len..]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Plain `--pipe`: cut after the last separator.
    Last,
    /// `-N`: groups of N separators (GNU's `pass_n`).
    Records(usize),
    /// `-L` without `-N`: multiples of L lines.
    Lines(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Start,
    SkipLine,
    Header,
    Read,
    Cut,
    Final,
    Done,
}

/// Cuts `input` into blocks; an iterator of `io::Result<Block>`.
///
/// Errors end the iteration, except `WouldBlock` from a non-blocking input:
/// then call `next()` again when the input is readable; no byte is lost.
///
/// Memory: one buffer of about the block size plus the block being handed
/// out; give blocks back with [`Splitter::recycle`] to reuse their memory.
pub struct Splitter<R: Read> {
    input: R,
    separator: Option<Separator>,
    header_matcher: HeaderMatcher,
    setup_error: Option<SpecError>,
    mode: Mode,
    skip_first_line: bool,
    remove_rec_sep: bool,
    phase: Phase,
    /// `[header][data]`; `buf.len()` is how much is initialised, which may
    /// exceed `header_len + filled`.
    buf: Vec<u8>,
    header_len: usize,
    /// Data bytes in `buf` after the header.
    filled: usize,
    /// Data bytes already handed out this round.
    cursor: usize,
    block_size: usize,
    max_block_size: usize,
    eof: bool,
    anything_written: bool,
    single_cut_done: bool,
    garbage_read: bool,
    seq: u64,
    spare: Vec<Vec<u8>>,
    warnings: Vec<Warning>,
}

impl<R: Read> Splitter<R> {
    /// A splitter over `input`. An invalid spec (a bad `--regexp`) shows up
    /// as an `InvalidInput` error from the first `next()`; use
    /// [`Splitter::try_new`] to learn it up front.
    pub fn new(input: R, spec: BlockSpec) -> Splitter<R> {
        let mut warnings = Vec::new();
        let mut block_size = spec.block_size.max(1);
        if block_size > MAX_BLOCK_SIZE {
            warnings.push(Warning::BlockSizeClamped);
            block_size = MAX_BLOCK_SIZE;
        }
        let (separator, header_matcher, setup_error) = match (
            Separator::compile(&spec),
            HeaderMatcher::compile(&spec.header),
        ) {
            (Ok(s), Ok(h)) => (Some(s), h, None),
            (Err(e), _) | (_, Err(e)) => (None, HeaderMatcher::None, Some(e)),
        };
        let lines = spec.lines.map(|l| l.max(1));
        let mode = match (spec.records.filter(|&n| n > 0), lines) {
            (Some(n), l) => Mode::Records(n.saturating_mul(l.unwrap_or(1))),
            (None, Some(l)) => Mode::Lines(l),
            (None, None) => Mode::Last,
        };
        Splitter {
            input,
            separator,
            header_matcher,
            setup_error,
            mode,
            skip_first_line: spec.skip_first_line,
            remove_rec_sep: spec.remove_rec_sep,
            phase: Phase::Start,
            buf: Vec::new(),
            header_len: 0,
            filled: 0,
            cursor: 0,
            block_size,
            max_block_size: spec.max_block_size.clamp(block_size, usize::MAX / 2),
            eof: false,
            anything_written: false,
            single_cut_done: false,
            garbage_read: false,
            seq: 0,
            spare: Vec::new(),
            warnings,
        }
    }

    /// Like [`Splitter::new`], but reports an invalid spec immediately.
    pub fn try_new(input: R, spec: BlockSpec) -> Result<Splitter<R>, SpecError> {
        let splitter = Splitter::new(input, spec);
        match &splitter.setup_error {
            Some(e) => Err(e.clone()),
            None => Ok(splitter),
        }
    }

    /// Gives a used block's buffer back for reuse (saves allocating and
    /// faulting in a fresh buffer per block).
    pub fn recycle(&mut self, data: Vec<u8>) {
        if self.spare.len() < 2 && data.capacity() >= self.block_size {
            self.spare.push(data);
        }
    }

    /// Warnings since the last call (GNU's texts; print as
    /// `parx: Warning: …`).
    pub fn take_warnings(&mut self) -> Vec<Warning> {
        std::mem::take(&mut self.warnings)
    }

    /// The current block size (grown if records were longer than `--block`).
    pub fn block_size(&self) -> usize {
        self.block_size
    }

    /// The header repeated at the top of every block (empty if none).
    pub fn header(&self) -> &[u8] {
        &self.buf[..self.header_len]
    }

    fn step(&mut self) -> io::Result<Option<Block>> {
        loop {
            match self.phase {
                Phase::Start => {
                    if let Some(e) = self.setup_error.take() {
                        self.phase = Phase::Done;
                        return Err(io::Error::new(io::ErrorKind::InvalidInput, e));
                    }
                    self.phase = if self.skip_first_line {
                        Phase::SkipLine
                    } else {
                        Phase::Header
                    };
                }
                Phase::SkipLine => {
                    self.skip_line()?;
                    self.phase = Phase::Header;
                }
                Phase::Header => {
                    self.find_header()?;
                    self.phase = Phase::Read;
                }
                Phase::Read => {
                    self.anything_written = false;
                    self.single_cut_done = false;
                    self.read_block()?;
                    self.phase = Phase::Cut;
                }
                Phase::Cut => {
                    if let Some(end) = self.next_cut() {
                        self.anything_written = true;
                        return Ok(Some(self.take(end)));
                    }
                    self.compact();
                    if self.eof {
                        self.phase = Phase::Final;
                    } else {
                        if !self.anything_written
                            && let Some(block) = self.grow()
                        {
                            self.phase = Phase::Read;
                            return Ok(Some(block));
                        }
                        self.phase = Phase::Read;
                    }
                }
                Phase::Final => {
                    self.phase = Phase::Done;
                    if self.filled > 0 {
                        return Ok(Some(self.take(self.filled)));
                    }
                }
                Phase::Done => return Ok(None),
            }
        }
    }

    /// `--skip-first-line`: drop everything up to the first newline.
    fn skip_line(&mut self) -> io::Result<()> {
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[..self.filled]) {
                self.buf.copy_within(i + 1..self.filled, 0);
                self.filled -= i + 1;
                return Ok(());
            }
            self.filled = 0;
            if self.read_more(self.block_size)? == 0 {
                // End of input: the first line is all there is, or ends here.
                match memchr::memchr(b'\n', &self.buf[..self.filled]) {
                    Some(i) => {
                        self.buf.copy_within(i + 1..self.filled, 0);
                        self.filled -= i + 1;
                    }
                    None => self.filled = 0,
                }
                return Ok(());
            }
        }
    }

    /// `--header`: GNU reads block-sized chunks until the header pattern
    /// matches at the start or input ends.
    fn find_header(&mut self) -> io::Result<()> {
        if self.header_matcher.is_none() {
            return Ok(());
        }
        loop {
            // Reads stay on GNU's block grid counted from where the skipped
            // line ended; a read cut short by `WouldBlock` resumes here.
            let last = self.read_more(self.block_size - self.filled % self.block_size)?;
            if self.filled > 0
                && let Some(len) = self.header_matcher.find(&self.buf[..self.filled])
            {
                self.header_len = len;
                self.filled -= len;
                return Ok(());
            }
            if last == 0 {
                return Ok(());
            }
        }
    }

    /// Reads until `want` more bytes are in or input ends; returns the
    /// count of the last `read` (0 = end of input).
    fn read_more(&mut self, want: usize) -> io::Result<usize> {
        let target = self.header_len + self.filled + want;
        if self.buf.len() < target {
            self.buf.resize(target, 0);
        }
        let mut left = want;
        loop {
            let at = self.header_len + self.filled;
            match self.input.read(&mut self.buf[at..at + left]) {
                Ok(n) => {
                    self.filled += n;
                    left -= n;
                    if n == 0 || left == 0 {
                        return Ok(n);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// GNU's `read_block`: fill up to the next multiple of the block size.
    fn read_block(&mut self) -> io::Result<()> {
        let want = self.block_size - self.filled % self.block_size;
        let last = self.read_more(want)?;
        self.eof = last == 0;
        Ok(())
    }

    /// End (relative to `cursor`) of the next block in this round, if any.
    fn next_cut(&mut self) -> Option<usize> {
        let data = &self.buf[self.header_len + self.cursor..self.header_len + self.filled];
        let end = match (self.mode, self.separator.as_ref()?) {
            (Mode::Lines(l), _) => {
                if self.single_cut_done {
                    return None;
                }
                self.single_cut_done = true;
                cut_lines(data, l)
            }
            (Mode::Last, Separator::Fixed(sep)) => {
                if self.eof || self.single_cut_done {
                    return None;
                }
                self.single_cut_done = true;
                sep.rindex(data).map_or(0, |i| i + sep.recend_len())
            }
            (Mode::Last, Separator::Regex(re)) => {
                if self.eof || self.single_cut_done {
                    return None;
                }
                self.single_cut_done = true;
                re.last(data).map_or(0, |m| m.cut)
            }
            (Mode::Records(n), Separator::Fixed(sep)) => {
                if data.is_empty() {
                    return None;
                }
                // GNU's nindex: the first search starts at 1, each next one
                // just after the previous match's start.
                let mut i = 0;
                for _ in 0..n {
                    i = sep.index(data, i + 1)?;
                }
                i + sep.recend_len()
            }
            (Mode::Records(n), Separator::Regex(re)) => {
                if !self.garbage_read {
                    self.garbage_read = true;
                    if !re.starts_with_record(data)
                        && let Some(m) = re.first_from(data, 0).filter(|m| m.cut > 0)
                    {
                        return Some(m.cut);
                    }
                }
                cut_regex_records(re, data, n)?
            }
        };
        (end > 0).then_some(end)
    }

    /// Hands out `[cursor, cursor + end)` of the data as a block, moving
    /// the buffer itself out when that is cheaper than copying.
    fn take(&mut self, end: usize) -> Block {
        self.seq += 1;
        let h = self.header_len;
        let start = self.cursor;
        let rest = self.filled - start - end;
        let data = if start == 0 && rest <= end {
            let mut next = self.spare.pop().unwrap_or_default();
            let need = h + rest;
            if next.capacity() < h + self.block_size {
                next.reserve(h + self.block_size - next.len());
            }
            if next.len() < need {
                next.resize(need, 0);
            }
            next[..h].copy_from_slice(&self.buf[..h]);
            next[h..need].copy_from_slice(&self.buf[h + end..h + end + rest]);
            let mut block = std::mem::replace(&mut self.buf, next);
            block.truncate(h + end);
            self.filled = rest;
            self.cursor = 0;
            block
        } else {
            let mut block = Vec::with_capacity(h + end);
            block.extend_from_slice(&self.buf[..h]);
            block.extend_from_slice(&self.buf[h + start..h + start + end]);
            self.cursor += end;
            block
        };
        let mut data = data;
        if self.remove_rec_sep
            && let Some(sep) = &self.separator
        {
            let stripped = sep.remove_rec_sep(&data[h..]);
            data.truncate(h);
            data.extend_from_slice(&stripped);
        }
        Block {
            seq: self.seq,
            data,
            header_len: h,
        }
    }

    fn compact(&mut self) {
        if self.cursor > 0 {
            let h = self.header_len;
            self.buf.copy_within(h + self.cursor..h + self.filled, h);
            self.filled -= self.cursor;
            self.cursor = 0;
        }
    }

    /// GNU's `increase_blocksize_maybe`; at parx's bound, cut instead.
    fn grow(&mut self) -> Option<Block> {
        if self.block_size < self.max_block_size {
            let from = self.block_size;
            let grown = (from as f64 * 1.3 + 1.0).ceil() as usize;
            self.block_size = grown.min(self.max_block_size);
            self.warnings.push(Warning::BlockGrown {
                from,
                to: self.block_size,
            });
            None
        } else if self.filled >= self.max_block_size {
            self.warnings.push(Warning::RecordCut { size: self.filled });
            Some(self.take(self.filled))
        } else {
            None
        }
    }
}

/// GNU's `pass_n_line_records`: cut after the last newline that ends a
/// multiple of `l` lines.
fn cut_lines(data: &[u8], l: usize) -> usize {
    let count = memchr::memchr_iter(b'\n', data).count();
    let mut back = count % l;
    if count == back {
        return 0;
    }
    let mut end = data.len();
    loop {
        match memchr::memrchr(b'\n', &data[..end]) {
            Some(i) if back == 0 => return i + 1,
            Some(i) => {
                end = i;
                back -= 1;
            }
            None => return 0,
        }
    }
}

/// GNU's `pass_n_regexps` match: `n` records (`recstart`, then up to the
/// first `recend recstart`), followed by a `recstart`.
fn cut_regex_records(re: &RegexSep, data: &[u8], n: usize) -> Option<usize> {
    let mut start_len = re.start_len(data)?;
    let mut at = 0;
    for _ in 0..n {
        let m = re.first_from(data, at + start_len)?;
        start_len = m.next_start_end - m.cut;
        at = m.cut;
    }
    Some(at)
}

impl<R: Read> Iterator for Splitter<R> {
    type Item = io::Result<Block>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.step() {
            Ok(block) => block.map(Ok),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Some(Err(e)),
            Err(e) => {
                self.phase = Phase::Done;
                Some(Err(e))
            }
        }
    }
}

impl<R: Read> std::iter::FusedIterator for Splitter<R> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(input: &[u8], spec: BlockSpec) -> Vec<Vec<u8>> {
        Splitter::new(input, spec)
            .map(|b| b.map(|b| b.data))
            .collect::<io::Result<_>>()
            .unwrap_or_else(|e| panic!("split failed: {e}"))
    }

    fn block(n: usize) -> BlockSpec {
        BlockSpec {
            block_size: n,
            ..BlockSpec::default()
        }
    }

    #[test]
    fn cuts_at_last_newline_within_block() {
        assert_eq!(
            split(b"1\n2\n3\n4\n5\n", block(5)),
            vec![b"1\n2\n".to_vec(), b"3\n4\n".to_vec(), b"5\n".to_vec()]
        );
    }

    #[test]
    fn exact_fill_then_eof_still_cuts() {
        // The buffer fills exactly: GNU cuts it, then the rest is the last block.
        assert_eq!(
            split(b"a\nb", block(3)),
            vec![b"a\n".to_vec(), b"b".to_vec()]
        );
        assert_eq!(split(b"a\nb", block(4)), vec![b"a\nb".to_vec()]);
    }

    #[test]
    fn empty_input_gives_no_block() {
        assert!(split(b"", block(5)).is_empty());
    }

    #[test]
    fn long_record_grows_block_with_warning() {
        let mut s = Splitter::new(&b"abcdefghij\nk\n"[..], block(4));
        let blocks: Vec<_> = s
            .by_ref()
            .map(|b| b.map(|b| b.data))
            .collect::<io::Result<_>>()
            .unwrap_or_default();
        assert_eq!(blocks.concat(), b"abcdefghij\nk\n");
        let w = s.take_warnings();
        assert_eq!(w[0], Warning::BlockGrown { from: 4, to: 7 });
        assert_eq!(
            w[0].to_string(),
            "A record was longer than 4. Increasing to --blocksize 7."
        );
    }

    #[test]
    fn bound_cuts_record() {
        let spec = BlockSpec {
            block_size: 4,
            max_block_size: 8,
            ..BlockSpec::default()
        };
        let mut s = Splitter::new(&[7u8; 30][..], spec);
        let blocks: Vec<_> = s
            .by_ref()
            .map(|b| b.map(|b| b.data.len()))
            .collect::<io::Result<_>>()
            .unwrap_or_default();
        assert_eq!(blocks.iter().sum::<usize>(), 30);
        assert!(blocks.iter().all(|&n| n <= 8), "{blocks:?}");
        assert!(s.take_warnings().contains(&Warning::RecordCut { size: 8 }));
    }

    #[test]
    fn bad_regex_is_an_error() {
        let spec = BlockSpec {
            regexp: true,
            recend: Some(b"(".to_vec()),
            ..BlockSpec::default()
        };
        assert!(Splitter::try_new(&b""[..], spec.clone()).is_err());
        let mut s = Splitter::new(&b"x"[..], spec);
        assert!(matches!(s.next(), Some(Err(e)) if e.kind() == io::ErrorKind::InvalidInput));
        assert!(s.next().is_none());
    }

    #[test]
    fn lines_cut() {
        assert_eq!(cut_lines(b"a\nb\nc\n", 2), 4);
        assert_eq!(cut_lines(b"a\nb\nc", 2), 4);
        assert_eq!(cut_lines(b"a\n", 2), 0);
        assert_eq!(cut_lines(b"\nab\nc", 2), 4);
    }
}
