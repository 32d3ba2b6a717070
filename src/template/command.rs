//! The command template: command words cut into literal text, unquoted
//! spaces and replacement strings, the way GNU parallel's
//! `replace_placeholders` sees them, plus the lengths it uses to decide
//! how many arguments fit on one line.

use super::ops::{JobContext, Op};
use super::quote::{quote_into, quote_len};
use super::rpl::{Found, Piece, RplError, Table};
use crate::input::is_space;

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
    /// `{= perl =}` needs Perl.
    #[error(
        "'{0}': {{= perl expression =}} replacement strings need Perl, which parx does not embed; use a --plus replacement string, or pipe the value through a command in the job"
    )]
    Perl(String),
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
        let (left, right) = (&options.parens.0, &options.parens.1);
        let mut pieces_per_word = Vec::with_capacity(words.len());
        for word in words {
            pieces_per_word.push(table.scan(word)?);
        }
        if !left.is_empty() && !right.is_empty() {
            let joined = words.join(&b' ');
            if let Some(i) = memchr::memmem::find(&joined, left.as_bytes())
                && memchr::memmem::find(&joined[i + left.len()..], right.as_bytes()).is_some()
            {
                return Err(TemplateError::Perl(
                    String::from_utf8_lossy(&joined).into_owned(),
                ));
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
        })
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
