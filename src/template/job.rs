//! One job: its sequence number, its input values, and the command line
//! built from the template exactly as GNU parallel builds it.

use super::command::{Template, Tok};
use super::ops::{JobContext, Op};
use super::perl::values::JobValues;
use super::perl::{Request, Value};
use super::quote::quote_into;
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::sync::{Arc, OnceLock};

/// GNU parallel's value for "no argument" (`-N0`).
const NOARG: &[u8] = b"\0noarg";

/// What a rendering pass does with Perl replacements.
enum Pass<'a> {
    /// The template has none.
    Plain,
    /// Lists them (expression id, value index), inserting nothing.
    Collect(&'a RefCell<Vec<(u32, u32)>>),
    /// Inserts these values, one per Perl replacement in order.
    Perl(&'a [Value]),
}

/// A job ready to run: `{#}` is `seq`, `args` are its input values.
#[derive(Debug, Clone)]
pub struct Job {
    /// `{#}`: 1 for the first job.
    pub seq: u64,
    /// The job's input values in order (all columns of all records), as
    /// read: for `--tag`, the joblog, `--results`.
    pub args: Vec<Vec<u8>>,
    template: Arc<Template>,
    /// `--tag`/`--tagstring`.
    tag: Option<Arc<Template>>,
    /// `-N0`: values are read but not put on the command line.
    noarg: bool,
    /// Number of jobs in all, when a replacement string needs it.
    total: u64,
    /// Values of Perl expressions, once computed.
    perl: OnceLock<Arc<JobValues>>,
}

impl Job {
    pub(crate) fn new(
        seq: u64,
        args: Vec<Vec<u8>>,
        template: Arc<Template>,
        tag: Option<Arc<Template>>,
        noarg: bool,
    ) -> Job {
        Job {
            seq,
            args,
            template,
            tag,
            noarg,
            total: 0,
            perl: OnceLock::new(),
        }
    }

    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// The Perl values of this job (made on first use).
    pub(crate) fn perl_values(&self) -> &Arc<JobValues> {
        self.perl.get_or_init(|| Arc::new(JobValues::default()))
    }

    /// Attaches the Perl values made while building the job.
    pub(crate) fn set_perl_values(&mut self, values: JobValues) {
        self.perl = OnceLock::from(Arc::new(values));
    }

    /// A Perl expression called `skip()`: GNU parallel does not run the
    /// job and records it as failed with exit value -2.
    pub fn skipped(&self) -> bool {
        self.perl.get().is_some_and(|v| v.skipped())
    }

    /// The values Perl expressions see: no value at all is one empty
    /// one; with `-N0` each is GNU parallel's marker `\0noarg`.
    pub(crate) fn perl_args(&self) -> Cow<'_, [Vec<u8>]> {
        if self.noarg {
            Cow::Owned(vec![NOARG.to_vec(); self.args.len().max(1)])
        } else if self.args.is_empty() {
            Cow::Owned(vec![Vec::new()])
        } else {
            Cow::Borrowed(&self.args)
        }
    }

    /// The Perl value of each Perl replacement in `t`, in the order
    /// rendering meets them. Computed once per template: values the job
    /// has (from when it was made) are used while true; the others are
    /// computed now, as GNU parallel recomputes a cached `""` or `0`.
    fn perl_occurrences(&self, t: &Template, slot: usize) -> Vec<Value> {
        let Some(session) = &t.perl else {
            return Vec::new();
        };
        let values = self.perl_values();
        let key = t as *const Template as usize;
        if let Some(done) = values.rendered(key) {
            return done;
        }
        let occurrences = self.perl_occurrence_list(t);
        let ctx = Request {
            seq: self.seq,
            slot,
            total: self.total,
            args: self.perl_args(),
            evals: Vec::new(),
        };
        match values.compute_occurrences(session, ctx, &occurrences) {
            Ok(found) => {
                values.set_rendered(key, found.clone());
                found
            }
            Err(e) => {
                // GNU parallel dies here too; jobs still running are
                // ended by the sentinel.
                eprintln!("parx: {e}");
                std::process::exit(255);
            }
        }
    }

    pub(crate) fn set_total(&mut self, total: u64) {
        self.total = total;
    }

    /// The `--tag`/`--tagstring` prefix of this job's output lines
    /// (without the TAB that follows it), or `None` without tagging.
    pub fn tag(&self, slot: usize) -> Option<Vec<u8>> {
        self.tag.as_ref().map(|t| self.render(t, slot))
    }

    /// The command line exactly as GNU parallel would hand it to the shell
    /// (what `--dry-run` prints), with `{%}` = `slot` (1-based).
    pub fn command_line(&self, slot: usize) -> Vec<u8> {
        self.render(&self.template, slot)
    }

    /// Renders another template (built for tags: values unquoted) with
    /// this job's values, e.g. a `--results` name.
    pub fn render_with(&self, t: &Template, slot: usize) -> Vec<u8> {
        self.render(t, slot)
    }

    /// The Perl replacements of `t` as rendering meets them: (expression
    /// id, value index).
    pub(crate) fn perl_occurrence_list(&self, t: &Template) -> Vec<(u32, u32)> {
        let found = RefCell::new(Vec::new());
        self.render_pass(t, 1, Pass::Collect(&found));
        found.into_inner()
    }

    fn render(&self, t: &Template, slot: usize) -> Vec<u8> {
        if t.perl.is_none() {
            return self.render_pass(t, slot, Pass::Plain);
        }
        let values = self.perl_occurrences(t, slot);
        self.render_pass(t, slot, Pass::Perl(&values))
    }

    fn render_pass(&self, t: &Template, slot: usize, pass: Pass<'_>) -> Vec<u8> {
        let next_perl = Cell::new(0usize);
        let ctx = JobContext {
            seq: self.seq,
            slot,
            slots: t.slots,
            total: self.total,
        };
        let empty: [Vec<u8>; 1] = [Vec::new()];
        let args: &[Vec<u8>] = if self.args.is_empty() {
            &empty
        } else {
            &self.args
        };
        let mut sink = Sink::new(t.quote_all);
        // One replacement for one argument; dropped with -N0, as GNU
        // parallel drops `\0noarg`.
        let value = |sink: &mut Sink, r: usize, i: usize, arg: &[u8]| {
            if let Op::Perl { id, .. } = t.rpls[r].op {
                let k = next_perl.get();
                next_perl.set(k + 1);
                match &pass {
                    Pass::Collect(found) => found.borrow_mut().push((id, i as u32)),
                    // GNU parallel drops a value that is still `\0noarg`.
                    Pass::Perl(values) => match values.get(k) {
                        Some(v) if self.noarg && v.bytes == NOARG => {}
                        Some(v) => sink.item_with(|out| t.perl_value_into(v, out)),
                        None => {}
                    },
                    Pass::Plain => {}
                }
                return;
            }
            if self.noarg && !t.rpls[r].op.is_job_level() {
                return;
            }
            sink.item_with(|out| t.replace_into(r, arg, &ctx, out));
        };
        let positional = |sink: &mut Sink, r: usize| {
            let Some(p) = t.rpls[r].position else { return };
            let n = args.len() as i64;
            let idx = if p > 0 { p - 1 } else { n + p };
            match usize::try_from(idx)
                .ok()
                .and_then(|i| Some((i, args.get(i)?)))
            {
                Some((i, arg)) => value(sink, r, i, arg),
                None => sink.item(b""),
            }
        };
        let plain = |sink: &mut Sink, tok: &Tok| match tok {
            Tok::Text(x) => sink.item(x),
            Tok::Empty => sink.item(b""),
            Tok::Spc => sink.space(),
            Tok::Rpl(_) => {}
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
                        // The word around the replacement, once per argument.
                        for (i, arg) in args.iter().enumerate() {
                            if i > 0 {
                                sink.space();
                            }
                            let mut normal = false;
                            for g in &group {
                                match g {
                                    Tok::Rpl(r) if t.rpls[*r].position.is_some() => {
                                        positional(&mut sink, *r)
                                    }
                                    Tok::Rpl(r) => {
                                        normal = true;
                                        value(&mut sink, *r, i, arg);
                                    }
                                    other => plain(&mut sink, other),
                                }
                            }
                            if !normal {
                                break;
                            }
                        }
                    } else {
                        group.iter().for_each(|g| plain(&mut sink, g));
                    }
                    group.clear();
                }
                match tok {
                    Some(Tok::Spc) => sink.space(),
                    Some(Tok::Text(x)) if x.as_slice() == b" " => sink.item(x),
                    Some(other) => group.push(other),
                    None => {}
                }
            }
        } else {
            for tok in &t.toks {
                match tok {
                    Tok::Rpl(r) if t.rpls[*r].position.is_some() => positional(&mut sink, *r),
                    Tok::Rpl(r) => {
                        for (i, arg) in args.iter().enumerate() {
                            if i > 0 {
                                sink.space();
                            }
                            value(&mut sink, *r, i, arg);
                        }
                    }
                    other => plain(&mut sink, other),
                }
            }
        }
        sink.finish()
    }
}

/// Joins the pieces of a command line as GNU parallel does: unquoted
/// spaces separate groups; with `-q` each group is quoted as a whole
/// (an empty group disappears), otherwise pieces are copied as they come.
struct Sink {
    out: Vec<u8>,
    /// `-q`: the current group and how many pieces it has.
    group: Option<(Vec<u8>, usize)>,
    first: bool,
}

impl Sink {
    fn new(quote_all: bool) -> Sink {
        Sink {
            out: Vec::with_capacity(64),
            group: quote_all.then(|| (Vec::new(), 0)),
            first: true,
        }
    }

    fn item(&mut self, bytes: &[u8]) {
        self.item_with(|out| out.extend_from_slice(bytes));
    }

    fn item_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        match &mut self.group {
            Some((group, count)) => {
                write(group);
                *count += 1;
            }
            None => write(&mut self.out),
        }
    }

    fn space(&mut self) {
        match &mut self.group {
            Some((group, count)) => {
                if *count > 0 {
                    if !self.first {
                        self.out.push(b' ');
                    }
                    quote_into(group, &mut self.out);
                    self.first = false;
                }
                group.clear();
                *count = 0;
            }
            None => self.out.push(b' '),
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.group.is_some() {
            self.space();
        }
        self.out
    }
}
