//! A job's Perl values: which (expression, value) pairs a template needs,
//! in the order GNU parallel computes them, and the computed results,
//! kept with the job as GNU parallel caches them on its arguments (an
//! expression used twice on one value is evaluated once).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{Answer, Eval, Value};
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

    /// The evaluations `templates` need that are not computed yet, in
    /// GNU parallel's order: record by record, each expression on the
    /// record's values (a positional one on its column only), `@arg`
    /// showing the values up to that record. With `whole`, `@arg` shows
    /// all values and positions count in the whole job (as when GNU
    /// parallel fills in a value it did not compute while building).
    pub fn missing(&self, templates: &[&Template], nargs: usize, whole: bool) -> Vec<Eval> {
        let map = self.lock();
        let mut out: Vec<Eval> = Vec::new();
        let single = [nargs as u32];
        let ends: &[u32] = if whole || self.rec_ends.is_empty() {
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
