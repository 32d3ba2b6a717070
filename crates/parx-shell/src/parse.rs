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

mod lex;

use lex::{Op, Tok};

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

impl<'a> Parser<'a> {
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
