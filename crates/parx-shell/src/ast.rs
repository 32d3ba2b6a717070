//! The syntax tree of the command language parx runs itself.
//!
//! A [`List`] of and-or chains ([`AndOr`]) of pipelines ([`Pipeline`]) of
//! simple commands ([`Simple`]). Words keep their structure ([`Part`]s):
//! literal bytes (quoting already removed) and parameter expansions, marked
//! quoted or not, because only unquoted expansions are split into fields.
//! Nothing here is executed or expanded; see `expand` and `exec`.

/// A whole command line: and-or chains run one after the other.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct List {
    /// The chains, in order (separated by `;` or newlines).
    pub items: Vec<AndOr>,
}

/// `p1 && p2 || p3`: pipelines joined by short-circuit connectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AndOr {
    /// The first pipeline.
    pub first: Pipeline,
    /// The following pipelines with the connector before each.
    pub rest: Vec<(Connector, Pipeline)>,
}

/// How a pipeline is joined to the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connector {
    /// `&&`: run if the previous status is 0.
    And,
    /// `||`: run if the previous status is not 0.
    Or,
}

/// `! a | b |& c`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    /// Byte offset of the pipeline in the command (to hand the rest of a
    /// job over to a real shell).
    pub start: usize,
    /// A leading `!` inverts the status.
    pub negate: bool,
    /// The stages, left to right (at least one). `|&` is stored as a
    /// `2>&1` redirection appended to the stage on its left.
    pub stages: Vec<Simple>,
}

/// `VAR=x cmd arg >file`: assignments, words and redirections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Simple {
    /// Leading `NAME=value` words.
    pub assigns: Vec<Assign>,
    /// The command name and its arguments (may be empty: `>f`, `A=1`).
    pub words: Vec<Word>,
    /// Redirections in the order written (order matters: `2>&1 >f`).
    pub redirs: Vec<Redir>,
    /// The line the command starts on (1-based), for messages.
    pub line: u32,
    /// Byte range of the command in the source (bash quotes it in
    /// job-status messages).
    pub span: (usize, usize),
}

/// `NAME=value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assign {
    /// The variable name (`[A-Za-z_][A-Za-z0-9_]*`).
    pub name: Box<str>,
    /// The value; expanded without field splitting.
    pub value: Word,
}

/// One redirection: `[fd]op target`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redir {
    /// The fd redirected (`2` in `2>f`); for `&>` this is 1 (and 2 follows).
    pub fd: i32,
    /// What happens to it.
    pub op: RedirOp,
}

/// The kinds of redirection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirOp {
    /// `<word`.
    Read(Word),
    /// `>word` and `>|word` (truncate, create).
    Write(Word),
    /// `>>word` (append, create).
    Append(Word),
    /// `<>word` (read-write, create, no truncate).
    ReadWrite(Word),
    /// `&>word` (stdout and stderr, truncate).
    WriteBoth(Word),
    /// `&>>word` (stdout and stderr, append).
    AppendBoth(Word),
    /// `N>&M` / `N<&M`: fd becomes a copy of M.
    Dup(i32),
    /// `N>&-` / `N<&-`: fd is closed.
    Close,
}

/// A word: parts concatenated, then split into fields where unquoted
/// expansions contain blanks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Word {
    /// The parts in order.
    pub parts: Vec<Part>,
}

/// A piece of a word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Bytes taken literally (quotes and escapes removed). An empty
    /// literal comes from `''` or `""` and makes the word exist even when
    /// everything else in it expands to nothing.
    Lit(Vec<u8>),
    /// `$NAME` / `${NAME}`; `quoted` inside double quotes.
    Var { name: Box<str>, quoted: bool },
    /// `$?`.
    Status { quoted: bool },
}

impl Word {
    /// The word's bytes if it is a literal with no expansion at all.
    pub fn as_literal(&self) -> Option<&[u8]> {
        match self.parts.as_slice() {
            [Part::Lit(b)] => Some(b),
            [] => Some(b""),
            _ => None,
        }
    }

    /// Whether the word contains an unquoted expansion (subject to field
    /// splitting).
    pub fn has_unquoted_expansion(&self) -> bool {
        self.parts.iter().any(|p| {
            matches!(
                p,
                Part::Var { quoted: false, .. } | Part::Status { quoted: false }
            )
        })
    }
}
