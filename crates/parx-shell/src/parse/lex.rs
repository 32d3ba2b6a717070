//! The lexer: command bytes to tokens (operators, words with their quoted
//! and expanded parts, newlines), as methods of the one-pass `Parser`.

use super::{Fail, ParseError, Parser, is_special_var, parse_fd};
use crate::ast::{Part, Word};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    AndAnd,
    OrOr,
    Pipe,
    PipeAmp,
    Semi,
    Less,
    Great,
    DGreat,
    Clobber,
    LessGreat,
    LessAnd,
    GreatAnd,
    AndGreat,
    AndDGreat,
}

impl Op {
    pub(super) fn text(self) -> &'static str {
        match self {
            Op::AndAnd => "&&",
            Op::OrOr => "||",
            Op::Pipe => "|",
            Op::PipeAmp => "|&",
            Op::Semi => ";",
            Op::Less => "<",
            Op::Great => ">",
            Op::DGreat => ">>",
            Op::Clobber => ">|",
            Op::LessGreat => "<>",
            Op::LessAnd => "<&",
            Op::GreatAnd => ">&",
            Op::AndGreat => "&>",
            Op::AndDGreat => "&>>",
        }
    }

    pub(super) fn is_redir(self) -> bool {
        matches!(
            self,
            Op::Less
                | Op::Great
                | Op::DGreat
                | Op::Clobber
                | Op::LessGreat
                | Op::LessAnd
                | Op::GreatAnd
                | Op::AndGreat
                | Op::AndDGreat
        )
    }
}

#[derive(Debug)]
pub(super) struct WordTok {
    pub(super) word: Word,
    /// Written with no quote, escape or expansion at all.
    pub(super) plain: bool,
    /// Length of `NAME` if the word is `NAME=value` with an unquoted name.
    pub(super) assign: Option<usize>,
    pub(super) line: u32,
}

#[derive(Debug)]
pub(super) enum Tok {
    Word(WordTok),
    IoNumber(i32),
    Op(Op),
    Newline,
    Eof,
}

pub(super) fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

pub(super) fn is_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn is_meta(c: u8) -> bool {
    matches!(
        c,
        b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'<' | b'>' | b'(' | b')'
    )
}

/// Accumulates the parts of one word.
#[derive(Default)]
struct WordBuf {
    parts: Vec<Part>,
    lit: Vec<u8>,
    /// `lit` holds a literal (possibly empty, from quotes) to flush.
    lit_present: bool,
}

impl WordBuf {
    pub(super) fn push(&mut self, c: u8) {
        self.lit.push(c);
        self.lit_present = true;
    }

    pub(super) fn mark_quoted(&mut self) {
        self.lit_present = true;
    }

    pub(super) fn expansion(&mut self, part: Part) {
        self.flush();
        self.parts.push(part);
    }

    pub(super) fn flush(&mut self) {
        if self.lit_present {
            self.parts.push(Part::Lit(std::mem::take(&mut self.lit)));
            self.lit_present = false;
        }
    }

    pub(super) fn finish(mut self) -> Word {
        self.flush();
        Word { parts: self.parts }
    }
}

impl<'a> Parser<'a> {
    pub(super) fn peek_byte(&self, ahead: usize) -> Option<u8> {
        self.src.get(self.pos + ahead).copied()
    }

    pub(super) fn syntax(&self, message: String) -> Fail {
        Fail::Syntax(ParseError {
            line: self.line,
            message,
        })
    }

    pub(super) fn unexpected(&self, tok: &Tok) -> Fail {
        match tok {
            Tok::Eof => self.syntax("syntax error: unexpected end of file".into()),
            Tok::Newline => self.syntax("syntax error near unexpected token `newline'".into()),
            Tok::Op(op) => self.syntax(format!(
                "syntax error near unexpected token `{}'",
                op.text()
            )),
            Tok::IoNumber(n) => self.syntax(format!("syntax error near unexpected token `{n}'")),
            Tok::Word(_) => self.syntax("syntax error near unexpected word".into()),
        }
    }

    pub(super) fn fill(&mut self) -> Result<(), Fail> {
        if self.peeked.is_none() {
            self.skip_blanks();
            let start = self.pos;
            let t = self.lex()?;
            self.peeked = Some((t, start, self.pos));
        }
        Ok(())
    }

    pub(super) fn peek(&mut self) -> Result<&Tok, Fail> {
        self.fill()?;
        match &self.peeked {
            Some((t, _, _)) => Ok(t),
            None => Err(Fail::Unsupported("lexer state")),
        }
    }

    /// Byte offset where the next token starts.
    pub(super) fn peek_start(&mut self) -> Result<usize, Fail> {
        self.fill()?;
        Ok(self.peeked.as_ref().map_or(self.pos, |(_, s, _)| *s))
    }

    pub(super) fn next(&mut self) -> Result<Tok, Fail> {
        match self.peeked.take() {
            Some((t, _, end)) => {
                self.last_end = end;
                Ok(t)
            }
            None => {
                let t = self.lex()?;
                self.last_end = self.pos;
                Ok(t)
            }
        }
    }

    /// Skips blanks, line continuations and comments.
    pub(super) fn skip_blanks(&mut self) {
        loop {
            match self.peek_byte(0) {
                Some(b' ' | b'\t') => self.pos += 1,
                Some(b'\\') if self.peek_byte(1) == Some(b'\n') => {
                    self.pos += 2;
                    self.line += 1;
                }
                Some(b'#') => {
                    while let Some(c) = self.peek_byte(0) {
                        if c == b'\n' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                _ => return,
            }
        }
    }

    pub(super) fn lex(&mut self) -> Result<Tok, Fail> {
        self.skip_blanks();
        let Some(c) = self.peek_byte(0) else {
            return Ok(Tok::Eof);
        };
        let c1 = self.peek_byte(1);
        let (op, len) = match c {
            b'\n' => {
                self.pos += 1;
                self.line += 1;
                return Ok(Tok::Newline);
            }
            b'|' => match c1 {
                Some(b'|') => (Op::OrOr, 2),
                Some(b'&') => (Op::PipeAmp, 2),
                _ => (Op::Pipe, 1),
            },
            b'&' => match (c1, self.peek_byte(2)) {
                (Some(b'&'), _) => (Op::AndAnd, 2),
                (Some(b'>'), Some(b'>')) => (Op::AndDGreat, 3),
                (Some(b'>'), _) => (Op::AndGreat, 2),
                _ => return Err(Fail::Unsupported("background job `&'")),
            },
            b';' => match c1 {
                Some(b';' | b'&') => return Err(Fail::Unsupported("case terminator")),
                _ => (Op::Semi, 1),
            },
            b'<' => match c1 {
                Some(b'<') => return Err(Fail::Unsupported("here-document")),
                Some(b'&') => (Op::LessAnd, 2),
                Some(b'>') => (Op::LessGreat, 2),
                Some(b'(') => return Err(Fail::Unsupported("process substitution")),
                _ => (Op::Less, 1),
            },
            b'>' => match c1 {
                Some(b'>') => (Op::DGreat, 2),
                Some(b'&') => (Op::GreatAnd, 2),
                Some(b'|') => (Op::Clobber, 2),
                Some(b'(') => return Err(Fail::Unsupported("process substitution")),
                _ => (Op::Great, 1),
            },
            b'(' | b')' => return Err(Fail::Unsupported("subshell or function")),
            _ => return self.word(),
        };
        self.pos += len;
        Ok(Tok::Op(op))
    }

    pub(super) fn word(&mut self) -> Result<Tok, Fail> {
        let line = self.line;
        let start = self.pos;
        let mut buf = WordBuf::default();
        let mut plain = true;
        let mut assign = None;
        let mut saw_bracket = false;
        // An unquoted `{` and a `,` or `..` after it: a `}` would make a
        // brace expansion.
        let mut brace_open = false;
        let mut brace_sep = false;
        // The previous unquoted literal byte, for tilde detection.
        let mut prev: Option<u8> = None;
        while let Some(c) = self.peek_byte(0) {
            if is_meta(c) {
                break;
            }
            let mut this: Option<u8> = None;
            match c {
                b'\\' => match self.peek_byte(1) {
                    Some(b'\n') => {
                        self.pos += 2;
                        self.line += 1;
                        plain = false;
                        continue;
                    }
                    Some(n) => {
                        buf.push(n);
                        self.pos += 2;
                        plain = false;
                    }
                    None => {
                        buf.push(b'\\');
                        self.pos += 1;
                        plain = false;
                    }
                },
                b'\'' => {
                    let rest = &self.src[self.pos + 1..];
                    let Some(end) = memchr::memchr(b'\'', rest) else {
                        return Err(Fail::Unsupported("unterminated quote"));
                    };
                    let body = &rest[..end];
                    self.line += memchr::memchr_iter(b'\n', body).count() as u32;
                    buf.mark_quoted();
                    buf.lit.extend_from_slice(body);
                    self.pos += end + 2;
                    plain = false;
                }
                b'"' => {
                    self.double_quoted(&mut buf)?;
                    plain = false;
                }
                b'$' => {
                    self.dollar(&mut buf, false)?;
                    plain = false;
                }
                b'`' => return Err(Fail::Unsupported("command substitution")),
                b'*' | b'?' => return Err(Fail::Unsupported("glob")),
                b'[' => {
                    if plain
                        && self.pos > start
                        && is_name_start(self.src[start])
                        && self.src[start..self.pos].iter().all(|&b| is_name_char(b))
                    {
                        // `name[`: bash reads an array subscript here.
                        return Err(Fail::Unsupported("array subscript"));
                    }
                    saw_bracket = true;
                    buf.push(c);
                    self.pos += 1;
                    this = Some(c);
                }
                b']' if saw_bracket => return Err(Fail::Unsupported("glob")),
                b'{' => {
                    brace_open = true;
                    brace_sep = false;
                    buf.push(c);
                    self.pos += 1;
                    this = Some(c);
                }
                b'}' if brace_open && brace_sep => {
                    return Err(Fail::Unsupported("brace expansion"));
                }
                b'~' if self.pos == start || matches!(prev, Some(b'=' | b':')) => {
                    return Err(Fail::Unsupported("tilde expansion"));
                }
                b'=' => {
                    if assign.is_none()
                        && prev == Some(b'+')
                        && plain
                        && is_name_start(self.src[start])
                        && self.src[start..self.pos - 1]
                            .iter()
                            .all(|&b| is_name_char(b))
                    {
                        return Err(Fail::Unsupported("`+=' assignment"));
                    }
                    if assign.is_none()
                        && plain
                        && self.pos > start
                        && is_name_start(self.src[start])
                        && self.src[start..self.pos].iter().all(|&b| is_name_char(b))
                    {
                        assign = Some(self.pos - start);
                    }
                    buf.push(c);
                    self.pos += 1;
                    this = Some(c);
                }
                _ => {
                    if brace_open && (c == b',' || (c == b'.' && prev == Some(b'.'))) {
                        brace_sep = true;
                    }
                    buf.push(c);
                    self.pos += 1;
                    this = Some(c);
                }
            }
            prev = this;
        }
        let word = buf.finish();
        if plain {
            let text = &self.src[start..self.pos];
            if matches!(self.peek_byte(0), Some(b'<' | b'>'))
                && !text.is_empty()
                && text.iter().all(u8::is_ascii_digit)
            {
                return match parse_fd(text) {
                    Some(n) => Ok(Tok::IoNumber(n)),
                    None => Err(Fail::Unsupported("large fd number")),
                };
            }
        }
        Ok(Tok::Word(WordTok {
            word,
            plain,
            assign,
            line,
        }))
    }

    fn double_quoted(&mut self, buf: &mut WordBuf) -> Result<(), Fail> {
        self.pos += 1;
        buf.mark_quoted();
        loop {
            let Some(c) = self.peek_byte(0) else {
                return Err(Fail::Unsupported("unterminated quote"));
            };
            match c {
                b'"' => {
                    self.pos += 1;
                    buf.mark_quoted();
                    return Ok(());
                }
                b'\\' => match self.peek_byte(1) {
                    Some(b'\n') => {
                        self.pos += 2;
                        self.line += 1;
                    }
                    Some(n @ (b'$' | b'`' | b'"' | b'\\')) => {
                        buf.push(n);
                        self.pos += 2;
                    }
                    _ => {
                        buf.push(b'\\');
                        self.pos += 1;
                    }
                },
                b'$' => self.dollar(buf, true)?,
                b'`' => return Err(Fail::Unsupported("command substitution")),
                b'!' => return Err(Fail::Unsupported("`!' in double quotes")),
                _ => {
                    if c == b'\n' {
                        self.line += 1;
                    }
                    buf.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// At a `$`: a parameter expansion, or a literal `$`.
    fn dollar(&mut self, buf: &mut WordBuf, quoted: bool) -> Result<(), Fail> {
        let next = self.peek_byte(1);
        match next {
            Some(b'{') => {
                let rest = &self.src[self.pos + 2..];
                let len = rest.iter().take_while(|&&b| is_name_char(b)).count();
                if rest.get(len) != Some(&b'}') {
                    if rest.first() == Some(&b'?') && rest.get(1) == Some(&b'}') {
                        buf.expansion(Part::Status { quoted });
                        self.pos += 4;
                        return Ok(());
                    }
                    return Err(Fail::Unsupported("parameter expansion"));
                }
                let name = &rest[..len];
                let name = self.var_name(name)?;
                buf.expansion(Part::Var { name, quoted });
                self.pos += 2 + len + 1;
            }
            Some(c) if is_name_start(c) => {
                let rest = &self.src[self.pos + 1..];
                let len = rest.iter().take_while(|&&b| is_name_char(b)).count();
                let name = self.var_name(&rest[..len])?;
                buf.expansion(Part::Var { name, quoted });
                self.pos += 1 + len;
            }
            Some(b'?') => {
                buf.expansion(Part::Status { quoted });
                self.pos += 2;
            }
            Some(b'(') => return Err(Fail::Unsupported("command substitution")),
            Some(b'[') => return Err(Fail::Unsupported("$[...] arithmetic")),
            Some(b'$' | b'#' | b'@' | b'*' | b'!' | b'-' | b'0'..=b'9') => {
                return Err(Fail::Unsupported("special parameter"));
            }
            Some(b'\'' | b'"') if !quoted => {
                return Err(Fail::Unsupported("$'...' or $\"...\" quoting"));
            }
            _ => {
                buf.push(b'$');
                self.pos += 1;
            }
        }
        Ok(())
    }

    pub(super) fn var_name(&self, name: &[u8]) -> Result<Box<str>, Fail> {
        let name = std::str::from_utf8(name).map_err(|_| Fail::Unsupported("variable name"))?;
        if name.is_empty() || !is_name_start(name.as_bytes()[0]) {
            return Err(Fail::Unsupported("parameter expansion"));
        }
        if is_special_var(name) {
            return Err(Fail::Unsupported("special variable"));
        }
        Ok(name.into())
    }
}
