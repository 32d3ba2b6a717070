//! Every option parx knows, defined once: names, value, category, help
//! text and how it updates [`LowArgs`]. The parser (`parse.rs`) and
//! `--help` (`help.rs`) are both derived from this table.
//!
//! Names follow GNU parallel 20221122 (`Getopt::Long` spec in its source),
//! aliases included, so abbreviations are ambiguous exactly where GNU
//! parallel's are (`--jo` could be `--joblog` or `--jobs`).

use super::lowargs::LowArgs;
use std::ffi::OsString;

/// Whether and how an option takes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// No value.
    Switch,
    /// A value is required (`-j 4`, `-j4`, `--jobs=4`).
    Required(&'static str),
    /// An optional string: attached (`-i{}`, `--replace=X`) or the next
    /// argument unless it starts with `-` (`Getopt::Long`'s `:s`).
    OptionalStr(&'static str),
    /// An optional number: attached, or the next argument if numeric.
    OptionalNum(&'static str),
}

/// Sections of `--help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    /// Input sources.
    Input,
    /// Replacement strings, quoting.
    Replace,
    /// Several arguments per job.
    Group,
    /// Scheduling and running.
    Run,
    /// Output.
    Output,
    /// `-S` hosts.
    Remote,
    /// Joblog, progress, resume.
    Log,
    /// `--pipe`.
    Pipe,
    /// Semaphore mode (`sem`).
    Semaphore,
    /// `--help`, `--version` ….
    Info,
    /// Accepted for compatibility, no effect.
    Compat,
    /// GNU parallel options parx does not support yet.
    Unsupported,
    /// Options GNU parallel itself has retired (rejected, as it does).
    Retired,
}

impl Category {
    /// The section heading.
    pub fn title(self) -> &'static str {
        match self {
            Category::Input => "Where arguments come from",
            Category::Replace => "Building the command: replacement strings and quoting",
            Category::Group => "Several arguments per job",
            Category::Run => "Running jobs",
            Category::Output => "Output",
            Category::Remote => "Remote hosts (over ssh)",
            Category::Log => "Job log, progress, resuming",
            Category::Pipe => "--pipe: splitting input into blocks for the jobs' stdin",
            Category::Semaphore => "Semaphore mode (parx --semaphore, or parx run as sem)",
            Category::Info => "Information",
            Category::Compat => "Accepted for compatibility (no effect)",
            Category::Unsupported => "GNU parallel options not supported yet (rejected)",
            Category::Retired => "Retired by GNU parallel (rejected)",
        }
    }
}

/// How an option changes [`LowArgs`]; the value is `None` for switches and
/// absent optional values.
pub type Update = fn(&mut LowArgs, Option<OsString>) -> Result<(), String>;

/// One option.
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    /// Long names; the first is shown in help and messages.
    pub names: &'static [&'static str],
    /// Short name.
    pub short: Option<char>,
    /// Value kind.
    pub value: Value,
    /// Help section.
    pub category: Category,
    /// One-line help.
    pub doc: &'static str,
    /// Effect.
    pub update: Update,
}

impl Flag {
    /// How the option is written in messages: `--name` or `-x`.
    pub fn display(&self) -> String {
        match (self.names.first(), self.short) {
            (Some(n), _) => format!("--{n}"),
            (None, Some(c)) => format!("-{c}"),
            (None, None) => String::new(),
        }
    }
}

fn val(v: Option<OsString>) -> Result<OsString, String> {
    v.ok_or_else(|| "needs a value".to_string())
}

fn noop(_: &mut LowArgs, _: Option<OsString>) -> Result<(), String> {
    Ok(())
}

fn unsupported(_: &mut LowArgs, _: Option<OsString>) -> Result<(), String> {
    Err("unsupported".into())
}

macro_rules! flag {
    ($names:expr, $short:expr, $value:expr, $cat:ident, $doc:expr, $update:expr) => {
        Flag {
            names: $names,
            short: $short,
            value: $value,
            category: Category::$cat,
            doc: $doc,
            update: $update,
        }
    };
}

use Value::{OptionalNum, OptionalStr, Required, Switch};

/// The table.
pub static FLAGS: &[Flag] = &[
    // Input.
    flag!(
        &["arg-file", "argfile"],
        Some('a'),
        Required("FILE"),
        Input,
        "Read arguments from FILE (- for stdin); repeat for more sources",
        |a, v| {
            a.arg_files.push(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["null"],
        Some('0'),
        Switch,
        Input,
        "Arguments end with NUL instead of newline",
        |a, _| {
            a.null = true;
            Ok(())
        }
    ),
    flag!(
        &["delimiter"],
        Some('d'),
        Required("DELIM"),
        Input,
        "Arguments end with DELIM (\\n \\t \\0 \\r \\NNN escapes)",
        |a, v| {
            a.delimiter = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &[],
        Some('E'),
        Required("EOF"),
        Input,
        "Stop reading an input source at a line equal to EOF",
        |a, v| {
            a.eof = Some(Some(val(v)?));
            Ok(())
        }
    ),
    flag!(
        &["eof"],
        Some('e'),
        OptionalStr("EOF"),
        Input,
        "Like -E; without a value, no end-of-file string",
        |a, v| {
            a.eof = Some(v);
            Ok(())
        }
    ),
    flag!(
        &["no-run-if-empty", "norunifempty"],
        Some('r'),
        Switch,
        Input,
        "Skip empty and blank-only input lines",
        |a, _| {
            a.no_run_if_empty = true;
            Ok(())
        }
    ),
    flag!(
        &["col-sep", "colsep"],
        Some('C'),
        Required("REGEX"),
        Input,
        "Split each input line into columns {1} {2} ... at REGEX",
        |a, v| {
            a.colsep = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["header"],
        None,
        Required("REGEX"),
        Input,
        "First line of each source names its columns: use {name}",
        |a, v| {
            a.header = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["trim"],
        None,
        Required("n|l|r|lr"),
        Input,
        "Remove white space around values (default lr with --colsep)",
        |a, v| {
            a.trim = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["link", "xapply"],
        None,
        Switch,
        Input,
        "Pair input sources value by value instead of all combinations",
        |a, _| {
            a.link = true;
            Ok(())
        }
    ),
    flag!(
        &["arg-sep", "argsep"],
        None,
        Required("SEP"),
        Input,
        "Use SEP instead of :::",
        |a, v| {
            a.arg_sep = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["arg-file-sep", "argfilesep"],
        None,
        Required("SEP"),
        Input,
        "Use SEP instead of ::::",
        |a, v| {
            a.arg_file_sep = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["skip-first-line", "skipfirstline"],
        None,
        Switch,
        Input,
        "Ignore the first line of the first input source",
        |a, _| {
            a.skip_first_line = true;
            Ok(())
        }
    ),
    // Replacement strings and quoting.
    flag!(
        &[],
        Some('I'),
        Required("STR"),
        Replace,
        "Use STR instead of {}",
        |a, v| {
            a.replace = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["replace"],
        Some('i'),
        OptionalStr("STR"),
        Replace,
        "Like -I; without a value, {} (deprecated in GNU parallel)",
        |a, v| {
            a.replace = Some(v.filter(|v| !v.is_empty()).unwrap_or_else(|| "{}".into()));
            Ok(())
        }
    ),
    flag!(
        &["extensionreplace", "er"],
        None,
        Required("STR"),
        Replace,
        "Use STR instead of {.}",
        |a, v| {
            a.extension_replace = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["basenamereplace", "bnr"],
        None,
        Required("STR"),
        Replace,
        "Use STR instead of {/}",
        |a, v| {
            a.basename_replace = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["dirnamereplace", "dnr"],
        None,
        Required("STR"),
        Replace,
        "Use STR instead of {//}",
        |a, v| {
            a.dirname_replace = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["basenameextensionreplace", "bner"],
        None,
        Required("STR"),
        Replace,
        "Use STR instead of {/.}",
        |a, v| {
            a.basename_extension_replace = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["seqreplace"],
        None,
        Required("STR"),
        Replace,
        "Use STR instead of {#}",
        |a, v| {
            a.seq_replace = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["slotreplace"],
        None,
        Required("STR"),
        Replace,
        "Use STR instead of {%}",
        |a, v| {
            a.slot_replace = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["plus"],
        None,
        Switch,
        Replace,
        "More replacement strings: {+/} {+.} {..} {%suf} {#pre} {/a/b} {:-def} ...",
        |a, _| {
            a.plus = true;
            Ok(())
        }
    ),
    flag!(
        &["parens"],
        None,
        Required("LR"),
        Replace,
        "Delimiters of perl expressions (default {==})",
        |a, v| {
            a.parens = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["rpl"],
        None,
        Required("'TAG PERL'"),
        Replace,
        "Define TAG as a replacement string: the Perl code changes $_",
        |a, v| {
            a.rpl.push(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["quote"],
        Some('q'),
        Switch,
        Replace,
        "Quote the command itself instead of the values",
        |a, _| {
            a.quote = true;
            Ok(())
        }
    ),
    flag!(
        &["shell-quote", "shellquote", "shell_quote"],
        None,
        Switch,
        Replace,
        "Print each command line shell-quoted instead of running it (repeatable)",
        |a, _| {
            a.shellquote += 1;
            Ok(())
        }
    ),
    flag!(
        &["dry-run", "dryrun", "dr"],
        None,
        Switch,
        Replace,
        "Print the command lines instead of running them",
        |a, _| {
            a.dry_run = true;
            Ok(())
        }
    ),
    // Several arguments per job.
    flag!(
        &["max-args", "maxargs"],
        Some('n'),
        Required("N"),
        Group,
        "Put up to N arguments on each command line",
        |a, v| {
            a.max_args = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["max-replace-args", "maxreplaceargs"],
        Some('N'),
        Required("N"),
        Group,
        "N arguments per job, {1}..{N} refer to them; -N0 reads but ignores one",
        |a, v| {
            a.max_replace_args = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &[],
        Some('L'),
        Required("N"),
        Group,
        "N input lines per job (a line ending in a blank continues)",
        |a, v| {
            a.max_lines = Some(val(v)?);
            a.big_l = true;
            Ok(())
        }
    ),
    flag!(
        &["max-lines", "maxlines"],
        Some('l'),
        OptionalNum("N"),
        Group,
        "Like -L; without a value, 1",
        |a, v| {
            a.max_lines = Some(v.unwrap_or_else(|| "1".into()));
            Ok(())
        }
    ),
    flag!(
        &[],
        Some('X'),
        Switch,
        Group,
        "As many arguments as fit, repeating the word around {} for each",
        |a, _| {
            a.x_context = true;
            Ok(())
        }
    ),
    flag!(
        &[],
        Some('m'),
        Switch,
        Group,
        "As many arguments as fit, separated by spaces",
        |a, _| {
            a.m = true;
            Ok(())
        }
    ),
    flag!(
        &["xargs"],
        None,
        Switch,
        Group,
        "As many arguments as fit (like xargs)",
        |a, _| {
            a.xargs = true;
            Ok(())
        }
    ),
    flag!(
        &["max-chars", "maxchars"],
        Some('s'),
        Required("N"),
        Group,
        "Command lines at most N characters",
        |a, v| {
            a.max_chars = Some(val(v)?);
            Ok(())
        }
    ),
    // Running.
    flag!(
        &["jobs", "max-procs", "maxprocs"],
        Some('j'),
        Required("N"),
        Run,
        "Run N jobs at once: N, N% of CPUs, +N, -N, 0 = as many as possible",
        |a, v| {
            a.jobs = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(&[], Some('P'), Required("N"), Run, "Same as -j", |a, v| {
        a.jobs = Some(val(v)?);
        Ok(())
    }),
    flag!(
        &["delay"],
        None,
        Required("DURATION"),
        Run,
        "Wait DURATION between job starts (1.5, 2m, 1h30m)",
        |a, v| {
            a.delay = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["timeout"],
        None,
        Required("DURATION"),
        Run,
        "Kill a job after DURATION, or N% of the median run time",
        |a, v| {
            a.timeout = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["retries"],
        None,
        Required("N"),
        Run,
        "Try a failing job up to N times",
        |a, v| {
            a.retries = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["halt-on-error", "haltonerror", "halt"],
        None,
        Required("WHEN"),
        Run,
        "Stop early: now|soon,fail|success|done=N|N% (or 0 1 2 -1 -2)",
        |a, v| {
            a.halt = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["term-seq", "termseq"],
        None,
        Required("SEQ"),
        Run,
        "Signals to stop a job: SIG,ms,SIG,ms,... (default TERM,200,TERM,100,TERM,50,KILL,25)",
        |a, v| {
            a.termseq = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["nice"],
        None,
        Required("N"),
        Run,
        "Run jobs with niceness N",
        |a, v| {
            a.nice = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["work-dir", "workdir", "wd"],
        None,
        Required("DIR"),
        Run,
        "Run jobs in DIR",
        |a, v| {
            a.workdir = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["tmpdir", "tempdir"],
        None,
        Required("DIR"),
        Run,
        "Directory for temporary files (also output spilled past --output-memory)",
        |a, v| {
            a.tmpdir = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["output-memory"],
        None,
        Required("SIZE"),
        Run,
        "Hold up to SIZE bytes of unprinted job output in memory, then spill to --tmpdir (default 16M)",
        |a, v| {
            a.output_memory = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["env"],
        None,
        Required("VAR"),
        Run,
        "Export VAR (a comma list; _ = all but those of --record-env) to jobs; local jobs get every variable anyway",
        |a, v| {
            a.env.push(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["shuf"],
        None,
        Switch,
        Run,
        "Run jobs in random order",
        |a, _| {
            a.shuf = true;
            Ok(())
        }
    ),
    flag!(
        &["load"],
        None,
        Required("LOAD"),
        Run,
        "Start jobs only while the load average is below LOAD",
        |a, v| {
            a.load = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["memfree"],
        None,
        Required("SIZE"),
        Run,
        "Start jobs only while SIZE memory is free",
        |a, v| {
            a.memfree = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["tty"],
        None,
        Switch,
        Run,
        "Give jobs the terminal (implies -j1 -u)",
        |a, _| {
            a.ungroup_tty = true;
            Ok(())
        }
    ),
    // Output.
    flag!(
        &["keep-order", "keeporder"],
        Some('k'),
        Switch,
        Output,
        "Print outputs in input order",
        |a, _| {
            a.keep_order = true;
            Ok(())
        }
    ),
    flag!(
        &["no-keep-order", "nokeeporder", "nok", "no-k"],
        None,
        Switch,
        Output,
        "Cancel an earlier -k",
        |a, _| {
            a.keep_order = false;
            Ok(())
        }
    ),
    flag!(
        &["group"],
        None,
        Switch,
        Output,
        "Print each job's output in one piece when it ends (default)",
        |a, _| {
            a.group = true;
            Ok(())
        }
    ),
    flag!(
        &["ungroup"],
        Some('u'),
        Switch,
        Output,
        "Print output as it comes (lines of jobs may mix)",
        |a, _| {
            a.ungroup = true;
            Ok(())
        }
    ),
    flag!(
        &[
            "line-buffer",
            "line-buffered",
            "linebuffer",
            "linebuffered",
            "lb"
        ],
        None,
        Switch,
        Output,
        "Print whole lines as they come",
        |a, _| {
            a.line_buffer = true;
            Ok(())
        }
    ),
    flag!(
        &["tag"],
        None,
        Switch,
        Output,
        "Prefix output lines with the arguments and a TAB",
        |a, _| {
            a.tag = true;
            Ok(())
        }
    ),
    flag!(
        &["tag-string", "tagstring"],
        None,
        Required("STR"),
        Output,
        "Prefix output lines with STR (replacement strings allowed)",
        |a, v| {
            a.tagstring = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["output-as-files", "outputasfiles", "files"],
        None,
        Switch,
        Output,
        "Save output in temporary files and print their names",
        |a, _| {
            a.files = true;
            Ok(())
        }
    ),
    flag!(
        &["results", "result", "res"],
        None,
        Required("DIR"),
        Output,
        "Save output under DIR (or a .csv/.tsv/.json file)",
        |a, v| {
            a.results = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &[],
        Some('v'),
        Switch,
        Output,
        "Print each command line on stdout before its output",
        |a, _| {
            a.verbose_stdout += 1;
            Ok(())
        }
    ),
    flag!(
        &["verbose"],
        Some('t'),
        Switch,
        Output,
        "Print each command line on stderr as it starts",
        |a, _| {
            a.verbose_stderr = true;
            Ok(())
        }
    ),
    flag!(&["silent"], None, Switch, Output, "Cancel -v", |a, _| {
        a.silent = true;
        Ok(())
    }),
    flag!(
        &[
            "color-failed",
            "colour-failed",
            "colorfailed",
            "colourfailed",
            "color-fail",
            "colour-fail",
            "colorfail",
            "colourfail",
            "cf"
        ],
        None,
        Switch,
        Output,
        "Show output of failed jobs in red",
        |a, _| {
            a.color_failed = true;
            Ok(())
        }
    ),
    // Records of the run.
    flag!(
        &["joblog", "jl"],
        None,
        Required("FILE"),
        Log,
        "Log each finished job to FILE (+FILE appends; - is stdout)",
        |a, v| {
            a.joblog = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["joblog-format"],
        None,
        Required("FORMAT"),
        Log,
        "parx: joblog format, tsv (GNU parallel's, default) or json",
        |a, v| {
            a.joblog_format = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["resume"],
        None,
        Switch,
        Log,
        "Skip jobs already in the --joblog",
        |a, _| {
            a.resume = true;
            Ok(())
        }
    ),
    flag!(
        &["resume-failed", "resumefailed"],
        None,
        Switch,
        Log,
        "Skip jobs in the --joblog, rerun those that failed",
        |a, _| {
            a.resume_failed = true;
            Ok(())
        }
    ),
    flag!(
        &["retry-failed", "retryfailed"],
        None,
        Switch,
        Log,
        "Rerun the failed jobs of the --joblog, read no input",
        |a, _| {
            a.retry_failed = true;
            Ok(())
        }
    ),
    flag!(
        &["progress"],
        None,
        Switch,
        Log,
        "Show progress on stderr",
        |a, _| {
            a.progress = true;
            Ok(())
        }
    ),
    flag!(
        &["eta"],
        None,
        Switch,
        Log,
        "Show the estimated time left",
        |a, _| {
            a.eta = true;
            Ok(())
        }
    ),
    flag!(
        &["bar"],
        None,
        Switch,
        Log,
        "Show a progress bar",
        |a, _| {
            a.bar = true;
            Ok(())
        }
    ),
    flag!(
        &["total-jobs", "totaljobs", "total"],
        None,
        Required("N"),
        Log,
        "Number of jobs, for --eta/--bar without reading all input first",
        |a, v| {
            a.total_jobs = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["trace"],
        None,
        Switch,
        Log,
        "parx: log every process and pipe operation to stderr",
        |a, _| {
            a.trace = true;
            Ok(())
        }
    ),
    // --pipe.
    flag!(
        &["pipe", "spreadstdin"],
        None,
        Switch,
        Pipe,
        "Split stdin into blocks and give one to each job's stdin",
        |a, _| {
            a.pipe = true;
            Ok(())
        }
    ),
    flag!(
        &["pipe-part", "pipepart"],
        None,
        Switch,
        Pipe,
        "Like --pipe, reading a seekable file (-a FILE) in parts",
        |a, _| {
            a.pipepart = true;
            Ok(())
        }
    ),
    flag!(
        &["block-size", "blocksize", "block"],
        None,
        Required("SIZE"),
        Pipe,
        "Block size (default 1M; k K M G suffixes)",
        |a, v| {
            a.block = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["recstart"],
        None,
        Required("STR"),
        Pipe,
        "Records start with STR",
        |a, v| {
            a.recstart = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["recend"],
        None,
        Required("STR"),
        Pipe,
        "Records end with STR (default \\n)",
        |a, v| {
            a.recend = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["regexp", "regex"],
        None,
        Switch,
        Pipe,
        "--recstart/--recend are regular expressions",
        |a, _| {
            a.regexp = true;
            Ok(())
        }
    ),
    flag!(
        &["remove-rec-sep", "removerecsep", "rrs"],
        None,
        Switch,
        Pipe,
        "Remove the record separators",
        |a, _| {
            a.remove_rec_sep = true;
            Ok(())
        }
    ),
    flag!(
        &["round-robin", "roundrobin", "round"],
        None,
        Switch,
        Pipe,
        "Hand blocks to a fixed set of jobs in turn",
        |a, _| {
            a.round_robin = true;
            Ok(())
        }
    ),
    flag!(
        &["cat"],
        None,
        Switch,
        Pipe,
        "Put each block in a temporary file, {} is its name",
        |a, _| {
            a.cat = true;
            Ok(())
        }
    ),
    flag!(
        &["fifo"],
        None,
        Switch,
        Pipe,
        "Put each block in a named pipe, {} is its name",
        |a, _| {
            a.fifo = true;
            Ok(())
        }
    ),
    // Information.
    flag!(
        &["help"],
        Some('h'),
        Switch,
        Info,
        "Print this help",
        |a, _| {
            a.help = true;
            Ok(())
        }
    ),
    flag!(
        &["version"],
        Some('V'),
        Switch,
        Info,
        "Print the version",
        |a, _| {
            a.version = true;
            Ok(())
        }
    ),
    flag!(
        &["generate"],
        None,
        Required("KIND"),
        Info,
        "Print the man page or a shell completion script: man, complete-bash, complete-zsh, complete-fish",
        |a, v| {
            let kind = val(v)?;
            a.generate = Some(super::generate::Generate::parse(&kind.to_string_lossy())?);
            Ok(())
        }
    ),
    flag!(
        &["max-line-length-allowed", "maxlinelengthallowed"],
        None,
        Switch,
        Info,
        "Print the longest command line allowed",
        |a, _| {
            a.print_max_line_length = true;
            Ok(())
        }
    ),
    flag!(
        &["number-of-sockets", "numberofsockets"],
        None,
        Switch,
        Info,
        "Print the number of CPU sockets",
        |a, _| {
            a.print_cpus = Some(super::cpuinfo::CpuCount::Sockets);
            Ok(())
        }
    ),
    flag!(
        &["number-of-cores", "numberofcores"],
        None,
        Switch,
        Info,
        "Print the number of physical CPU cores",
        |a, _| {
            a.print_cpus = Some(super::cpuinfo::CpuCount::Cores);
            Ok(())
        }
    ),
    flag!(
        &["number-of-cpus", "numberofcpus"],
        None,
        Switch,
        Info,
        "Print the number of physical CPU cores (obsolete name)",
        |a, _| {
            a.print_cpus = Some(super::cpuinfo::CpuCount::Cores);
            Ok(())
        }
    ),
    flag!(
        &["number-of-threads", "numberofthreads"],
        None,
        Switch,
        Info,
        "Print the number of hardware threads",
        |a, _| {
            a.print_cpus = Some(super::cpuinfo::CpuCount::Threads);
            Ok(())
        }
    ),
    // Accepted, no effect.
    flag!(
        &["will-cite", "willcite", "nn", "nonotice", "no-notice"],
        None,
        Switch,
        Compat,
        "No citation notice (parx never prints one)",
        noop
    ),
    flag!(&["bibtex", "citation"], None, Switch, Compat, "No-op", noop),
    flag!(&["gnu"], None, Switch, Compat, "No-op", noop),
    flag!(
        &["plain"],
        None,
        Switch,
        Run,
        "Ignore $PARALLEL and profile files",
        noop
    ),
    flag!(
        &["debug"],
        Some('D'),
        Required("WHAT"),
        Compat,
        "No-op (see --trace)",
        noop
    ),
    flag!(
        &["process-slot-var", "processslotvar"],
        None,
        Required("VAR"),
        Run,
        "Set VAR to the job slot number - 1 in each job's environment",
        |a, v| {
            a.process_slot_var = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["noswap"],
        None,
        Switch,
        Run,
        "Start no job while the machine is swapping pages both in and out",
        |a, _| {
            a.noswap = true;
            Ok(())
        }
    ),
    flag!(
        &["min-version", "minversion"],
        None,
        Required("VERSION"),
        Info,
        "Exit 0 if VERSION <= 20221122 (GNU parallel's version parx follows)",
        |a, v| {
            a.min_version = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["sshlogin"],
        Some('S'),
        Required("LOGIN"),
        Remote,
        "Run jobs on [N/][ssh ][user@]host[:port] (`,` between hosts; `:` = here)",
        |a, v| {
            a.remote.sshlogin.push(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["sshloginfile", "slf"],
        None,
        Required("FILE"),
        Remote,
        "Hosts from FILE, one per line (`..` = ~/.parallel/sshloginfile)",
        |a, v| {
            a.remote.sshloginfile.push(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["ssh"],
        None,
        Required("CMD"),
        Remote,
        "The ssh command (default $PARALLEL_SSH, else ssh)",
        |a, v| {
            a.remote.ssh = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["ssh-delay", "sshdelay"],
        None,
        Required("SECS"),
        Remote,
        "Wait SECS between starting two ssh connections",
        |a, v| {
            a.remote.sshdelay = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["filter-hosts", "filterhosts", "filter-host"],
        None,
        Switch,
        Remote,
        "Drop hosts that can not be reached",
        |a, _| {
            a.remote.filter_hosts = true;
            Ok(())
        }
    ),
    flag!(
        &["controlmaster"],
        Some('M'),
        Switch,
        Remote,
        "No-op: parx always reuses one ssh connection per host",
        noop
    ),
    flag!(
        &[
            "transfer-file",
            "transferfile",
            "transfer-files",
            "transferfiles",
            "tf"
        ],
        None,
        Required("FILE"),
        Remote,
        "Copy FILE (replacement strings allowed) to the host before the job",
        |a, v| {
            a.remote.transfer_files.push(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["transfer"],
        None,
        Switch,
        Remote,
        "Copy each input file ({}) to the host before the job",
        |a, _| {
            a.remote.transfer = true;
            Ok(())
        }
    ),
    flag!(
        &["return"],
        None,
        Required("FILE"),
        Remote,
        "Copy FILE back from the host after the job",
        |a, v| {
            a.remote.returns.push(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["trc"],
        None,
        Required("FILE"),
        Remote,
        "--transfer --return FILE --cleanup",
        |a, v| {
            a.remote.transfer = true;
            a.remote.cleanup = true;
            a.remote.returns.push(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["cleanup"],
        None,
        Switch,
        Remote,
        "Remove transferred and returned files from the host after the job",
        |a, _| {
            a.remote.cleanup = true;
            Ok(())
        }
    ),
    flag!(
        &["basefile", "bf"],
        None,
        Required("FILE"),
        Remote,
        "Copy FILE to every host once, before the first job",
        |a, v| {
            a.remote.basefiles.push(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["onall"],
        None,
        Switch,
        Remote,
        "Run every job on every host",
        |a, _| {
            a.remote.onall = true;
            Ok(())
        }
    ),
    flag!(
        &["nonall"],
        None,
        Switch,
        Remote,
        "Run the command once on every host, no arguments",
        |a, _| {
            a.remote.nonall = true;
            Ok(())
        }
    ),
    // Not supported yet.
    flag!(
        &["hgrp", "hostgrp", "hostgroup", "hostgroups"],
        None,
        Switch,
        Unsupported,
        "Remote execution",
        unsupported
    ),
    flag!(
        &["rsync-opts", "rsyncopts"],
        None,
        Required("OPTS"),
        Unsupported,
        "Remote execution",
        unsupported
    ),
    flag!(
        &["sql-master", "sqlmaster"],
        None,
        Required("DBURL"),
        Run,
        "Put the jobs in the SQL table DBURL (+DBURL appends) for --sqlworker to run",
        |a, v| {
            a.sqlmaster = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["sql-worker", "sqlworker"],
        None,
        Required("DBURL"),
        Run,
        "Run the jobs of the SQL table DBURL, writing results back (sqlite3:///path/table, pg://user@host/db/table)",
        |a, v| {
            a.sqlworker = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["sql-and-worker", "sqlandworker"],
        None,
        Required("DBURL"),
        Run,
        "--sqlmaster DBURL --sqlworker DBURL",
        |a, v| {
            let v = val(v)?;
            a.sqlmaster = Some(v.clone());
            a.sqlworker = Some(v);
            Ok(())
        }
    ),
    flag!(
        &["sql-lease", "sqllease"],
        None,
        Required("SECS"),
        Run,
        "(parx) A SQL worker's hold on a job: renewed while it runs; a dead worker's job runs again after it (default 30)",
        |a, v| {
            a.sql_lease = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["semaphore"],
        None,
        Switch,
        Semaphore,
        "Work as a counting semaphore: run COMMAND once one of -j slots is free",
        |a, _| {
            a.semaphore = true;
            Ok(())
        }
    ),
    flag!(
        &["semaphore-name", "semaphorename", "id"],
        None,
        Required("NAME"),
        Semaphore,
        "The semaphore's name (default: the terminal's name)",
        |a, v| {
            a.semaphore_name = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["semaphore-timeout", "semaphoretimeout", "st"],
        None,
        Required("SECS"),
        Semaphore,
        "Wait at most SECS for a slot, then run anyway (-SECS: give up, exit 1)",
        |a, v| {
            a.semaphore_timeout = Some(val(v)?);
            Ok(())
        }
    ),
    flag!(
        &["fg"],
        None,
        Switch,
        Semaphore,
        "Run the command in the foreground and exit with its status",
        |a, _| {
            a.fg = true;
            Ok(())
        }
    ),
    flag!(
        &["bg"],
        None,
        Switch,
        Semaphore,
        "Run the command in the background, holding its slot (the default)",
        |a, _| {
            a.bg = true;
            Ok(())
        }
    ),
    flag!(
        &["wait"],
        None,
        Switch,
        Semaphore,
        "Wait until every command holding the semaphore has finished; with --sqlmaster: until every job has run (exit as a local run would)",
        |a, _| {
            a.wait = true;
            Ok(())
        }
    ),
    flag!(
        &["tmux"],
        None,
        Switch,
        Unsupported,
        "tmux output",
        unsupported
    ),
    flag!(
        &["tmux-pane", "tmuxpane"],
        None,
        Switch,
        Unsupported,
        "tmux output",
        unsupported
    ),
    flag!(
        &["latest-line", "latestline", "ll"],
        None,
        Switch,
        Unsupported,
        "Latest-line output",
        unsupported
    ),
    flag!(
        &["ctag"],
        None,
        Switch,
        Unsupported,
        "Coloured tags",
        unsupported
    ),
    flag!(
        &["ctag-string", "ctagstring"],
        None,
        Required("STR"),
        Unsupported,
        "Coloured tags",
        unsupported
    ),
    flag!(
        &["color", "colour"],
        None,
        Switch,
        Unsupported,
        "Coloured output",
        unsupported
    ),
    flag!(
        &["csv"],
        None,
        Switch,
        Unsupported,
        "CSV input",
        unsupported
    ),
    flag!(
        &["interactive"],
        Some('p'),
        Switch,
        Unsupported,
        "Asking before each job",
        unsupported
    ),
    flag!(
        &["open-tty"],
        Some('o'),
        Switch,
        Unsupported,
        "Opening the terminal for jobs",
        unsupported
    ),
    flag!(
        &["shebang", "hashbang"],
        None,
        Switch,
        Unsupported,
        "Shebang scripts",
        unsupported
    ),
    flag!(
        &["shard"],
        None,
        Required("EXPR"),
        Unsupported,
        "Sharding --pipe input",
        unsupported
    ),
    flag!(
        &["bin"],
        None,
        Required("EXPR"),
        Unsupported,
        "Binning --pipe input",
        unsupported
    ),
    flag!(
        &["group-by", "groupby"],
        None,
        Required("VAL"),
        Unsupported,
        "Grouping --pipe input",
        unsupported
    ),
    flag!(
        &["tee"],
        None,
        Switch,
        Unsupported,
        "Copying all input to every job",
        unsupported
    ),
    flag!(
        &["block-timeout", "blocktimeout", "bt"],
        None,
        Required("DURATION"),
        Unsupported,
        "--pipe block timeouts",
        unsupported
    ),
    flag!(
        &["embed"],
        None,
        Switch,
        Unsupported,
        "Embedding in a script",
        unsupported
    ),
    flag!(
        &["filter"],
        None,
        Required("EXPR"),
        Unsupported,
        "Perl job filters",
        unsupported
    ),
    flag!(
        &["template", "tmpl"],
        None,
        Required("FILE=REPL"),
        Unsupported,
        "Template files",
        unsupported
    ),
    flag!(
        &["compress"],
        None,
        Switch,
        Unsupported,
        "Compressing temporary files",
        unsupported
    ),
    flag!(
        &[
            "use-compress-program",
            "compress-program",
            "usecompressprogram",
            "compressprogram"
        ],
        None,
        Required("PRG"),
        Unsupported,
        "Compressing temporary files",
        unsupported
    ),
    flag!(
        &[
            "use-decompress-program",
            "decompress-program",
            "usedecompressprogram",
            "decompressprogram"
        ],
        None,
        Required("PRG"),
        Unsupported,
        "Compressing temporary files",
        unsupported
    ),
    flag!(
        &["limit"],
        None,
        Required("CMD"),
        Unsupported,
        "Limit commands",
        unsupported
    ),
    flag!(
        &["memsuspend"],
        None,
        Required("SIZE"),
        Unsupported,
        "Suspending jobs on low memory",
        unsupported
    ),
    flag!(
        &["profile"],
        Some('J'),
        Required("NAME"),
        Run,
        "Read options from profile NAME (in $PARALLEL_HOME or ~/.parallel) instead of ~/.parallel/config",
        noop
    ),
    flag!(
        &["record-env", "recordenv"],
        None,
        Switch,
        Run,
        "Record the current environment's variable names in $PARALLEL_HOME/ignored_vars (for --env _)",
        |a, _| {
            a.record_env = true;
            Ok(())
        }
    ),
    flag!(
        &["session"],
        None,
        Switch,
        Unsupported,
        "env_parallel sessions",
        unsupported
    ),
    flag!(
        &["show-limits", "showlimits"],
        None,
        Switch,
        Unsupported,
        "Showing limits",
        unsupported
    ),
    flag!(
        &["exit"],
        Some('x'),
        Switch,
        Unsupported,
        "xargs -x",
        unsupported
    ),
    flag!(
        &["tollef"],
        None,
        Switch,
        Unsupported,
        "Tollef's parallel",
        unsupported
    ),
    flag!(
        &["linkinputsource", "xapplyinputsource"],
        None,
        Required("N"),
        Unsupported,
        "Internal",
        unsupported
    ),
    flag!(
        &[
            "use-sockets-instead-of-threads",
            "usesocketsinsteadofthreads",
            "use-cores-instead-of-threads",
            "usecoresinsteadofthreads",
            "use-cpus-instead-of-cores",
            "usecpusinsteadofcores"
        ],
        None,
        Switch,
        Unsupported,
        "CPU counting modes",
        unsupported
    ),
    flag!(
        &["shell-completion", "shellcompletion"],
        None,
        Required("SHELL"),
        Unsupported,
        "Shell completion",
        unsupported
    ),
    flag!(&["bug"], None, Switch, Unsupported, "Internal", unsupported),
    // Retired by GNU parallel: the help text says what to use instead.
    flag! { &[], Some('g'), Switch, Retired, "Use --group", unsupported },
    flag! { &[], Some('B'), Required("X"), Retired, "Use --bf", unsupported },
    flag! { &[], Some('T'), Switch, Retired, "Use --tty", unsupported },
    flag! { &[], Some('U'), Required("X"), Retired, "Use --er", unsupported },
    flag! { &[], Some('W'), Required("X"), Retired, "Use --wd", unsupported },
    flag! { &[], Some('Y'), Switch, Retired, "Use --shebang", unsupported },
    flag! { &[], Some('H'), Required("X"), Retired, "Use --halt", unsupported },
    flag! { &["sql"], None, Required("X"), Retired, "Use --sqlmaster", unsupported },
    flag! { &["ctrl-c", "ctrlc"], None, Switch, Retired, "Remove it", unsupported },
    flag! { &["no-ctrl-c", "no-ctrlc", "noctrlc"], None, Switch, Retired, "Remove it", unsupported },
];

/// parx's own long options: matched only when typed in full, so that
/// abbreviations mean what they mean to GNU parallel (`--jobl` is
/// `--joblog`, not ambiguous with `--joblog-format`).
const EXACT_ONLY: &[&str] = &["joblog-format", "trace"];

/// Finds the option for a long name as typed: exact (case-insensitive)
/// match first, then a unique prefix.
pub fn find_long(name: &str) -> Result<&'static Flag, Vec<&'static str>> {
    let lower = name.to_ascii_lowercase();
    for f in FLAGS {
        if f.names.iter().any(|n| *n == lower) {
            return Ok(f);
        }
    }
    let mut matches: Vec<(&'static Flag, &'static str)> = Vec::new();
    for f in FLAGS {
        for n in f.names {
            if n.starts_with(&lower) && !EXACT_ONLY.contains(n) {
                matches.push((f, n));
            }
        }
    }
    let first = matches.first().map(|(f, _)| *f);
    match first {
        Some(f) if matches.iter().all(|(g, _)| std::ptr::eq(*g, f)) => Ok(f),
        _ => Err(matches.into_iter().map(|(_, n)| n).collect()),
    }
}

/// Finds the option for a short name.
pub fn find_short(c: char) -> Option<&'static Flag> {
    FLAGS.iter().find(|f| f.short == Some(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abbreviations() {
        assert_eq!(find_long("jobl").map(|f| f.names[0]), Ok("joblog"));
        assert!(find_long("jo").is_err());
        assert_eq!(find_long("jobs").map(|f| f.names[0]), Ok("jobs"));
        assert_eq!(
            find_long("KEEP-ORDER").map(|f| f.names[0]),
            Ok("keep-order")
        );
        assert!(find_long("nosuch").unwrap_err().is_empty());
    }

    #[test]
    fn names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for f in FLAGS {
            for n in f.names {
                assert!(seen.insert(*n), "duplicate --{n}");
            }
        }
        let mut shorts = std::collections::HashSet::new();
        for f in FLAGS.iter().filter_map(|f| f.short) {
            assert!(shorts.insert(f), "duplicate -{f}");
        }
    }
}
