//! What the command line says about blocks: [`BlockSpec`], [`Header`], and
//! the parsing of `--block` sizes and of `--recstart`/`--recend` escapes,
//! exactly as GNU parallel 20221122 reads them.
//!
//! This module only describes and validates; it reads no input.

use std::fmt;

/// `--block` when not given: 1 MiB (GNU's `1M`).
pub const DEFAULT_BLOCK_SIZE: usize = 1 << 20;

/// GNU parallel never grows (or accepts, for `--pipe`) a block size above
/// 2 GiB - 1 ("2GB causes problems"); parx uses the same cap by default.
pub const MAX_BLOCK_SIZE: usize = (1 << 31) - 1;

/// `--header`: lines at the top of the input repeated at the top of every
/// block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Header {
    /// No `--header` (or `--header 0`, which GNU treats as absent).
    #[default]
    None,
    /// `--header :` (one line) or `--header N` (N lines). Only complete
    /// lines count: with fewer than N newline-terminated lines in the whole
    /// input there is no header and everything is data.
    Lines(usize),
    /// Any other `--header` value: a regular expression matched at the very
    /// start of the input; what it matches is the header.
    Regex(String),
}

impl Header {
    /// Interprets a `--header` argument as GNU parallel does for `--pipe`:
    /// `:` is one line, digits are that many lines, `0` or empty is no
    /// header, anything else is a regular expression.
    pub fn parse(arg: &str) -> Header {
        if arg.is_empty() || arg == "0" {
            Header::None
        } else if arg == ":" {
            Header::Lines(1)
        } else if arg.bytes().all(|b| b.is_ascii_digit()) {
            match arg.parse::<usize>() {
                Ok(0) => Header::None,
                Ok(n) => Header::Lines(n),
                Err(_) => Header::Regex(arg.to_owned()),
            }
        } else {
            Header::Regex(arg.to_owned())
        }
    }
}

/// How `--pipe` / `--pipepart` cut input into blocks.
///
/// `recstart` and `recend` are the raw command-line values: the splitter
/// decodes GNU's escapes (`\n`, `\t`, `\r`, `\0`, `\\`, `\'`, `\"`) itself
/// unless `regexp` is set (then the regex engine reads them). Leaving both
/// `None` means GNU's default, `--recend '\n'`; giving only `recstart` makes
/// the record end empty, and vice versa.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockSpec {
    /// `--block` / `--blocksize` in bytes (see [`parse_size`]).
    pub block_size: usize,
    /// `--recstart`, raw.
    pub recstart: Option<Vec<u8>>,
    /// `--recend`, raw.
    pub recend: Option<Vec<u8>>,
    /// `--regexp`: `recstart`/`recend` are regular expressions.
    pub regexp: bool,
    /// `-N`: exactly this many records per block (the last may have fewer);
    /// `Some(0)` is the same as `None`, as in GNU.
    pub records: Option<usize>,
    /// `-L` / `--max-lines` with `--pipe`: without `-N`, every block holds a
    /// multiple of this many lines (records are then always `\n`-ended
    /// lines, whatever `--recend` says); with `-N`, a record is `-N` × `-L`
    /// records. `Some(0)` means 1, as in GNU.
    pub lines: Option<usize>,
    /// `--header`.
    pub header: Header,
    /// `--skip-first-line`: the first line of input is dropped.
    pub skip_first_line: bool,
    /// `--remove-rec-sep` / `--rrs`: strip the separators from each block's
    /// records (not from the header), as GNU does.
    pub remove_rec_sep: bool,
    /// parx's bound on a block that has no record end: a block grows as in
    /// GNU (×1.3 + 1, with a warning) up to this size; if there is still no
    /// record end, the block is cut here, mid-record, with a warning. GNU's
    /// growth stops at 2 GiB - 1 too, but then its buffer grows without
    /// bound; with the default the two agree on every input below 2 GiB.
    pub max_block_size: usize,
}

impl Default for BlockSpec {
    fn default() -> Self {
        BlockSpec {
            block_size: DEFAULT_BLOCK_SIZE,
            recstart: None,
            recend: None,
            regexp: false,
            records: None,
            lines: None,
            header: Header::None,
            skip_first_line: false,
            remove_rec_sep: false,
            max_block_size: MAX_BLOCK_SIZE,
        }
    }
}

/// An invalid [`BlockSpec`]: a regular expression that does not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// `--recstart`/`--recend` under `--regexp`, or `--header`, is not a
    /// valid regular expression.
    #[error("{option}: invalid regular expression: {message}")]
    BadRegex {
        /// The option the expression came from.
        option: &'static str,
        /// What the regex engine said.
        message: String,
    },
}

/// A `--block` argument: a size, or GNU's negative form meaning "a share of
/// the `--pipepart` file(s) per job slot".
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BlockSize {
    /// A size in bytes.
    Bytes(usize),
    /// `--block -N` (with `--pipepart`): `1 + size / slots / N`, i.e. about N
    /// jobs per job slot. GNU's `--pipepart` default is `-10`, and `-1` with
    /// `--roundrobin`.
    PerJobSlot(f64),
}

impl BlockSize {
    /// Resolves the size for `--pipepart` files of `total_size` bytes run on
    /// `job_slots` slots, with GNU's formula.
    pub fn resolve(self, total_size: u64, job_slots: usize) -> usize {
        match self {
            BlockSize::Bytes(n) => n,
            BlockSize::PerJobSlot(per) => {
                let share = total_size as f64 / job_slots.max(1) as f64 / per;
                1 + share as usize
            }
        }
    }
}

/// Parses a `--block` value, including GNU's negative per-job-slot form
/// and its quirk that `0` means the default (1M).
pub fn parse_block_size(arg: &str) -> Result<BlockSize, String> {
    let trimmed = arg.trim();
    if let Some(rest) = trimmed.strip_prefix('-') {
        let value = parse_number(rest).map_err(|e| format!("--block {arg}: {e}"))?;
        if value <= 0.0 {
            return Err(format!("--block {arg}: must not be -0"));
        }
        return Ok(BlockSize::PerJobSlot(value));
    }
    if trimmed == "0" {
        return Ok(BlockSize::Bytes(DEFAULT_BLOCK_SIZE));
    }
    parse_size(trimmed).map(BlockSize::Bytes)
}

/// Parses a size with GNU parallel's prefixes (its `multiply_binary_prefix`):
/// `K M G T P E` and `Ki Mi Gi …` (any case) are powers of 1024, lowercase
/// `k m g t p e` are powers of 1000 (so `10k` is 10000 and `10K` is 10240),
/// fractions are allowed (`1.5M` = 1572864) and the result is truncated.
/// parx also accepts a `b` suffix (bytes), which GNU does not.
/// A result of zero bytes is an error.
pub fn parse_size(arg: &str) -> Result<usize, String> {
    let value = parse_number(arg.trim()).map_err(|e| format!("size {arg:?}: {e}"))?;
    if value < 1.0 {
        return Err(format!("size {arg:?}: must be at least 1 byte"));
    }
    if value >= usize::MAX as f64 {
        return Err(format!("size {arg:?}: too large"));
    }
    Ok(value as usize)
}

fn parse_number(s: &str) -> Result<f64, String> {
    let digits_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, mut suffix) = s.split_at(digits_end);
    if number.is_empty() {
        return Err("expected a number, e.g. 10k, 1M, 1.5G".into());
    }
    let mut value: f64 = number
        .parse()
        .map_err(|_| format!("{number:?} is not a number"))?;
    while !suffix.is_empty() {
        let mut chars = suffix.chars();
        let c = chars.next().unwrap_or(' ');
        let rest = chars.as_str();
        let power = match c.to_ascii_lowercase() {
            'k' => 1,
            'm' => 2,
            'g' => 3,
            't' => 4,
            'p' => 5,
            'e' => 6,
            'b' if c == 'b' => 0,
            _ => {
                return Err(format!(
                    "unknown size suffix {suffix:?} (use k K m M g G t T)"
                ));
            }
        };
        let (base, consumed) = if power > 0 && rest.starts_with(['i', 'I']) {
            (1024f64, &rest[1..])
        } else if c.is_ascii_uppercase() {
            (1024f64, rest)
        } else {
            (1000f64, rest)
        };
        value *= base.powi(power);
        suffix = consumed;
    }
    Ok(value)
}

/// Decodes the escapes GNU parallel decodes in a non-`--regexp` `--recstart`
/// or `--recend` (`s/\\([0rnt\'\"\\])/…/gee`): `\0 \r \n \t \' \" \\`; any
/// other backslash stays as it is.
pub fn decode_escapes(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b == b'\\'
            && let Some(&next) = raw.get(i + 1)
        {
            let decoded = match next {
                b'0' => Some(0u8),
                b'r' => Some(b'\r'),
                b'n' => Some(b'\n'),
                b't' => Some(b'\t'),
                b'\'' | b'"' | b'\\' => Some(next),
                _ => None,
            };
            if let Some(d) = decoded {
                out.push(d);
                i += 2;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

/// GNU's text for the warnings a split can give.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Warning {
    /// No record end within the block: it grows (GNU's exact message).
    BlockGrown {
        /// Size before.
        from: usize,
        /// Size after.
        to: usize,
    },
    /// No record end within [`BlockSpec::max_block_size`]: parx cut the
    /// record (GNU would keep growing its buffer instead).
    RecordCut {
        /// Size of the block that was cut.
        size: usize,
    },
    /// `--block` above 2 GiB - 1 for `--pipe` (GNU's message).
    BlockSizeClamped,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::BlockGrown { from, to } => write!(
                f,
                "A record was longer than {from}. Increasing to --blocksize {to}."
            ),
            Warning::RecordCut { size } => write!(
                f,
                "No record end in {size} bytes: the record is cut there. Raise --block or check --recend/--recstart."
            ),
            Warning::BlockSizeClamped => {
                write!(f, "--blocksize >= 2G causes problems. Using 2G-1.")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_gnu_prefixes() {
        assert_eq!(parse_size("10"), Ok(10));
        assert_eq!(parse_size("10k"), Ok(10_000));
        assert_eq!(parse_size("10K"), Ok(10_240));
        assert_eq!(parse_size("1ki"), Ok(1024));
        assert_eq!(parse_size("1KI"), Ok(1024));
        assert_eq!(parse_size("1M"), Ok(1 << 20));
        assert_eq!(parse_size("2m"), Ok(2_000_000));
        assert_eq!(parse_size("1.5M"), Ok(1_572_864));
        assert_eq!(parse_size("1.5k"), Ok(1500));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("1T"), Ok(1 << 40));
        assert_eq!(parse_size("3b"), Ok(3));
        assert!(parse_size("0").is_err());
        assert!(parse_size("0.5").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("k").is_err());
        assert!(parse_size("10x").is_err());
        assert!(parse_size("10B").is_err());
    }

    #[test]
    fn block_arg_forms() {
        assert_eq!(parse_block_size("0"), Ok(BlockSize::Bytes(1 << 20)));
        assert_eq!(parse_block_size("10k"), Ok(BlockSize::Bytes(10_000)));
        assert_eq!(parse_block_size("-1"), Ok(BlockSize::PerJobSlot(1.0)));
        assert_eq!(BlockSize::PerJobSlot(1.0).resolve(1000, 2), 501);
        assert_eq!(BlockSize::PerJobSlot(10.0).resolve(1000, 2), 51);
        assert!(parse_block_size("-0").is_err());
    }

    #[test]
    fn escapes_are_gnus() {
        assert_eq!(decode_escapes(br"\n"), b"\n");
        assert_eq!(decode_escapes(br"a\tb\0c\r"), b"a\tb\0c\r");
        assert_eq!(decode_escapes(br#"\\ \' \""#), br#"\ ' ""#);
        assert_eq!(decode_escapes(br"\x\"), br"\x\");
        assert_eq!(decode_escapes(br"\\n"), br"\n");
    }

    #[test]
    fn header_args() {
        assert_eq!(Header::parse(":"), Header::Lines(1));
        assert_eq!(Header::parse("3"), Header::Lines(3));
        assert_eq!(Header::parse("0"), Header::None);
        assert_eq!(Header::parse("#.*\n"), Header::Regex("#.*\n".into()));
    }
}
