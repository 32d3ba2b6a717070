//! Differential tests: every curated command runs through parx's executor
//! and through `bash -c`, each in a fresh temporary directory with the
//! same files, and everything observable must agree: stdout, stderr, exit
//! status, and the files left in the directory (names and contents).
//!
//! Normalisation: the temporary directory's path is replaced by `$DIR` in
//! outputs, since the two runs use different directories, and the pid in
//! bash's report of a command killed by a signal
//! (`bash: line 1:  1234 Killed   cmd`) by `PID`. parx prefixes its own messages with the fallback shell's
//! name (`bash` here) and, like bash with a non-terminal stdin, prints no
//! `line N:`, so messages are compared byte for byte.
//!
//! Cases live in `tests/fixtures/shell/cases.txt`, one per line; `{NL}`
//! stands for a newline inside a command. The summary line reports how
//! many ran without a shell.

use std::collections::BTreeMap;
use std::fs;
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use parx::shell::{self, Context};

#[derive(Debug, PartialEq, Eq)]
struct Observed {
    status: i32,
    stdout: String,
    stderr: String,
    files: BTreeMap<String, String>,
}

/// Writing a file while another thread spawns a process lets that child
/// hold the file open for writing until it execs, and exec'ing the file
/// then fails with ETXTBSY. Directories are set up under the write lock,
/// processes run under the read lock.
static SPAWN_LOCK: std::sync::RwLock<()> = std::sync::RwLock::new(());

fn setup(dir: &Path) {
    let _guard = SPAWN_LOCK.write().unwrap_or_else(|e| e.into_inner());
    fs::write(dir.join("a.txt"), "hello world\nfoo bar\n").unwrap();
    fs::write(dir.join("b.txt"), "line1\nline2\nline3\n").unwrap();
    fs::create_dir(dir.join("sub")).unwrap();
    fs::write(dir.join("sub/c.txt"), "in sub\n").unwrap();
    fs::create_dir(dir.join("dir.d")).unwrap();
    fs::write(dir.join("space name.txt"), "spaced\n").unwrap();
    fs::write(dir.join("noexec"), "echo hi\n").unwrap();
    fs::write(dir.join("script.sh"), "#!/bin/sh\necho script \"$@\"\n").unwrap();
    fs::set_permissions(dir.join("script.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(dir.join("badinterp"), "#!/nonexistent/interp\necho x\n").unwrap();
    fs::set_permissions(dir.join("badinterp"), fs::Permissions::from_mode(0o755)).unwrap();
}

fn snapshot(dir: &Path, base: &Path, out: &mut BTreeMap<String, String>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
        let meta = fs::symlink_metadata(&p).unwrap();
        if meta.is_dir() {
            out.insert(rel + "/", String::new());
            snapshot(&p, base, out);
        } else {
            let body = fs::read(&p).unwrap_or_default();
            out.insert(rel, normalise(&body, base));
        }
    }
}

fn normalise(s: &[u8], dir: &Path) -> String {
    static PID: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let pid = PID.get_or_init(|| regex::Regex::new(r"(: line [0-9]+: ) *[0-9]+ ").unwrap());
    let s = String::from_utf8_lossy(s).replace(&*dir.to_string_lossy(), "$DIR");
    pid.replace_all(&s, "${1}PID ").into_owned()
}

fn via_bash(cmd: &str) -> Observed {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let guard = SPAWN_LOCK.read().unwrap_or_else(|e| e.into_inner());
    let out = Command::new("bash")
        .arg("-c")
        .arg(cmd)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    drop(guard);
    let mut files = BTreeMap::new();
    snapshot(dir.path(), dir.path(), &mut files);
    Observed {
        status: out.status.code().unwrap_or_else(|| {
            use std::os::unix::process::ExitStatusExt;
            128 + out.status.signal().unwrap_or(0)
        }),
        stdout: normalise(&out.stdout, dir.path()),
        stderr: normalise(&out.stderr, dir.path()),
        files,
    }
}

fn via_parx(cmd: &str) -> (Observed, Option<&'static str>) {
    let dir = tempfile::tempdir().unwrap();
    let cap = tempfile::tempdir().unwrap();
    setup(dir.path());
    let out_path = cap.path().join("out");
    let err_path = cap.path().join("err");
    let out = fs::File::create(&out_path).unwrap();
    let err = fs::File::create(&err_path).unwrap();
    let ctx = Context {
        stdin: Some(OwnedFd::from(fs::File::open("/dev/null").unwrap())),
        stdout: Some(OwnedFd::from(out)),
        stderr: Some(OwnedFd::from(err)),
        cwd: Some(dir.path().to_path_buf()),
        shell: Some("bash".into()),
        ..Context::default()
    };
    let guard = SPAWN_LOCK.read().unwrap_or_else(|e| e.into_inner());
    let status = shell::run(cmd.as_bytes(), ctx).unwrap();
    drop(guard);
    let mut files = BTreeMap::new();
    snapshot(dir.path(), dir.path(), &mut files);
    (
        Observed {
            status: status.code,
            stdout: normalise(&fs::read(&out_path).unwrap(), dir.path()),
            stderr: normalise(&fs::read(&err_path).unwrap(), dir.path()),
            files,
        },
        status.fallback,
    )
}

fn cases() -> Vec<String> {
    let text = include_str!("fixtures/shell/cases.txt");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("#"))
        .map(|l| l.replace("{NL}", "\n"))
        .collect()
}

#[test]
fn curated_cases_agree_with_bash() {
    let cases = cases();
    assert!(cases.len() >= 300, "only {} cases", cases.len());
    // Two workers (the machine has two cores); each case is independent.
    let results: Vec<(String, Observed, Observed, Option<&'static str>)> =
        std::thread::scope(|s| {
            let (left, right) = cases.split_at(cases.len() / 2);
            let run = |part: &[String]| {
                part.iter()
                    .map(|cmd| {
                        let expected = via_bash(cmd);
                        let (got, fallback) = via_parx(cmd);
                        (cmd.clone(), expected, got, fallback)
                    })
                    .collect::<Vec<_>>()
            };
            let a = s.spawn(move || run(left));
            let mut out = run(right);
            let mut first = a.join().unwrap();
            first.append(&mut out);
            first
        });
    let mut failures = Vec::new();
    let mut fallbacks: BTreeMap<&'static str, usize> = BTreeMap::new();
    for (cmd, expected, got, fallback) in results {
        if let Some(why) = fallback {
            *fallbacks.entry(why).or_default() += 1;
        }
        if got != expected {
            failures.push(format!(
                "case {cmd:?}\n  bash: {expected:?}\n  parx: {got:?} (fallback: {fallback:?})"
            ));
        }
    }
    let fell_back: usize = fallbacks.values().sum();
    println!(
        "shell differential: {} cases, {} ran without a shell ({:.1}%), {} fell back to bash: {:?}",
        cases.len(),
        cases.len() - fell_back,
        100.0 * (cases.len() - fell_back) as f64 / cases.len() as f64,
        fell_back,
        fallbacks
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from bash:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

mod generated {
    //! Commands generated from a grammar over the subset parx runs itself
    //! (words with every kind of quoting and expansion, redirections,
    //! pipelines, `!`, `&&`/`||`, lists), each checked against bash.

    use proptest::prelude::*;

    fn atom() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z0-9._-]{1,5}",
            "'[a-z $|;&<>*?\"]{0,6}'",
            "\"[a-z |;&<>*?']{0,4}\"",
            Just("\"$A\"".to_string()),
            Just("$A".to_string()),
            Just("${B}".to_string()),
            Just("$NOPE".to_string()),
            Just("\"$NOPE\"".to_string()),
            Just("$?".to_string()),
            Just("\"x$A y\"".to_string()),
            Just("\\;".to_string()),
            Just("\\ ".to_string()),
            Just("\\$A".to_string()),
            Just("''".to_string()),
            Just("{}".to_string()),
            Just("#".to_string()),
        ]
    }

    fn word() -> impl Strategy<Value = String> {
        prop::collection::vec(atom(), 1..3).prop_map(|v| v.concat())
    }

    fn redir() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(" > out1".to_string()),
            Just(" >> out1".to_string()),
            Just(" 2>&1".to_string()),
            Just(" 2>/dev/null".to_string()),
            Just(" < a.txt".to_string()),
            Just(" >&2".to_string()),
            Just(" 2> err1".to_string()),
            Just(" &> both1".to_string()),
            Just(" > nosuchdir/x".to_string()),
            Just(" > $A".to_string()),
        ]
    }

    fn name() -> impl Strategy<Value = &'static str> {
        prop_oneof![
            Just("echo"),
            Just("/usr/bin/printf '<%s>'"),
            Just("true"),
            Just("false"),
            Just("cat"),
            Just("tr a-z A-Z"),
            Just("wc -c"),
            Just("cd sub"),
            Just("nosuch_cmd"),
            Just("sh -c 'exit 3'"),
            Just("A=new"),
            Just("B='p q' printenv B"),
            Just("exit 4"),
            Just("printf '%s|%3d|'"),
            Just("test -n"),
            Just("[ -f a.txt ] && [ x ="),
        ]
    }

    /// A simple command; one that is not the last stage of a pipeline
    /// keeps its stderr out of the shared stream (two processes writing
    /// one stream at once interleave differently from run to run).
    fn command(last: bool) -> impl Strategy<Value = String> {
        let args = prop::collection::vec(word(), 0..3).prop_map(|v| v.join(" "));
        (
            name(),
            args,
            prop::collection::vec(redir(), 0..2),
            prop_oneof![
                Just(" 2>/dev/null"),
                Just(" 2>&1"),
                Just(" 2>/dev/null < a.txt")
            ],
        )
            .prop_map(move |(name, args, redirs, quiet)| {
                let no_args = ["cd", "exit", "sh ", "B="]
                    .iter()
                    .any(|p| name.starts_with(p));
                let args = if no_args { String::new() } else { args };
                let redirs = if last {
                    redirs.concat()
                } else {
                    quiet.to_string()
                };
                format!("{name} {args}{redirs}")
            })
    }

    fn pipeline() -> impl Strategy<Value = String> {
        (
            any::<bool>(),
            prop::collection::vec(command(false), 0..3),
            command(true),
            prop_oneof![Just(" | "), Just(" |& ")],
        )
            .prop_map(|(neg, mut cmds, last, sep)| {
                cmds.push(last);
                let p = cmds.join(sep);
                if neg { format!("! {p}") } else { p }
            })
    }

    fn and_or() -> impl Strategy<Value = String> {
        (
            pipeline(),
            prop::collection::vec((prop_oneof![Just(" && "), Just(" || ")], pipeline()), 0..3),
        )
            .prop_map(|(first, rest)| {
                let mut s = first;
                for (c, p) in rest {
                    s.push_str(c);
                    s.push_str(&p);
                }
                s
            })
    }

    fn script() -> impl Strategy<Value = String> {
        (
            // No pipefail here: a stage that writes into a pipe whose reader
            // already exited dies of SIGPIPE or not depending on timing, and
            // pipefail makes that race the job's status.
            prop_oneof![4 => Just(""), 1 => Just("set -e; ")],
            prop::collection::vec(and_or(), 1..4),
            prop_oneof![Just("; "), Just("\n")],
        )
            .prop_map(|(opts, items, sep)| {
                format!("{opts}A='x  y'; B=z\n{}; echo \"[$?]\"", items.join(sep))
            })
    }

    /// Commands proptest once found differing from bash (from the
    /// regression file this test no longer writes: a failure is reported
    /// with its minimal command, and one worth keeping is listed here).
    /// Three more are not kept, as they can not be compared: `B='p q' env`
    /// (each shell prints the environment in its own hash order; the
    /// generator now uses `printenv B`), a pipeline whose stages all write
    /// to one stderr (their lines interleave differently from run to run;
    /// the generator now quiets all but the last stage), and one under
    /// `set -o pipefail` (a stage writing to a reader that exits dies of
    /// SIGPIPE or not by timing, and pipefail makes that the status; the
    /// generator no longer sets pipefail).
    const PAST_FAILURES: [&str; 3] = [
        "A='x  y'; B=z\n! nosuch_cmd  && A=new  > $A; echo \"[$?]\"",
        "A='x  y'; B=z\n! cat  || printf '%s|%3d|' \"$NOPE\" a; echo \"[$?]\"",
        "set -e; A='x  y'; B=z\nnosuch_cmd  || printf '%s|%3d|' $A 2>/dev/null | echo ; echo \"[$?]\"",
    ];

    #[test]
    fn past_failures_agree_with_bash() {
        for cmd in PAST_FAILURES {
            let expected = super::via_bash(cmd);
            let (got, _) = super::via_parx(cmd);
            assert_eq!(got, expected, "command: {cmd:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(48),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]
        #[test]
        fn generated_commands_agree_with_bash(cmd in script()) {
            let expected = super::via_bash(&cmd);
            let (got, _) = super::via_parx(&cmd);
            prop_assert_eq!(got, expected, "command: {:?}", cmd);
        }
    }
}
