//! `--files` and `--results`: from the command line to the engine's
//! [`Save`] option and to each job's `--results` place.
//!
//! GNU parallel quirks kept on purpose: with `--header :`, the names of
//! `::::`/`-a` files replace the first column names (in file order) both
//! in the `--results` name and in the directory layout; `--files` with
//! `-u` prints output as `-u` does, while `--results` with `-u` saves.

use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::rc::Rc;

use super::Config;
use super::config::{Header, rename_header};
use crate::engine::{self, JobSpec, RunOptions};
use crate::input::InputError;
use crate::input::SourceKind;
use crate::output::results::{ResultsJob, destination};
use crate::output::{self, Destination, Save};
use crate::template::{Job, Template};

/// Exit status when `--files`/`--results` can not be set up.
const EXIT_ERROR: i32 = 255;

/// What every job needs to find its `--results` place.
struct ResultsSpec {
    /// The name with `--header` names turned into column numbers.
    name: Vec<u8>,
    template: Template,
    /// Header of every column, as far as known.
    headers: Vec<Vec<u8>>,
    /// Values per record; `None`: all of a job's values (`--colsep`).
    columns: Option<usize>,
    /// `-N0`: GNU parallel's value is its no-argument marker.
    noarg: bool,
}

/// The value GNU parallel stores for "no argument" (`-N0`), which its
/// `--results` directories show.
const NOARG: &[u8] = b"\0noarg";

/// A job whose output is saved.
pub(super) struct Saving {
    job: Job,
    /// `--resume`: skip the job if its `--results` output exists.
    resume: bool,
    results: Option<Rc<ResultsSpec>>,
}

impl JobSpec for Saving {
    fn seq(&self) -> u64 {
        self.job.seq
    }

    fn command_line(&self, slot: usize) -> Vec<u8> {
        self.job.command_line(slot)
    }

    fn tag(&self, slot: usize) -> Option<Vec<u8>> {
        self.job.tag(slot)
    }

    fn skipped(&self) -> bool {
        self.job.skipped()
    }

    fn done_before(&self) -> bool {
        // GNU parallel looks for the job's stdout file (making the
        // directories as it looks).
        self.resume && matches!(self.destination(1), Some(Ok(place)) if place.stdout.exists())
    }

    fn destination(&self, slot: usize) -> Option<io::Result<Destination>> {
        let spec = self.results.as_ref()?;
        let rendered = self.job.render_with(&spec.template, slot);
        let noarg = if spec.noarg {
            let n = spec.columns.unwrap_or(self.job.args.len()).max(1);
            vec![NOARG.to_vec(); n]
        } else {
            Vec::new()
        };
        let args = if spec.noarg { &noarg } else { &self.job.args };
        Some(destination(&ResultsJob {
            name: &spec.name,
            rendered: &rendered,
            headers: &spec.headers,
            args,
            columns: spec.columns.unwrap_or(args.len()),
        }))
    }
}

/// Runs `jobs` with `--files`/`--results`; returns parx's exit status.
pub(super) fn run(
    config: &Config,
    mut opts: RunOptions,
    header_names: &[Vec<u8>],
    jobs: impl Iterator<Item = Result<Job, InputError>>,
) -> i32 {
    let wrap = match saving(config, &mut opts, header_names) {
        Ok(w) => w,
        Err(status) => return status,
    };
    engine::run(&opts, jobs.map(move |j| j.map(&wrap)))
}

/// Sets up `--files`/`--results` in `opts`; returns how each job is made
/// a job whose output is saved (or the exit status if that can not be).
pub(super) fn saving(
    config: &Config,
    opts: &mut RunOptions,
    header_names: &[Vec<u8>],
) -> Result<impl Fn(Job) -> Saving + use<>, i32> {
    let results = match &config.results {
        Some(name) => {
            let name = name.as_os_str().as_bytes();
            let lower = name.to_ascii_lowercase();
            if [&b".csv"[..], b".tsv", b".json"]
                .iter()
                .any(|ext| lower.ends_with(ext))
            {
                eprintln!(
                    "parx: --results {} (CSV/TSV/JSON table output) is not supported yet; \
                     give a directory name (see docs/compat.md)",
                    OsStr::from_bytes(name).to_string_lossy()
                );
                return Err(EXIT_ERROR);
            }
            match results_spec(config, name, header_names) {
                Ok(spec) => Some(Rc::new(spec)),
                Err(e) => {
                    eprintln!("parx: --results: {e}");
                    return Err(EXIT_ERROR);
                }
            }
        }
        None => None,
    };
    if results.is_some() && opts.output == output::Mode::Ungroup {
        // The job's output must come through parx to reach the files.
        opts.output = output::Mode::Group;
    }
    opts.save = Some(Save {
        print_names: config.files,
        results: results.is_some(),
        tmpdir: tmpdir(config),
    });
    let resume = config.resume && !config.resume_failed && results.is_some();
    Ok(move |job| Saving {
        job,
        resume,
        results: results.clone(),
    })
}

fn results_spec(
    config: &Config,
    name: &[u8],
    first_line_names: &[Vec<u8>],
) -> Result<ResultsSpec, String> {
    let mut headers: Vec<Vec<u8>> = first_line_names.to_vec();
    let mut renamed = name.to_vec();
    for (i, h) in headers.iter().enumerate() {
        renamed = rename_header(&renamed, h, i + 1);
    }
    if config.header == Some(Header::FirstLine) {
        let files = config.sources.iter().filter_map(|s| match &s.kind {
            SourceKind::File(p) => Some(p.as_os_str().as_bytes().to_vec()),
            _ => None,
        });
        for (i, file) in files.enumerate() {
            renamed = rename_header(&renamed, &file, i + 1);
            while headers.len() <= i {
                headers.push((headers.len() + 1).to_string().into_bytes());
            }
            headers[i] = file;
        }
    }
    let template = config
        .unquoted_template(&[renamed.clone()])
        .map_err(|e| e.to_string())?;
    Ok(ResultsSpec {
        name: renamed,
        template,
        headers,
        columns: match config.colsep {
            Some(_) => None,
            None => Some(config.sources.len().max(1)),
        },
        noarg: config.grouping.noarg,
    })
}

/// `--tmpdir`, else `$TMPDIR`, else `/tmp`.
fn tmpdir(config: &Config) -> PathBuf {
    config
        .tmpdir
        .clone()
        .or_else(|| {
            std::env::var_os("TMPDIR")
                .filter(|d| !d.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| PathBuf::from("/tmp"))
}
