//! Lexer and parser: command bytes to a [`List`], in one pass.
//!
//! The parser recognises exactly the subset parx executes itself. Anything
//! else bash would accept (command substitution, globs, here-documents,
//! groups, control flow, `&`, …) stops the parse with
//! `Fail::Unsupported`, so the caller can hand the whole command to a
//! real shell; commands bash itself rejects stop with `Fail::Syntax`.
//! It never executes or expands anything and never panics on any input
//! (fuzzed, and property-tested over arbitrary bytes).

use crate::ast::{AndOr, Assign, Connector, List, Part, Pipeline, Redir, RedirOp, Simple, Word};

/// A command bash itself would reject, with bash's wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based line of the error.
    pub line: u32,
    /// What bash would say, e.g. ``syntax error near unexpected token `|'``.
    pub message: String,
}

/// Why a parse stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fail {
    /// Valid or not, the command uses syntax parx does not implement.
    Unsupported(&'static str),
    /// bash would reject the command.
    Syntax(ParseError),
}

/// Words that are reserved in command position; any of them means control
/// flow or grouping, which parx leaves to bash.
const RESERVED: &[&[u8]] = &[
    b"if",
    b"then",
    b"else",
    b"elif",
    b"fi",
    b"do",
    b"done",
    b"case",
    b"esac",
    b"while",
    b"until",
    b"for",
    b"select",
    b"function",
    b"time",
    b"coproc",
    b"{",
    b"}",
    b"[[",
    b"]]",
    b"!",
    b"in",
];

/// Variables bash sets or treats specially; expanding or assigning them
/// is left to bash.
pub(crate) fn is_special_var(name: &str) -> bool {
    const SPECIAL: &[&str] = &[
        "_",
        "BASHOPTS",
        "BASHPID",
        "DIRSTACK",
        "EPOCHREALTIME",
        "EPOCHSECONDS",
        "EUID",
        "FUNCNAME",
        "GROUPS",
        "HISTCMD",
        "HISTFILE",
        "HISTFILESIZE",
        "HISTSIZE",
        "HOSTNAME",
        "HOSTTYPE",
        "IFS",
        "LINENO",
        "MACHTYPE",
        "OLDPWD",
        "OPTERR",
        "OPTIND",
        "OSTYPE",
        "PIPESTATUS",
        "PPID",
        "PS1",
        "PS2",
        "PS4",
        "RANDOM",
        "SECONDS",
        "SHELLOPTS",
        "SHLVL",
        "SRANDOM",
        "UID",
        "CDPATH",
        "COLUMNS",
        "LINES",
        "OPTARG",
        "MAILCHECK",
        "POSIXLY_CORRECT",
        "GLOBIGNORE",
        "TIMEFORMAT",
    ];
    name.starts_with("BASH") || name.starts_with("COMP") || SPECIAL.contains(&name)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
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
    fn text(self) -> &'static str {
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

    fn is_redir(self) -> bool {
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
struct WordTok {
    word: Word,
    /// Written with no quote, escape or expansion at all.
    plain: bool,
    /// Length of `NAME` if the word is `NAME=value` with an unquoted name.
    assign: Option<usize>,
    line: u32,
}

#[derive(Debug)]
enum Tok {
    Word(WordTok),
    IoNumber(i32),
    Op(Op),
    Newline,
    Eof,
}

/// Parses a command line into a [`List`].
pub(crate) fn parse_list(src: &[u8]) -> Result<List, Fail> {
    let mut p = Parser {
        src,
        pos: 0,
        line: 1,
        peeked: None,
        last_end: 0,
    };
    p.list()
}

/// bash's rendering of a simple command in job-status messages: words
/// (as written) separated by one space, `N> file`-style redirections.
/// `None` for forms whose rendering parx does not know.
pub(crate) fn render_simple(src: &[u8]) -> Option<Vec<u8>> {
    let mut p = Parser {
        src,
        pos: 0,
        line: 1,
        peeked: None,
        last_end: 0,
    };
    let mut items: Vec<Vec<u8>> = Vec::new();
    let mut fd: Option<&[u8]> = None;
    loop {
        p.skip_blanks();
        let start = p.pos;
        let tok = p.lex().ok()?;
        let raw = &src[start..p.pos];
        match tok {
            Tok::Eof => break,
            Tok::Word(_) => items.push(raw.to_vec()),
            Tok::IoNumber(_) => fd = Some(raw),
            Tok::Op(op @ (Op::Great | Op::DGreat | Op::Less | Op::GreatAnd | Op::LessAnd)) => {
                p.skip_blanks();
                let tstart = p.pos;
                let Tok::Word(_) = p.lex().ok()? else {
                    return None;
                };
                let target = &src[tstart..p.pos];
                let mut item = fd.take().unwrap_or_default().to_vec();
                item.extend_from_slice(op.text().as_bytes());
                if matches!(op, Op::Great | Op::DGreat | Op::Less) {
                    item.push(b' ');
                }
                item.extend_from_slice(target);
                items.push(item);
            }
            _ => return None,
        }
    }
    Some(items.join(&b' '))
}

struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
    line: u32,
    peeked: Option<(Tok, usize, usize)>,
    /// End of the last token consumed.
    last_end: usize,
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_name_char(c: u8) -> bool {
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
    fn push(&mut self, c: u8) {
        self.lit.push(c);
        self.lit_present = true;
    }

    fn mark_quoted(&mut self) {
        self.lit_present = true;
    }

    fn expansion(&mut self, part: Part) {
        self.flush();
        self.parts.push(part);
    }

    fn flush(&mut self) {
        if self.lit_present {
            self.parts.push(Part::Lit(std::mem::take(&mut self.lit)));
            self.lit_present = false;
        }
    }

    fn finish(mut self) -> Word {
        self.flush();
        Word { parts: self.parts }
    }
}

impl<'a> Parser<'a> {
    fn peek_byte(&self, ahead: usize) -> Option<u8> {
        self.src.get(self.pos + ahead).copied()
    }

    fn syntax(&self, message: String) -> Fail {
        Fail::Syntax(ParseError {
            line: self.line,
            message,
        })
    }

    fn unexpected(&self, tok: &Tok) -> Fail {
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

    fn fill(&mut self) -> Result<(), Fail> {
        if self.peeked.is_none() {
            self.skip_blanks();
            let start = self.pos;
            let t = self.lex()?;
            self.peeked = Some((t, start, self.pos));
        }
        Ok(())
    }

    fn peek(&mut self) -> Result<&Tok, Fail> {
        self.fill()?;
        match &self.peeked {
            Some((t, _, _)) => Ok(t),
            None => Err(Fail::Unsupported("lexer state")),
        }
    }

    /// Byte offset where the next token starts.
    fn peek_start(&mut self) -> Result<usize, Fail> {
        self.fill()?;
        Ok(self.peeked.as_ref().map_or(self.pos, |(_, s, _)| *s))
    }

    fn next(&mut self) -> Result<Tok, Fail> {
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
    fn skip_blanks(&mut self) {
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

    fn lex(&mut self) -> Result<Tok, Fail> {
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

    fn word(&mut self) -> Result<Tok, Fail> {
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
            // bash drops `\<newline>` before it reads `$`'s next byte
            // (`$\<newline>[` is `$[`): rare enough to leave to bash.
            Some(b'\\') if self.peek_byte(2) == Some(b'\n') => {
                return Err(Fail::Unsupported("line continuation after `$'"));
            }
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

    fn var_name(&self, name: &[u8]) -> Result<Box<str>, Fail> {
        let name = std::str::from_utf8(name).map_err(|_| Fail::Unsupported("variable name"))?;
        if name.is_empty() || !is_name_start(name.as_bytes()[0]) {
            return Err(Fail::Unsupported("parameter expansion"));
        }
        if is_special_var(name) {
            return Err(Fail::Unsupported("special variable"));
        }
        Ok(name.into())
    }

    fn skip_newlines(&mut self) -> Result<(), Fail> {
        while matches!(self.peek()?, Tok::Newline) {
            self.next()?;
        }
        Ok(())
    }

    fn list(&mut self) -> Result<List, Fail> {
        let mut items = Vec::new();
        self.skip_newlines()?;
        loop {
            if matches!(self.peek()?, Tok::Eof) {
                break;
            }
            items.push(self.and_or()?);
            match self.next()? {
                Tok::Op(Op::Semi) | Tok::Newline => self.skip_newlines()?,
                Tok::Eof => break,
                t => return Err(self.unexpected(&t)),
            }
        }
        Ok(List { items })
    }

    fn and_or(&mut self) -> Result<AndOr, Fail> {
        let first = self.pipeline()?;
        let mut rest = Vec::new();
        loop {
            let conn = match self.peek()? {
                Tok::Op(Op::AndAnd) => Connector::And,
                Tok::Op(Op::OrOr) => Connector::Or,
                _ => break,
            };
            self.next()?;
            self.skip_newlines()?;
            rest.push((conn, self.pipeline()?));
        }
        Ok(AndOr { first, rest })
    }

    fn pipeline(&mut self) -> Result<Pipeline, Fail> {
        let start = self.peek_start()?;
        let mut negate = false;
        if let Tok::Word(w) = self.peek()?
            && w.plain
            && w.word.as_literal() == Some(b"!")
        {
            self.next()?;
            negate = true;
            if !matches!(self.peek()?, Tok::Word(_) | Tok::IoNumber(_))
                && !matches!(self.peek()?, Tok::Op(op) if op.is_redir())
            {
                return Err(Fail::Unsupported("`!' without a command"));
            }
        }
        let mut stages = vec![self.simple()?];
        loop {
            let amp = match self.peek()? {
                Tok::Op(Op::Pipe) => false,
                Tok::Op(Op::PipeAmp) => true,
                _ => break,
            };
            self.next()?;
            if amp && let Some(last) = stages.last_mut() {
                last.redirs.push(Redir {
                    fd: 2,
                    op: RedirOp::Dup(1),
                });
            }
            self.skip_newlines()?;
            stages.push(self.simple()?);
        }
        Ok(Pipeline {
            start,
            negate,
            stages,
        })
    }

    fn simple(&mut self) -> Result<Simple, Fail> {
        let start = self.peek_start()?;
        let mut cmd = Simple {
            assigns: Vec::new(),
            words: Vec::new(),
            redirs: Vec::new(),
            line: self.line,
            span: (start, start),
        };
        let mut first = true;
        loop {
            match self.peek()? {
                Tok::Word(_) => {
                    let Tok::Word(w) = self.next()? else {
                        return Err(Fail::Unsupported("lexer state"));
                    };
                    if first {
                        cmd.line = w.line;
                        first = false;
                    }
                    if cmd.words.is_empty() {
                        if let Some(len) = w.assign {
                            cmd.assigns.push(split_assign(w.word, len)?);
                            continue;
                        }
                        if w.plain
                            && let Some(text) = w.word.as_literal()
                            && RESERVED.contains(&text)
                        {
                            return Err(Fail::Unsupported("reserved word"));
                        }
                    }
                    cmd.words.push(w.word);
                }
                Tok::IoNumber(_) | Tok::Op(_) => {
                    let fd = match self.peek()? {
                        Tok::IoNumber(n) => {
                            let n = *n;
                            self.next()?;
                            Some(n)
                        }
                        Tok::Op(op) if op.is_redir() => None,
                        _ => break,
                    };
                    if first {
                        cmd.line = self.line;
                        first = false;
                    }
                    self.redirection(fd, &mut cmd.redirs)?;
                }
                _ => break,
            }
        }
        if first {
            let t = self.next()?;
            return Err(self.unexpected(&t));
        }
        cmd.span.1 = self.last_end.max(start);
        Ok(cmd)
    }

    fn redirection(&mut self, fd: Option<i32>, out: &mut Vec<Redir>) -> Result<(), Fail> {
        let op = match self.next()? {
            Tok::Op(op) if op.is_redir() => op,
            t => return Err(self.unexpected(&t)),
        };
        let target = match self.next()? {
            Tok::Word(w) => w,
            Tok::Eof => return Err(self.unexpected(&Tok::Newline)),
            t => return Err(self.unexpected(&t)),
        };
        let word = target.word;
        let (fd, op) = match op {
            Op::Less => (fd.unwrap_or(0), RedirOp::Read(word)),
            Op::Great | Op::Clobber => (fd.unwrap_or(1), RedirOp::Write(word)),
            Op::DGreat => (fd.unwrap_or(1), RedirOp::Append(word)),
            Op::LessGreat => (fd.unwrap_or(0), RedirOp::ReadWrite(word)),
            Op::AndGreat | Op::AndDGreat => {
                if fd.is_some() {
                    return Err(Fail::Unsupported("fd before &>"));
                }
                let op = if op == Op::AndGreat {
                    RedirOp::WriteBoth(word)
                } else {
                    RedirOp::AppendBoth(word)
                };
                (1, op)
            }
            Op::LessAnd | Op::GreatAnd => {
                let fd = fd.unwrap_or(if op == Op::LessAnd { 0 } else { 1 });
                let text = match word.as_literal() {
                    Some(t) if target.plain => t,
                    _ => return Err(Fail::Unsupported("dup to a non-literal word")),
                };
                if text == b"-" {
                    if fd <= 2 {
                        return Err(Fail::Unsupported("closing a standard fd"));
                    }
                    (fd, RedirOp::Close)
                } else if !text.is_empty() && text.iter().all(u8::is_ascii_digit) {
                    match parse_fd(text) {
                        Some(m) => (fd, RedirOp::Dup(m)),
                        None => return Err(Fail::Unsupported("large fd number")),
                    }
                } else {
                    return Err(Fail::Unsupported(">&word"));
                }
            }
            _ => return Err(Fail::Unsupported("redirection")),
        };
        out.push(Redir { fd, op });
        Ok(())
    }
}

/// fd numbers parx maps itself; larger ones are left to bash.
fn parse_fd(text: &[u8]) -> Option<i32> {
    if text.len() > 4 {
        return None;
    }
    let n = text.iter().fold(0i32, |n, &d| n * 10 + i32::from(d - b'0'));
    (n < 1024).then_some(n)
}

fn split_assign(word: Word, name_len: usize) -> Result<Assign, Fail> {
    let mut parts = word.parts;
    let Some(Part::Lit(first)) = parts.first_mut() else {
        return Err(Fail::Unsupported("assignment"));
    };
    if first.len() <= name_len || first[name_len] != b'=' {
        return Err(Fail::Unsupported("assignment"));
    }
    let name = std::str::from_utf8(&first[..name_len])
        .map_err(|_| Fail::Unsupported("assignment"))?
        .to_owned();
    if is_special_var(&name) {
        return Err(Fail::Unsupported("assignment to a special variable"));
    }
    first.drain(..=name_len);
    if first.is_empty() && parts.len() > 1 {
        parts.remove(0);
    }
    Ok(Assign {
        name: name.into(),
        value: Word { parts },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Word {
        Word {
            parts: vec![Part::Lit(s.as_bytes().to_vec())],
        }
    }

    fn parse(s: &str) -> List {
        match parse_list(s.as_bytes()) {
            Ok(l) => l,
            Err(e) => panic!("{s:?}: {e:?}"),
        }
    }

    fn unsupported(s: &str) -> &'static str {
        match parse_list(s.as_bytes()) {
            Err(Fail::Unsupported(why)) => why,
            other => panic!("{s:?}: expected a fallback, got {other:?}"),
        }
    }

    #[test]
    fn pipeline_with_redirection_and_chain() {
        let l = parse("a 'b c' | d > f && ! e");
        assert_eq!(l.items.len(), 1);
        let chain = &l.items[0];
        assert_eq!(chain.first.stages.len(), 2);
        assert_eq!(chain.first.stages[0].words, vec![lit("a"), lit("b c")]);
        assert_eq!(
            chain.first.stages[1].redirs,
            vec![Redir {
                fd: 1,
                op: RedirOp::Write(lit("f"))
            }]
        );
        assert_eq!(chain.rest.len(), 1);
        assert_eq!(chain.rest[0].0, Connector::And);
        assert!(chain.rest[0].1.negate);
        assert_eq!(chain.rest[0].1.start, 19);
    }

    #[test]
    fn words_keep_quoting_structure() {
        let l = parse(r#"echo "$A"x$B ''"#);
        let words = &l.items[0].first.stages[0].words;
        assert_eq!(
            words[1].parts,
            vec![
                Part::Lit(vec![]),
                Part::Var {
                    name: "A".into(),
                    quoted: true
                },
                Part::Lit(b"x".to_vec()),
                Part::Var {
                    name: "B".into(),
                    quoted: false
                },
            ]
        );
        assert_eq!(words[2].parts, vec![Part::Lit(vec![])]);
    }

    #[test]
    fn io_numbers_dups_and_both() {
        let l = parse("cmd 2>&1 >>log 3<in &>all 1<>rw 4>&-");
        let r = &l.items[0].first.stages[0].redirs;
        assert_eq!(
            r[0],
            Redir {
                fd: 2,
                op: RedirOp::Dup(1)
            }
        );
        assert_eq!(
            r[1],
            Redir {
                fd: 1,
                op: RedirOp::Append(lit("log"))
            }
        );
        assert_eq!(
            r[2],
            Redir {
                fd: 3,
                op: RedirOp::Read(lit("in"))
            }
        );
        assert_eq!(
            r[3],
            Redir {
                fd: 1,
                op: RedirOp::WriteBoth(lit("all"))
            }
        );
        assert_eq!(
            r[4],
            Redir {
                fd: 1,
                op: RedirOp::ReadWrite(lit("rw"))
            }
        );
        assert_eq!(
            r[5],
            Redir {
                fd: 4,
                op: RedirOp::Close
            }
        );
    }

    #[test]
    fn pipe_amp_is_a_dup_on_the_left_stage() {
        let l = parse("a 2>/dev/null |& b");
        let left = &l.items[0].first.stages[0];
        assert_eq!(
            left.redirs.last(),
            Some(&Redir {
                fd: 2,
                op: RedirOp::Dup(1)
            })
        );
    }

    #[test]
    fn assignments_only_before_the_command_name() {
        let l = parse("A=1 B='x y' cmd C=2");
        let s = &l.items[0].first.stages[0];
        assert_eq!(s.assigns.len(), 2);
        assert_eq!(&*s.assigns[1].name, "B");
        assert_eq!(s.assigns[1].value, lit("x y"));
        assert_eq!(s.words, vec![lit("cmd"), lit("C=2")]);
    }

    #[test]
    fn lists_newlines_comments_and_continuations() {
        let l = parse("a; b\n\n c # comment\nd \\\n e");
        assert_eq!(l.items.len(), 4);
        assert_eq!(l.items[3].first.stages[0].words, vec![lit("d"), lit("e")]);
        assert_eq!(l.items[3].first.stages[0].line, 4);
        assert!(parse("  # nothing").items.is_empty());
        assert!(parse("").items.is_empty());
    }

    #[test]
    fn unsupported_syntax_is_detected() {
        for (cmd, why) in [
            ("echo $(x)", "command substitution"),
            ("echo `x`", "command substitution"),
            ("echo *.c", "glob"),
            ("echo [bc]x", "glob"),
            ("echo a[bc]", "array subscript"),
            ("echo {a,b}", "brace expansion"),
            ("echo ~", "tilde expansion"),
            ("a &", "background job `&'"),
            ("(a)", "subshell or function"),
            ("{ a; }", "reserved word"),
            ("if a; then b; fi", "reserved word"),
            ("cat <<E", "here-document"),
            ("echo $1", "special parameter"),
            ("echo ${A:-x}", "parameter expansion"),
            ("echo $RANDOM", "special variable"),
            ("echo 'x", "unterminated quote"),
            ("a+=1", "`+=' assignment"),
        ] {
            assert_eq!(unsupported(cmd), why, "{cmd}");
        }
    }

    #[test]
    fn brackets_and_braces_alone_are_literal() {
        let l = parse("[ -f x ] ; echo {} a{ }b");
        assert_eq!(l.items.len(), 2);
        assert_eq!(l.items[1].first.stages[0].words[1], lit("{}"));
    }

    #[test]
    fn syntax_errors_use_bash_wording() {
        for (cmd, msg) in [
            ("a | | b", "syntax error near unexpected token `|'"),
            ("a &&", "syntax error: unexpected end of file"),
            ("; a", "syntax error near unexpected token `;'"),
            ("echo >", "syntax error near unexpected token `newline'"),
        ] {
            match parse_list(cmd.as_bytes()) {
                Err(Fail::Syntax(e)) => assert_eq!(e.message, msg, "{cmd}"),
                other => panic!("{cmd}: {other:?}"),
            }
        }
    }
}
