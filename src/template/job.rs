//! One job: its sequence number, its input values, and the command line
//! built from the template exactly as GNU parallel builds it.

use super::command::{Template, Tok};
use super::ops::JobContext;
use super::quote::quote_into;
use std::sync::Arc;

/// A job ready to run: `{#}` is `seq`, `args` are its input values.
#[derive(Debug, Clone)]
pub struct Job {
    /// `{#}`: 1 for the first job.
    pub seq: u64,
    /// The job's input values in order (all columns of all records), as
    /// read: for `--tag`, the joblog, `--results`.
    pub args: Vec<Vec<u8>>,
    template: Arc<Template>,
    /// `-N0`: values are read but not put on the command line.
    noarg: bool,
}

/// A piece of the command line before quoting groups are joined.
enum Item<'a> {
    Spc,
    Bytes(std::borrow::Cow<'a, [u8]>),
}

impl Job {
    pub(crate) fn new(seq: u64, args: Vec<Vec<u8>>, template: Arc<Template>, noarg: bool) -> Job {
        Job {
            seq,
            args,
            template,
            noarg,
        }
    }

    /// The command line exactly as GNU parallel would hand it to the shell
    /// (what `--dry-run` prints), with `{%}` = `slot` (1-based).
    pub fn command_line(&self, slot: usize) -> Vec<u8> {
        let t = &*self.template;
        let ctx = JobContext {
            seq: self.seq,
            slot,
            slots: t.slots,
        };
        let empty: [Vec<u8>; 1] = [Vec::new()];
        let args: &[Vec<u8>] = if self.args.is_empty() {
            &empty
        } else {
            &self.args
        };
        let mut items: Vec<Item<'_>> = Vec::with_capacity(t.toks.len() + 2 * args.len());
        // A replacement for one argument (None: dropped, as GNU parallel
        // drops `\0noarg`).
        let value = |r: usize, arg: &[u8]| -> Option<Vec<u8>> {
            let rpl = &t.rpls[r];
            if self.noarg && !rpl.op.is_job_level() {
                return None;
            }
            let mut out = Vec::new();
            t.replace_into(r, arg, &ctx, &mut out);
            Some(out)
        };
        let positional = |r: usize| -> Option<Vec<u8>> {
            let p = t.rpls[r].position?;
            let n = args.len() as i64;
            let idx = if p > 0 { p - 1 } else { n + p };
            match usize::try_from(idx).ok().and_then(|i| args.get(i)) {
                Some(arg) => value(r, arg),
                None => Some(Vec::new()),
            }
        };
        if t.context {
            let mut group: Vec<&Tok> = Vec::new();
            let toks = t.toks.iter().map(Some).chain(std::iter::once(None));
            for tok in toks {
                let boundary = match tok {
                    None | Some(Tok::Spc) => true,
                    Some(Tok::Text(x)) => x.as_slice() == b" " || x.as_slice() == b"\t",
                    _ => false,
                };
                if boundary {
                    if group.iter().any(|g| matches!(g, Tok::Rpl(_))) {
                        for (i, arg) in args.iter().enumerate() {
                            if i > 0 {
                                items.push(Item::Spc);
                            }
                            let mut normal = false;
                            for g in &group {
                                match g {
                                    Tok::Rpl(r) if t.rpls[*r].position.is_some() => {
                                        if let Some(v) = positional(*r) {
                                            items.push(Item::Bytes(v.into()));
                                        }
                                    }
                                    Tok::Rpl(r) => {
                                        normal = true;
                                        if let Some(v) = value(*r, arg) {
                                            items.push(Item::Bytes(v.into()));
                                        }
                                    }
                                    Tok::Text(x) => items.push(Item::Bytes(x.as_slice().into())),
                                    Tok::Empty => items.push(Item::Bytes(Vec::new().into())),
                                    Tok::Spc => items.push(Item::Spc),
                                }
                            }
                            if !normal {
                                break;
                            }
                        }
                    } else {
                        for g in &group {
                            match g {
                                Tok::Text(x) => items.push(Item::Bytes(x.as_slice().into())),
                                Tok::Empty => items.push(Item::Bytes(Vec::new().into())),
                                Tok::Spc => items.push(Item::Spc),
                                Tok::Rpl(_) => {}
                            }
                        }
                    }
                    group.clear();
                }
                match tok {
                    Some(Tok::Spc) => items.push(Item::Spc),
                    Some(Tok::Text(x)) if x.as_slice() == b" " => {
                        items.push(Item::Bytes(x.as_slice().into()))
                    }
                    Some(other) => group.push(other),
                    None => {}
                }
            }
        } else {
            for tok in &t.toks {
                match tok {
                    Tok::Rpl(r) if t.rpls[*r].position.is_some() => {
                        if let Some(v) = positional(*r) {
                            items.push(Item::Bytes(v.into()));
                        }
                    }
                    Tok::Rpl(r) => {
                        for (i, arg) in args.iter().enumerate() {
                            if i > 0 {
                                items.push(Item::Spc);
                            }
                            if let Some(v) = value(*r, arg) {
                                items.push(Item::Bytes(v.into()));
                            }
                        }
                    }
                    Tok::Text(x) => items.push(Item::Bytes(x.as_slice().into())),
                    Tok::Empty => items.push(Item::Bytes(Vec::new().into())),
                    Tok::Spc => items.push(Item::Spc),
                }
            }
        }
        // Join into quoting groups split by unquoted spaces.
        let mut out = Vec::new();
        let mut group: Vec<u8> = Vec::new();
        let mut group_items = 0usize;
        let mut first = true;
        let mut flush = |group: &mut Vec<u8>, group_items: &mut usize, out: &mut Vec<u8>| {
            if t.quote_all {
                if *group_items > 0 {
                    if !first {
                        out.push(b' ');
                    }
                    quote_into(group, out);
                    first = false;
                }
            } else {
                if !first {
                    out.push(b' ');
                }
                out.extend_from_slice(group);
                first = false;
            }
            group.clear();
            *group_items = 0;
        };
        for item in items {
            match item {
                Item::Spc => flush(&mut group, &mut group_items, &mut out),
                Item::Bytes(b) => {
                    group.extend_from_slice(&b);
                    group_items += 1;
                }
            }
        }
        flush(&mut group, &mut group_items, &mut out);
        out
    }
}
