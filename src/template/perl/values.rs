//! A job's Perl values: which (expression, value) pairs a template needs,
//! in the order GNU parallel computes them, and the computed results,
//! kept with the job as GNU parallel caches them on its arguments (an
//! expression used twice on one value is evaluated once).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{Answer, Eval, Perl, PerlError, Request, Value};
use crate::template::command::Template;
use crate::template::ops::Op;

/// The Perl side of one job.
#[derive(Debug, Default)]
pub struct JobValues {
    /// Where each record of the job ends in its flat list of values
    /// (`@arg` grows record by record while GNU parallel builds a job).
    pub rec_ends: Vec<u32>,
    values: Mutex<HashMap<(u32, u32), Value>>,
    skip: AtomicBool,
    /// Per template (by address): the values its rendering inserts.
    rendered: Mutex<Vec<(usize, Vec<Value>)>>,
}

/// Perl's truth: `""` and `"0"` are false.
fn truthy(v: &Value) -> bool {
    !(v.bytes.is_empty() || v.bytes == b"0")
}

impl JobValues {
    /// Values for a job whose records end at `rec_ends`.
    pub fn new(rec_ends: Vec<u32>) -> JobValues {
        JobValues {
            rec_ends,
            ..JobValues::default()
        }
    }

    /// The value of expression `expr` on value `arg`, if computed.
    pub fn get(&self, expr: u32, arg: u32) -> Option<Value> {
        self.lock().get(&(expr, arg)).cloned()
    }

    /// `skip()` was called for this job.
    pub fn skipped(&self) -> bool {
        self.skip.load(Ordering::Relaxed)
    }

    /// Stores the answer to `evals`.
    pub fn store(&self, evals: &[Eval], answer: Answer) {
        if answer.skip {
            self.skip.store(true, Ordering::Relaxed);
        }
        let mut map = self.lock();
        for (e, v) in evals.iter().zip(answer.values) {
            map.insert((e.expr, e.arg), v);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(u32, u32), Value>> {
        self.values.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What [`JobValues::set_rendered`] kept for template `key`.
    pub fn rendered(&self, key: usize) -> Option<Vec<Value>> {
        let r = self.rendered.lock().unwrap_or_else(|e| e.into_inner());
        r.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone())
    }

    /// Keeps the values template `key` inserts (GNU parallel computes a
    /// job's command line once).
    pub fn set_rendered(&self, key: usize, values: Vec<Value>) {
        let mut r = self.rendered.lock().unwrap_or_else(|e| e.into_inner());
        r.push((key, values));
    }

    /// The values for `occurrences` (expression id, value index) as GNU
    /// parallel's `replace` gives them: a true value the job has is used,
    /// any other is computed (once more) in one exchange, with `@arg`
    /// showing all of `ctx.args`.
    pub fn compute_occurrences(
        &self,
        perl: &Perl,
        mut ctx: Request<'_>,
        occurrences: &[(u32, u32)],
    ) -> Result<Vec<Value>, PerlError> {
        let mut out: Vec<Option<Value>> = {
            let map = self.lock();
            occurrences
                .iter()
                .map(|k| map.get(k).filter(|v| truthy(v)).cloned())
                .collect()
        };
        let visible = ctx.args.len() as u32;
        ctx.evals = occurrences
            .iter()
            .zip(&out)
            .filter(|(_, v)| v.is_none())
            .map(|(&(expr, arg), _)| Eval {
                expr,
                arg,
                visible,
                cached: true,
                again: false,
            })
            .collect();
        if !ctx.evals.is_empty() {
            let (answers, error) = perl.evaluate(std::slice::from_ref(&ctx));
            if let Some(e) = error {
                return Err(e);
            }
            let answer = answers.into_iter().next().unwrap_or_default();
            if answer.skip {
                self.skip.store(true, Ordering::Relaxed);
            }
            let mut fresh = ctx.evals.iter().zip(answer.values);
            let mut map = self.lock();
            for (slot, k) in out.iter_mut().zip(occurrences) {
                if slot.is_none()
                    && let Some((_, v)) = fresh.next()
                {
                    map.insert(*k, v.clone());
                    *slot = Some(v);
                }
            }
        }
        Ok(out.into_iter().map(Option::unwrap_or_default).collect())
    }

    /// The evaluations `templates` need that are not computed yet, in
    /// GNU parallel's order: record by record, each expression on the
    /// record's values (a positional one on its column only), `@arg`
    /// showing the values up to that record.
    pub fn missing(&self, templates: &[&Template], nargs: usize) -> Vec<Eval> {
        let map = self.lock();
        let mut out: Vec<Eval> = Vec::new();
        let single = [nargs as u32];
        let ends: &[u32] = if self.rec_ends.is_empty() {
            &single
        } else {
            &self.rec_ends
        };
        let mut start = 0u32;
        for &end in ends {
            for t in templates {
                for r in &t.rpls {
                    let Op::Perl { id, .. } = r.op else { continue };
                    let len = i64::from(end - start);
                    let mut push = |arg: u32| {
                        let e = Eval {
                            expr: id,
                            arg,
                            visible: end,
                            cached: false,
                            again: false,
                        };
                        if !map.contains_key(&(id, arg))
                            && !out.iter().any(|o| o.expr == id && o.arg == arg)
                        {
                            out.push(e);
                        }
                    };
                    match r.position {
                        Some(p) => {
                            let col = if p > 0 { p - 1 } else { len + p };
                            if (0..len).contains(&col) {
                                push(start + col as u32);
                            }
                        }
                        None => (start..end).for_each(&mut push),
                    }
                }
            }
            start = end;
        }
        out
    }
}
