//! The resolved configuration: what parx will do, with every option
//! interpreted (numbers parsed, defaults applied, implied settings made
//! explicit). The engine reads these fields; [`Config::jobs`] streams the
//! jobs.

use super::CliError;
use super::lowargs::LowArgs;
use crate::engine::{Halt, TermSeq, Timeout};
use crate::input::{
    ColumnSplitter, Combiner, InputError, ReadOptions, RecordReader, Source, SourceKind,
};
use crate::template::perl::Perl;
use crate::template::{
    Grouping, JobIter, MAX_COMMAND_LINE, Records, Renames, Table, Template, TemplateOptions, Trim,
};
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How job output reaches stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputMode {
    /// `--group` (default): each job's output in one piece when it ends.
    #[default]
    Group,
    /// `--line-buffer`: whole lines as they come.
    LineBuffer,
    /// `-u`: bytes as they come.
    Ungroup,
}

/// `--joblog`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joblog {
    /// The file (`-` = stdout).
    pub path: PathBuf,
    /// `+FILE`: append instead of truncating.
    pub append: bool,
}

/// `--pipe`/`--pipepart` settings, in the terms of
/// [`crate::pipemode::BlockSpec`].
#[derive(Debug, Clone, PartialEq)]
pub struct PipeConfig {
    /// `--pipepart`: read a seekable file (`-a`) in parts.
    pub part: bool,
    /// `--block`, `None` for the default (1M; `-10` with `--pipepart`).
    pub block: Option<crate::pipemode::BlockSize>,
    /// `--recstart`, raw (the splitter decodes escapes).
    pub recstart: Option<Vec<u8>>,
    /// `--recend`, raw.
    pub recend: Option<Vec<u8>>,
    /// `--regexp`.
    pub regexp: bool,
    /// `--remove-rec-sep`.
    pub remove_rec_sep: bool,
    /// `--round-robin`.
    pub round_robin: bool,
    /// `--header`.
    pub header: crate::pipemode::Header,
    /// `-N` with --pipe: records per block.
    pub records: Option<usize>,
    /// `-L` with --pipe: lines per record.
    pub lines: Option<usize>,
}

/// `--header` for arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Header {
    /// The first line of each source names its columns.
    FirstLine,
    /// `--header 0`: names are the `::::`/`-a` file names.
    FileNames,
}

/// Everything parx will do, resolved.
#[derive(Debug, Clone)]
pub struct Config {
    // What to run.
    /// The command words (before `:::`); empty = each input is the command.
    pub command: Vec<OsString>,
    /// Input sources in order.
    pub sources: Vec<Source>,
    /// `--link`/`--xapply`.
    pub link: bool,
    /// How input is cut into values.
    pub read: ReadOptions,
    /// `--colsep` regex.
    pub colsep: Option<String>,
    /// `--header` (not with `--pipe`).
    pub header: Option<Header>,
    /// `--skip-first-line`.
    pub skip_first_line: bool,
    /// `--trim`.
    pub trim: Trim,
    /// Replacement-string renames (`-I` …).
    pub renames: Renames,
    /// `--plus`.
    pub plus: bool,
    /// `--parens` (left, right).
    pub parens: (String, String),
    /// `--rpl` strings: (key, Perl code).
    pub rpl: Vec<(String, String)>,
    /// The run's Perl session (started only if an expression is used).
    pub perl: Arc<Perl>,
    /// `-q`.
    pub quote: bool,
    /// Context replace (`-X`, `-N`, `-L`).
    pub context_replace: bool,
    /// How records are grouped into jobs.
    pub grouping: Grouping,
    // Modes.
    /// `--dry-run`: print the command lines, run nothing.
    pub dry_run: bool,
    /// `--shellquote` count: print each command line quoted that many times.
    pub shellquote: usize,
    /// `-v` count: print each command line on stdout (with its output).
    pub verbose: usize,
    /// `-t`/`--verbose`: print each command line on stderr when it starts.
    pub print_stderr: bool,
    // Scheduling.
    /// `-j` resolved: number of job slots; 0 = unlimited.
    pub jobs: usize,
    /// `--delay`.
    pub delay: Option<Duration>,
    /// `--timeout`.
    pub timeout: Option<Timeout>,
    /// `--retries` (1 = no retry; GNU parallel counts tries).
    pub retries: u32,
    /// `--halt`.
    pub halt: Option<Halt>,
    /// `--termseq`: signals and the grace period after each.
    pub termseq: TermSeq,
    /// `--nice`.
    pub nice: Option<i32>,
    /// `--workdir`.
    pub workdir: Option<PathBuf>,
    /// `--process-slot-var`: the variable that holds the slot number - 1.
    pub process_slot_var: Option<OsString>,
    /// `--tmpdir` (default `$TMPDIR` or `/tmp`), checked to be a
    /// directory parx can write in.
    pub tmpdir: Option<PathBuf>,
    /// `--output-memory` in bytes.
    pub output_memory: Option<usize>,
    /// `--env` names.
    pub env: Vec<OsString>,
    /// `-S` and the other remote options, as given.
    pub remote: crate::remote::Args,
    /// `-j` as given (per host with `-S`: `+N`, `N%` relative to its CPUs).
    pub jobs_spec: Option<String>,
    /// `--shuf`.
    pub shuf: bool,
    /// `--load`, as a number of processes (`N%` of the CPUs resolved).
    pub load: Option<f64>,
    /// `--noswap`.
    pub noswap: bool,
    /// `-j FILE`: the file, read again whenever a job ends.
    pub jobs_file: Option<PathBuf>,
    /// `--memfree` in bytes.
    pub memfree: Option<u64>,
    /// `--tty`.
    pub tty: bool,
    // Output.
    /// `-k`.
    pub keep_order: bool,
    /// Grouped, line-buffered or ungrouped.
    pub output: OutputMode,
    /// `--tag` (same as `--tagstring {}`).
    pub tag: bool,
    /// `--tagstring` (escapes `\t` `\n` … already turned into bytes).
    pub tagstring: Option<Vec<u8>>,
    /// `--files`.
    pub files: bool,
    /// `--results`.
    pub results: Option<PathBuf>,
    /// `--color-failed`.
    pub color_failed: bool,
    // Records of the run.
    /// `--joblog`.
    pub joblog: Option<Joblog>,
    /// `--joblog-format` (parx): `tsv` (default) or `json`.
    pub joblog_format: Option<String>,
    /// `--resume`.
    pub resume: bool,
    /// `--resume-failed`.
    pub resume_failed: bool,
    /// `--retry-failed`.
    pub retry_failed: bool,
    /// `--progress`.
    pub progress: bool,
    /// `--eta`.
    pub eta: bool,
    /// `--bar`.
    pub bar: bool,
    /// `--total-jobs`.
    pub total_jobs: Option<u64>,
    /// `--trace` (parx).
    pub trace: bool,
    // --pipe.
    /// `--pipe`/`--pipepart` (also implied by `--cat`/`--fifo`).
    pub pipe: Option<PipeConfig>,
    /// `--cat`.
    pub cat: bool,
    /// `--fifo`.
    pub fifo: bool,
    /// `--sqlmaster`/`--sqlworker`/`--sqlandworker`.
    pub sql: Option<crate::queue::SqlMode>,
}

/// The number of CPU threads.
pub fn cpus() -> usize {
    crate::engine::cpus()
}

fn text(option: &str, v: &OsString) -> Result<String, CliError> {
    v.to_str()
        .map(str::to_owned)
        .ok_or_else(|| CliError::BadValue {
            option: option.into(),
            why: "is not valid UTF-8".into(),
        })
}

/// `--tmpdir` must name a directory parx can make files in: found out
/// before any job runs, not when the first output spills.
fn check_tmpdir(dir: &std::path::Path) -> Result<(), CliError> {
    let why = match std::fs::metadata(dir) {
        Ok(m) if !m.is_dir() => format!("{} is not a directory", dir.display()),
        Ok(_) => match rustix::fs::access(
            dir,
            rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK,
        ) {
            Ok(()) => return Ok(()),
            Err(e) => format!("can not write in {}: {}", dir.display(), io_text(e.into())),
        },
        Err(e) => format!("{}: {}", dir.display(), io_text(e)),
    };
    Err(bad("--tmpdir", why))
}

/// An OS error as a user reads it, without Rust's `(os error N)`.
fn io_text(e: std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn bad(option: &str, why: impl Into<String>) -> CliError {
    CliError::BadValue {
        option: option.into(),
        why: why.into(),
    }
}

/// GNU parallel's `unquote_printf`: `\t` `\n` `\r` `\NNN` `\N`.
pub fn unescape(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'\\' && i + 1 < v.len() {
            match v[i + 1] {
                b't' => {
                    out.push(b'\t');
                    i += 2;
                    continue;
                }
                b'n' => {
                    out.push(b'\n');
                    i += 2;
                    continue;
                }
                b'r' => {
                    out.push(b'\r');
                    i += 2;
                    continue;
                }
                b'0'..=b'9' => {
                    let digits = v[i + 1..]
                        .iter()
                        .take(3)
                        .take_while(|b| b.is_ascii_digit())
                        .count();
                    let n = if digits == 3 { 3 } else { 1 };
                    let s = std::str::from_utf8(&v[i + 1..i + 1 + n]).unwrap_or("0");
                    // Perl's "\NNN" is octal.
                    let code = u32::from_str_radix(s, 8).unwrap_or_else(|_| s.parse().unwrap_or(0));
                    out.push((code & 0xff) as u8);
                    i += 1 + n;
                    continue;
                }
                _ => {}
            }
        }
        out.push(v[i]);
        i += 1;
    }
    out
}

/// Numbers with GNU parallel's size suffixes: `k`=1000, `K`/`ki`=1024, ….
pub fn parse_size(option: &str, s: &str) -> Result<f64, CliError> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| bad(option, format!("'{s}' is not a number")))?;
    let mult = match unit {
        "" => 1.0,
        "k" => 1e3,
        "m" => 1e6,
        "g" => 1e9,
        "t" => 1e12,
        "p" => 1e15,
        "K" | "ki" | "Ki" | "kI" | "KI" => 1024.0,
        "M" | "mi" | "Mi" => 1024f64.powi(2),
        "G" | "gi" | "Gi" => 1024f64.powi(3),
        "T" | "ti" | "Ti" => 1024f64.powi(4),
        "P" | "pi" | "Pi" => 1024f64.powi(5),
        _ => {
            return Err(bad(
                option,
                format!("'{s}' has an unknown unit (use k K M G T)"),
            ));
        }
    };
    Ok(n * mult)
}

fn parse_count(option: &str, v: &OsString) -> Result<usize, CliError> {
    let n = parse_size(option, &text(option, v)?)?;
    if n < 0.0 {
        return Err(bad(option, "must not be negative"));
    }
    Ok(n as usize)
}

/// Durations: `1.5`, `30s`, `2m`, `1h30m`, `1d`.
pub fn parse_duration(option: &str, s: &str) -> Result<Duration, CliError> {
    let s = s.trim();
    let err = || {
        bad(
            option,
            format!("'{s}' is not a duration (e.g. 2.5, 30s, 2m, 1h30m)"),
        )
    };
    let mut total = 0.0;
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let mult = match c.to_ascii_lowercase() {
            's' => 1.0,
            'm' => 60.0,
            'h' => 3600.0,
            'd' => 86400.0,
            _ => return Err(err()),
        };
        total += num.parse::<f64>().map_err(|_| err())? * mult;
        num.clear();
    }
    if !num.is_empty() {
        total += num.parse::<f64>().map_err(|_| err())?;
    }
    if s.is_empty() || !total.is_finite() || total < 0.0 {
        return Err(err());
    }
    Ok(Duration::from_secs_f64(total))
}

/// `--load`: the number of processes running or waiting for disk above
/// which no job starts; `-j`'s forms (N, N%, +N, -N of the CPUs), with
/// fractions kept.
fn parse_load(spec: &str, ncpus: usize) -> Result<f64, CliError> {
    let err = || bad("--load", format!("'{spec}' is not N, N%, +N or -N"));
    let s = spec.trim();
    let n = ncpus as f64;
    let num = |t: &str| t.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0);
    let load = if let Some(rest) = s.strip_prefix('+') {
        n + num(rest).ok_or_else(err)?
    } else if let Some(rest) = s.strip_prefix('-') {
        n - num(rest).ok_or_else(err)?
    } else if let Some(rest) = s.strip_suffix('%') {
        num(rest).ok_or_else(err)? * n / 100.0
    } else {
        num(s).ok_or_else(err)?
    };
    Ok(load.max(0.0))
}

/// `-j`: N, N%, +N, -N, 0, or a file holding one of those.
pub fn parse_jobs(spec: &str, ncpus: usize) -> Result<usize, CliError> {
    let err = || {
        bad(
            "-j",
            format!("'{spec}' is not N, N%, +N, -N or a file holding one"),
        )
    };
    let s = spec.trim();
    let n = ncpus as f64;
    let procs = if let Some(rest) = s.strip_prefix('+') {
        n + rest.parse::<f64>().map_err(|_| err())?
    } else if let Some(rest) = s.strip_prefix('-') {
        n - rest.parse::<f64>().map_err(|_| err())?
    } else if let Some(rest) = s.strip_suffix('%') {
        rest.parse::<f64>().map_err(|_| err())? * n / 100.0
    } else if let Ok(v) = s.parse::<f64>() {
        if v == 0.0 {
            return Ok(0);
        }
        v
    } else if std::path::Path::new(s).is_file() {
        let content =
            std::fs::read_to_string(s).map_err(|e| bad("-j", format!("cannot read '{s}': {e}")))?;
        let first = content.lines().next().unwrap_or("").to_string();
        if first.trim() == s {
            return Err(err());
        }
        return parse_jobs(&first, ncpus);
    } else {
        return Err(err());
    };
    // GNU parallel rounds up (1% of 2 cores is 1 job) and refuses a
    // number of slots below 1 before running anything.
    let procs = procs.ceil();
    if procs < 1.0 {
        return Err(bad(
            "-j",
            format!("'{spec}' leaves no job slot: cannot run any jobs"),
        ));
    }
    Ok(procs as usize)
}

/// Splits the words after the options into the command and the input
/// sources, as GNU parallel's `read_args_from_command_line`.
fn split_sources(
    words: &[OsString],
    arg_sep: &[u8],
    file_sep: &[u8],
) -> (Vec<OsString>, Vec<Source>) {
    let is_sep = |w: &OsString| {
        let b = w.as_bytes();
        let base = b.strip_suffix(b"+").unwrap_or(b);
        base == arg_sep || base == file_sep
    };
    let Some(first) = words.iter().position(is_sep) else {
        return (words.to_vec(), Vec::new());
    };
    let command = words[..first].to_vec();
    if first == words.len() - 1 {
        // GNU parallel's loop never looks at a last word, so a trailing
        // lone separator is dropped and stdin is read.
        return (command, Vec::new());
    }
    let mut sources = Vec::new();
    let mut i = first;
    while i < words.len() {
        let sep = words[i].as_bytes();
        let linked = sep.ends_with(b"+");
        let base = sep.strip_suffix(b"+").unwrap_or(sep);
        let is_file = base == file_sep;
        let mut group = Vec::new();
        i += 1;
        while i < words.len() && !is_sep(&words[i]) {
            group.push(words[i].clone());
            i += 1;
        }
        if is_file {
            for f in group {
                sources.push(Source {
                    kind: SourceKind::File(PathBuf::from(f)),
                    linked,
                });
            }
        } else {
            sources.push(Source {
                kind: SourceKind::Args(group.into_iter().map(OsString::into_vec).collect()),
                linked,
            });
        }
    }
    (command, sources)
}

impl Config {
    /// Interprets what was typed.
    pub fn from_low(low: LowArgs) -> Result<Config, CliError> {
        let ncpus = cpus();
        let s = |o: &Option<OsString>, name: &str| o.as_ref().map(|v| text(name, v)).transpose();
        // GNU parallel's manual: "--round-robin implies --pipe" (its
        // 20221122 binary still runs one job per line; parx follows the
        // manual).
        let pipe_mode = low.pipe || low.pipepart || low.cat || low.fifo || low.round_robin;
        if pipe_mode && low.positional.is_empty() {
            return Err(CliError::Other(
                "--pipe/--pipepart need a command to pipe into (e.g. 'cat')".into(),
            ));
        }
        // Sources: -a files first, then ::: / :::: groups.
        let arg_sep = low
            .arg_sep
            .clone()
            .map_or_else(|| b":::".to_vec(), OsString::into_vec);
        let file_sep = low
            .arg_file_sep
            .clone()
            .map_or_else(|| b"::::".to_vec(), OsString::into_vec);
        let (command, cmd_sources) = split_sources(&low.positional, &arg_sep, &file_sep);
        let mut sources: Vec<Source> = low
            .arg_files
            .iter()
            .map(|f| Source {
                kind: SourceKind::File(PathBuf::from(f)),
                linked: false,
            })
            .collect();
        sources.extend(cmd_sources);
        if sources.is_empty() && !pipe_mode {
            sources.push(Source {
                kind: SourceKind::Stdin,
                linked: false,
            });
        }
        // Reading.
        let mut delimiter = b"\n".to_vec();
        if low.null {
            delimiter = vec![0];
        }
        if let Some(d) = &low.delimiter {
            delimiter = unescape(d.as_bytes());
        }
        let mut max_lines: Option<usize> = None;
        if let Some(l) = &low.max_lines {
            if l == "-0" {
                delimiter = vec![0];
                max_lines = Some(1);
            } else {
                max_lines = Some(parse_count("-L", l)?.max(1));
            }
        }
        let eof = low
            .eof
            .clone()
            .flatten()
            .map(OsString::into_vec)
            .filter(|e| !e.is_empty());
        let read = ReadOptions {
            delimiter,
            eof,
            skip_blank: low.no_run_if_empty,
            continue_lines: max_lines.is_some() && !pipe_mode,
        };
        let header = match &low.header {
            Some(h) if pipe_mode => {
                let _ = h;
                None
            }
            Some(h) if h == "0" => Some(Header::FileNames),
            Some(_) => Some(Header::FirstLine),
            None => None,
        };
        let mut colsep = s(&low.colsep, "--colsep")?;
        let mut trim = if colsep.is_some() {
            Trim::Both
        } else {
            Trim::None
        };
        if header.is_some() && colsep.is_none() {
            colsep = Some("\t".into());
        }
        if let Some(sep) = &colsep {
            ColumnSplitter::new(sep).map_err(|e| {
                bad(
                    "--colsep",
                    format!(
                        "'{sep}' is not a valid regular expression: {}",
                        e.to_string().lines().last().unwrap_or("").trim()
                    ),
                )
            })?;
        }
        if let Some(t) = s(&low.trim, "--trim")? {
            trim = match t.as_str() {
                "n" => Trim::None,
                "l" => Trim::Left,
                "r" => Trim::Right,
                "lr" | "rl" => Trim::Both,
                _ => return Err(bad("--trim", "must be one of: n l r lr rl")),
            };
        }
        // Replacement strings.
        let renames = Renames {
            whole: s(&low.replace, "-I")?,
            no_ext: s(&low.extension_replace, "--extensionreplace")?,
            basename: s(&low.basename_replace, "--basenamereplace")?,
            dirname: s(&low.dirname_replace, "--dirnamereplace")?,
            base_no_ext: s(
                &low.basename_extension_replace,
                "--basenameextensionreplace",
            )?,
            seq: s(&low.seq_replace, "--seqreplace")?,
            slot: s(&low.slot_replace, "--slotreplace")?,
        };
        let parens = match s(&low.parens, "--parens")? {
            Some(p) => {
                let half = p.len() / 2;
                if !p.is_char_boundary(half) {
                    return Err(bad("--parens", "must split in two halves"));
                }
                (p[..half].to_string(), p[half..].to_string())
            }
            None => ("{=".to_string(), "=}".to_string()),
        };
        // GNU parallel: `split/\s/,$_,2`.
        let mut rpl = Vec::new();
        for r in &low.rpl {
            let r = text("--rpl", r)?;
            let (key, code) = r
                .split_once(|c: char| c.is_ascii_whitespace())
                .unwrap_or((r.as_str(), ""));
            rpl.push((key.to_string(), code.to_string()));
        }
        // Jobs.
        let jobs = match &low.jobs {
            Some(j) => parse_jobs(&text("-j", j)?, ncpus)?,
            None if low.ungroup_tty => 1,
            None => ncpus,
        };
        // Combinations GNU parallel refuses.
        if low.fifo && low.cat {
            return Err(CliError::Conflict("--fifo", "--cat"));
        }
        if low.retries.is_some() && low.round_robin {
            return Err(CliError::Conflict("--retries", "--roundrobin"));
        }
        if low.pipepart && (low.max_lines.is_some() || low.max_replace_args.is_some()) {
            return Err(CliError::Conflict("--pipepart", "-L/-l/-N"));
        }
        if low.group && low.ungroup {
            return Err(CliError::Conflict("--group", "--ungroup"));
        }
        if low.group && low.line_buffer {
            return Err(CliError::Conflict("--group", "--line-buffer"));
        }
        if low.ungroup && low.line_buffer {
            return Err(CliError::Conflict("--ungroup", "--line-buffer"));
        }
        // Grouping.
        let max_args = low
            .max_args
            .as_ref()
            .map(|n| parse_count("-n", n))
            .transpose()?;
        let max_replace = low
            .max_replace_args
            .as_ref()
            .map(|n| parse_count("-N", n))
            .transpose()?;
        let mut number: Option<usize> = max_args;
        if !pipe_mode && number.is_none() {
            number = max_lines;
        }
        if max_replace.is_some() {
            number = max_replace;
        }
        let mut context = low.x_context || max_replace.is_some();
        if (low.big_l || max_replace.is_some()) && !(low.xargs || low.m) {
            context = true;
        }
        let unlimited = low.x_context || low.m || low.xargs;
        let noarg = number == Some(0);
        let max_args_per_job = match number {
            Some(0) => Some(1),
            Some(n) => Some(n),
            None if unlimited => None,
            None => Some(1),
        };
        let usable = (MAX_COMMAND_LINE - 3000) / 2;
        let max_len = match &low.max_chars {
            Some(sz) => {
                let n = parse_count("-s", sz)?;
                if n <= usable {
                    n
                } else {
                    eprintln!("parx: Warning: Value for option -s should be < {usable}.");
                    usable
                }
            }
            None => usable,
        };
        let grouping = Grouping {
            max_args: max_args_per_job,
            spread: low.m || low.x_context,
            max_len,
            slots: jobs,
            noarg,
        };
        // Scheduling.
        let delay = s(&low.delay, "--delay")?
            .map(|d| parse_duration("--delay", &d))
            .transpose()?;
        let timeout = match s(&low.timeout, "--timeout")? {
            Some(t) if t.ends_with('%') => {
                Some(Timeout::PercentOfMedian(t[..t.len() - 1].parse().map_err(
                    |_| bad("--timeout", "must be seconds or percentage"),
                )?))
            }
            Some(t) => Some(Timeout::Fixed(parse_duration("--timeout", &t)?)),
            None => None,
        };
        let retries = match s(&low.retries, "--retries")? {
            Some(r) => r
                .parse::<u32>()
                .map_err(|_| bad("--retries", format!("'{r}' is not a whole number")))?,
            None => 1,
        }
        .max(1);
        let halt = match s(&low.halt, "--halt")? {
            Some(h) => Halt::parse(&h).map_err(CliError::Other)?,
            None => None,
        };
        let termseq = match s(&low.termseq, "--termseq")? {
            Some(t) => TermSeq::parse(&t).map_err(CliError::Other)?,
            None => TermSeq::default(),
        };
        let nice = s(&low.nice, "--nice")?
            .map(|n| {
                n.parse::<i32>()
                    .map_err(|_| bad("--nice", format!("'{n}' is not a whole number")))
            })
            .transpose()?;
        let memfree = s(&low.memfree, "--memfree")?
            .map(|m| parse_size("--memfree", &m))
            .transpose()?
            .map(|m| m as u64);
        let output_memory = s(&low.output_memory, "--output-memory")?
            .map(|m| parse_size("--output-memory", &m))
            .transpose()?
            .map(|m| {
                if m < 0.0 {
                    Err(bad("--output-memory", "must not be negative"))
                } else {
                    Ok(m as usize)
                }
            })
            .transpose()?;
        let tmpdir = low.tmpdir.map(PathBuf::from);
        if let Some(dir) = &tmpdir {
            check_tmpdir(dir)?;
        }
        let total_jobs = s(&low.total_jobs, "--total-jobs")?
            .map(|t| parse_size("--total-jobs", &t).map(|v| v as u64))
            .transpose()?;
        // Output.
        let output = if low.ungroup || (low.ungroup_tty && !low.group) {
            OutputMode::Ungroup
        } else if low.line_buffer {
            OutputMode::LineBuffer
        } else {
            OutputMode::Group
        };
        let tagstring = match (&low.tagstring, low.tag) {
            (Some(t), _) => Some(unescape(t.as_bytes())),
            (None, true) => Some(b"{}".to_vec()),
            (None, false) => None,
        };
        let joblog = low.joblog.as_ref().map(|j| {
            let b = j.as_bytes();
            match b.strip_prefix(b"+") {
                Some(rest) => Joblog {
                    path: PathBuf::from(std::ffi::OsStr::from_bytes(rest)),
                    append: true,
                },
                None => Joblog {
                    path: PathBuf::from(j),
                    append: false,
                },
            }
        });
        let pipe = if pipe_mode {
            let block = match s(&low.block, "--block")? {
                Some(b) => {
                    Some(crate::pipemode::parse_block_size(&b).map_err(|why| bad("--block", why))?)
                }
                None => None,
            };
            Some(PipeConfig {
                part: low.pipepart,
                block,
                recstart: low.recstart.as_ref().map(|r| r.as_bytes().to_vec()),
                recend: low.recend.as_ref().map(|r| r.as_bytes().to_vec()),
                regexp: low.regexp,
                remove_rec_sep: low.remove_rec_sep,
                round_robin: low.round_robin,
                header: low
                    .header
                    .as_ref()
                    .map_or(crate::pipemode::Header::None, |h| {
                        crate::pipemode::Header::parse(&h.to_string_lossy())
                    }),
                records: max_replace,
                lines: max_lines,
            })
        } else {
            None
        };
        let config = Config {
            command,
            sources,
            link: low.link,
            read,
            colsep,
            header,
            skip_first_line: low.skip_first_line,
            trim,
            renames,
            plus: low.plus,
            parens,
            rpl,
            perl: Arc::new(Perl::new(match trim {
                Trim::None => "n",
                Trim::Left => "l",
                Trim::Right => "r",
                Trim::Both => "lr",
            })),
            quote: low.quote,
            context_replace: context,
            grouping,
            dry_run: low.dry_run,
            shellquote: low.shellquote,
            verbose: if low.silent { 0 } else { low.verbose_stdout },
            print_stderr: low.verbose_stderr,
            jobs,
            delay,
            timeout,
            retries,
            halt,
            termseq,
            nice,
            workdir: low.workdir.map(PathBuf::from),
            process_slot_var: low.process_slot_var,
            tmpdir,
            output_memory,
            env: low.env,
            remote: low.remote,
            jobs_spec: low.jobs.as_ref().map(|j| j.to_string_lossy().into_owned()),
            shuf: low.shuf,
            load: s(&low.load, "--load")?
                .map(|l| parse_load(&l, ncpus))
                .transpose()?,
            noswap: low.noswap,
            jobs_file: s(&low.jobs, "-j")?
                .map(PathBuf::from)
                .filter(|p| p.is_file()),
            memfree,
            tty: low.ungroup_tty,
            keep_order: low.keep_order,
            output,
            tag: low.tag,
            tagstring,
            files: low.files,
            results: low.results.map(PathBuf::from),
            color_failed: low.color_failed,
            joblog,
            joblog_format: s(&low.joblog_format, "--joblog-format")?,
            resume: low.resume,
            resume_failed: low.resume_failed,
            retry_failed: low.retry_failed,
            progress: low.progress,
            eta: low.eta,
            bar: low.bar,
            total_jobs,
            trace: low.trace,
            pipe,
            cat: low.cat,
            fifo: low.fifo,
            sql: crate::queue::SqlMode::from_options(
                low.sqlmaster,
                low.sqlworker,
                low.wait,
                s(&low.sql_lease, "--sql-lease")?
                    .map(|d| parse_duration("--sql-lease", &d))
                    .transpose()?,
            )
            .map_err(CliError::Other)?,
        };
        // Check the template now, so mistakes show before anything runs.
        // (`{N}` beyond the values a job has is empty, as in GNU parallel.)
        config.template(&config.command_words())?;
        if let Some(t) = &config.tagstring {
            config.template_for(std::slice::from_ref(t), true)?;
        }
        Ok(config)
    }

    /// The command words as bytes.
    pub fn command_words(&self) -> Vec<Vec<u8>> {
        self.command.iter().map(|w| w.as_bytes().to_vec()).collect()
    }

    /// The replacement-string table in effect.
    pub fn table(&self) -> Table {
        Table::new(self.plus, &self.renames, &self.rpl)
    }

    /// Parses `words` as the command template.
    pub fn template(&self, words: &[Vec<u8>]) -> Result<Template, CliError> {
        self.template_for(words, false)
    }

    /// A template whose values are not quoted (`--tagstring`,
    /// `--results`).
    pub fn unquoted_template(&self, words: &[Vec<u8>]) -> Result<Template, CliError> {
        self.template_for(words, true)
    }

    fn template_for(&self, words: &[Vec<u8>], for_tag: bool) -> Result<Template, CliError> {
        let options = TemplateOptions {
            for_tag,
            quote_all: self.quote,
            context: self.context_replace,
            trim: self.trim,
            no_append: self.pipe.is_some() && !self.cat && !self.fifo,
            parens: self.parens.clone(),
            slots: self.jobs,
            perl: Some(Arc::clone(&self.perl)),
        };
        Template::parse(words, &self.table(), &options).map_err(CliError::Template)
    }

    /// Opens the input sources and streams the jobs. Reads headers
    /// (`--header`) first, since column names change the template.
    pub fn jobs(&self) -> Result<JobIter, InputError> {
        let mut readers = Vec::with_capacity(self.sources.len());
        for source in &self.sources {
            let stream = source.open(&self.read.delimiter)?;
            readers.push(RecordReader::new(
                stream,
                self.read.clone(),
                source.describe(),
            ));
        }
        if self.skip_first_line
            && let Some(first) = readers.first_mut()
        {
            first.next_record()?;
        }
        let mut words = self.command_words();
        let mut tag = self.tagstring.clone();
        let mut names: Vec<Vec<u8>> = Vec::new();
        if let Some(header) = &self.header {
            match header {
                Header::FirstLine => {
                    let splitter = self
                        .colsep
                        .as_deref()
                        .and_then(|c| ColumnSplitter::new(c).ok());
                    for r in &mut readers {
                        if let Some(mut line) = r.next_record()? {
                            if line.last() == Some(&b'\r') {
                                line.pop();
                            }
                            match &splitter {
                                Some(sp) => names.extend(sp.split(&line, false)),
                                None => names.push(line),
                            }
                        }
                    }
                }
                Header::FileNames => {
                    for s in &self.sources {
                        if let SourceKind::File(p) = &s.kind {
                            names.push(p.as_os_str().as_bytes().to_vec());
                        }
                    }
                }
            }
            let (left, right) = (self.parens.0.as_bytes(), self.parens.1.as_bytes());
            for (i, name) in names.iter().enumerate() {
                for w in words.iter_mut().chain(tag.iter_mut()) {
                    *w = rename_header(w, name, i + 1);
                    *w = rename_header_perl(w, name, i + 1, left, right);
                }
            }
        }
        let template = self
            .template(&words)
            .map_err(|e| InputError::Command(e.to_string()))?;
        let linked: Vec<bool> = self.sources.iter().map(|s| s.linked).collect();
        let combiner = Combiner::new(readers, &linked, self.link)?;
        let records: Box<dyn Iterator<Item = Result<Vec<Vec<u8>>, InputError>>> = match &self.colsep
        {
            Some(sep) => {
                let splitter =
                    ColumnSplitter::new(sep).map_err(|e| InputError::Command(e.to_string()))?;
                Box::new(combiner.map(move |r| {
                    r.map(|values| {
                        values
                            .iter()
                            .flat_map(|v| splitter.split(v, true))
                            .collect()
                    })
                }))
            }
            None => Box::new(combiner),
        };
        let tag = match tag {
            Some(t) => Some(
                self.template_for(&[t], true)
                    .map_err(|e| InputError::Command(e.to_string()))?,
            ),
            None => None,
        };
        Ok(JobIter::new(records, template, self.grouping.clone())
            .with_tag(tag)
            .with_total(self.total_jobs)
            .with_header_names(names)
            .with_ready(crate::input::ready_probe(&self.sources)))
    }
}

impl Config {
    /// Jobs for pipe mode: one per record of `records` (no value, or the
    /// `--cat` file name), built with this run's command and tag.
    pub fn pipe_jobs(&self, records: Records) -> Result<JobIter, InputError> {
        let template = self
            .template(&self.command_words())
            .map_err(|e| InputError::Command(e.to_string()))?;
        let tag = match &self.tagstring {
            Some(t) => Some(
                self.template_for(std::slice::from_ref(t), true)
                    .map_err(|e| InputError::Command(e.to_string()))?,
            ),
            None => None,
        };
        Ok(JobIter::new(records, template, Grouping::default()).with_tag(tag))
    }
}

/// `{name}` `{name/}` `{name//}` `{name.}` `{name/.}` → `{N…}`.
pub(crate) fn rename_header(word: &[u8], name: &[u8], id: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(word.len());
    let mut i = 0;
    'scan: while i < word.len() {
        if word[i] == b'{' && word[i + 1..].starts_with(name) {
            let after = i + 1 + name.len();
            for suffix in [&b"}"[..], b"/}", b"//}", b".}", b"/.}"] {
                if word[after..].starts_with(suffix) {
                    out.push(b'{');
                    out.extend_from_slice(id.to_string().as_bytes());
                    out.extend_from_slice(suffix);
                    i = after + suffix.len();
                    continue 'scan;
                }
            }
        }
        out.push(word[i]);
        i += 1;
    }
    out
}

/// `{=name code =}` → `{=N code =}` (GNU parallel:
/// `s:$left $s (.*?) $right:$l$id$1$r:gx`).
pub(crate) fn rename_header_perl(
    word: &[u8],
    name: &[u8],
    id: usize,
    left: &[u8],
    right: &[u8],
) -> Vec<u8> {
    if left.is_empty() || right.is_empty() {
        return word.to_vec();
    }
    let mut out = Vec::with_capacity(word.len());
    let mut i = 0;
    while i < word.len() {
        let after = i + left.len() + name.len();
        if word[i..].starts_with(left)
            && word[i + left.len()..].starts_with(name)
            && let Some(end) = memchr::memmem::find(&word[after..], right)
        {
            out.extend_from_slice(left);
            out.extend_from_slice(id.to_string().as_bytes());
            out.extend_from_slice(&word[after..after + end + right.len()]);
            i = after + end + right.len();
            continue;
        }
        out.push(word[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_in_perl_expressions() {
        assert_eq!(
            rename_header_perl(b"x{=name $_=uc =}y{=other=}", b"name", 2, b"{=", b"=}"),
            b"x{=2 $_=uc =}y{=other=}"
        );
    }

    #[test]
    fn jobs_spec() {
        assert_eq!(parse_jobs("4", 2).unwrap(), 4);
        assert_eq!(parse_jobs("0", 2).unwrap(), 0);
        assert_eq!(parse_jobs("+2", 2).unwrap(), 4);
        assert_eq!(parse_jobs("-1", 2).unwrap(), 1);
        assert!(parse_jobs("-5", 2).is_err());
        assert!(parse_jobs("0%", 2).is_err());
        assert_eq!(parse_jobs("1%", 2).unwrap(), 1);
        assert_eq!(parse_jobs("50%", 3).unwrap(), 2);
        assert_eq!(parse_jobs("50%", 4).unwrap(), 2);
        assert!(parse_jobs("x", 2).is_err());
    }

    #[test]
    fn durations_sizes_escapes() {
        assert_eq!(
            parse_duration("t", "1h30m").unwrap(),
            Duration::from_secs(5400)
        );
        assert_eq!(
            parse_duration("t", "2.5").unwrap(),
            Duration::from_millis(2500)
        );
        assert_eq!(parse_size("s", "1K").unwrap(), 1024.0);
        assert_eq!(parse_size("s", "2k").unwrap(), 2000.0);
        assert_eq!(unescape(br"a\tb\n\0\101"), b"a\tb\n\0A");
    }

    #[test]
    fn header_rename() {
        assert_eq!(rename_header(b"x{a}y{a.}{ab}", b"a", 2), b"x{2}y{2.}{ab}");
    }
}
