//! The SQL queue on a SQLite file: master and workers, a worker killed
//! mid-job, a late write rejected, workers started first, `+` append,
//! GNU's columns through the `sqlite3` client, bad DBURLs.

mod queue_support;

use queue_support::{Db, GNU_COLUMNS, Row, run, text};
use std::path::{Path, PathBuf};
use std::process::Command;

struct Sqlite {
    file: PathBuf,
}

impl Sqlite {
    fn new(dir: &Path) -> Sqlite {
        Sqlite {
            file: dir.join("queue.db"),
        }
    }
}

impl Db for Sqlite {
    fn url(&self, table: &str) -> String {
        format!(
            "sqlite3:///{}/{table}",
            self.file.to_string_lossy().replace('/', "%2F")
        )
    }

    fn rows(&self, table: &str) -> Vec<Row> {
        let c = rusqlite::Connection::open(&self.file).unwrap();
        let mut st = c
            .prepare(&format!(
                "SELECT Seq, Exitval, Stdout, Attempt, V1 FROM {table} ORDER BY Seq"
            ))
            .unwrap();
        st.query_map([], |r| {
            Ok(Row {
                seq: r.get(0)?,
                exitval: r.get(1)?,
                stdout: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                attempt: r.get(3)?,
                v1: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    }

    fn plain_select(&self, table: &str) -> String {
        let out = Command::new("sqlite3")
            .arg(&self.file)
            .arg(format!("SELECT {GNU_COLUMNS} FROM {table} ORDER BY Seq"))
            .output()
            .expect("the sqlite3 client (package sqlite3; .ci/run installs it)");
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    }
}

fn dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn master_and_three_workers() {
    let d = dir();
    queue_support::master_and_three_workers(&Sqlite::new(d.path()), d.path());
}

#[test]
fn killed_worker_job_runs_again() {
    let d = dir();
    queue_support::killed_worker_job_runs_again(&Sqlite::new(d.path()), d.path());
}

#[test]
fn late_write_is_rejected() {
    let d = dir();
    queue_support::late_write_is_rejected(&Sqlite::new(d.path()), d.path());
}

#[test]
fn workers_started_first() {
    let d = dir();
    queue_support::workers_started_first(&Sqlite::new(d.path()), d.path());
}

#[test]
fn append_continues_the_table() {
    let d = dir();
    queue_support::append_continues_the_table(&Sqlite::new(d.path()), d.path());
}

#[test]
fn master_and_worker_in_one() {
    let d = dir();
    queue_support::master_and_worker_in_one(&Sqlite::new(d.path()), d.path());
}

#[test]
fn values_are_bytes() {
    let d = dir();
    let db = Sqlite::new(d.path());
    let url = db.url("bytes");
    let value = std::ffi::OsStr::from_bytes(b"caf\xe9");
    let out = queue_support::parx(d.path())
        .args(["--sqlandworker", &url, "printf", "%s", ":::"])
        .arg(value)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(out.stdout, b"caf\xe9");
    let c = rusqlite::Connection::open(&db.file).unwrap();
    let (v1, stdout): (Vec<u8>, Vec<u8>) = c
        .query_row("SELECT V1, Stdout FROM bytes", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(v1, b"caf\xe9");
    assert_eq!(stdout, b"caf\xe9");
}

use std::os::unix::ffi::OsStrExt;

#[test]
fn bad_dburls_are_one_line_and_255() {
    let d = dir();
    for (url, msg) in [
        ("nonsense", "is not a valid DBURL"),
        ("mysql://u@h/db/t", "the mysql vendor is not supported"),
        ("sqlite3:///db", "must contain a table"),
        ("sqlite3:///x.db/bad;name", "is not a plain table name"),
    ] {
        let out = run(d.path(), &["--sqlworker", url, "echo"]);
        assert_eq!(out.status.code(), Some(255), "{url}");
        let err = text(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("parx: ") && err.contains(msg),
            "{url}: {err}"
        );
    }
}

#[test]
fn results_with_a_worker() {
    let d = dir();
    let db = Sqlite::new(d.path());
    let url = db.url("res");
    let m = run(d.path(), &["--sqlmaster", &url, "echo", ":::", "a", "b"]);
    assert!(m.status.success(), "{}", text(&m.stderr));
    let w = run(d.path(), &["--sqlworker", &url, "--results", "out", "echo"]);
    assert!(w.status.success(), "{}", text(&w.stderr));
    for v in ["a", "b"] {
        let saved = std::fs::read(d.path().join("out/1").join(v).join("stdout")).unwrap();
        assert_eq!(saved, format!("{v}\n").as_bytes());
    }
    let rows = db.rows("res");
    assert_eq!(
        rows.iter().map(|r| r.stdout.as_str()).collect::<Vec<_>>(),
        ["a\n", "b\n"]
    );
}
