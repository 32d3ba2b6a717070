//! Real OpenSSH servers for the remote tests: unprivileged-port `sshd`s on
//! loopback addresses (127.0.0.2, 127.0.0.3, … one port), generated host
//! and client keys, and an ssh_config naming them `node2`, `node3`, … —
//! all in one temp dir, one set per test binary.
//!
//! `SetEnv SHLVL=1` keeps bash from sourcing `~/.bashrc` for each session
//! (it does when run by sshd at shell level 1): a user's rc file is not
//! what these tests are about, and some machines' are slow or noisy.
//!
//! Each sshd runs under a tiny `sh` guard that reads its stdin, a pipe this
//! process holds: when the test binary exits, however it exits, the guard
//! reads EOF and kills its sshd. If sshd can not be started the tests fail
//! with the reason; they never pass silently.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

/// The servers of this test binary.
pub struct Servers {
    pub dir: tempfile::TempDir,
    /// `ssh -F <config>`: pass as `--ssh`.
    pub ssh: String,
    /// Host names in the ssh_config, one per server.
    pub hosts: Vec<String>,
    /// The loopback address of each host.
    pub addrs: Vec<String>,
    pub port: u16,
    guards: Vec<(Child, ChildStdin)>,
    logs: Vec<Arc<Mutex<Vec<u8>>>>,
}

impl Servers {
    /// The ssh_config file.
    pub fn config(&self) -> PathBuf {
        self.dir.path().join("ssh_config")
    }

    /// What a server's sshd has logged so far (for failure messages).
    pub fn log(&self, i: usize) -> String {
        String::from_utf8_lossy(&self.logs[i].lock().unwrap()).into_owned()
    }
}

static SERVERS: OnceLock<Result<Servers, String>> = OnceLock::new();

/// The shared servers, started on first use: `n` of them; the first keeps
/// sshd's default `MaxSessions` (10), the others allow 64.
pub fn servers() -> &'static Servers {
    match SERVERS.get_or_init(|| start(3)) {
        Ok(s) => s,
        Err(e) => panic!("the remote tests need real sshd servers and could not start them: {e}"),
    }
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("can not run {cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

fn sshd_path() -> Result<PathBuf, String> {
    for p in ["/usr/sbin/sshd", "/usr/local/sbin/sshd", "/sbin/sshd"] {
        if Path::new(p).exists() {
            return Ok(p.into());
        }
    }
    Err("sshd not found (install openssh-server; .ci/run does)".into())
}

/// A port free on every address.
fn free_port(addrs: &[String]) -> Result<u16, String> {
    for _ in 0..50 {
        let l = std::net::TcpListener::bind((addrs[0].as_str(), 0))
            .map_err(|e| format!("can not bind {}: {e}", addrs[0]))?;
        let port = l.local_addr().map_err(|e| e.to_string())?.port();
        if addrs[1..]
            .iter()
            .all(|a| std::net::TcpListener::bind((a.as_str(), port)).is_ok())
        {
            return Ok(port);
        }
    }
    Err("no port free on every loopback address".into())
}

fn start(n: usize) -> Result<Servers, String> {
    let sshd = sshd_path()?;
    let dir = tempfile::Builder::new()
        .prefix("parx-sshd-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let d = dir.path();
    // Privilege separation directory sshd wants when started as root.
    if is_root() {
        std::fs::create_dir_all("/run/sshd").map_err(|e| format!("mkdir /run/sshd: {e}"))?;
    }
    run(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(d.join("id")))?;
    std::fs::copy(d.join("id.pub"), d.join("authorized_keys")).map_err(|e| e.to_string())?;
    let addrs: Vec<String> = (0..n).map(|i| format!("127.0.0.{}", i + 2)).collect();
    let hosts: Vec<String> = (0..n).map(|i| format!("node{}", i + 2)).collect();
    let port = free_port(&addrs)?;
    let user = std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| if is_root() { "root".into() } else { whoami() });
    let mut ssh_config = String::new();
    for (h, a) in hosts.iter().zip(&addrs) {
        ssh_config.push_str(&format!("Host {h}\n  HostName {a}\n  Port {port}\n"));
    }
    ssh_config.push_str(&format!(
        "Host *\n  User {user}\n  IdentityFile {id}\n  IdentitiesOnly yes\n  \
         UserKnownHostsFile /dev/null\n  GlobalKnownHostsFile /dev/null\n  \
         StrictHostKeyChecking no\n  BatchMode yes\n  LogLevel ERROR\n  \
         ConnectTimeout 20\n",
        id = d.join("id").display()
    ));
    std::fs::write(d.join("ssh_config"), ssh_config).map_err(|e| e.to_string())?;
    let mut guards = Vec::new();
    let mut logs = Vec::new();
    for (i, a) in addrs.iter().enumerate() {
        let key = d.join(format!("host_key_{i}"));
        run(Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&key))?;
        let max_sessions = if i == 0 { "" } else { "MaxSessions 64\n" };
        let cfg = d.join(format!("sshd_config_{i}"));
        std::fs::write(
            &cfg,
            format!(
                "ListenAddress {a}:{port}\nHostKey {key}\nPidFile none\n\
                 AuthorizedKeysFile {auth}\nPermitRootLogin prohibit-password\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                 UsePAM no\nStrictModes no\nMaxStartups 200\n{max_sessions}\
                 LogLevel INFO\nSetEnv SHLVL=1\n",
                key = key.display(),
                auth = d.join("authorized_keys").display(),
            ),
        )
        .map_err(|e| e.to_string())?;
        // The guard: sshd in the background, killed when our pipe closes.
        let script = "\"$0\" -f \"$1\" -D -e & p=$!; cat >/dev/null; kill $p; wait $p";
        let mut child = Command::new("/bin/sh")
            .args(["-c", script])
            .arg(&sshd)
            .arg(&cfg)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("can not start sshd: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let log = log.clone();
            std::thread::spawn(move || {
                let mut r = BufReader::new(stderr);
                let mut line = Vec::new();
                let mut told = false;
                while r.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                    if !told && line.windows(16).any(|w| w == b"Server listening") {
                        told = true;
                        let _ = tx.send(true);
                    }
                    log.lock().unwrap().extend_from_slice(&line);
                    line.clear();
                }
                let _ = r.read_to_end(&mut line);
                if !told {
                    let _ = tx.send(false);
                }
            });
        }
        if !rx.recv().unwrap_or(false) {
            return Err(format!(
                "sshd on {a}:{port} did not start: {}",
                String::from_utf8_lossy(&log.lock().unwrap())
            ));
        }
        guards.push((child, stdin));
        logs.push(log);
    }
    let ssh = format!("ssh -F {}", d.join("ssh_config").display());
    Ok(Servers {
        dir,
        ssh,
        hosts,
        addrs,
        port,
        guards,
        logs,
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

fn whoami() -> String {
    Command::new("id")
        .arg("-un")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
