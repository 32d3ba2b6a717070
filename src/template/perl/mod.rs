//! Perl expressions `{= ... =}`: evaluated, as GNU parallel evaluates
//! them, by one long-lived `perl` co-process per run (see [`coproc`]).
//!
//! A [`Perl`] session starts the co-process the first time an expression
//! is registered (a run without expressions never starts perl). Each
//! distinct expression is compiled once into a sub, so a syntax error is
//! reported before any job runs; the interpreter's state (globals such as
//! `$a` in `{= $a++ =}`) lasts the whole run. Evaluation goes in batches:
//! one request carries many jobs, each with its values and the list of
//! (expression, value) pairs to compute, in the order GNU parallel
//! computes them.

mod coproc;
pub mod values;

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

pub use coproc::CoprocError;
use coproc::{Coproc, Reader, put_bytes, put_u32};

/// GNU parallel's eval counter reaches 10 before the first expression is
/// compiled; its messages name the expression's code `(eval 10)`.
const FIRST_EVAL_NUMBER: u32 = 10;

/// Errors from Perl expressions.
#[derive(Debug, thiserror::Error)]
pub enum PerlError {
    /// The co-process is missing or failed.
    #[error(transparent)]
    Coproc(#[from] CoprocError),
    /// An expression does not compile (GNU parallel's message; Perl's
    /// own ends with a newline, so an empty line follows, as in GNU).
    #[error("Error: Cannot use {code}: {message}")]
    Syntax {
        /// The expression.
        code: String,
        /// Perl's message.
        message: String,
    },
    /// An expression called `die`: GNU parallel stops with Perl's message.
    #[error("{}", .0.trim_end_matches('\n'))]
    Died(String),
}

/// One evaluation: expression `expr` on value `arg` of the job, with the
/// first `visible` values of the job in `@arg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Eval {
    /// Expression id from [`Perl::register`].
    pub expr: u32,
    /// Index into the job's values.
    pub arg: u32,
    /// How many of the job's values `@arg` shows (`$arg[1]` is the first).
    pub visible: u32,
    /// Reuse an earlier value of the same expression and value in this
    /// request while it is true (GNU parallel's cache, which recomputes
    /// `""` and `0`).
    pub cached: bool,
    /// Compute a false value once more (GNU parallel builds the job, then
    /// its command line, and its cache does not keep false values).
    pub again: bool,
}

/// The evaluations for one job.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// `$job->seq()`.
    pub seq: u64,
    /// `$job->slot()`.
    pub slot: usize,
    /// `total_jobs()` (0 when not counted).
    pub total: u64,
    /// The job's values, untrimmed (`$_` is trimmed as `--trim` says).
    pub args: Cow<'a, [Vec<u8>]>,
    /// What to compute, in order.
    pub evals: Vec<Eval>,
}

/// A computed value: the bytes of `$_`, and whether `uq()` asked for it
/// to be inserted unquoted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Value {
    /// `$_` after the expression.
    pub bytes: Vec<u8>,
    /// `uq()` was called.
    pub unquoted: bool,
}

/// The answer for one job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    /// `skip()` was called.
    pub skip: bool,
    /// One value per [`Eval`], in order.
    pub values: Vec<Value>,
}

/// One run's Perl interpreter.
pub struct Perl {
    trim: &'static str,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    coproc: Option<Coproc>,
    /// Per batch sent and not read back: evaluations per job.
    owed: VecDeque<Vec<usize>>,
    /// Answers read early (to make room for a synchronous exchange), in
    /// order, for [`Perl::collect`].
    early: VecDeque<(Vec<Answer>, Option<PerlError>)>,
    ids: HashMap<Vec<u8>, u32>,
    /// The first error: every later use repeats it.
    failed: Option<String>,
}

impl std::fmt::Debug for Perl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Perl").field("trim", &self.trim).finish()
    }
}

impl Perl {
    /// A session; `trim` is GNU parallel's `--trim` (`n`, `l`, `r`,
    /// `lr`). Nothing starts until an expression is registered.
    pub fn new(trim: &'static str) -> Perl {
        Perl {
            trim,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Compiles `code` (once per distinct text) and returns its id.
    pub fn register(&self, code: &[u8]) -> Result<u32, PerlError> {
        let mut st = self.lock();
        if let Some(&id) = st.ids.get(code) {
            return Ok(id);
        }
        let id = st.ids.len() as u32;
        Self::read_owed(&mut st, 0)?;
        let coproc = self.coproc(&mut st)?;
        let buf = coproc.begin(b'C');
        put_u32(buf, id);
        put_u32(buf, FIRST_EVAL_NUMBER + id);
        buf.extend_from_slice(code);
        let (kind, body) = coproc.exchange()?;
        if kind != b'O' {
            return Err(PerlError::Syntax {
                code: String::from_utf8_lossy(code).into_owned(),
                message: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        st.ids.insert(code.to_vec(), id);
        Ok(id)
    }

    fn coproc<'a>(&self, st: &'a mut State) -> Result<&'a mut Coproc, PerlError> {
        if let Some(f) = &st.failed {
            return Err(PerlError::Coproc(CoprocError::Io(std::io::Error::other(
                f.clone(),
            ))));
        }
        if st.coproc.is_none() {
            match Coproc::start(self.trim) {
                Ok(c) => st.coproc = Some(c),
                Err(e) => {
                    st.failed = Some(e.to_string());
                    return Err(e.into());
                }
            }
        }
        st.coproc
            .as_mut()
            .ok_or_else(|| PerlError::Coproc(CoprocError::Io(std::io::Error::other("no perl"))))
    }

    /// Evaluates a batch of jobs in one exchange. A `die` in job *k*
    /// returns the answers of the jobs before it, then the error.
    pub fn evaluate(&self, jobs: &[Request<'_>]) -> (Vec<Answer>, Option<PerlError>) {
        let mut st = self.lock();
        if let Err(e) = Self::read_owed(&mut st, 0) {
            return (Vec::new(), Some(e));
        }
        if let Err(e) = self.send(&mut st, jobs, false) {
            return (Vec::new(), Some(e));
        }
        Self::read_answer(&mut st)
    }

    /// Sends a batch whose answer [`Perl::collect`] reads later: perl
    /// evaluates it while parx goes on. Answers come back in order.
    pub fn submit(&self, jobs: &[Request<'_>]) -> Result<(), PerlError> {
        let mut st = self.lock();
        Self::read_owed(&mut st, 1)?;
        self.send(&mut st, jobs, true)
    }

    /// The answer to the oldest batch [`Perl::submit`] sent.
    pub fn collect(&self) -> (Vec<Answer>, Option<PerlError>) {
        let mut st = self.lock();
        match st.early.pop_front() {
            Some(a) => a,
            None => Self::read_answer(&mut st),
        }
    }

    /// Reads answers owed until at most `keep` are.
    fn read_owed(st: &mut State, keep: usize) -> Result<(), PerlError> {
        while st.owed.len() > keep {
            let answer = Self::read_answer(st);
            st.early.push_back(answer);
        }
        match &st.failed {
            Some(f) => Err(PerlError::Coproc(CoprocError::Io(std::io::Error::other(
                f.clone(),
            )))),
            None => Ok(()),
        }
    }

    /// Encodes and sends `jobs`. With `ahead`, an answer may still be
    /// owed: a request too big for the pipe waits for it first.
    fn send(&self, st: &mut State, jobs: &[Request<'_>], ahead: bool) -> Result<(), PerlError> {
        let coproc = self.coproc(st)?;
        let buf = coproc.begin(b'E');
        put_u32(buf, jobs.len() as u32);
        for job in jobs {
            // Perl's u32 fields: sequence numbers and totals past 4e9 wrap.
            put_u32(buf, job.seq as u32);
            put_u32(buf, job.slot as u32);
            put_u32(buf, job.total as u32);
            // Counts twice: one is read as a value, one by unpack's `/`.
            put_u32(buf, job.args.len() as u32);
            put_u32(buf, job.args.len() as u32);
            for a in job.args.iter() {
                put_bytes(buf, a);
            }
            put_u32(buf, job.evals.len() as u32);
            put_u32(buf, job.evals.len() as u32);
            for e in &job.evals {
                put_u32(buf, e.expr);
                put_u32(buf, e.arg);
                let flags = if e.cached { 1 << 31 } else { 0 } | if e.again { 1 << 30 } else { 0 };
                put_u32(buf, e.visible | flags);
            }
        }
        let fits = coproc.fits();
        if ahead && !fits && !st.owed.is_empty() {
            // Keep the request built; make room by reading what is owed.
            Self::read_owed(st, 0)?;
        }
        let coproc = self.coproc(st)?;
        if let Err(e) = coproc.send() {
            st.failed = Some(e.to_string());
            st.coproc = None;
            return Err(e.into());
        }
        st.owed
            .push_back(jobs.iter().map(|j| j.evals.len()).collect());
        Ok(())
    }

    /// Reads the answer to the oldest batch owed.
    fn read_answer(st: &mut State) -> (Vec<Answer>, Option<PerlError>) {
        let Some(counts) = st.owed.pop_front() else {
            return (Vec::new(), None);
        };
        let body = match st.coproc.as_mut().map(Coproc::receive) {
            Some(Ok((_, body))) => body,
            Some(Err(e)) => {
                st.failed = Some(e.to_string());
                st.coproc = None;
                return (Vec::new(), Some(e.into()));
            }
            None => {
                let f = st.failed.clone().unwrap_or_else(|| "no perl".into());
                return (
                    Vec::new(),
                    Some(PerlError::Coproc(CoprocError::Io(std::io::Error::other(f)))),
                );
            }
        };
        let mut r = Reader::new(&body);
        let mut answers = Vec::with_capacity(counts.len());
        for n in counts {
            match parse_answer(&mut r, n) {
                Ok(Ok(a)) => answers.push(a),
                Ok(Err(died)) => return (answers, Some(PerlError::Died(died))),
                Err(e) => return (answers, Some(e.into())),
            }
        }
        (answers, None)
    }
}

/// One job's answer, or the message of a `die`.
fn parse_answer(r: &mut Reader<'_>, n: usize) -> Result<Result<Answer, String>, CoprocError> {
    let mut values = Vec::with_capacity(n);
    for _ in 0..n {
        let flag = r.byte()?;
        let bytes = r.bytes()?;
        if flag == 2 {
            return Ok(Err(String::from_utf8_lossy(bytes).into_owned()));
        }
        values.push(Value {
            bytes: bytes.to_vec(),
            unquoted: flag == 1,
        });
    }
    let skip = r.byte()? == 1;
    Ok(Ok(Answer { skip, values }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perl_available() -> bool {
        std::process::Command::new("perl")
            .arg("-e1")
            .status()
            .is_ok_and(|s| s.success())
    }

    fn eval_one(p: &Perl, code: &str, args: &[&[u8]]) -> Vec<Value> {
        let id = p.register(code.as_bytes()).unwrap();
        let args: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
        let req = Request {
            seq: 1,
            slot: 1,
            total: 0,
            args: Cow::Borrowed(&args),
            evals: (0..args.len() as u32)
                .map(|i| Eval {
                    expr: id,
                    arg: i,
                    visible: args.len() as u32,
                    cached: false,
                    again: false,
                })
                .collect(),
        };
        let (a, e) = p.evaluate(&[req]);
        assert!(e.is_none(), "{e:?}");
        a[0].values.clone()
    }

    #[test]
    fn values_are_bytes_and_state_persists() {
        if !perl_available() {
            return;
        }
        let p = Perl::new("n");
        let v = eval_one(&p, "$_ .= \"\\n\\0\"", &[b"a\xff", b""]);
        assert_eq!(v[0].bytes, b"a\xff\n\0");
        assert_eq!(v[1].bytes, b"\n\0");
        let v = eval_one(&p, "$x++; $_ = $x", &[b"", b""]);
        assert_eq!(
            (v[0].bytes.as_slice(), v[1].bytes.as_slice()),
            (&b"1"[..], &b"2"[..])
        );
        let v = eval_one(&p, "$x++; $_ = $x; uq()", &[b""]);
        assert_eq!(
            v[0],
            Value {
                bytes: b"3".to_vec(),
                unquoted: true
            }
        );
    }

    #[test]
    fn syntax_error_and_die() {
        if !perl_available() {
            return;
        }
        let p = Perl::new("n");
        let e = p.register(b"$_=( ").unwrap_err().to_string();
        assert!(
            e.starts_with("Error: Cannot use $_=( : syntax error at (eval 10) line 1"),
            "{e}"
        );
        let id = p.register(b"die \"boom\\n\" if $_ eq 'b'").unwrap();
        let args = [b"a".to_vec(), b"b".to_vec()];
        let reqs: Vec<Request> = (0..2)
            .map(|i| Request {
                seq: i + 1,
                slot: 1,
                total: 0,
                args: Cow::Borrowed(&args[i as usize..=i as usize]),
                evals: vec![Eval {
                    expr: id,
                    arg: 0,
                    visible: 1,
                    cached: false,
                    again: false,
                }],
            })
            .collect();
        let (a, e) = p.evaluate(&reqs);
        assert_eq!(a.len(), 1);
        assert_eq!(e.unwrap().to_string(), "boom");
    }
}
