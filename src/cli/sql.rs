//! `--sqlmaster`, `--sqlworker`, `--sqlandworker`: from the command line
//! to the queue (`crate::queue`). The master turns the run's jobs into
//! rows and runs nothing; a worker runs the engine on the rows it claims,
//! building each command line from its own command (or, without one,
//! from the `Command` the master stored) and the row's values, printing
//! or saving (`--files`, `--results`) output as a local run does.

use std::collections::HashMap;
use std::sync::Arc;

use super::Config;
use crate::engine::{self, RunOptions, policy::exit_code_for_failures};
use crate::queue::{
    Claimed, DbUrl, MIN_CLAIMS, Master, NewJob, QueueError, SqlMode, Worker, WorkerOptions,
};
use crate::template::{Job, Template};

/// Exit status when the queue can not be used.
const EXIT_ERROR: i32 = 255;

/// GNU parallel stores the command's words joined by this.
const WORD_SEP: &[u8] = b"\xaf ";

/// Runs the queue modes; returns parx's exit status.
pub(super) fn run(config: &Config, sql: &SqlMode, opts: RunOptions) -> i32 {
    if config.pipe.is_some() {
        eprintln!("parx: --pipe with --sql* is not supported yet (see docs/compat.md)");
        return EXIT_ERROR;
    }
    let mut master = None;
    if let Some(url) = &sql.master {
        match fill(config, url) {
            Ok(m) => master = Some(m),
            Err(e) => return fail("--sqlmaster", &e),
        }
    }
    let mut status = 0;
    if let Some(url) = &sql.worker {
        status = work(config, url, sql, &opts);
    }
    if let Some(m) = master.as_mut()
        && sql.wait
    {
        status = match m.wait() {
            Ok(failed) => exit_code_for_failures(failed),
            Err(e) => fail("--sqlmaster", &e),
        };
    }
    status
}

fn fail(option: &str, e: &QueueError) -> i32 {
    eprintln!("parx: {option}: {e}");
    EXIT_ERROR
}

/// The master: every job of the run becomes a pending row.
fn fill(config: &Config, url: &DbUrl) -> Result<Master, QueueError> {
    let mut jobs = config.jobs().map_err(|e| QueueError(e.to_string()))?;
    let first = jobs
        .next()
        .transpose()
        .map_err(|e| QueueError(e.to_string()))?;
    let per_job = config.sources.len().max(1) * config.grouping.max_args.unwrap_or(1);
    let values = first
        .as_ref()
        .map_or(per_job, |j| j.args.len().max(per_job));
    let command = config.command_words().join(WORD_SEP);
    let mut master = Master::start(url, values, command)?;
    for job in first.into_iter().map(Ok).chain(jobs) {
        let job = job.map_err(|e| QueueError(e.to_string()))?;
        master.add(NewJob {
            seq: job.seq,
            values: job.args,
        })?;
    }
    master.done()?;
    Ok(master)
}

/// Builds a claimed row's job: the worker's own command, else the one
/// stored in the row.
struct Builder<'a> {
    config: &'a Config,
    own: Option<Arc<Template>>,
    stored: HashMap<Vec<u8>, Arc<Template>>,
    tag: Option<Arc<Template>>,
}

impl Builder<'_> {
    fn build(&mut self, c: Claimed) -> Result<Job, String> {
        let template = match &self.own {
            Some(t) => t.clone(),
            None => match self.stored.get(&c.command) {
                Some(t) => t.clone(),
                None => {
                    let words: Vec<Vec<u8>> = if c.command.is_empty() {
                        Vec::new()
                    } else {
                        split(&c.command, WORD_SEP)
                    };
                    let t = Arc::new(self.config.template(&words).map_err(|e| e.to_string())?);
                    self.stored.insert(c.command.clone(), t.clone());
                    t
                }
            },
        };
        Ok(Job::new(
            c.seq,
            c.values,
            template,
            self.tag.clone(),
            self.config.grouping.noarg,
        ))
    }
}

fn split(bytes: &[u8], sep: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while let Some(i) = rest.windows(sep.len()).position(|w| w == sep) {
        out.push(rest[..i].to_vec());
        rest = &rest[i + sep.len()..];
    }
    out.push(rest.to_vec());
    out
}

/// A worker: the engine runs claimed rows; results go back to the table.
fn work(config: &Config, url: &DbUrl, sql: &SqlMode, opts: &RunOptions) -> i32 {
    let worker = match Worker::start(
        url,
        WorkerOptions {
            lease: sql.lease,
            max_claims: config.retries.max(MIN_CLAIMS),
            batch: opts.jobs,
        },
    ) {
        Ok(w) => w,
        Err(e) => return fail("--sqlworker", &e),
    };
    let own = if config.command.is_empty() {
        None
    } else {
        match config.template(&config.command_words()) {
            Ok(t) => Some(Arc::new(t)),
            Err(e) => {
                eprintln!("parx: {e}");
                return EXIT_ERROR;
            }
        }
    };
    let tag = match &config.tagstring {
        Some(t) => match config.unquoted_template(std::slice::from_ref(t)) {
            Ok(t) => Some(Arc::new(t)),
            Err(e) => {
                eprintln!("parx: {e}");
                return EXIT_ERROR;
            }
        },
        None => None,
    };
    let mut builder = Builder {
        config,
        own,
        stored: HashMap::new(),
        tag,
    };
    let mut writer = worker.writer();
    let status = if config.files || config.results.is_some() {
        // Saved as a local run saves them; the table gets the output too.
        let mut opts = opts.clone();
        let wrap = match super::save::saving(config, &mut opts, &[]) {
            Ok(w) => w,
            Err(status) => return status,
        };
        let source = worker.source(move |c| builder.build(c).map(&wrap));
        engine::run_observed(&opts, source, Some(&mut writer))
    } else {
        let source = worker.source(move |c| builder.build(c));
        engine::run_observed(opts, source, Some(&mut writer))
    };
    match worker.finish() {
        Ok(_) => status,
        Err(e) => fail("--sqlworker", &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_command_words() {
        assert_eq!(
            split(b"echo\xaf {}\xaf x", WORD_SEP),
            vec![b"echo".to_vec(), b"{}".to_vec(), b"x".to_vec()]
        );
    }
}
