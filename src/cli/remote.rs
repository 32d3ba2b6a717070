//! `-S` runs: connect to the hosts, size the run from their slots, and
//! run the jobs through the engine with [`Remote`] placing them.

use std::sync::Arc;

use super::{Config, parse_duration, parse_jobs};
use crate::engine::{self, JobFiles, JobSpec, Placement, RunOptions};
use crate::remote::{JobSettings, Remote, Workdir};
use crate::template::{Job, Template};

/// A job with the files it takes along (`--transfer`, `--tf`, `--return`)
/// and, with `--onall`, its own host.
struct WithFiles {
    job: Job,
    transfer: Arc<Vec<Template>>,
    ret: Arc<Vec<Template>>,
    /// `--onall`: the copy's sequence number, host and host name.
    onall: Option<(u64, usize, Arc<str>)>,
}

impl JobSpec for WithFiles {
    fn seq(&self) -> u64 {
        self.onall.as_ref().map_or(self.job.seq, |(seq, _, _)| *seq)
    }

    fn pinned_host(&self) -> Option<usize> {
        self.onall.as_ref().map(|(_, host, _)| *host)
    }

    fn command_line(&self, slot: usize) -> Vec<u8> {
        self.job.command_line(slot)
    }

    /// With `--onall`/`--nonall`, `--tag` names the host, as GNU does.
    fn tag(&self, slot: usize) -> Option<Vec<u8>> {
        let tag = self.job.tag(slot)?;
        Some(match &self.onall {
            Some((_, _, name)) => name.as_bytes().to_vec(),
            None => tag,
        })
    }

    fn files(&self, slot: usize) -> JobFiles {
        let render = |ts: &[Template]| ts.iter().map(|t| self.job.render_with(t, slot)).collect();
        JobFiles {
            transfer: render(&self.transfer),
            ret: render(&self.ret),
        }
    }
}

/// `--workdir` as the remote side takes it: `...` a fresh directory per
/// job, `.` this directory relative to `$HOME`.
fn workdir(config: &Config) -> Option<Workdir> {
    let w = config.workdir.as_ref()?;
    let bytes = w.as_os_str().as_encoded_bytes();
    Some(match bytes {
        b"..." => Workdir::PerJob,
        b"." => {
            let cwd = std::env::current_dir().ok()?;
            let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
            let rel = match home.as_ref().and_then(|h| cwd.strip_prefix(h).ok()) {
                Some(r) if r.as_os_str().is_empty() => std::path::PathBuf::from("."),
                Some(r) => r.to_path_buf(),
                None => cwd.clone(),
            };
            Workdir::Fixed(rel.into_os_string().into_encoded_bytes())
        }
        _ => Workdir::Fixed(bytes.to_vec()),
    })
}

/// Exit status when the hosts can not be used at all.
const EXIT_REMOTE: i32 = 255;

/// `-j 0` per host: as many as sshd lets one master carry, a few times.
const UNLIMITED_PER_HOST: usize = 50;

/// Runs `config`'s jobs on its hosts; returns parx's exit status.
pub fn run(config: &Config, mut opts: RunOptions) -> i32 {
    match try_run(config, &mut opts) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("parx: {e}");
            EXIT_REMOTE
        }
    }
}

fn try_run(config: &Config, opts: &mut RunOptions) -> Result<i32, String> {
    if config.pipe.is_some() {
        return Err("--pipe with --sshlogin is not supported yet (see docs/compat.md)".into());
    }
    let spec = config.jobs_spec.clone();
    let slots_for = |cpus: usize| match &spec {
        Some(j) => match parse_jobs(j, cpus) {
            Ok(0) => UNLIMITED_PER_HOST,
            Ok(n) => n,
            Err(_) => cpus,
        },
        None => cpus,
    };
    let settings = JobSettings {
        env: config
            .env
            .iter()
            .map(|e| e.to_string_lossy().into_owned())
            .collect(),
        workdir: workdir(config),
        cleanup: config.remote.cleanup,
    };
    if let Some(d) = &config.remote.sshdelay {
        let d = parse_duration("--sshdelay", &d.to_string_lossy()).map_err(|e| e.to_string())?;
        opts.delay = Some(opts.delay.map_or(d, |o| o.max(d)));
    }
    let mut remote = Remote::connect(&config.remote, settings, &slots_for)?;
    // The local ssh runs here; the workdir is the remote one.
    opts.workdir = None;
    opts.jobs = remote.total_slots();
    if !config.remote.basefiles.is_empty() {
        let files: Vec<Vec<u8>> = config
            .remote
            .basefiles
            .iter()
            .map(|f| f.as_encoded_bytes().to_vec())
            .collect();
        remote.send_basefiles(&files)?;
    }
    let templates = |words: &[std::ffi::OsString]| -> Result<Arc<Vec<Template>>, String> {
        let mut out = Vec::new();
        for w in words {
            let t = config
                .unquoted_template(&[w.as_encoded_bytes().to_vec()])
                .map_err(|e| e.to_string())?;
            out.push(t);
        }
        Ok(Arc::new(out))
    };
    let mut tf = config.remote.transfer_files.clone();
    if config.remote.transfer {
        tf.insert(0, "{}".into());
    }
    let transfer = templates(&tf)?;
    let ret = templates(&config.remote.returns)?;
    let with_files = |job: Job, onall| WithFiles {
        job,
        transfer: transfer.clone(),
        ret: ret.clone(),
        onall,
    };
    let code = if config.remote.onall || config.remote.nonall {
        // Every job on every host, one at a time per host; the copies are
        // numbered host by host, so -k prints each host's output together.
        let base: Vec<Job> = if config.remote.nonall {
            let words: Vec<Vec<u8>> = config
                .command
                .iter()
                .map(|w| w.as_encoded_bytes().to_vec())
                .collect();
            let t = config.template(&words).map_err(|e| e.to_string())?;
            // Tagged with the host name (see `WithFiles::tag`).
            let tag = match &config.tagstring {
                Some(_) => Some(Arc::new(
                    config
                        .unquoted_template(&[b"host".to_vec()])
                        .map_err(|e| e.to_string())?,
                )),
                None => None,
            };
            vec![Job::new(1, Vec::new(), Arc::new(t), tag, true)]
        } else {
            config
                .jobs()
                .map_err(|e| e.to_string())?
                .collect::<Result<_, _>>()
                .map_err(|e| e.to_string())?
        };
        remote.set_slots_per_host(1);
        let hosts = remote.host_count();
        opts.jobs = hosts;
        let n = base.len() as u64;
        let names: Vec<Arc<str>> = (0..hosts).map(|h| remote.host_name(h).into()).collect();
        let jobs: Vec<Result<WithFiles, String>> = base
            .iter()
            .enumerate()
            .flat_map(|(i, job)| (0..hosts).map(move |h| (h, i, job.clone())))
            .map(|(h, i, job)| {
                let seq = h as u64 * n + i as u64 + 1;
                Ok(with_files(job, Some((seq, h, names[h].clone()))))
            })
            .collect();
        engine::run_placed(opts, jobs.into_iter(), Some(&mut remote))
    } else {
        let jobs = config.jobs().map_err(|e| e.to_string())?;
        let jobs = jobs.map(|j| j.map(|job| with_files(job, None)));
        engine::run_placed(opts, jobs, Some(&mut remote))
    };
    if config.remote.cleanup && !config.remote.basefiles.is_empty() {
        let files: Vec<Vec<u8>> = config
            .remote
            .basefiles
            .iter()
            .map(|f| f.as_encoded_bytes().to_vec())
            .collect();
        remote.remove_basefiles(&files);
    }
    Ok(code)
}
