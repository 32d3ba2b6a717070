//! Where records end: the record separator `recend ++ recstart` compiled
//! once, as a fixed string (memchr / memmem) or as regular expressions, with
//! the exact search primitives GNU parallel's splitter uses (Perl's `index`,
//! `rindex`, and its greedy/lazy regexes). No I/O here.

use memchr::memmem;
use regex::bytes::{Regex, RegexBuilder};

use super::spec::{BlockSpec, Header, SpecError, decode_escapes};

/// The separator between two records, resolved from a [`BlockSpec`] the way
/// GNU's `recstartrecend()` does.
#[derive(Debug)]
pub(crate) enum Separator {
    Fixed(Box<FixedSep>),
    Regex(Box<RegexSep>),
}

/// `recend ++ recstart` as bytes; a block is cut after the `recend` part.
#[derive(Debug)]
pub(crate) struct FixedSep {
    sep: Vec<u8>,
    recstart: Vec<u8>,
    recend: Vec<u8>,
    recend_len: usize,
    forward: memmem::Finder<'static>,
    backward: memmem::FinderRev<'static>,
}

/// `--regexp` separators, compiled once per regex flag set GNU uses.
#[derive(Debug)]
pub(crate) struct RegexSep {
    /// `(recend)(recstart)` with Perl's `/m` (as in `--pipe`'s regexes).
    multi: Regex,
    /// `\A(?:recstart)` with `/m` (start of a record in `-N` mode).
    start_multi: Regex,
    /// `\A(?:recstart)` without `/m` (GNU's "garbage" test).
    start_plain: Regex,
    /// `(recend)(recstart)` with `/s` (as in `--pipepart`'s regex).
    dotall: Regex,
    /// `--rrs`: `recstart` at the start and `recend` at the end (`/s`).
    rrs_start: Regex,
    rrs_end: Regex,
}

/// A match of `recend ++ recstart`: where it starts, where the block is cut
/// (end of the `recend` part) and where the following `recstart` ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SepMatch {
    pub start: usize,
    pub cut: usize,
    pub next_start_end: usize,
}

impl Separator {
    pub(crate) fn compile(spec: &BlockSpec) -> Result<Separator, SpecError> {
        let (recstart, recend) = match (&spec.recstart, &spec.recend) {
            (Some(s), Some(e)) => (s.clone(), e.clone()),
            (Some(s), None) => (s.clone(), Vec::new()),
            (None, Some(e)) => {
                if spec.regexp && e.is_empty() {
                    (Vec::new(), b"(?s:.)".to_vec())
                } else {
                    (Vec::new(), e.clone())
                }
            }
            (None, None) => {
                if spec.regexp {
                    (Vec::new(), b"\n".to_vec())
                } else {
                    (Vec::new(), b"\\n".to_vec())
                }
            }
        };
        if spec.regexp {
            let start = pattern_text(&recstart);
            let end = pattern_text(&recend);
            let sep = format!("((?:{end}))((?:{start}))");
            let multi = build(&format!("(?m){sep}"), "--recend/--recstart")?;
            let dotall = build(&format!("(?s){sep}"), "--recend/--recstart")?;
            let start_multi = build(&format!("(?m)\\A(?:{start})"), "--recstart")?;
            let start_plain = build(&format!("\\A(?:{start})"), "--recstart")?;
            let rrs_start = build(&format!("(?s)\\A(?:{start})"), "--recstart")?;
            let rrs_end = build(&format!("(?s)(?:{end})(\n?)\\z"), "--recend")?;
            Ok(Separator::Regex(Box::new(RegexSep {
                multi,
                start_multi,
                start_plain,
                dotall,
                rrs_start,
                rrs_end,
            })))
        } else {
            let recstart = decode_escapes(&recstart);
            let recend = decode_escapes(&recend);
            let mut sep = recend.clone();
            sep.extend_from_slice(&recstart);
            Ok(Separator::Fixed(Box::new(FixedSep {
                forward: memmem::Finder::new(&sep).into_owned(),
                backward: memmem::FinderRev::new(&sep).into_owned(),
                recend_len: recend.len(),
                sep,
                recstart,
                recend,
            })))
        }
    }
}

impl Separator {
    /// GNU's `remove_rec_sep` (`--rrs`): every `recend recstart` removed,
    /// then a leading `recstart` and a trailing `recend` (Perl's `$`: at the
    /// end or before a final newline).
    pub(crate) fn remove_rec_sep(&self, records: &[u8]) -> Vec<u8> {
        match self {
            Separator::Fixed(f) => f.remove_rec_sep(records),
            Separator::Regex(r) => r.remove_rec_sep(records),
        }
    }
}

impl FixedSep {
    fn remove_rec_sep(&self, records: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(records.len());
        if self.sep.is_empty() {
            out.extend_from_slice(records);
        } else {
            let mut at = 0;
            for i in self.forward.find_iter(records) {
                if i >= at {
                    out.extend_from_slice(&records[at..i]);
                    at = i + self.sep.len();
                }
            }
            out.extend_from_slice(&records[at..]);
        }
        if out.starts_with(&self.recstart) {
            out.drain(..self.recstart.len());
        }
        let end = &self.recend;
        if !end.is_empty() {
            let n = out.len();
            if out.ends_with(b"\n") && out[..n - 1].ends_with(end) {
                out.drain(n - 1 - end.len()..n - 1);
            } else if out.ends_with(end) {
                out.truncate(n - end.len());
            }
        }
        out
    }

    pub(crate) fn len(&self) -> usize {
        self.sep.len()
    }

    pub(crate) fn recend_len(&self) -> usize {
        self.recend_len
    }

    /// Perl's `index($hay, $sep, $pos)`.
    pub(crate) fn index(&self, hay: &[u8], pos: usize) -> Option<usize> {
        let pos = pos.min(hay.len());
        if self.sep.is_empty() {
            return Some(pos);
        }
        let rest = &hay[pos..];
        let found = if self.sep.len() == 1 {
            memchr::memchr(self.sep[0], rest)
        } else {
            self.forward.find(rest)
        };
        found.map(|i| i + pos)
    }

    /// Perl's `rindex($hay, $sep)`.
    pub(crate) fn rindex(&self, hay: &[u8]) -> Option<usize> {
        if self.sep.is_empty() {
            return Some(hay.len());
        }
        if self.sep.len() == 1 {
            memchr::memrchr(self.sep[0], hay)
        } else {
            self.backward.rfind(hay)
        }
    }
}

impl RegexSep {
    fn remove_rec_sep(&self, records: &[u8]) -> Vec<u8> {
        let all = self.multi.replace_all(records, &b""[..]);
        let start = self.rrs_start.replace(&all, &b""[..]);
        self.rrs_end.replace(&start, &b"$1"[..]).into_owned()
    }

    /// The first separator match starting at or after `from` (`/m` flags).
    pub(crate) fn first_from(&self, hay: &[u8], from: usize) -> Option<SepMatch> {
        first_match(&self.multi, hay, from)
    }

    /// The last separator match in `hay` (`/m` flags): what GNU's greedy
    /// `^((?s:.)*$recend)$recstart` finds.
    pub(crate) fn last(&self, hay: &[u8]) -> Option<SepMatch> {
        last_match(&self.multi, hay)
    }

    /// The last separator match with `/s` flags (`--pipepart`).
    pub(crate) fn last_dotall(&self, hay: &[u8]) -> Option<SepMatch> {
        last_match(&self.dotall, hay)
    }

    /// Length of `recstart` matched at the start of `hay` (`/m` flags).
    pub(crate) fn start_len(&self, hay: &[u8]) -> Option<usize> {
        self.start_multi.find(hay).map(|m| m.end())
    }

    /// Whether `hay` begins with `recstart` (no `/m`).
    pub(crate) fn starts_with_record(&self, hay: &[u8]) -> bool {
        self.start_plain.is_match(hay)
    }
}

fn first_match(re: &Regex, hay: &[u8], from: usize) -> Option<SepMatch> {
    if from > hay.len() {
        return None;
    }
    let caps = re.captures_at(hay, from)?;
    let whole = caps.get(0)?;
    let cut = caps.get(1).map_or(whole.start(), |m| m.end());
    let next_start_end = caps.get(2).map_or(cut, |m| m.end());
    Some(SepMatch {
        start: whole.start(),
        cut,
        next_start_end,
    })
}

/// The match with the greatest start position: searched from the end in
/// growing windows so the common case (a separator near the end) stays
/// cheap; overlapping matches count.
fn last_match(re: &Regex, hay: &[u8]) -> Option<SepMatch> {
    let mut window = 4096usize;
    let mut limit = hay.len() + 1;
    loop {
        let from = hay.len().saturating_sub(window);
        let mut last = None;
        let mut at = from;
        while at < limit {
            match re.find_at(hay, at) {
                Some(m) if m.start() < limit => {
                    last = Some(m.start());
                    at = m.start() + 1;
                }
                _ => break,
            }
        }
        if let Some(start) = last {
            return first_match(re, hay, start);
        }
        if from == 0 {
            return None;
        }
        limit = from;
        window = window.saturating_mul(4);
    }
}

fn build(pattern: &str, option: &'static str) -> Result<Regex, SpecError> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .build()
        .map_err(|e| SpecError::BadRegex {
            option,
            message: e.to_string().lines().last().unwrap_or("").trim().to_owned(),
        })
}

/// A pattern as regex source; bytes that are not UTF-8 become `\xNN`.
fn pattern_text(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    for chunk in raw.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

/// `--header` compiled: a line count or a regex anchored at the start.
#[derive(Debug)]
pub(crate) enum HeaderMatcher {
    None,
    Lines(usize),
    Regex(Regex),
}

impl HeaderMatcher {
    pub(crate) fn compile(header: &Header) -> Result<HeaderMatcher, SpecError> {
        Ok(match header {
            Header::None | Header::Lines(0) => HeaderMatcher::None,
            Header::Lines(n) => HeaderMatcher::Lines(*n),
            Header::Regex(re) => HeaderMatcher::Regex(build(&format!("\\A(?:{re})"), "--header")?),
        })
    }

    /// The header's length if `buf` (what has been read so far) settles it.
    pub(crate) fn find(&self, buf: &[u8]) -> Option<usize> {
        match self {
            HeaderMatcher::None => Some(0),
            HeaderMatcher::Lines(n) => memchr::memchr_iter(b'\n', buf).nth(n - 1).map(|i| i + 1),
            HeaderMatcher::Regex(re) => re.find(buf).map(|m| m.end()),
        }
    }

    pub(crate) fn is_none(&self) -> bool {
        matches!(self, HeaderMatcher::None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(recstart: Option<&[u8]>, recend: Option<&[u8]>) -> Box<FixedSep> {
        let spec = BlockSpec {
            recstart: recstart.map(<[u8]>::to_vec),
            recend: recend.map(<[u8]>::to_vec),
            ..BlockSpec::default()
        };
        match Separator::compile(&spec) {
            Ok(Separator::Fixed(f)) => f,
            other => panic!("not fixed: {other:?}"),
        }
    }

    #[test]
    fn perl_index_semantics() {
        let nl = fixed(None, None);
        assert_eq!(nl.index(b"a\nb\n", 0), Some(1));
        assert_eq!(nl.index(b"a\nb\n", 2), Some(3));
        assert_eq!(nl.index(b"a\nb\n", 9), None);
        assert_eq!(nl.rindex(b"a\nb\n"), Some(3));
        assert_eq!(nl.rindex(b"ab"), None);
        let empty = fixed(None, Some(b""));
        assert_eq!(empty.index(b"abc", 1), Some(1));
        assert_eq!(empty.index(b"abc", 5), Some(3));
        assert_eq!(empty.rindex(b"abc"), Some(3));
        let both = fixed(Some(b">"), Some(br"\n"));
        assert_eq!(both.recend_len(), 1);
        assert_eq!(both.rindex(b">a\n>b\n>c"), Some(5));
    }

    #[test]
    fn regex_last_and_first() {
        let spec = BlockSpec {
            regexp: true,
            recend: Some(b"\\n+".to_vec()),
            ..BlockSpec::default()
        };
        let Ok(Separator::Regex(re)) = Separator::compile(&spec) else {
            panic!("no regex");
        };
        let hay = b"a\n\nb\nc";
        assert_eq!(
            re.first_from(hay, 0),
            Some(SepMatch {
                start: 1,
                cut: 3,
                next_start_end: 3
            })
        );
        assert_eq!(
            re.last(hay),
            Some(SepMatch {
                start: 4,
                cut: 5,
                next_start_end: 5
            })
        );
        let long: Vec<u8> = std::iter::repeat_n(b'x', 100_000).chain(*b"\ny").collect();
        assert_eq!(re.last(&long).map(|m| m.cut), Some(100_001));
        assert_eq!(re.last(b"xyz"), None);
    }
}
