//! GNU parallel's command line, parsed into one [`Config`].
//!
//! This module owns everything about parx's options: the flag table
//! (`flags.rs`, one definition per option, from which the parser and
//! `--help` are derived), reading argv the way GNU parallel's
//! `Getopt::Long` does (`parse.rs` → [`LowArgs`], what was typed), and
//! interpreting it (`config.rs` → [`Config`], what to do), with options
//! from profile files and `$PARALLEL` first (`profile.rs`). It runs the
//! modes that need no engine itself: `--help`, `--version`, `--generate`
//! (man page and completions, `generate.rs`), `--dry-run`,
//! `--shellquote`; everything else goes to the engine through `run.rs`
//! ([`run_jobs`]).
//!
//! Exit codes: 0 success; 255 for a bad command line or input that cannot
//! be read (one line `parx: ...` on stderr), as GNU parallel.

mod config;
mod cpuinfo;
mod envvars;
mod flags;
mod generate;
mod help;
mod lowargs;
mod parse;
mod pipe;
mod profile;
mod remote;
mod run;
mod save;
mod semaphore;
mod sql;

pub use config::{
    Config, Header, Joblog, OutputMode, PipeConfig, cpus, parse_duration, parse_jobs, parse_size,
    unescape,
};
pub use flags::{Category, FLAGS, Flag, Value};
pub use generate::Generate;
pub use lowargs::LowArgs;
pub use profile::shell_words;

use crate::input::InputError;
use crate::template::{MAX_COMMAND_LINE, TemplateError};
use std::ffi::OsString;
use std::io::Write;

/// Exit status for errors in parx itself (bad options, unreadable input).
pub const EXIT_USAGE: i32 = 255;

/// The version of GNU parallel whose behaviour parx follows.
pub const GNU_PARALLEL_VERSION: u32 = 20221122;

/// A command-line or input error: printed as one line, exit 255.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// An option parx does not know.
    #[error("unknown option '{0}' (see parx --help)")]
    UnknownOption(String),
    /// A long option abbreviation that matches several options.
    #[error("option '{option}' is ambiguous: it could be {} (type more of the name)", candidates.join(", "))]
    Ambiguous {
        /// As typed.
        option: String,
        /// Matching names.
        candidates: Vec<String>,
    },
    /// An option without its required value.
    #[error("option '{0}' needs a value (see parx --help)")]
    MissingValue(String),
    /// `--switch=value`.
    #[error("option '{0}' does not take a value")]
    UnexpectedValue(String),
    /// A value that does not parse.
    #[error("option '{option}': {why}")]
    BadValue {
        /// The option.
        option: String,
        /// What is wrong.
        why: String,
    },
    /// A GNU parallel option parx does not implement.
    #[error("option '{0}' is not supported by parx yet (see docs/compat.md)")]
    Unsupported(String),
    /// An option GNU parallel has retired.
    #[error("option '{option}' has been retired by GNU parallel: {instead}")]
    Retired {
        /// The option.
        option: String,
        /// What to use instead.
        instead: &'static str,
    },
    /// Options that cannot be combined.
    #[error("{0} cannot be combined with {1}")]
    Conflict(&'static str, &'static str),
    /// A bad replacement string or template.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// Reading input failed.
    #[error(transparent)]
    Input(#[from] InputError),
    /// Anything else from the argument parser.
    #[error("{0}")]
    Other(String),
}

impl CliError {
    /// The exit status for this error.
    pub fn exit_code(&self) -> i32 {
        EXIT_USAGE
    }
}

/// Parses the arguments (without the program name) into a [`Config`].
pub fn parse(args: Vec<OsString>) -> Result<Config, CliError> {
    Config::from_low(parse::parse_all(args)?)
}

/// Runs the jobs through the engine and returns the exit status.
pub fn run_jobs(config: &Config) -> i32 {
    run::run(config)
}

/// Runs parx with the given arguments (without the program name) and
/// returns the process exit status.
pub fn main(args: Vec<OsString>) -> i32 {
    main_as(std::ffi::OsStr::new("parx"), args)
}

/// [`main`] for a program run as `program` (argv[0]): as `sem`, parx is a
/// counting semaphore, as GNU parallel's `sem` is.
pub fn main_as(program: &std::ffi::OsStr, args: Vec<OsString>) -> i32 {
    match args.first() {
        Some(a) if a == crate::engine::sentinel::SENTINEL_ARG => {
            return crate::engine::sentinel::sentinel_main();
        }
        Some(a) if a == semaphore::HOLDER_ARG => return semaphore::holder_main(&args[1..]),
        _ => {}
    }
    let low = match parse::parse_all(args) {
        Ok(low) => low,
        Err(e) => return report(&e),
    };
    if low.help {
        print!("{}", help::help());
        return 0;
    }
    if let Some(kind) = low.generate {
        print!("{}", kind.render());
        return 0;
    }
    if low.version {
        println!(
            "parx {} (follows GNU parallel {GNU_PARALLEL_VERSION})",
            env!("CARGO_PKG_VERSION")
        );
        return 0;
    }
    if let Some(v) = &low.min_version {
        println!("{GNU_PARALLEL_VERSION}");
        let wanted: u64 = v.to_string_lossy().trim().parse().unwrap_or(u64::MAX);
        return if wanted <= u64::from(GNU_PARALLEL_VERSION) {
            0
        } else {
            EXIT_USAGE
        };
    }
    if low.print_max_line_length {
        println!("{MAX_COMMAND_LINE}");
        return 0;
    }
    if let Some(which) = low.print_cpus {
        println!("{}", cpuinfo::count(which));
        return 0;
    }
    if low.record_env {
        return match envvars::record_env() {
            Ok(()) => 0,
            Err(e) => report(&e),
        };
    }
    if let Err(e) = envvars::check_env_names(&low.env) {
        return report(&e);
    }
    if semaphore::wanted(&low, semaphore::is_sem(program)) {
        return semaphore::run(&low);
    }
    let config = match Config::from_low(low) {
        Ok(c) => c,
        Err(e) => return report(&e),
    };
    if config.dry_run || config.shellquote > 0 {
        return print_jobs(&config);
    }
    run_jobs(&config)
}

fn report(e: &CliError) -> i32 {
    eprintln!("parx: {e}");
    e.exit_code()
}

/// The slot `--dry-run` shows for `{%}`: GNU parallel's dry run finishes
/// each job at once, so with two or more slots it alternates 1, 2.
fn dry_run_slot(jobs: usize, seq: u64) -> usize {
    if jobs == 1 {
        1
    } else {
        ((seq - 1) % 2) as usize + 1
    }
}

/// `--dry-run` and `--shellquote`: print each job's command line.
fn print_jobs(config: &Config) -> i32 {
    let jobs = match config.jobs() {
        Ok(j) => j,
        Err(e) => return report(&CliError::Input(e)),
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut line = Vec::new();
    // GNU parallel's dry run counts jobs a Perl expression skipped as
    // failed.
    let mut skipped = 0;
    for job in jobs {
        let job = match job {
            Ok(j) => j,
            Err(e) => {
                let _ = out.flush();
                return report(&CliError::Input(e));
            }
        };
        let slot = dry_run_slot(config.jobs, job.seq);
        let cmd = job.command_line(slot);
        if config.dry_run && job.skipped() {
            skipped += 1;
        }
        line.clear();
        if config.dry_run {
            match job.tag(slot) {
                // Output lines are tagged, and the dry run's output is the
                // command line.
                Some(tag) => {
                    for (i, part) in cmd.split(|&b| b == b'\n').enumerate() {
                        if i > 0 {
                            line.push(b'\n');
                        }
                        line.extend_from_slice(&tag);
                        line.push(b'\t');
                        line.extend_from_slice(part);
                    }
                }
                None => line.extend_from_slice(&cmd),
            }
        } else {
            let mut quoted = cmd;
            for _ in 0..config.shellquote {
                quoted = crate::template::quote::quote(&quoted);
            }
            line.extend_from_slice(&quoted);
        }
        line.push(b'\n');
        if config.dry_run && config.print_stderr {
            let _ = std::io::stderr().write_all(&line);
        }
        if let Err(e) = out.write_all(&line) {
            return write_failed(&e);
        }
        if config.dry_run
            && config.print_stderr
            && let Err(e) = out.flush()
        {
            return write_failed(&e);
        }
    }
    match out.flush() {
        Ok(()) => crate::engine::policy::exit_code_for_failures(skipped),
        Err(e) => write_failed(&e),
    }
}

fn write_failed(e: &std::io::Error) -> i32 {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return 0;
    }
    eprintln!("parx: cannot write to stdout: {e}");
    EXIT_USAGE
}
