//! Word expansion: variables, `$?`, field splitting, and the job's
//! variable table.
//!
//! Variables live in a small overlay on top of parx's own environment,
//! so starting a job copies nothing. Only unquoted expansions are split,
//! on bash's default `IFS` (space, tab, newline; bash ignores an inherited
//! `IFS`). A glob character in an unquoted expansion's value would need
//! pathname expansion, which parx leaves to bash: expansion reports
//! [`NeedsShell`] and the executor hands over to the fallback shell.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use crate::ast::{Part, Word};

/// An expansion produced something only a real shell handles exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NeedsShell(pub &'static str);

#[derive(Debug, Clone)]
struct Var {
    name: Box<str>,
    /// `None`: unset (shadows the environment).
    value: Option<Vec<u8>>,
    exported: bool,
}

/// The variables of one job: parx's environment plus what the job set.
#[derive(Debug, Clone, Default)]
pub(crate) struct Vars {
    overlay: Vec<Var>,
}

impl Vars {
    /// The value of `name`, or `None` if unset.
    pub(crate) fn get(&self, name: &str) -> Option<Cow<'_, [u8]>> {
        match self.overlay.iter().rev().find(|v| &*v.name == name) {
            Some(v) => v.value.as_deref().map(Cow::Borrowed),
            None => std::env::var_os(name).map(|v| Cow::Owned(v.as_bytes().to_vec())),
        }
    }

    fn is_exported(&self, name: &str) -> bool {
        match self.overlay.iter().rev().find(|v| &*v.name == name) {
            Some(v) => v.exported,
            None => std::env::var_os(name).is_some(),
        }
    }

    /// Sets `name`; it stays exported if it was, and becomes exported if
    /// `export` is true.
    pub(crate) fn set(&mut self, name: &str, value: Vec<u8>, export: bool) {
        let exported = export || self.is_exported(name);
        if let Some(v) = self.overlay.iter_mut().find(|v| &*v.name == name) {
            v.value = Some(value);
            v.exported = exported;
        } else {
            self.overlay.push(Var {
                name: name.into(),
                value: Some(value),
                exported,
            });
        }
    }

    /// Marks `name` exported (bash's `export NAME`).
    pub(crate) fn export(&mut self, name: &str) {
        if let Some(v) = self.overlay.iter_mut().find(|v| &*v.name == name) {
            v.exported = true;
        } else if let Some(value) = std::env::var_os(name) {
            self.set(name, value.as_bytes().to_vec(), true);
        } else {
            self.overlay.push(Var {
                name: name.into(),
                value: None,
                exported: true,
            });
        }
    }

    /// Removes `name` from what children see (bash unsets `OLDPWD`).
    pub(crate) fn unset(&mut self, name: &str) {
        if let Some(v) = self.overlay.iter_mut().find(|v| &*v.name == name) {
            v.value = None;
        } else {
            self.overlay.push(Var {
                name: name.into(),
                value: None,
                exported: false,
            });
        }
    }

    /// Changes to parx's environment a child must see: `(name, Some(value))`
    /// to set, `(name, None)` to remove.
    pub(crate) fn env_changes(&self) -> impl Iterator<Item = (&str, Option<&[u8]>)> {
        self.overlay
            .iter()
            .filter_map(|v| match (&v.value, v.exported) {
                (Some(val), true) => Some((&*v.name, Some(val.as_slice()))),
                (None, _) => Some((&*v.name, None)),
                // A shell variable that shadows an inherited one while not
                // exported cannot happen: assignment keeps the export flag.
                (Some(_), false) => None,
            })
    }

    /// Shell (not exported) variables the job set, for handing the job's
    /// state over to the fallback shell.
    pub(crate) fn unexported(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.overlay
            .iter()
            .filter_map(|v| match (&v.value, v.exported) {
                (Some(val), false) => Some((&*v.name, val.as_slice())),
                _ => None,
            })
    }
}

fn is_ifs(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n')
}

fn has_glob(v: &[u8]) -> bool {
    v.iter().any(|c| matches!(c, b'*' | b'?' | b'[' | b']'))
}

/// Appends the decimal form of `n`.
pub(crate) fn push_int(out: &mut Vec<u8>, n: i32) {
    let mut buf = itoa_buf(n);
    out.append(&mut buf);
}

fn itoa_buf(n: i32) -> Vec<u8> {
    n.to_string().into_bytes()
}

/// Expands `word` into fields appended to `out`.
pub(crate) fn expand_fields(
    word: &Word,
    vars: &Vars,
    status: i32,
    out: &mut Vec<Vec<u8>>,
) -> Result<(), NeedsShell> {
    // Fast path: a literal word is one field.
    if let [Part::Lit(b)] = word.parts.as_slice() {
        out.push(b.clone());
        return Ok(());
    }
    let mut cur = Vec::new();
    let mut have = false;
    for part in &word.parts {
        match part {
            Part::Lit(b) => {
                cur.extend_from_slice(b);
                have = true;
            }
            Part::Var { name, quoted: true } => {
                if let Some(v) = vars.get(name) {
                    cur.extend_from_slice(&v);
                }
                have = true;
            }
            Part::Status { quoted } => {
                // Digits only: never split, never a glob.
                push_int(&mut cur, status);
                let _ = quoted;
                have = true;
            }
            Part::Var {
                name,
                quoted: false,
            } => {
                let Some(v) = vars.get(name) else { continue };
                if has_glob(&v) {
                    return Err(NeedsShell("glob characters in an unquoted expansion"));
                }
                split_into(&v, &mut cur, &mut have, out);
            }
        }
    }
    if have {
        out.push(cur);
    }
    Ok(())
}

fn split_into(v: &[u8], cur: &mut Vec<u8>, have: &mut bool, out: &mut Vec<Vec<u8>>) {
    if v.is_empty() {
        return;
    }
    if is_ifs(v[0]) && *have {
        out.push(std::mem::take(cur));
        *have = false;
    }
    let mut first = true;
    for field in v.split(|&c| is_ifs(c)).filter(|f| !f.is_empty()) {
        if !first {
            out.push(std::mem::take(cur));
        }
        cur.extend_from_slice(field);
        *have = true;
        first = false;
    }
    if v.last().is_some_and(|&c| is_ifs(c)) && *have {
        out.push(std::mem::take(cur));
        *have = false;
    }
}

/// Expands `word` without field splitting (assignment values).
pub(crate) fn expand_joined(word: &Word, vars: &Vars, status: i32) -> Vec<u8> {
    let mut cur = Vec::new();
    for part in &word.parts {
        match part {
            Part::Lit(b) => cur.extend_from_slice(b),
            Part::Var { name, .. } => {
                if let Some(v) = vars.get(name) {
                    cur.extend_from_slice(&v);
                }
            }
            Part::Status { .. } => push_int(&mut cur, status),
        }
    }
    cur
}

/// A word's source-like text for messages (`$X: ambiguous redirect`).
pub(crate) fn display(word: &Word) -> Vec<u8> {
    let mut out = Vec::new();
    for part in &word.parts {
        match part {
            Part::Lit(b) => out.extend_from_slice(b),
            Part::Var { name, .. } => {
                out.push(b'$');
                out.extend_from_slice(name.as_bytes());
            }
            Part::Status { .. } => out.extend_from_slice(b"$?"),
        }
    }
    out
}

/// `bytes` as an `OsStr`.
pub(crate) fn os(bytes: &[u8]) -> &OsStr {
    OsStr::from_bytes(bytes)
}
