//! A parsed command: the syntax tree parx runs itself, or the marker that
//! a real shell must run it (with the reason, for `--trace` and tests).

use crate::ast::List;
use crate::parse::{self, Fail, ParseError};

/// A command ready to execute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// The command as given (what the fallback shell runs).
    pub(crate) text: Box<[u8]>,
    pub(crate) body: Body,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Body {
    Native(List),
    Fallback(&'static str),
}

impl Script {
    /// Parses `cmd`. Syntax parx does not implement gives a script that
    /// runs under the fallback shell; a command bash would reject is an
    /// error.
    pub fn parse(cmd: &[u8]) -> Result<Script, ParseError> {
        let body = match parse::parse_list(cmd) {
            Ok(list) => Body::Native(list),
            Err(Fail::Unsupported(why)) => Body::Fallback(why),
            Err(Fail::Syntax(e)) => return Err(e),
        };
        Ok(Script {
            text: cmd.into(),
            body,
        })
    }

    /// Like [`Script::parse`], but a syntax error also goes to the fallback
    /// shell, which then prints its own message and exits with status 2,
    /// exactly as it would have.
    pub fn new(cmd: &[u8]) -> Script {
        Script::parse(cmd).unwrap_or_else(|_| Script::in_shell(cmd, "syntax error"))
    }

    /// A script that always runs under the fallback shell.
    pub fn in_shell(cmd: &[u8], reason: &'static str) -> Script {
        Script {
            text: cmd.into(),
            body: Body::Fallback(reason),
        }
    }

    /// Why the script needs a real shell, or `None` if parx runs it.
    pub fn fallback_reason(&self) -> Option<&'static str> {
        match self.body {
            Body::Native(_) => None,
            Body::Fallback(why) => Some(why),
        }
    }

    /// The syntax tree, if parx runs the script itself.
    pub fn ast(&self) -> Option<&List> {
        match &self.body {
            Body::Native(list) => Some(list),
            Body::Fallback(_) => None,
        }
    }

    /// The command text.
    pub fn text(&self) -> &[u8] {
        &self.text
    }
}
