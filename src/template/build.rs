//! Grouping records into jobs: one record per job by default, up to `-n`
//! or `-N` records, or as many as fit in the command-line length (`-X`,
//! `-m`, `--xargs`, `-s`), using GNU parallel's own length arithmetic so
//! the jobs split at the same places.

use super::command::Template;
use super::job::Job;
use super::ops::{JobContext, Op};
use crate::input::InputError;
use std::collections::VecDeque;
use std::sync::Arc;

/// The longest command line GNU parallel finds acceptable on Linux
/// (its probe with `echo` stops at 130329 bytes with the kernel's 128 KiB
/// per-argument limit). It uses `(max - 3000) / 2` of it.
pub const MAX_COMMAND_LINE: usize = 130_329;

/// How records are grouped into jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grouping {
    /// Most records per job; `None` = as many as fit (`-X`, `-m`, `--xargs`).
    pub max_args: Option<usize>,
    /// `-m`/`-X`: when all input fits in one job, spread it over the slots.
    pub spread: bool,
    /// Longest command line (GNU parallel's length measure).
    pub max_len: usize,
    /// Job slots (`-j`; 0 = unlimited), for spreading and `{0%}`.
    pub slots: usize,
    /// `-N0`/`-n0`: read one record per job but put no value on the line.
    pub noarg: bool,
}

impl Default for Grouping {
    fn default() -> Self {
        Grouping {
            max_args: Some(1),
            spread: false,
            max_len: (MAX_COMMAND_LINE - 3000) / 2,
            slots: 1,
            noarg: false,
        }
    }
}

/// The records jobs are built from: one value per input source or column.
pub type Records = Box<dyn Iterator<Item = Result<Vec<Vec<u8>>, InputError>>>;

/// A lazily streamed iterator of jobs.
pub struct JobIter {
    records: Records,
    template: Arc<Template>,
    tag: Option<Arc<Template>>,
    /// `--header` column names, in column order.
    header_names: Vec<Vec<u8>>,
    grouping: Grouping,
    unget: VecDeque<Vec<Vec<u8>>>,
    seq: u64,
    record_no: u64,
    spread_done: bool,
    exhausted: bool,
    failed: bool,
    /// `{##}`/`{0#}`: all jobs are made first (as GNU parallel does) so
    /// they can be counted.
    counted: Option<VecDeque<Job>>,
    /// `--total-jobs N`: `{##}` is N, and jobs stream without counting.
    given_total: Option<u64>,
}

impl JobIter {
    /// Jobs from `records` (one value per input source or column each).
    pub fn new(records: Records, template: Template, grouping: Grouping) -> JobIter {
        JobIter {
            records,
            template: Arc::new(template),
            tag: None,
            header_names: Vec::new(),
            grouping,
            unget: VecDeque::new(),
            seq: 0,
            record_no: 0,
            spread_done: false,
            exhausted: false,
            failed: false,
            counted: None,
            given_total: None,
        }
    }

    /// Gives every job a `--tag`/`--tagstring` template.
    pub fn with_tag(mut self, tag: Option<Template>) -> JobIter {
        self.tag = tag.map(Arc::new);
        self
    }

    /// `--total-jobs N`: the number of jobs `{##}` shows, instead of
    /// reading every input first to count them.
    pub fn with_total(mut self, total: Option<u64>) -> JobIter {
        self.given_total = total;
        self
    }

    /// Records the `--header` column names (for `--results`).
    pub fn with_header_names(mut self, names: Vec<Vec<u8>>) -> JobIter {
        self.header_names = names;
        self
    }

    /// The `--header` column names, in column order (empty without
    /// `--header`).
    pub fn header_names(&self) -> &[Vec<u8>] {
        &self.header_names
    }

    /// An iterator that yields nothing.
    pub fn empty(template: Template) -> JobIter {
        JobIter::new(Box::new(std::iter::empty()), template, Grouping::default())
    }

    fn get(&mut self) -> Result<Option<Vec<Vec<u8>>>, InputError> {
        if let Some(r) = self.unget.pop_front() {
            self.record_no += 1;
            return Ok(Some(r));
        }
        if self.exhausted {
            return Ok(None);
        }
        match self.records.next() {
            Some(Ok(r)) => {
                self.record_no += 1;
                Ok(Some(fix_nul(r)))
            }
            Some(Err(e)) => Err(e),
            None => {
                self.exhausted = true;
                Ok(None)
            }
        }
    }

    fn unget_front(&mut self, r: Vec<Vec<u8>>) {
        self.record_no -= 1;
        self.unget.push_front(r);
    }

    fn is_empty(&mut self) -> Result<bool, InputError> {
        if !self.unget.is_empty() {
            return Ok(false);
        }
        match self.get()? {
            Some(r) => {
                self.unget_front(r);
                Ok(false)
            }
            None => Ok(true),
        }
    }

    fn next_job(&mut self) -> Result<Option<Job>, InputError> {
        loop {
            let seq = self.seq + 1;
            let mut acc = LenAcc::new(&self.template, seq);
            let mut recs: Vec<Vec<Vec<u8>>> = Vec::new();
            while let Some(rec) = self.get()? {
                acc.push(&self.template, &rec);
                recs.push(rec);
                let len = acc.len(&self.template, &recs);
                if len >= self.grouping.max_len as i64 {
                    if recs.len() > 1 {
                        if let Some(last) = recs.pop() {
                            acc.pop(&self.template, &last);
                            self.unget_front(last);
                        }
                        break;
                    }
                    let start = recs[0].join(&b' ');
                    let mut start = String::from_utf8_lossy(&start).into_owned();
                    if start.chars().count() > 50 {
                        start = start.chars().take(50).collect::<String>() + "...";
                    }
                    return Err(InputError::TooLong {
                        len: len.max(0) as usize,
                        max: self.grouping.max_len,
                        input: self.record_no,
                        start,
                    });
                }
                if self.grouping.max_args.is_some_and(|m| recs.len() >= m) {
                    break;
                }
            }
            if self.grouping.spread && !self.spread_done && self.is_empty()? {
                self.spread_done = true;
                // -j0 is "as many as possible": one argument per job.
                let slots = if self.grouping.slots == 0 {
                    usize::MAX
                } else {
                    self.grouping.slots
                };
                if recs.len() > 1 {
                    let per = recs.len().div_ceil(slots);
                    self.grouping.max_args = Some(per);
                    for r in recs.drain(per..).rev() {
                        self.unget_front(r);
                    }
                }
            }
            if recs.is_empty() {
                return Ok(None);
            }
            self.seq = seq;
            let args: Vec<Vec<u8>> = recs.into_iter().flatten().collect();
            if let Some(rule) = self.template.skip_rule() {
                let skip = match rule {
                    Op::Uniq => {
                        let mut sorted: Vec<&Vec<u8>> = args.iter().collect();
                        sorted.sort();
                        sorted.windows(2).any(|w| w[0] == w[1])
                    }
                    _ => args.windows(2).any(|w| w[0] >= w[1]),
                };
                if skip {
                    continue;
                }
            }
            return Ok(Some(Job::new(
                seq,
                args,
                Arc::clone(&self.template),
                self.tag.clone(),
                self.grouping.noarg,
            )));
        }
    }
}

/// GNU parallel cannot pass NUL in an argument and replaces it with the
/// two characters `\0` (except at the very start).
fn fix_nul(mut record: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    for value in &mut record {
        if value.iter().skip(1).any(|&b| b == 0) {
            let mut out = Vec::with_capacity(value.len() + 4);
            out.push(value[0]);
            for &b in &value[1..] {
                if b == 0 {
                    out.extend_from_slice(b"\\0");
                } else {
                    out.push(b);
                }
            }
            *value = out;
            static WARNED: std::sync::atomic::AtomicBool =
                std::sync::atomic::AtomicBool::new(false);
            if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
                eprintln!(
                    "parx: Warning: A NUL character in the input was replaced with \\0 (use --null to split input on NUL)."
                );
            }
        }
    }
    record
}

/// GNU parallel's running length of a command line being filled.
struct LenAcc {
    per_rpl: Vec<i64>,
    ctx: JobContext,
}

impl LenAcc {
    fn new(t: &Template, seq: u64) -> LenAcc {
        LenAcc {
            per_rpl: vec![0; t.rpls.len()],
            ctx: JobContext {
                seq,
                slot: 1,
                slots: t.slots,
                total: 0,
            },
        }
    }

    fn delta(&self, t: &Template, rec: &[Vec<u8>]) -> Vec<i64> {
        t.rpls
            .iter()
            .enumerate()
            .map(|(i, r)| match r.position {
                Some(p) => {
                    let idx = if p > 0 { p - 1 } else { rec.len() as i64 + p };
                    usize::try_from(idx)
                        .ok()
                        .and_then(|i| rec.get(i))
                        .map_or(0, |v| t.replace_len(i, v, &self.ctx) as i64)
                }
                None => rec
                    .iter()
                    .map(|v| t.replace_len(i, v, &self.ctx) as i64)
                    .sum(),
            })
            .collect()
    }

    fn push(&mut self, t: &Template, rec: &[Vec<u8>]) {
        let d = self.delta(t, rec);
        self.per_rpl.iter_mut().zip(d).for_each(|(a, b)| *a += b);
    }

    fn pop(&mut self, t: &Template, rec: &[Vec<u8>]) {
        let d = self.delta(t, rec);
        self.per_rpl.iter_mut().zip(d).for_each(|(a, b)| *a -= b);
    }

    fn len(&self, t: &Template, recs: &[Vec<Vec<u8>>]) -> i64 {
        let mut len = t.len_noncontext as i64 + t.words as i64 - 1;
        let recargs = (recs.len() * recs.first().map_or(0, Vec::len)) as i64;
        if t.context {
            len += recargs * t.len_context as i64;
            for (r, l) in t.rpls.iter().zip(&self.per_rpl) {
                len += l * r.count as i64;
            }
            len += (recargs - 1) * t.len_contextgroups as i64;
        } else {
            len += t.len_context as i64;
            for (r, l) in t.rpls.iter().zip(&self.per_rpl) {
                len += (recargs - 1 + l) * r.count as i64;
            }
        }
        if t.quote_all {
            len *= 3;
        }
        len
    }
}

impl Iterator for JobIter {
    type Item = Result<Job, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let needs_total =
            self.template.needs_total() || self.tag.as_ref().is_some_and(|t| t.needs_total());
        if let (true, Some(total)) = (needs_total, self.given_total) {
            return match self.next_job() {
                Ok(Some(mut job)) => {
                    job.set_total(total);
                    Some(Ok(job))
                }
                Ok(None) => None,
                Err(e) => {
                    self.failed = true;
                    Some(Err(e))
                }
            };
        }
        if needs_total && self.counted.is_none() {
            let mut all = VecDeque::new();
            loop {
                match self.next_job() {
                    Ok(Some(job)) => all.push_back(job),
                    Ok(None) => break,
                    Err(e) => {
                        self.failed = true;
                        return Some(Err(e));
                    }
                }
            }
            let total = all.len() as u64;
            all.iter_mut().for_each(|j| j.set_total(total));
            self.counted = Some(all);
        }
        if let Some(all) = &mut self.counted {
            return all.pop_front().map(Ok);
        }
        match self.next_job() {
            Ok(Some(job)) => Some(Ok(job)),
            Ok(None) => None,
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}
