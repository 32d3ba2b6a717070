//! The command template: command words cut into literal text, unquoted
//! spaces and replacement strings, the way GNU parallel's
//! `replace_placeholders` sees them, plus the lengths it uses to decide
//! how many arguments fit on one line.

use super::ops::{JobContext, Op};
use super::perl::{Perl, PerlError};
use super::quote::{quote_into, quote_len};
use super::rpl::{Found, Piece, RplError, Table, perl_expr};
use crate::input::is_space;
use std::sync::Arc;

/// `--trim`: white space removed from values before substitution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Trim {
    /// `n` (default without `--colsep`).
    #[default]
    None,
    /// `l`.
    Left,
    /// `r`.
    Right,
    /// `lr`/`rl` (default with `--colsep`).
    Both,
}

impl Trim {
    /// Applies the trim to a value.
    pub fn apply<'a>(&self, v: &'a [u8]) -> &'a [u8] {
        let mut s = v;
        if matches!(self, Trim::Left | Trim::Both) {
            let start = s.iter().position(|&b| !is_space(b)).unwrap_or(s.len());
            s = &s[start..];
        }
        if matches!(self, Trim::Right | Trim::Both) {
            let end = s.iter().rposition(|&b| !is_space(b)).map_or(0, |i| i + 1);
            s = &s[..end];
        }
        s
    }
}

/// Errors in the command template.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// A replacement string is wrong.
    #[error(transparent)]
    Rpl(#[from] RplError),
    /// A Perl expression does not compile, or perl is missing.
    #[error(transparent)]
    Perl(#[from] PerlError),
}

/// Settings that shape the template.
#[derive(Debug, Clone, Default)]
pub struct TemplateOptions {
    /// `-q`: quote the whole command, do not quote the values.
    pub quote_all: bool,
    /// `-X`, `-N`, `-L`: context replace (the word around `{}` repeated per
    /// argument).
    pub context: bool,
    /// `--trim`.
    pub trim: Trim,
    /// `--pipe`/`--pipepart` without `--cat`/`--fifo`: no `{}` is appended.
    pub no_append: bool,
    /// `--parens` left and right (default `{=` `=}`).
    pub parens: (String, String),
    /// Number of job slots (`-j`), for `{0%}`.
    pub slots: usize,
    /// A `--tagstring` rather than the command: nothing appended, values
    /// never quoted.
    pub for_tag: bool,
    /// The run's Perl session, for `{= =}` and `--rpl` strings.
    pub perl: Option<Arc<Perl>>,
}

/// One token of the command.
#[derive(Debug, Clone)]
pub(crate) enum Tok {
    /// Literal text (white space characters are tokens of their own).
    Text(Vec<u8>),
    /// The unquoted space between two command words.
    Spc,
    /// An empty command word (`''` on the command line).
    Empty,
    /// A replacement string, index into `Template::rpls`.
    Rpl(usize),
}

/// A distinct replacement string and how often it occurs.
#[derive(Debug, Clone)]
pub(crate) struct RplUse {
    pub key: String,
    pub position: Option<i64>,
    pub op: Op,
    pub count: usize,
}

/// A parsed command template.
#[derive(Debug, Clone)]
pub struct Template {
    pub(crate) toks: Vec<Tok>,
    pub(crate) rpls: Vec<RplUse>,
    /// Values are quoted (false when the command starts with a
    /// replacement string, as `parallel {} ::: "echo a"`, or with `-q`).
    pub(crate) quote_args: bool,
    pub(crate) quote_all: bool,
    pub(crate) context: bool,
    pub(crate) trim: Trim,
    pub(crate) slots: usize,
    /// GNU parallel's length bookkeeping.
    pub(crate) len_noncontext: usize,
    pub(crate) len_context: usize,
    pub(crate) len_contextgroups: usize,
    pub(crate) words: usize,
    /// The Perl session, when some replacement string is Perl.
    pub(crate) perl: Option<Arc<Perl>>,
}

fn split_ws(text: &[u8], out: &mut Vec<Tok>) {
    let mut start = 0;
    for (i, &b) in text.iter().enumerate() {
        if is_space(b) {
            if i > start {
                out.push(Tok::Text(text[start..i].to_vec()));
            }
            out.push(Tok::Text(vec![b]));
            start = i + 1;
        }
    }
    if start < text.len() {
        out.push(Tok::Text(text[start..].to_vec()));
    }
}

impl Template {
    /// Parses the command words.
    pub fn parse(
        words: &[Vec<u8>],
        table: &Table,
        options: &TemplateOptions,
    ) -> Result<Template, TemplateError> {
        let (left, right) = (options.parens.0.as_bytes(), options.parens.1.as_bytes());
        let merged;
        let words = if left.is_empty() || right.is_empty() {
            words
        } else {
            merged = merge_parens(words, left, right);
            &merged[..]
        };
        let mut pieces_per_word = Vec::with_capacity(words.len());
        for word in words {
            let mut pieces = Vec::new();
            for part in split_parens(word, left, right) {
                match part {
                    Ok(text) => pieces.extend(table.scan(text)?),
                    Err(inner) => pieces.push(Piece::Rpl(perl_expr(inner))),
                }
            }
            pieces_per_word.push(pieces);
        }
        let mut perl = None;
        for piece in pieces_per_word.iter_mut().flatten() {
            if let Piece::Rpl(Found {
                op: Op::Perl { code, id },
                ..
            }) = piece
            {
                let session = options
                    .perl
                    .as_ref()
                    .ok_or(PerlError::Coproc(super::perl::CoprocError::NotInstalled))?;
                *id = session.register(code)?;
                perl = Some(Arc::clone(session));
            }
        }
        let has_rpl = pieces_per_word
            .iter()
            .flatten()
            .any(|p| matches!(p, Piece::Rpl(_)));
        let mut words: Vec<Vec<Piece>> = pieces_per_word;
        let mut starts_with_rpl = false;
        if !has_rpl && !options.no_append && !options.for_tag {
            let whole = table.scan(b"{}").ok().and_then(|p| p.into_iter().next());
            let found = match whole {
                Some(Piece::Rpl(f)) => f,
                _ => Found {
                    key: "\u{0}{}\u{0}".into(),
                    position: None,
                    op: Op::Whole,
                },
            };
            words.push(vec![Piece::Rpl(found)]);
        }
        // GNU parallel: `"@command" =~ /^[^ \t\n=]*\257</` turns quoting off.
        'outer: for (wi, word) in words.iter().enumerate() {
            if wi > 0 {
                break;
            }
            for piece in word {
                match piece {
                    Piece::Rpl(_) => {
                        starts_with_rpl = true;
                        break 'outer;
                    }
                    Piece::Text(t) => {
                        if t.iter().any(|&b| matches!(b, b' ' | b'\t' | b'\n' | b'=')) {
                            break 'outer;
                        }
                    }
                }
            }
        }
        let mut toks = Vec::new();
        let mut rpls: Vec<RplUse> = Vec::new();
        let (mut len_noncontext, mut len_context, mut len_contextgroups) = (0, 0, 0);
        for (wi, word) in words.iter().enumerate() {
            if wi > 0 {
                toks.push(Tok::Spc);
            }
            if word.is_empty() {
                toks.push(Tok::Empty);
            }
            // Lengths: runs of non-space around a replacement are context.
            let mut flat: Vec<Option<u8>> = Vec::new();
            for piece in word {
                match piece {
                    Piece::Text(t) => {
                        split_ws(t, &mut toks);
                        flat.extend(t.iter().map(|&b| Some(b)));
                    }
                    Piece::Rpl(f) => {
                        let idx = match rpls.iter().position(|r| r.key == f.key) {
                            Some(i) => {
                                rpls[i].count += 1;
                                i
                            }
                            None => {
                                rpls.push(RplUse {
                                    key: f.key.clone(),
                                    position: f.position,
                                    op: f.op.clone(),
                                    count: 1,
                                });
                                rpls.len() - 1
                            }
                        };
                        toks.push(Tok::Rpl(idx));
                        flat.push(None);
                    }
                }
            }
            let mut i = 0;
            while i < flat.len() {
                if flat[i].is_some_and(is_space) {
                    len_noncontext += 1;
                    i += 1;
                    continue;
                }
                let start = i;
                while i < flat.len() && !flat[i].is_some_and(is_space) {
                    i += 1;
                }
                let run = &flat[start..i];
                let text_len = run.iter().filter(|b| b.is_some()).count();
                if run.iter().any(Option::is_none) {
                    len_context += text_len;
                    len_contextgroups += 1;
                } else {
                    len_noncontext += text_len;
                }
            }
        }
        Ok(Template {
            toks,
            rpls,
            quote_args: !options.quote_all && !starts_with_rpl && !options.for_tag,
            quote_all: options.quote_all && !options.for_tag,
            context: options.context,
            trim: options.trim,
            slots: options.slots,
            len_noncontext,
            len_context,
            len_contextgroups,
            words: words.len(),
            perl,
        })
    }

    /// A computed Perl value for replacement `r`, quoted if needed,
    /// appended to `out`.
    pub(crate) fn perl_value_into(&self, value: &super::perl::Value, out: &mut Vec<u8>) {
        if self.quote_args && !value.unquoted {
            quote_into(&value.bytes, out);
        } else {
            out.extend_from_slice(&value.bytes);
        }
    }

    /// The value of replacement `r` for argument `arg`, quoted if needed,
    /// appended to `out`.
    pub(crate) fn replace_into(&self, r: usize, arg: &[u8], ctx: &JobContext, out: &mut Vec<u8>) {
        let rpl = &self.rpls[r];
        let value = rpl.op.apply(self.trim.apply(arg), ctx);
        if self.quote_args && !rpl.op.unquoted() {
            quote_into(&value, out);
        } else {
            out.extend_from_slice(&value);
        }
    }

    /// Length of [`Self::replace_into`]'s output.
    pub(crate) fn replace_len(&self, r: usize, arg: &[u8], ctx: &JobContext) -> usize {
        let rpl = &self.rpls[r];
        let trimmed = self.trim.apply(arg);
        if matches!(rpl.op, Op::Whole) {
            return if self.quote_args {
                quote_len(trimmed)
            } else {
                trimmed.len()
            };
        }
        let mut out = Vec::new();
        self.replace_into(r, arg, ctx, &mut out);
        out.len()
    }

    /// True if the code of some Perl expression contains `word`.
    pub(crate) fn perl_uses(&self, word: &[u8]) -> bool {
        self.rpls.iter().any(|r| match &r.op {
            Op::Perl { code, .. } => memchr::memmem::find(code, word).is_some(),
            _ => false,
        })
    }

    /// True if some replacement string needs the number of jobs in all.
    pub(crate) fn needs_total(&self) -> bool {
        self.rpls.iter().any(|r| r.op.needs_total())
    }

    /// True if some replacement string skips jobs (`{uniq}`, `{choose_k}`).
    pub(crate) fn skip_rule(&self) -> Option<&Op> {
        self.rpls
            .iter()
            .map(|r| &r.op)
            .find(|op| matches!(op, Op::Uniq | Op::ChooseK))
    }
}

/// GNU parallel's `merge_rpl_parts`: command words are joined (with a
/// space) while a `{=` is left open, so `echo {= s/a/b/ =}` given as four
/// words holds one expression.
fn merge_parens(words: &[Vec<u8>], left: &[u8], right: &[u8]) -> Vec<Vec<u8>> {
    let open = |w: &[u8]| {
        // `while(s/(.*)$l.*?$r/$1/os) {}`: drop closed pairs, rightmost
        // opening first; an opening left over is open.
        let mut w = w.to_vec();
        while let Some(l) = memchr::memmem::rfind(&w, left) {
            match memchr::memmem::find(&w[l + left.len()..], right) {
                Some(r) => {
                    w.drain(l..l + left.len() + r + right.len());
                }
                None => return true,
            }
        }
        false
    };
    let mut out = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let mut s = words[i].clone();
        i += 1;
        while open(&s) && i < words.len() {
            s.push(b' ');
            s.extend_from_slice(&words[i]);
            i += 1;
        }
        out.push(s);
    }
    out
}

/// Cuts a word into text (`Ok`) and the insides of `{= ... =}` (`Err`),
/// matching as GNU parallel's
/// `s/{=((?:(?!{=|=}).)*?)=}/.../gs`: an expression holds no `{=` or `=}`.
fn split_parens<'a>(word: &'a [u8], left: &[u8], right: &[u8]) -> Vec<Result<&'a [u8], &'a [u8]>> {
    let mut out = Vec::new();
    if left.is_empty() || right.is_empty() {
        out.push(Ok(word));
        return out;
    }
    let (mut last, mut i) = (0, 0);
    while let Some(start) = memchr::memmem::find(&word[i..], left).map(|s| s + i) {
        let from = start + left.len();
        let mut k = from;
        let end = loop {
            if k >= word.len() {
                break None;
            }
            if word[k..].starts_with(right) {
                break Some(k);
            }
            if word[k..].starts_with(left) {
                break None;
            }
            k += 1;
        };
        match end {
            Some(k) => {
                if start > last {
                    out.push(Ok(&word[last..start]));
                }
                out.push(Err(&word[from..k]));
                last = k + right.len();
                i = last;
            }
            None => i = start + 1,
        }
    }
    if last < word.len() || out.is_empty() {
        out.push(Ok(&word[last..]));
    }
    out
}
