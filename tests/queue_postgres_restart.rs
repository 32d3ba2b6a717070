//! A PostgreSQL restart in the middle of a run: the worker reconnects
//! with back-off and writes the result of the job that was running, once.
//! Its own server (see `queue_support/pg.rs`), since it restarts it.

mod queue_support;

use queue_support::pg;
use std::io::Read;
use std::process::Command;

#[test]
fn worker_reconnects_after_a_server_restart() {
    let server = pg::server();
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    for f in ["running", "go"] {
        assert!(
            Command::new("mkfifo")
                .arg(dir.join(f))
                .status()
                .unwrap()
                .success()
        );
    }
    let url = server.url("restarted");
    let cmd = ": {}; if [ {} = 1 ]; then echo up > running; cat go; fi; echo done-{}";
    let m = queue_support::run(dir, &["--sqlmaster", &url, cmd, ":::", "1", "2", "3"]);
    assert!(m.status.success(), "{}", queue_support::text(&m.stderr));
    let w = queue_support::spawn(dir, &["--sqlworker", &url, "-j1", cmd]);
    let mut up = String::new();
    std::fs::File::open(dir.join("running"))
        .unwrap()
        .read_to_string(&mut up)
        .unwrap();
    assert_eq!(up, "up\n");
    server.restart();
    drop(
        std::fs::OpenOptions::new()
            .write(true)
            .open(dir.join("go"))
            .unwrap(),
    );
    let out = w.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", queue_support::text(&out.stderr));
    assert_eq!(queue_support::text(&out.stdout), "done-1\ndone-2\ndone-3\n");
    let rows: Vec<(i64, i64, i64, String)> = server
        .client()
        .query(
            "SELECT Seq, Exitval, Attempt, Stdout FROM restarted ORDER BY Seq",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert_eq!(
        rows,
        [
            (1, 0, 1, "done-1\n".to_string()),
            (2, 0, 1, "done-2\n".to_string()),
            (3, 0, 1, "done-3\n".to_string())
        ]
    );
}
