//! `--files`: each job's stdout in a kept file `parXXXXX.par` in the temp
//! dir, its name printed instead of the output; stderr thrown away. All
//! as GNU parallel 20221122 does (checked against it by hand: the names
//! are random, so no fixture).

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn parx(dir: &Path, args: &[&OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_parx"))
        .args(args)
        .current_dir(dir)
        .env_remove("PARALLEL")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn os<'a>(args: &[&'a str]) -> Vec<&'a OsStr> {
    args.iter().map(|a| OsStr::new(*a)).collect()
}

/// The printed lines, split into (tag, file name).
fn printed(out: &Output) -> Vec<(String, PathBuf)> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| match l.rsplit_once('\t') {
            Some((tag, name)) => (tag.to_string(), PathBuf::from(name)),
            None => (String::new(), PathBuf::from(l)),
        })
        .collect()
}

fn assert_par_name(name: &Path, dir: &str) {
    let s = name.to_str().unwrap();
    let base = s
        .strip_prefix(&format!("{dir}/"))
        .unwrap_or_else(|| panic!("{s} not in {dir}"));
    assert!(
        base.len() == 12
            && base.starts_with("par")
            && base.ends_with(".par")
            && base[3..8]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_'),
        "{s}"
    );
}

#[test]
fn stdout_goes_to_kept_files_and_stderr_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("t")).unwrap();
    let out = parx(
        dir.path(),
        &os(&[
            "--tmpdir",
            "t",
            "-k",
            "--files",
            "echo o{}; echo e{} >&2",
            ":::",
            "a",
            "b",
        ]),
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        out.stderr, b"",
        "stderr of jobs is not printed with --files"
    );
    let names = printed(&out);
    assert_eq!(names.len(), 2);
    for ((tag, name), want) in names.iter().zip(["oa\n", "ob\n"]) {
        assert_eq!(tag, "");
        // Printed as GNU parallel prints it: the temp dir as given.
        assert_par_name(name, "t");
        let path = dir.path().join(name);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), want);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(std::fs::read_dir(dir.path().join("t")).unwrap().count(), 2);
}

#[test]
fn tmpdir_env_tag_and_empty_output() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().to_str().unwrap().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_parx"))
        .args([
            "--tag",
            "-k",
            "--files",
            "test {} = b || printf %s {}",
            ":::",
        ])
        .args(["a", "b"])
        .env("TMPDIR", &tmp)
        .env_remove("PARALLEL")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let names = printed(&out);
    assert_eq!(
        names.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_par_name(&names[0].1, &tmp);
    assert_eq!(std::fs::read(&names[0].1).unwrap(), b"a");
    // A job with no output still gets (and prints) its file.
    assert_eq!(std::fs::read(&names[1].1).unwrap(), b"");
}

#[test]
fn non_utf8_output_is_kept_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in"), b"\xff\xfe\x00x\n").unwrap();
    let out = parx(
        dir.path(),
        &[
            OsStr::new("--tmpdir"),
            dir.path().as_os_str(),
            OsStr::new("--files"),
            OsStr::new("printf %s"),
            OsStr::new("::::"),
            OsStr::new("in"),
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let names = printed(&out);
    // GNU parallel turns a NUL inside a value into the two bytes `\0`.
    assert_eq!(std::fs::read(&names[0].1).unwrap(), b"\xff\xfe\\0x");
}

#[test]
fn ungroup_wins_over_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = parx(
        dir.path(),
        &os(&[
            "--tmpdir",
            ".",
            "-u",
            "--files",
            "echo o{}; echo e{} >&2",
            ":::",
            "a",
        ]),
    );
    assert_eq!(out.stdout, b"oa\n");
    assert_eq!(out.stderr, b"ea\n");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn failed_attempts_leave_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = parx(
        dir.path(),
        &os(&[
            "--tmpdir",
            ".",
            "--retries",
            "3",
            "--files",
            "echo x; exit 1",
            ":::",
            "a",
        ]),
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(printed(&out).len(), 1);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn missing_tmpdir_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = parx(
        dir.path(),
        &os(&["--tmpdir", "nope", "--files", "echo", ":::", "a"]),
    );
    assert_eq!(out.status.code(), Some(255));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nope") && err.contains("--tmpdir"), "{err}");
}

#[test]
fn table_results_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["out.csv", "out.TSV", "-.json"] {
        let out = parx(dir.path(), &os(&["--results", name, "echo", ":::", "a"]));
        assert_eq!(out.status.code(), Some(255));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("not supported yet"), "{err}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn unwritable_results_dir_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), b"").unwrap();
    let out = parx(
        dir.path(),
        &os(&["--results", "f", "touch ran", ":::", "a"]),
    );
    assert_eq!(out.status.code(), Some(255));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("f/1/a") && err.contains("--results"), "{err}");
    assert!(!dir.path().join("ran").exists(), "the job must not run");
}

/// `--resume --results`: a job whose stdout file exists is not run again
/// (checked against GNU parallel: same files, same contents).
#[test]
fn resume_skips_jobs_with_saved_output() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| parx(dir.path(), &os(args));
    run(&["--results", "o", "echo {}", ":::", "a", "b", "c"]);
    std::fs::remove_file(dir.path().join("o/1/b/stdout")).unwrap();
    std::fs::write(dir.path().join("o/1/a/stdout"), "old\n").unwrap();
    let out = run(&[
        "--resume",
        "--files",
        "-k",
        "--results",
        "o",
        "echo new{}",
        ":::",
        "a",
        "b",
        "c",
        "d",
    ]);
    assert_eq!(out.status.code(), Some(0));
    // GNU parallel prints nothing here (its -k waits for the skipped job
    // 1 forever); parx prints the names of the jobs that ran.
    assert_eq!(out.stdout, b"o/1/b/stdout\no/1/d/stdout\n");
    let read = |p: &str| std::fs::read_to_string(dir.path().join(p)).unwrap();
    assert_eq!(read("o/1/a/stdout"), "old\n");
    assert_eq!(read("o/1/b/stdout"), "newb\n");
    assert_eq!(read("o/1/c/stdout"), "c\n");
    assert_eq!(read("o/1/d/stdout"), "newd\n");
    assert_eq!(read("o/1/d/seq"), "4");
}
