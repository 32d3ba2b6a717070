//! The table of replacement strings (`{}` `{.}` … and the `--plus` ones),
//! renamed by `-I`, `--er`, `--bnr`, `--dnr`, `--bner`, `--seqreplace`,
//! `--slotreplace`, and how a command word is cut into text and
//! replacement strings.
//!
//! Matching follows GNU parallel: longer table keys are tried first, each
//! replaced everywhere it occurs outside an already found replacement
//! string, and every key starting with `{` also has positional forms
//! `{3}`, `{3.}`, `{-1/}` ….

use super::ops::{Chain, Op, Replacement, Subst};
use regex::bytes::Regex;

/// What a table key turns into once matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Whole,
    Seq,
    Slot,
    Basename,
    Dirname,
    BaseNoExt,
    NoExt,
    PlusDir,
    PlusExt,
    PlusExt2,
    PlusExt3,
    NoExt2,
    NoExt3,
    BaseNoExt2,
    BaseNoExt3,
    ChooseK,
    Uniq,
    TotalJobs,
    PadSlot,
    PadSeq,
    Default,
    DropStart,
    Substr,
    StripShortPrefix,
    StripLongPrefix,
    StripShortSuffix,
    StripLongSuffix,
    ReplaceFirst,
    ReplacePrefix,
    ReplaceSuffix,
    ReplaceAll,
    UpperFirst,
    UpperAll,
    LowerFirst,
    LowerAll,
    EnvSlot,
    EnvHost,
    EnvSshlogin,
    EnvHgrp,
    EnvAgrp,
    /// A `--rpl` string: Perl code.
    Perl,
}

/// One entry of the table: the key text as GNU parallel writes it
/// (`prefix`, optional `(group regex)`, `postfix`).
#[derive(Debug, Clone)]
struct Entry {
    key: String,
    kind: Kind,
    /// `--rpl`'s Perl code.
    code: Option<String>,
    plain: Regex,
    positional: Option<Regex>,
}

/// A replacement string found in a command.
#[derive(Debug, Clone)]
pub struct Found {
    /// Identity for counting equal replacement strings (`{}` used twice).
    pub key: String,
    /// `{3}` → `Some(3)`; job-level strings (`{#}`, `{%}`) are position 1
    /// as in GNU parallel.
    pub position: Option<i64>,
    /// What to do with the value.
    pub op: Op,
}

/// Errors in replacement strings.
#[derive(Debug, thiserror::Error)]
pub enum RplError {
    /// A regular expression inside `{%...}`-style strings does not compile.
    #[error("bad regular expression in replacement string '{text}': {message}")]
    BadRegex {
        /// The replacement string.
        text: String,
        /// The compiler's message.
        message: String,
    },
    /// A replacement string parx does not implement.
    #[error(
        "replacement string '{0}' is not supported by parx yet (it needs the total number of jobs up front)"
    )]
    Unsupported(String),
    /// `{0}`: positions start at 1.
    #[error(
        "replacement string '{0}' has position 0; positions start at 1 ({{1}} is the first input)"
    )]
    PositionZero(String),
}

/// Custom names given on the command line for the standard strings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Renames {
    /// `-I`/`-i` (for `{}`).
    pub whole: Option<String>,
    /// `--er` (for `{.}`).
    pub no_ext: Option<String>,
    /// `--bnr` (for `{/}`).
    pub basename: Option<String>,
    /// `--dnr` (for `{//}`).
    pub dirname: Option<String>,
    /// `--bner` (for `{/.}`).
    pub base_no_ext: Option<String>,
    /// `--seqreplace` (for `{#}`).
    pub seq: Option<String>,
    /// `--slotreplace` (for `{%}`).
    pub slot: Option<String>,
}

/// The replacement-string table in effect.
#[derive(Debug, Clone)]
pub struct Table {
    entries: Vec<Entry>,
}

const DEFAULTS: &[(&str, Kind)] = &[
    ("{}", Kind::Whole),
    ("{#}", Kind::Seq),
    ("{%}", Kind::Slot),
    ("{/}", Kind::Basename),
    ("{//}", Kind::Dirname),
    ("{/.}", Kind::BaseNoExt),
    ("{.}", Kind::NoExt),
];

const PLUS: &[(&str, Kind)] = &[
    ("{+/}", Kind::PlusDir),
    ("{+.}", Kind::PlusExt),
    ("{+..}", Kind::PlusExt2),
    ("{+...}", Kind::PlusExt3),
    ("{..}", Kind::NoExt2),
    ("{...}", Kind::NoExt3),
    ("{/..}", Kind::BaseNoExt2),
    ("{/...}", Kind::BaseNoExt3),
    ("{choose_k}", Kind::ChooseK),
    ("{uniq}", Kind::Uniq),
    ("{##}", Kind::TotalJobs),
    ("{0%}", Kind::PadSlot),
    ("{0#}", Kind::PadSeq),
    ("{:-([^}]+?)}", Kind::Default),
    ("{:(\\d+?)}", Kind::DropStart),
    ("{:(\\d+?):(\\d+?)}", Kind::Substr),
    ("{#([^#}][^}]*?)}", Kind::StripShortPrefix),
    ("{##([^#}][^}]*?)}", Kind::StripLongPrefix),
    ("{%([^}]+?)}", Kind::StripShortSuffix),
    ("{%%([^}]+?)}", Kind::StripLongSuffix),
    ("{/([^#%}/]+?)/([^}]*?)}", Kind::ReplaceFirst),
    ("{/#([^}]+?)/([^}]*?)}", Kind::ReplacePrefix),
    ("{/%([^}]+?)/([^}]*?)}", Kind::ReplaceSuffix),
    ("{//([^}]+?)/([^}]*?)}", Kind::ReplaceAll),
    ("{^([^}]+?)}", Kind::UpperFirst),
    ("{^^([^}]+?)}", Kind::UpperAll),
    ("{,([^}]+?)}", Kind::LowerFirst),
    ("{,,([^}]+?)}", Kind::LowerAll),
    ("{slot}", Kind::EnvSlot),
    ("{host}", Kind::EnvHost),
    ("{sshlogin}", Kind::EnvSshlogin),
    ("{hgrp}", Kind::EnvHgrp),
    ("{agrp}", Kind::EnvAgrp),
];

/// Splits a key into GNU parallel's (prefix, group regex, postfix).
fn split_key(key: &str) -> (&str, &str, &str) {
    let open = key.find('(');
    let close = key.rfind(')');
    match (open, close) {
        (Some(o), Some(c)) if c > o => (&key[..o], &key[o..=c], &key[c + 1..]),
        _ => (key, "", ""),
    }
}

fn compile(pattern: &str) -> Option<Regex> {
    Regex::new(pattern).ok()
}

impl Entry {
    fn new(key: String, kind: Kind, code: Option<String>) -> Option<Entry> {
        let (prefix, group, postfix) = split_key(&key);
        let plain = compile(&format!(
            "(?s){}{}{}",
            regex::escape(prefix),
            group,
            regex::escape(postfix)
        ))?;
        let positional = match prefix.strip_prefix('{') {
            Some(rest) => Some(compile(&format!(
                "(?s)\\{{(-?\\d+)\\s*{}{}{}",
                regex::escape(rest),
                group,
                regex::escape(postfix)
            ))?),
            None => None,
        };
        Some(Entry {
            key,
            kind,
            code,
            plain,
            positional,
        })
    }
}

impl Table {
    /// The table for the given `--plus` setting, renames and `--rpl`
    /// strings (`(key, perl code)`; a key GNU parallel defines too is
    /// replaced).
    pub fn new(plus: bool, renames: &Renames, user: &[(String, String)]) -> Table {
        let mut list: Vec<(String, Kind, Option<String>)> = Vec::new();
        if plus {
            list.extend(PLUS.iter().map(|(k, v)| (k.to_string(), *v, None)));
        }
        for (key, kind) in DEFAULTS {
            let renamed = match kind {
                Kind::Whole => &renames.whole,
                Kind::NoExt => &renames.no_ext,
                Kind::Basename => &renames.basename,
                Kind::Dirname => &renames.dirname,
                Kind::BaseNoExt => &renames.base_no_ext,
                Kind::Seq => &renames.seq,
                Kind::Slot => &renames.slot,
                _ => &None,
            };
            let key = renamed.clone().unwrap_or_else(|| key.to_string());
            list.retain(|(k, _, _)| *k != key);
            list.push((key, *kind, None));
        }
        for (key, code) in user {
            list.retain(|(k, _, _)| k != key);
            list.push((key.clone(), Kind::Perl, Some(code.clone())));
        }
        // Longest keys first; equal lengths keep table order.
        list.sort_by_key(|(k, _, _)| std::cmp::Reverse(k.len()));
        let entries = list
            .into_iter()
            .filter(|(k, _, _)| !k.is_empty())
            .filter_map(|(k, kind, code)| Entry::new(k, kind, code))
            .collect();
        Table { entries }
    }

    /// Cuts `word` into text and replacement strings.
    pub fn scan(&self, word: &[u8]) -> Result<Vec<Piece>, RplError> {
        let mut pieces = vec![Piece::Text(word.to_vec())];
        for entry in &self.entries {
            for positional in [false, true] {
                let re = if positional {
                    match &entry.positional {
                        Some(re) => re,
                        None => continue,
                    }
                } else {
                    &entry.plain
                };
                let mut next = Vec::with_capacity(pieces.len());
                for piece in pieces {
                    let Piece::Text(text) = piece else {
                        next.push(piece);
                        continue;
                    };
                    let mut last = 0;
                    for caps in re.captures_iter(&text) {
                        let Some(m) = caps.get(0) else { continue };
                        if m.start() > last {
                            next.push(Piece::Text(text[last..m.start()].to_vec()));
                        }
                        let groups: Vec<Vec<u8>> = caps
                            .iter()
                            .skip(1)
                            .map(|g| g.map(|g| g.as_bytes().to_vec()).unwrap_or_default())
                            .collect();
                        let defined = caps.iter().skip(1).take_while(|g| g.is_some()).count();
                        let matched = String::from_utf8_lossy(m.as_bytes()).into_owned();
                        next.push(Piece::Rpl(build(
                            entry, positional, &groups, defined, &matched,
                        )?));
                        last = m.end();
                    }
                    if last < text.len() {
                        next.push(Piece::Text(text[last..].to_vec()));
                    }
                }
                pieces = next;
            }
        }
        Ok(pieces)
    }
}

/// A `--rpl` string found in a command, as GNU parallel rewrites it: the
/// `(...)` groups it matched are set as `$_pAr_gRp1`… (what `$$1`… in its
/// code become) in front of the code, and a positional form keeps its
/// position in front, so the result reads like `{=3 code =}`'s inside.
fn perl_rpl(code: &str, positional: bool, groups: &[Vec<u8>], defined: usize) -> Found {
    let (position, groups, defined) = if positional {
        (Some(&groups[0]), &groups[1..], defined.saturating_sub(1))
    } else {
        (None, groups, defined)
    };
    let mut inner = Vec::new();
    if let Some(p) = position {
        inner.extend_from_slice(p);
    }
    for (i, g) in groups.iter().take(defined).enumerate() {
        inner.extend_from_slice(format!("$_pAr_gRp{} = \"", i + 1).as_bytes());
        for &b in g {
            if matches!(b, b'\\' | b'"' | b'$' | b'@') {
                inner.push(b'\\');
            }
            inner.push(b);
        }
        inner.extend_from_slice(b"\";");
    }
    inner.extend_from_slice(&dollar_groups(code.as_bytes()));
    perl_expr(&inner)
}

/// `$$1` → `$_pAr_gRp1` in `--rpl` code.
fn dollar_groups(code: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(code.len());
    let mut i = 0;
    while i < code.len() {
        if code[i..].starts_with(b"$$") && code.get(i + 2).is_some_and(u8::is_ascii_digit) {
            out.extend_from_slice(b"$_pAr_gRp");
            i += 2;
        } else {
            out.push(code[i]);
            i += 1;
        }
    }
    out
}

/// A `{= inner =}` expression: GNU parallel reads a leading number as
/// the position (`{=3 code =}`; `0` is no position) and drops it and the
/// spaces after it from the code. Empty code is `{}`.
pub fn perl_expr(inner: &[u8]) -> Found {
    let digits_at = |s: &[u8]| {
        let neg = usize::from(s.first() == Some(&b'-'));
        let n = s[neg..].iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 { 0 } else { neg + n }
    };
    let n = digits_at(inner);
    let position = std::str::from_utf8(&inner[..n])
        .ok()
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|&p| p != 0);
    let mut rest = &inner[n..];
    rest = &rest[digits_at(rest)..];
    let spaces = rest.iter().take_while(|&&b| b == b' ').count();
    let code = rest[spaces..].to_vec();
    let op = if code.is_empty() {
        Op::Whole
    } else {
        Op::Perl { code, id: 0 }
    };
    let key = format!("perl\u{0}{}", String::from_utf8_lossy(inner));
    Found { key, position, op }
}

/// A part of a command word.
#[derive(Debug, Clone)]
pub enum Piece {
    /// Literal text.
    Text(Vec<u8>),
    /// A replacement string.
    Rpl(Found),
}

/// GNU parallel's `make_regexp_ungreedy`: `*`, `+` and `}` quantifiers
/// outside classes become lazy.
fn ungreedy(re: &str) -> String {
    let mut out = String::with_capacity(re.len() + 4);
    let (mut class, mut escape, mut found) = (false, false, false);
    for c in re.chars() {
        if found {
            if c != '?' {
                out.push('?');
            }
            found = false;
        }
        out.push(c);
        if escape {
            escape = false;
            continue;
        }
        if c == '\\' {
            escape = true;
            continue;
        }
        if c == '[' {
            class = true;
            continue;
        }
        if class {
            if c == ']' {
                class = false;
            }
            continue;
        }
        if matches!(c, '*' | '}' | '+') {
            found = true;
        }
    }
    if found {
        out.push('?');
    }
    out
}

fn build(
    entry: &Entry,
    positional: bool,
    groups: &[Vec<u8>],
    defined: usize,
    matched: &str,
) -> Result<Found, RplError> {
    if let Some(code) = &entry.code {
        return Ok(perl_rpl(code, positional, groups, defined));
    }
    let (position, groups) = if positional {
        let pos = std::str::from_utf8(&groups[0])
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(0);
        if pos == 0 {
            return Err(RplError::PositionZero(matched.to_string()));
        }
        (Some(pos), &groups[1..])
    } else {
        (None, groups)
    };
    let text = |i: usize| {
        String::from_utf8_lossy(groups.get(i).map(Vec::as_slice).unwrap_or_default()).into_owned()
    };
    let bytes = |i: usize| groups.get(i).cloned().unwrap_or_default();
    let num = |i: usize| text(i).parse::<usize>().unwrap_or(usize::MAX);
    let subst = |steps: &[(String, Replacement, bool, Chain)]| -> Result<Op, RplError> {
        let mut out = Vec::new();
        for (pattern, with, global, chain) in steps {
            out.push(
                Subst::new(pattern, with.clone(), *global, *chain).map_err(|e| {
                    RplError::BadRegex {
                        text: matched.to_string(),
                        message: e
                            .to_string()
                            .lines()
                            .last()
                            .unwrap_or("")
                            .trim()
                            .to_string(),
                    }
                })?,
            );
        }
        Ok(Op::Subst(out))
    };
    let del = || Replacement::Literal(Vec::new());
    let s = |p: &str| p.to_string();
    use Chain::{OrElse, Then};
    let op = match entry.kind {
        Kind::Whole => Op::Whole,
        Kind::Seq => Op::Seq,
        Kind::Slot => Op::Slot,
        Kind::PadSlot => Op::PadSlot,
        Kind::TotalJobs => Op::TotalJobs,
        Kind::PadSeq => Op::PadSeq,
        Kind::Dirname => Op::Dirname,
        Kind::Basename => subst(&[(s(".*/"), del(), false, Then)])?,
        Kind::NoExt => subst(&[(s(r"\.[^/.]*$"), del(), false, Then)])?,
        Kind::BaseNoExt => subst(&[
            (s(".*/"), del(), false, Then),
            (s(r"\.[^/.]*$"), del(), false, Then),
        ])?,
        Kind::PlusDir => subst(&[
            (s("/[^/]*$"), del(), false, Then),
            (s(".*$"), del(), false, OrElse),
        ])?,
        Kind::PlusExt => subst(&[
            (s(r".*\."), del(), false, Then),
            (s(".*$"), del(), false, OrElse),
        ])?,
        Kind::PlusExt2 => subst(&[
            (
                s(r".*\.([^/.]*\.[^/.]*)$"),
                Replacement::Group1,
                false,
                Then,
            ),
            (s(".*$"), del(), false, OrElse),
        ])?,
        Kind::PlusExt3 => subst(&[
            (
                s(r".*\.([^/.]*\.[^/.]*\.[^/.]*)$"),
                Replacement::Group1,
                false,
                Then,
            ),
            (s(".*$"), del(), false, OrElse),
        ])?,
        Kind::NoExt2 => subst(&[(s(r"\.[^/.]*\.[^/.]*$"), del(), false, Then)])?,
        Kind::NoExt3 => subst(&[(s(r"\.[^/.]*\.[^/.]*\.[^/.]*$"), del(), false, Then)])?,
        Kind::BaseNoExt2 => subst(&[
            (s(".*/"), del(), false, Then),
            (s(r"\.[^/.]*\.[^/.]*$"), del(), false, Then),
        ])?,
        Kind::BaseNoExt3 => subst(&[
            (s(".*/"), del(), false, Then),
            (s(r"\.[^/.]*\.[^/.]*\.[^/.]*$"), del(), false, Then),
        ])?,
        Kind::ChooseK => Op::ChooseK,
        Kind::Uniq => Op::Uniq,
        Kind::Default => Op::Default(bytes(0)),
        Kind::DropStart => Op::DropStart(num(0)),
        Kind::Substr => Op::Substr(num(0), num(1)),
        Kind::StripShortPrefix => subst(&[(
            format!("^{}(.*)", ungreedy(&text(0))),
            Replacement::Group1,
            false,
            Then,
        )])?,
        Kind::StripLongPrefix => subst(&[(format!("^{}", text(0)), del(), false, Then)])?,
        Kind::StripShortSuffix => subst(&[(
            format!("(.*){}$", ungreedy(&text(0))),
            Replacement::Group1,
            false,
            Then,
        )])?,
        Kind::StripLongSuffix => subst(&[(format!("{}$", text(0)), del(), false, Then)])?,
        Kind::ReplaceFirst => subst(&[(text(0), Replacement::Literal(bytes(1)), false, Then)])?,
        Kind::ReplacePrefix => subst(&[(
            format!("^{}", text(0)),
            Replacement::Literal(bytes(1)),
            true,
            Then,
        )])?,
        Kind::ReplaceSuffix => subst(&[(
            format!("{}$", text(0)),
            Replacement::Literal(bytes(1)),
            true,
            Then,
        )])?,
        Kind::ReplaceAll => subst(&[(text(0), Replacement::Literal(bytes(1)), true, Then)])?,
        Kind::UpperFirst => subst(&[(format!("^({})", text(0)), Replacement::Upper, false, Then)])?,
        Kind::UpperAll => subst(&[(format!("({})", text(0)), Replacement::Upper, true, Then)])?,
        Kind::LowerFirst => subst(&[(format!("^({})", text(0)), Replacement::Lower, false, Then)])?,
        Kind::LowerAll => subst(&[(format!("({})", text(0)), Replacement::Lower, true, Then)])?,
        Kind::EnvSlot => Op::Unquoted(b"${PARALLEL_JOBSLOT}".to_vec()),
        Kind::EnvHost => Op::Unquoted(b"${PARALLEL_SSHHOST}".to_vec()),
        Kind::EnvSshlogin => Op::Unquoted(b"${PARALLEL_SSHLOGIN}".to_vec()),
        Kind::EnvHgrp => Op::Unquoted(b"${PARALLEL_HOSTGROUPS}".to_vec()),
        Kind::EnvAgrp => Op::Unquoted(b"${PARALLEL_ARGHOSTGROUPS}".to_vec()),
        Kind::Perl => unreachable!("--rpl entries carry their code"),
    };
    let position = if op.is_job_level() { Some(1) } else { position };
    let key = format!(
        "{}\u{0}{}\u{0}{}",
        position.map(|p| p.to_string()).unwrap_or_default(),
        entry.key,
        groups
            .iter()
            .map(|g| String::from_utf8_lossy(g).into_owned())
            .collect::<Vec<_>>()
            .join("\u{0}")
    );
    Ok(Found { key, position, op })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ungreedy_like_gnu() {
        assert_eq!(ungreedy(".z.*z"), ".z.*?z");
        assert_eq!(ungreedy("a+?b"), "a+?b");
        assert_eq!(ungreedy("[*]x*"), "[*]x*?");
        assert_eq!(ungreedy(r"\*a{2}"), r"\*a{2}?");
    }

    #[test]
    fn scans_positional_and_plain() {
        let t = Table::new(false, &Renames::default(), &[]);
        let p = t.scan(b"a{}b{2.}c{-1//}").unwrap();
        let kinds: Vec<String> = p
            .iter()
            .map(|p| match p {
                Piece::Text(t) => String::from_utf8_lossy(t).into_owned(),
                Piece::Rpl(f) => format!("<{:?}>", f.position),
            })
            .collect();
        assert_eq!(kinds, ["a", "<None>", "b", "<Some(2)>", "c", "<Some(-1)>"]);
    }
}
