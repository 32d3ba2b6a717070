//! Perl values for the jobs a [`JobIter`] makes: computed when the job is
//! made (when GNU parallel computes them), many jobs per exchange with the
//! perl co-process, and one batch ahead, so perl evaluates the next batch
//! while parx runs or prints the current one. Jobs are made ahead only
//! while input is ready: a slow input never holds back a job.

use super::JobIter;
use crate::input::InputError;
use crate::template::command::Template;
use crate::template::job::Job;
use crate::template::perl::{Answer, Eval, Perl, PerlError, Request};
use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;

/// Most jobs whose Perl expressions go to perl in one exchange.
const PERL_BATCH: usize = 1024;
/// Most value bytes in one exchange.
const PERL_BATCH_BYTES: usize = 512 << 10;

/// When a job's Perl values are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PerlMode {
    /// No Perl expression.
    None,
    /// While making the job, in batches.
    Early,
    /// When the job starts: an expression asks for the slot, known only
    /// then.
    Late,
}

/// Per job: (template address, the range of its evaluations that are the
/// values rendering that template inserts).
type Parts = Vec<Vec<(usize, Range<usize>)>>;

/// A batch sent to perl.
pub(super) struct InFlight {
    jobs: Vec<Job>,
    evals: Vec<Vec<Eval>>,
    parts: Parts,
    /// Sending failed.
    failed: Option<PerlError>,
    /// Reading input failed after these jobs.
    error_after: Option<InputError>,
}

impl JobIter {
    pub(super) fn templates(&self) -> impl Iterator<Item = &Arc<Template>> {
        std::iter::once(&self.template).chain(self.tag.as_ref())
    }

    fn perl(&self) -> Option<Arc<Perl>> {
        self.templates().find_map(|t| t.perl.clone())
    }

    pub(super) fn perl_uses(&self, word: &[u8]) -> bool {
        self.templates().any(|t| t.perl_uses(word))
    }

    pub(super) fn perl_mode(&self) -> PerlMode {
        if self.perl().is_none() {
            PerlMode::None
        } else if self.perl_uses(b"slot") {
            PerlMode::Late
        } else {
            PerlMode::Early
        }
    }

    /// The requests for `jobs`, in GNU parallel's order: per job, the
    /// values it computes while building the job, then those its command
    /// line and tag insert (an earlier value is reused while it is true).
    fn prepare<'a>(&self, jobs: &'a [Job]) -> (Vec<Request<'a>>, Parts) {
        let templates: Vec<&Template> = self.templates().map(|t| t.as_ref()).collect();
        let perl_templates: Vec<&Template> = templates
            .iter()
            .copied()
            .filter(|t| t.perl.is_some())
            .collect();
        let key = |t: &Template| t as *const Template as usize;
        let mut parts = Vec::with_capacity(jobs.len());
        let requests = jobs
            .iter()
            .map(|job| {
                let args = job.perl_args();
                let n = args.len() as u32;
                let mut evals = job.perl_values().missing(&templates, args.len());
                let occurrences: Vec<Vec<(u32, u32)>> = perl_templates
                    .iter()
                    .map(|t| job.perl_occurrence_list(t))
                    .collect();
                let same = |occ: &[(u32, u32)]| {
                    occ.len() == evals.len()
                        && evals.iter().all(|e| e.visible == n)
                        && occ.iter().zip(&evals).all(|(o, e)| *o == (e.expr, e.arg))
                };
                let mut ranges = Vec::new();
                if let [only] = occurrences.as_slice()
                    && same(only)
                {
                    // The usual case: the command line inserts each value
                    // once, in the order they were computed; a false one
                    // is computed again right away.
                    evals.iter_mut().for_each(|e| e.again = true);
                    ranges.push((key(perl_templates[0]), 0..evals.len()));
                } else {
                    evals.iter_mut().for_each(|e| e.cached = true);
                    for (t, occ) in perl_templates.iter().zip(occurrences) {
                        let start = evals.len();
                        evals.extend(occ.into_iter().map(|(expr, arg)| Eval {
                            expr,
                            arg,
                            visible: n,
                            cached: true,
                            again: false,
                        }));
                        ranges.push((key(t), start..evals.len()));
                    }
                }
                parts.push(ranges);
                Request {
                    seq: job.seq,
                    slot: 1,
                    total: job.total(),
                    args,
                    evals,
                }
            })
            .collect();
        (requests, parts)
    }

    /// Stores the answers in the jobs; a `die` drops the jobs from the one
    /// that died on and is returned.
    fn finish(
        jobs: &mut Vec<Job>,
        evals: &[Vec<Eval>],
        parts: Parts,
        answers: Vec<Answer>,
        error: Option<PerlError>,
    ) -> Option<InputError> {
        let done = answers.len();
        for (((job, evals), answer), ranges) in jobs.iter().zip(evals).zip(answers).zip(parts) {
            let values = job.perl_values();
            for (key, range) in ranges {
                values.set_rendered(key, answer.values[range].to_vec());
            }
            values.store(evals, answer);
        }
        jobs.truncate(done);
        error.map(|e| InputError::Perl(e.to_string()))
    }

    /// Computes the Perl values of all `jobs` (made first, to be counted),
    /// batch by batch; jobs after a `die` are dropped, the error follows.
    pub(super) fn evaluate_all(&mut self, all: VecDeque<Job>) -> VecDeque<Job> {
        let Some(perl) = self.perl() else {
            return all;
        };
        let mut all = Vec::from(all);
        let mut done = VecDeque::with_capacity(all.len());
        while !all.is_empty() {
            let rest = all.split_off(all.len().min(PERL_BATCH));
            let mut batch = std::mem::replace(&mut all, rest);
            let (requests, parts) = self.prepare(&batch);
            let (answers, error) = perl.evaluate(&requests);
            let evals: Vec<Vec<Eval>> = requests.into_iter().map(|r| r.evals).collect();
            let error = Self::finish(&mut batch, &evals, parts, answers, error);
            done.extend(batch);
            if error.is_some() {
                self.pending = error;
                break;
            }
        }
        done
    }

    /// Makes jobs ahead: the first waits for input as usual, more only
    /// while input is ready.
    fn make_jobs(&mut self) -> (Vec<Job>, Option<InputError>) {
        let mut batch = Vec::new();
        let mut bytes = 0;
        loop {
            match self.next_job() {
                Ok(Some(job)) => {
                    bytes += job.args.iter().map(Vec::len).sum::<usize>();
                    batch.push(job);
                }
                Ok(None) => return (batch, None),
                Err(e) => return (batch, Some(e)),
            }
            if batch.len() >= PERL_BATCH || bytes >= PERL_BATCH_BYTES {
                return (batch, None);
            }
            // Input read once is buffered by lines: asking every few
            // jobs is enough.
            if batch.len() % 16 == 1 && !self.input_ready() {
                return (batch, None);
            }
        }
    }

    /// Without a probe (`JobIter::with_ready`), input is taken as slow:
    /// one job per exchange.
    fn input_ready(&mut self) -> bool {
        !self.unget.is_empty() || self.ready.as_mut().is_some_and(|f| f())
    }

    /// Makes a batch of jobs and sends it to perl.
    fn launch_batch(&mut self) {
        let (jobs, error_after) = self.make_jobs();
        let Some(perl) = self.perl() else { return };
        let (requests, parts) = self.prepare(&jobs);
        let failed = if jobs.is_empty() {
            None
        } else {
            perl.submit(&requests).err()
        };
        let evals = requests.into_iter().map(|r| r.evals).collect();
        self.inflight.push_back(InFlight {
            jobs,
            evals,
            parts,
            failed,
            error_after,
        });
    }

    /// Reads the answer to the oldest batch sent: its jobs are ready.
    fn land_batch(&mut self) {
        let Some(batch) = self.inflight.pop_front() else {
            return;
        };
        let Some(perl) = self.perl() else { return };
        let (answers, error) = if batch.failed.is_some() {
            (Vec::new(), batch.failed)
        } else if batch.jobs.is_empty() {
            (Vec::new(), None)
        } else {
            perl.collect()
        };
        let mut jobs = batch.jobs;
        let error = Self::finish(&mut jobs, &batch.evals, batch.parts, answers, error);
        self.made.extend(jobs);
        if error.is_some() {
            self.pending = error;
            // Batches sent after the one that died are dropped, their
            // answers read so that later exchanges stay in step.
            for later in self.inflight.drain(..) {
                if later.failed.is_none() && !later.jobs.is_empty() {
                    let _ = perl.collect();
                }
            }
        } else if batch.error_after.is_some() {
            self.pending = batch.error_after;
        }
    }

    /// The next job when Perl values are computed as jobs are made.
    pub(super) fn next_early(&mut self) -> Option<Result<Job, InputError>> {
        if self.made.is_empty() && self.pending.is_none() {
            if self.inflight.is_empty() {
                self.launch_batch();
            }
            let more = self
                .inflight
                .back()
                .is_some_and(|b| b.error_after.is_none() && !b.jobs.is_empty());
            if self.inflight.len() == 1 && more && !self.exhausted && self.input_ready() {
                self.launch_batch();
            }
            self.land_batch();
        }
        match self.made.pop_front() {
            Some(job) => Some(Ok(job)),
            None => self.pending.take().map(|e| {
                self.failed = true;
                Err(e)
            }),
        }
    }
}
