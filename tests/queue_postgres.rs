//! The SQL queue on a real PostgreSQL server (started by the tests, see
//! `queue_support/pg.rs`): master and workers, a worker killed mid-job,
//! a late write rejected, workers started first, `+` append, GNU's
//! columns through `psql`. Each test has its own tables.

mod queue_support;

use queue_support::pg::{self, Server};
use queue_support::{Db, GNU_COLUMNS, Row};
use std::path::Path;

/// Tables of one test: `<test>_<table>`.
struct Pg {
    server: &'static Server,
    prefix: &'static str,
}

impl Pg {
    fn new(prefix: &'static str) -> Pg {
        Pg {
            server: pg::server(),
            prefix,
        }
    }

    fn table(&self, t: &str) -> String {
        format!("{}_{t}", self.prefix)
    }
}

impl Db for Pg {
    fn url(&self, table: &str) -> String {
        self.server.url(&self.table(table))
    }

    fn rows(&self, table: &str) -> Vec<Row> {
        let mut c = self.server.client();
        let q = format!(
            "SELECT Seq, Exitval, Stdout, Attempt, V1 FROM {} ORDER BY Seq",
            self.table(table)
        );
        c.query(&q, &[])
            .unwrap()
            .iter()
            .map(|r| Row {
                seq: r.get(0),
                exitval: r.get(1),
                stdout: r.get::<_, Option<String>>(2).unwrap_or_default(),
                attempt: r.get(3),
                v1: r.get::<_, Option<String>>(4).unwrap_or_default(),
            })
            .collect()
    }

    fn plain_select(&self, table: &str) -> String {
        self.server.psql(&format!(
            "SELECT {GNU_COLUMNS} FROM {} ORDER BY Seq",
            self.table(table)
        ))
    }
}

fn dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn master_and_three_workers() {
    let d = dir();
    queue_support::master_and_three_workers(&Pg::new("m3"), d.path());
}

#[test]
fn killed_worker_job_runs_again() {
    let d = dir();
    queue_support::killed_worker_job_runs_again(&Pg::new("k9"), d.path());
}

#[test]
fn late_write_is_rejected() {
    let d = dir();
    queue_support::late_write_is_rejected(&Pg::new("lw"), d.path());
}

#[test]
fn workers_started_first() {
    let d = dir();
    queue_support::workers_started_first(&Pg::new("wf"), d.path());
}

#[test]
fn append_continues_the_table() {
    let d = dir();
    queue_support::append_continues_the_table(&Pg::new("ap"), d.path());
}

#[test]
fn master_and_worker_in_one() {
    let d = dir();
    queue_support::master_and_worker_in_one(&Pg::new("aw"), d.path());
}

#[test]
fn unreachable_server_is_one_line_and_255() {
    let d = dir();
    let out = queue_support::run(
        d.path(),
        &[
            "--sqlworker",
            "pg://parx@%2Fnonexistent%2Fdir:5432/db/t",
            "echo",
        ],
    );
    assert_eq!(out.status.code(), Some(255));
    let err = queue_support::text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("parx: --sqlworker: PostgreSQL: can not connect"),
        "{err}"
    );
    let _ = Path::new("");
}
