//! A real PostgreSQL server for the tests: `initdb` into a temp dir and
//! `pg_ctl start` listening only on a unix socket in that dir (as the
//! `postgres` user when the tests run as root: PostgreSQL refuses root).
//! One server per test binary, started by the first test that asks.
//!
//! It is stopped when the test binary ends however it ends (passing,
//! panicking or killed): the script that started it waits for EOF on its
//! stdin, whose write end only this process holds, then stops the server
//! and removes the dir. If the server cannot start, the tests FAIL and
//! say why.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// The superuser `initdb` makes.
pub const USER: &str = "parx";
const PORT: u16 = 5432;

/// A running server.
pub struct Server {
    /// The socket directory (also the DBURL's host).
    pub dir: PathBuf,
    /// Held open: closing it stops the server.
    _stop: Mutex<(ChildStdin, Child)>,
}

const SCRIPT: &str = r#"
D="$1"
fail() { echo "FAILED: $1: $(tail -n 5 "$2" 2>/dev/null | tr '\n' ' ')"; rm -rf "$D"; exit 1; }
initdb -D "$D/data" -A trust -U parx --no-sync >"$D/initdb.log" 2>&1 || fail initdb "$D/initdb.log"
pg_ctl -D "$D/data" -w -t 60 -l "$D/server.log" \
  -o "-k $D -p 5432 -c listen_addresses= -c fsync=off -c max_connections=100" \
  start >"$D/pg_ctl.log" 2>&1 || fail "pg_ctl start" "$D/server.log"
echo ready
cat >/dev/null
pg_ctl -D "$D/data" -m immediate stop >/dev/null 2>&1
rm -rf "$D"
"#;

/// PostgreSQL's programs: the newest /usr/lib/postgresql/*/bin (Debian),
/// else whatever is on PATH.
fn bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    dirs.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    dirs.pop()
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// `PATH` with PostgreSQL's programs first.
fn path() -> String {
    match bin_dir() {
        Some(b) => format!(
            "{}:{}",
            b.display(),
            std::env::var("PATH").unwrap_or_default()
        ),
        None => std::env::var("PATH").unwrap_or_default(),
    }
}

/// A command run as the server's user (`postgres` when we are root), with
/// PostgreSQL's programs on `PATH`; the program and its arguments follow.
fn as_server_user() -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "env", &format!("PATH={}", path())]);
        c
    } else {
        let mut c = Command::new("env");
        c.arg(format!("PATH={}", path()));
        c
    }
}

fn start() -> Result<Server, String> {
    let dir = tempfile::Builder::new()
        .prefix("parx-pg-")
        .tempdir()
        .map_err(|e| format!("temp dir: {e}"))?
        .keep();
    if is_root() {
        let st = Command::new("chown")
            .args(["postgres:", &dir.to_string_lossy()])
            .status()
            .map_err(|e| format!("chown: {e}"))?;
        if !st.success() {
            return Err(
                "chown to the postgres user failed (is the postgresql package installed?)".into(),
            );
        }
    }
    let mut cmd = as_server_user();
    cmd.args(["sh", "-c"]);
    let mut child = cmd
        .args([SCRIPT, "pg-test", &dir.to_string_lossy()])
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("can not run the server script: {e}"))?;
    let stdin = child.stdin.take().ok_or("no stdin")?;
    let mut line = String::new();
    let stdout = child.stdout.take().ok_or("no stdout")?;
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| format!("reading the server script: {e}"))?;
    if line.trim() != "ready" {
        let _ = child.wait();
        return Err(format!(
            "PostgreSQL did not start ({}); install the postgresql package (.ci/run does)",
            if line.is_empty() {
                "no answer"
            } else {
                line.trim()
            }
        ));
    }
    Ok(Server {
        dir,
        _stop: Mutex::new((stdin, child)),
    })
}

/// The server, started on first use; panics (fails the test) saying why
/// it could not start.
pub fn server() -> &'static Server {
    static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
    match SERVER.get_or_init(start) {
        Ok(s) => s,
        Err(e) => panic!("PostgreSQL test server: {e}"),
    }
}

impl Server {
    /// A DBURL for `table` in database `postgres`.
    pub fn url(&self, table: &str) -> String {
        format!(
            "pg://{USER}@{}:{PORT}/postgres/{table}",
            self.dir.to_string_lossy().replace('/', "%2F")
        )
    }

    /// A client connection.
    pub fn client(&self) -> postgres::Client {
        postgres::Config::new()
            .user(USER)
            .host_path(&self.dir)
            .port(PORT)
            .dbname("postgres")
            .connect(postgres::NoTls)
            .unwrap()
    }

    /// `psql` on the server.
    pub fn psql(&self, sql: &str) -> String {
        let bin = bin_dir().map_or_else(|| PathBuf::from("psql"), |b| b.join("psql"));
        let out = Command::new(bin)
            .args(["-h", &self.dir.to_string_lossy(), "-p", &PORT.to_string()])
            .args(["-U", USER, "-d", "postgres", "-At", "-c", sql])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "psql: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The socket directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Restarts the server (fast: open connections are cut), waiting
    /// until it accepts connections again.
    pub fn restart(&self) {
        let mut cmd = as_server_user();
        let data = self.dir.join("data");
        let log = self.dir.join("server.log");
        cmd.args(["pg_ctl", "-D", &data.to_string_lossy(), "-w", "-m", "fast"])
            .args(["-l", &log.to_string_lossy(), "restart"])
            .stdout(Stdio::null());
        let st = cmd.status().unwrap();
        assert!(st.success(), "pg_ctl restart failed");
    }
}
