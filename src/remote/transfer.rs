//! Files to and from a host with rsync over the host's ControlMaster:
//! `--transfer`/`--tf` before the job, `--return` after it, `--cleanup`
//! at the end, `--basefile` once per host.
//!
//! Names never meet a remote shell: rsync runs with `-s` (its
//! `--protect-args`), so a name with spaces, quotes or newlines is sent
//! inside rsync's own protocol (GNU parallel 20221122 quotes them for a
//! shell twice and fails with rsync ≥ 3.2.4). The cleanup's `rm` runs in
//! the same `exec /bin/sh -c '…'` wrapping as jobs, with each name quoted.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::wrap::SshTarget;
use crate::template::quote::quote_into;

/// rsync's options: recursive, links, devices, compress, relative paths
/// (`a/./b` sends `b`), names protected from the remote shell.
const RSYNC: &[u8] = b"rsync -rlDzRs";

/// Everything needed to build one job's transfers.
pub struct Transfers<'a> {
    /// How to reach the host.
    pub target: &'a SshTarget,
    /// The master's control socket, if it is up.
    pub control: Option<&'a Path>,
    /// The job's remote working directory (relative to the remote home).
    pub workdir: &'a [u8],
    /// Remove the workdir itself at cleanup (`--workdir ...`).
    pub remove_workdir: bool,
}

fn q(value: &[u8], out: &mut Vec<u8>) {
    quote_into(value, out);
}

/// Where a file lands relative to the workdir: `a/./b` → `b`, a leading
/// `./` dropped; `None` for an absolute path (it keeps its place).
fn remote_relative(file: &[u8]) -> Option<&[u8]> {
    if let Some(i) = file.windows(3).position(|w| w == b"/./") {
        return Some(&file[i + 3..]);
    }
    if file.starts_with(b"/") {
        return None;
    }
    Some(file.strip_prefix(b"./").unwrap_or(file))
}

impl Transfers<'_> {
    fn rsync(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(RSYNC);
        out.extend_from_slice(b" -e ");
        q(&self.target.ssh_only(self.control), out);
    }

    fn host_path(&self, path: &[u8], out: &mut Vec<u8>) {
        let mut hp = self.target.host.as_bytes().to_vec();
        hp.push(b':');
        hp.extend_from_slice(path);
        q(&hp, out);
    }

    /// A command for the remote `sh` (run with `ssh -n`), then ` && `.
    fn remote_sh(&self, script: &[u8], out: &mut Vec<u8>) {
        let mut r = b"exec /bin/sh -c ".to_vec();
        q(script, &mut r);
        let mut t = self.target.clone();
        t.sshcommand.push_str(" -n");
        out.extend_from_slice(&t.command(self.control, &r));
    }

    /// `mkdir -p WD && rsync … files host:WD/ && ` (empty without files).
    pub fn before(&self, files: &[Vec<u8>], out: &mut Vec<u8>) {
        let files: Vec<&Vec<u8>> = files
            .iter()
            .filter(|f| {
                let ok = std::fs::File::open(std::ffi::OsStr::from_bytes(f)).is_ok();
                if !ok {
                    eprintln!(
                        "parx: Warning: {} is not readable and will not be transferred.",
                        String::from_utf8_lossy(f)
                    );
                }
                ok
            })
            .collect();
        if files.is_empty() {
            return;
        }
        let mut mkdir = b"mkdir -p ".to_vec();
        q(self.workdir, &mut mkdir);
        self.remote_sh(&mkdir, out);
        out.extend_from_slice(b" && ");
        for absolute in [false, true] {
            let group: Vec<&&Vec<u8>> = files
                .iter()
                .filter(|f| remote_relative(f).is_none() == absolute)
                .collect();
            if group.is_empty() {
                continue;
            }
            self.rsync(out);
            out.extend_from_slice(b" --");
            for f in group {
                out.push(b' ');
                q(f, out);
            }
            out.push(b' ');
            if absolute {
                self.host_path(b"/", out);
            } else {
                let mut wd = self.workdir.to_vec();
                wd.push(b'/');
                self.host_path(&wd, out);
            }
            out.extend_from_slice(b" && ");
        }
    }

    /// `rsync host:WD/./f dir/; …` for each returned file, then the
    /// cleanup; each step's failure is reported by rsync, the job's status
    /// is kept.
    pub fn after(&self, returns: &[Vec<u8>], cleanup: &[Vec<u8>], out: &mut Vec<u8>) {
        for f in returns {
            // `dir/./x` comes back as `dir/x`; `x` as `./x`.
            let (local_base, rel) = match f.windows(3).position(|w| w == b"/./") {
                Some(i) => (&f[..i], &f[i + 3..]),
                None => (&b"."[..], f.strip_prefix(b"./").unwrap_or(f)),
            };
            let source = if rel.starts_with(b"/") && !f.windows(3).any(|w| w == b"/./") {
                let mut s = b"/./".to_vec();
                s.extend_from_slice(&rel[1..]);
                s
            } else {
                let mut s = self.workdir.to_vec();
                s.extend_from_slice(b"/./");
                s.extend_from_slice(rel);
                s
            };
            let local_base = if rel.starts_with(b"/") {
                &b"/"[..]
            } else {
                local_base
            };
            out.extend_from_slice(b"mkdir -p ");
            q(local_base, out);
            out.extend_from_slice(b" && ");
            self.rsync(out);
            out.extend_from_slice(b" -- ");
            self.host_path(&source, out);
            out.push(b' ');
            let mut dest = local_base.to_vec();
            dest.push(b'/');
            q(&dest, out);
            out.extend_from_slice(b"; ");
        }
        if cleanup.is_empty() && !self.remove_workdir {
            return;
        }
        let mut script = Vec::new();
        for f in cleanup {
            let path = match remote_relative(f) {
                Some(rel) => {
                    let mut p = self.workdir.to_vec();
                    p.push(b'/');
                    p.extend_from_slice(rel);
                    p
                }
                None => f.clone(),
            };
            script.extend_from_slice(b"rm -f ");
            q(&path, &mut script);
            script.extend_from_slice(b" 2>/dev/null; ");
            // Empty parent directories the transfer made, deepest first.
            let mut dirs = Vec::new();
            let mut p = path.as_slice();
            while let Some(i) = p.iter().rposition(|&b| b == b'/') {
                p = &p[..i];
                if p.is_empty() || p == b"." {
                    break;
                }
                dirs.push(p.to_vec());
            }
            if !dirs.is_empty() {
                script.extend_from_slice(b"rmdir");
                for d in dirs {
                    script.push(b' ');
                    q(&d, &mut script);
                }
                script.extend_from_slice(b" 2>/dev/null; ");
            }
        }
        if self.remove_workdir {
            script.extend_from_slice(b"rm -rf ");
            q(self.workdir, &mut script);
            script.extend_from_slice(b"; ");
        }
        script.extend_from_slice(b"true");
        self.remote_sh(&script, out);
        out.extend_from_slice(b"; ");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_places() {
        assert_eq!(remote_relative(b"a/b"), Some(&b"a/b"[..]));
        assert_eq!(remote_relative(b"./a"), Some(&b"a"[..]));
        assert_eq!(remote_relative(b"/x/./a/b"), Some(&b"a/b"[..]));
        assert_eq!(remote_relative(b"/abs/f"), None);
    }
}
