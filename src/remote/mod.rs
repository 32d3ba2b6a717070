//! Remote hosts (`-S`, `--sshloginfile`): jobs run over the system's
//! OpenSSH client, so users' `~/.ssh/config`, ProxyJump, agents and
//! known_hosts apply as they are. One or more ControlMasters per host
//! carry the jobs; a POSIX `sh` wrapper on the remote side runs each job
//! in a process group of its own and kills that group when the
//! connection goes.
//!
//! [`Remote`] is the engine's [`Placement`]: it hands out per-host slots
//! and turns each job's command line into the `ssh` command that runs it.
//! It never prints job output and never exits.

pub mod args;
pub mod master;
pub mod sshlogin;
pub mod transfer;
pub mod wrap;

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

pub use args::Args;

use crate::engine::{JobAt, JobFiles, Place, Placed, Placement};
use crate::sys::Pipe;
use master::{Master, SESSIONS_PER_MASTER};
use sshlogin::SshLogin;
use wrap::{RemoteJob, STARTED_MARKER, SshTarget};

/// One host of the run.
struct Host {
    login: SshLogin,
    /// `PARALLEL_SSHLOGIN`, the joblog's Host.
    name: String,
    /// `None` for this machine (`:`).
    target: Option<SshTarget>,
    slots: usize,
    running: usize,
    masters: Vec<Master>,
}

/// `--workdir` on the remote side.
#[derive(Debug, Clone)]
pub enum Workdir {
    /// A directory (relative to the remote home unless absolute).
    Fixed(Vec<u8>),
    /// `...`: `~/.parallel/tmp/<host>-<pid>-<seq>`, one per job.
    PerJob,
}

/// What the run needs besides the hosts.
#[derive(Debug, Clone, Default)]
pub struct JobSettings {
    /// `--env` variables (names).
    pub env: Vec<String>,
    /// `--workdir`.
    pub workdir: Option<Workdir>,
    /// `--cleanup`.
    pub cleanup: bool,
}

/// The hosts of a run and their connections.
pub struct Remote {
    hosts: Vec<Host>,
    settings: JobSettings,
    /// parx holds the only write end; every ssh reads the other end and
    /// sees EOF only when parx is gone.
    lifeline_read: OwnedFd,
    lifeline_write: Option<OwnedFd>,
    control_dir: tempfile::TempDir,
    pid: String,
}

/// The logins named by the options, in order, without repeats.
pub fn logins(args: &Args) -> Result<Vec<SshLogin>, String> {
    let mut texts = Vec::new();
    for v in &args.sshlogin {
        let v = v
            .to_str()
            .ok_or("--sshlogin must be valid UTF-8")?
            .to_string();
        for s in sshlogin::split_list(&v) {
            if s == ".." || s == "-" {
                texts.extend(sshlogin::read_file(&sshlogin::expand_file_shorthand(&s))?);
            } else {
                texts.push(s);
            }
        }
    }
    for f in &args.sshloginfile {
        let name = f.to_str().ok_or("--sshloginfile must be valid UTF-8")?;
        texts.extend(sshlogin::read_file(&sshlogin::expand_file_shorthand(name))?);
    }
    let mut out: Vec<SshLogin> = Vec::new();
    for t in texts {
        let l = SshLogin::parse(&t)?;
        if !out.iter().any(|o| o.string() == l.string()) {
            out.push(l);
        }
    }
    if out.is_empty() {
        return Err("no hosts given to --sshlogin/--sshloginfile".into());
    }
    Ok(out)
}

/// `--ssh`, else `$PARALLEL_SSH`, else `ssh`.
fn ssh_command(args: &Args) -> Result<String, String> {
    let from_env = std::env::var_os("PARALLEL_SSH").filter(|s| !s.is_empty());
    match args.ssh.clone().or(from_env) {
        Some(s) => s
            .into_string()
            .map_err(|_| "--ssh must be valid UTF-8".to_string()),
        None => Ok("ssh".into()),
    }
}

impl Remote {
    /// Connects to every host (one master each, all at once) and sizes
    /// its slots: `N/host`, else `slots_for(cpus the host reports)`.
    /// With `filter_hosts`, hosts that can not be reached are dropped
    /// with GNU parallel's message; otherwise their jobs fail as ssh does.
    pub fn connect(
        args: &Args,
        settings: JobSettings,
        slots_for: &dyn Fn(usize) -> usize,
    ) -> Result<Remote, String> {
        let ssh = ssh_command(args)?;
        let logins = logins(args)?;
        let lifeline = Pipe::new().map_err(|e| format!("can not create a pipe: {e}"))?;
        let control_dir = tempfile::Builder::new()
            .prefix("parx-ssh-")
            .tempdir()
            .map_err(|e| format!("can not create a directory for ssh control sockets: {e}"))?;
        let mut hosts: Vec<Host> = logins
            .into_iter()
            .map(|login| {
                let target = (!login.local).then(|| SshTarget {
                    sshcommand: login.sshcommand.clone().unwrap_or_else(|| ssh.clone()),
                    port: login.port.clone(),
                    user: login.user.clone(),
                    host: login.host.clone(),
                });
                Host {
                    name: login.string(),
                    login,
                    target,
                    slots: 0,
                    running: 0,
                    masters: Vec::new(),
                }
            })
            .collect();
        let mut remote = Remote {
            hosts: Vec::new(),
            settings,
            lifeline_read: lifeline.read,
            lifeline_write: Some(lifeline.write),
            control_dir,
            pid: std::process::id().to_string(),
        };
        for (i, h) in hosts.iter_mut().enumerate() {
            if let Some(t) = &h.target {
                let m = remote.start_master(t, i, 0)?;
                h.masters.push(m);
            }
        }
        let mut kept = Vec::new();
        for mut h in hosts {
            let up = h.masters.first_mut().is_none_or(|m| m.wait_ready());
            if !up && args.filter_hosts {
                eprintln!("parx: Warning: Removed {}.", h.name);
                continue;
            }
            let cpus = match h.masters.first() {
                Some(m) => m.cpus.unwrap_or(1),
                None => std::thread::available_parallelism().map_or(1, |n| n.get()),
            };
            h.slots = h.login.ncpus.unwrap_or_else(|| slots_for(cpus)).max(1);
            kept.push(h);
        }
        if kept.is_empty() {
            return Err("no host could be reached (--filter-hosts removed them all)".into());
        }
        // More masters where one can not carry every slot (sshd's
        // MaxSessions), all connecting at once.
        let mut fresh = Vec::new();
        for (i, h) in kept.iter_mut().enumerate() {
            let Some(t) = h.target.clone() else { continue };
            if !h.masters.first().is_some_and(|m| m.up) {
                continue;
            }
            let want = h.slots.div_ceil(SESSIONS_PER_MASTER);
            for k in h.masters.len()..want {
                h.masters.push(remote.start_master(&t, i, k)?);
                fresh.push((i, k));
            }
        }
        for (i, k) in fresh {
            kept[i].masters[k].wait_ready();
        }
        remote.hosts = kept;
        Ok(remote)
    }

    fn start_master(&self, target: &SshTarget, host: usize, k: usize) -> Result<Master, String> {
        let path = self.control_dir.path().join(format!("h{host}-{k}"));
        Master::start(target, &path, &self.lifeline_read)
            .map_err(|e| format!("can not start ssh for {}: {e}", target.host))
    }

    /// Every host gets `n` slots (`--onall`: one job at a time per host).
    pub fn set_slots_per_host(&mut self, n: usize) {
        for h in &mut self.hosts {
            h.slots = n.max(1);
        }
    }

    /// Number of hosts.
    pub fn host_count(&self) -> usize {
        self.hosts.len()
    }

    /// Job slots in all (the engine's `-j`).
    pub fn total_slots(&self) -> usize {
        self.hosts.iter().map(|h| h.slots).sum()
    }

    fn env_for(&self, host: &Host, seq: u64, slot: usize) -> Vec<(String, Vec<u8>)> {
        let mut env = vec![
            ("PARALLEL_SEQ".to_string(), seq.to_string().into_bytes()),
            (
                "PARALLEL_JOBSLOT".to_string(),
                slot.to_string().into_bytes(),
            ),
            ("PARALLEL_PID".to_string(), self.pid.clone().into_bytes()),
            (
                "PARALLEL_SSHLOGIN".to_string(),
                host.name.clone().into_bytes(),
            ),
            (
                "PARALLEL_SSHHOST".to_string(),
                host.login.host.clone().into_bytes(),
            ),
        ];
        for name in &self.settings.env {
            let valid = !name.is_empty()
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !name.as_bytes()[0].is_ascii_digit();
            if let Some(v) = std::env::var_os(name).filter(|_| valid) {
                env.push((name.clone(), v.into_encoded_bytes()));
            }
        }
        env
    }
}

impl Placement for Remote {
    fn acquire(&mut self, avoid: &[usize], pin: Option<usize>) -> Option<Place> {
        let free = |i: &usize| {
            self.hosts[*i].running < self.hosts[*i].slots && pin.is_none_or(|p| p == *i)
        };
        // The least loaded host, preferring one the job has not failed on.
        let pick = |prefer: bool| {
            (0..self.hosts.len())
                .filter(free)
                .filter(|i| !prefer || !avoid.contains(i))
                .min_by_key(|&i| self.hosts[i].running * 1000 / self.hosts[i].slots)
        };
        let host = pick(true).or_else(|| pick(false))?;
        let h = &mut self.hosts[host];
        h.running += 1;
        let conn = (0..h.masters.len())
            .filter(|&k| h.masters[k].up)
            .min_by_key(|&k| h.masters[k].sessions)
            .unwrap_or(usize::MAX);
        if let Some(m) = h.masters.get_mut(conn) {
            m.sessions += 1;
        }
        Some(Place { host, conn })
    }

    fn place(
        &mut self,
        place: Place,
        command: &[u8],
        at: JobAt,
        files: &JobFiles,
    ) -> io::Result<Placed> {
        let h = &self.hosts[place.host];
        let Some(target) = &h.target else {
            return Ok(Placed {
                command: command.to_vec(),
                stdin: None,
                started_marker: None,
            });
        };
        let env = self.env_for(h, at.seq, at.slot);
        let workdir = match &self.settings.workdir {
            Some(Workdir::Fixed(w)) => Some(w.clone()),
            Some(Workdir::PerJob) => Some(
                format!(".parallel/tmp/{}-{}-{}", local_hostname(), self.pid, at.seq).into_bytes(),
            ),
            None => None,
        };
        let job = RemoteJob {
            command,
            env: &env,
            workdir: workdir.as_deref(),
            stdin_is_data: at.stdin_is_data,
        };
        let control = h.masters.get(place.conn).map(|m| m.path.as_path());
        let run = target.command(control, &wrap::remote_command(&job));
        let per_job_dir = matches!(self.settings.workdir, Some(Workdir::PerJob));
        let cleanup = self.settings.cleanup;
        let command =
            if files.transfer.is_empty() && files.ret.is_empty() && !(cleanup && per_job_dir) {
                run
            } else {
                let t = transfer::Transfers {
                    target,
                    control,
                    workdir: workdir.as_deref().unwrap_or(b"."),
                    remove_workdir: cleanup && per_job_dir,
                };
                let mut line = Vec::new();
                t.before(&files.transfer, &mut line);
                line.extend_from_slice(&run);
                line.extend_from_slice(b"; _parx_s=$?; ");
                let removed: Vec<Vec<u8>> = if cleanup {
                    files.transfer.iter().chain(&files.ret).cloned().collect()
                } else {
                    Vec::new()
                };
                t.after(&files.ret, &removed, &mut line);
                line.extend_from_slice(b"exit $_parx_s");
                line
            };
        Ok(Placed {
            command,
            stdin: Some(self.lifeline_read.as_fd().try_clone_to_owned()?),
            started_marker: Some(STARTED_MARKER),
        })
    }

    fn release(&mut self, place: Place, _transport_failed: bool) {
        let h = &mut self.hosts[place.host];
        h.running -= 1;
        if let Some(m) = h.masters.get_mut(place.conn) {
            m.sessions -= 1;
        }
    }

    fn host_name(&self, host: usize) -> String {
        self.hosts[host].name.clone()
    }

    fn hosts(&self) -> usize {
        self.hosts.len()
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        // EOF on every remote side first.
        self.lifeline_write = None;
        for h in &mut self.hosts {
            for m in &mut h.masters {
                m.stop();
            }
        }
    }
}

impl Remote {
    fn transfers_for(&self, h: &Host) -> Option<(String, Vec<u8>)> {
        let target = h.target.as_ref()?;
        let wd = match &self.settings.workdir {
            Some(Workdir::Fixed(w)) => w.clone(),
            _ => b".".to_vec(),
        };
        Some((target.host.clone(), wd))
    }

    fn run_on_hosts(
        &self,
        build: &dyn Fn(&transfer::Transfers<'_>, &mut Vec<u8>),
    ) -> Vec<(String, bool)> {
        let mut children = Vec::new();
        for h in &self.hosts {
            let Some((name, wd)) = self.transfers_for(h) else {
                continue;
            };
            let Some(target) = h.target.as_ref() else {
                continue;
            };
            let control = h.masters.iter().find(|m| m.up).map(|m| m.path.as_path());
            let t = transfer::Transfers {
                target,
                control,
                workdir: &wd,
                remove_workdir: false,
            };
            let mut line = Vec::new();
            build(&t, &mut line);
            line.extend_from_slice(b"true");
            let child = std::process::Command::new("/bin/sh")
                .arg("-c")
                .arg(std::ffi::OsStr::from_bytes(&line))
                .stdin(std::process::Stdio::null())
                .spawn();
            children.push((name, child));
        }
        children
            .into_iter()
            .map(|(name, c)| {
                let ok = c.and_then(|mut c| c.wait()).is_ok_and(|s| s.success());
                (name, ok)
            })
            .collect()
    }

    /// `--basefile`: copies `files` to every host (all hosts at once)
    /// before the first job.
    pub fn send_basefiles(&self, files: &[Vec<u8>]) -> Result<(), String> {
        for (name, ok) in self.run_on_hosts(&|t, line| t.before(files, line)) {
            if !ok {
                return Err(format!("can not copy the --basefile files to {name}"));
            }
        }
        Ok(())
    }

    /// `--cleanup` of `--basefile`: removes `files` from every host.
    pub fn remove_basefiles(&self, files: &[Vec<u8>]) {
        let _ = self.run_on_hosts(&|t, line| t.after(&[], files, line));
    }
}

/// This machine's name (`--workdir ...` directories), as `hostname`.
fn local_hostname() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

/// Where control sockets live (for messages and tests).
impl Remote {
    /// The directory holding the control sockets.
    pub fn control_dir(&self) -> PathBuf {
        self.control_dir.path().to_path_buf()
    }
}
