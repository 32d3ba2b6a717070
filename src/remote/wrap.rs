//! The command lines that run a job on a remote host: the local `ssh …`
//! line (run by parx's own shell layer, so no local shell is started) and
//! the POSIX `sh` wrapper it carries to the remote side.
//!
//! What reaches the remote login shell is `exec /bin/sh -c '<wrapper>'`:
//! one single-quoted word, so the login shell (sh, dash, bash, zsh, ksh)
//! expands nothing in it, whatever the job's values hold. The wrapper sets
//! the job's environment, puts the job in a process group of its own
//! (`setsid`, or Perl's `setpgrp` where there is none) and watches its own
//! stdin: parx never writes to that stream, so it reaches EOF only when
//! the connection goes (ssh killed by `--timeout`, `--halt now`, Ctrl-C,
//! or parx killed with `kill -9`, which closes the shared pipe every ssh
//! reads). Then the wrapper kills the job's whole process group.

use crate::template::quote::quote_into;

/// Written by the wrapper on stderr right before the job starts: a 255
/// from ssh without it is ssh's own failure, not the job's status.
pub const STARTED_MARKER: &[u8] = b"\0parx-remote-job\0";

/// What the wrapper needs to know about one job.
pub struct RemoteJob<'a> {
    /// The job's command line, as the remote `$SHELL -c` gets it.
    pub command: &'a [u8],
    /// Environment assignments (`PARALLEL_SEQ` …, `--env` variables).
    pub env: &'a [(String, Vec<u8>)],
    /// Directory to create and run in (`--workdir`); relative to `$HOME`.
    pub workdir: Option<&'a [u8]>,
    /// The job's stdin carries data (`--pipe`): no connection watcher.
    pub stdin_is_data: bool,
}

fn sq(value: &[u8], out: &mut Vec<u8>) {
    quote_into(value, out);
}

/// The wrapper script (POSIX sh) for one job.
pub fn wrapper(job: &RemoteJob<'_>) -> Vec<u8> {
    let mut w = Vec::new();
    for (name, value) in job.env {
        w.extend_from_slice(name.as_bytes());
        w.push(b'=');
        sq(value, &mut w);
        w.extend_from_slice(b"; export ");
        w.extend_from_slice(name.as_bytes());
        w.extend_from_slice(b"; ");
    }
    if let Some(wd) = job.workdir {
        w.extend_from_slice(b"mkdir -p ");
        sq(wd, &mut w);
        w.extend_from_slice(b" 2>/dev/null; cd ");
        sq(wd, &mut w);
        w.extend_from_slice(b" || exit 1; ");
    }
    w.extend_from_slice(b"c=");
    sq(job.command, &mut w);
    w.extend_from_slice(b"; p=${SHELL:-/bin/sh}; printf '\\000parx-remote-job\\000' >&2; ");
    if job.stdin_is_data {
        w.extend_from_slice(b"exec \"$p\" -c \"$c\"");
        return w;
    }
    // The job's own group: setsid execs in place (a background job of a
    // non-interactive shell never leads a group), so $! is the group id.
    w.extend_from_slice(
        b"exec 3<&0 </dev/null; \
          if command -v setsid >/dev/null 2>&1; then setsid \"$p\" -c \"$c\" 3<&- & \
          else perl -e 'setpgrp; exec @ARGV' \"$p\" -c \"$c\" 3<&- & fi; \
          j=$!; \
          { while read -r l; do :; done; kill -TERM -$j; sleep 1; kill -KILL -$j; } <&3 >/dev/null 2>&1 & \
          w=$!; exec 3<&-; wait $j; s=$?; kill $w 2>/dev/null; exit $s",
    );
    w
}

/// The remote command ssh sends: `exec /bin/sh -c '<wrapper>'`.
pub fn remote_command(job: &RemoteJob<'_>) -> Vec<u8> {
    let mut r = b"exec /bin/sh -c ".to_vec();
    sq(&wrapper(job), &mut r);
    r
}

/// How to reach one host: the ssh command and its arguments before the
/// remote command.
#[derive(Debug, Clone)]
pub struct SshTarget {
    /// The ssh command (shell words: `ssh -F cfg`).
    pub sshcommand: String,
    /// `-p`.
    pub port: Option<String>,
    /// `-l`.
    pub user: Option<String>,
    /// The host.
    pub host: String,
}

impl SshTarget {
    /// `ssh [-p port] [-l user] [-S ctl] host --` as a shell command prefix.
    pub fn prefix(&self, control: Option<&std::path::Path>) -> Vec<u8> {
        let mut out = self.ssh_only(control);
        out.push(b' ');
        sq(self.host.as_bytes(), &mut out);
        out.extend_from_slice(b" --");
        out
    }

    /// `ssh [-p port] [-l user] [-S ctl]`, without the host (rsync's `-e`).
    pub fn ssh_only(&self, control: Option<&std::path::Path>) -> Vec<u8> {
        let mut out = self.sshcommand.as_bytes().to_vec();
        if let Some(p) = &self.port {
            out.extend_from_slice(b" -p ");
            sq(p.as_bytes(), &mut out);
        }
        if let Some(u) = &self.user {
            out.extend_from_slice(b" -l ");
            sq(u.as_bytes(), &mut out);
        }
        if let Some(c) = control {
            out.extend_from_slice(b" -S ");
            sq(c.as_os_str().as_encoded_bytes(), &mut out);
        }
        out
    }

    /// The local command line that runs `remote` (a shell command for the
    /// remote login shell) on this host.
    pub fn command(&self, control: Option<&std::path::Path>, remote: &[u8]) -> Vec<u8> {
        let mut out = self.prefix(control);
        out.push(b' ');
        sq(remote, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    /// Runs `remote` as sshd does: `login_shell -c remote`, with stdin a
    /// pipe held open (the lifeline) until the job is done.
    fn run_as_sshd(login_shell: &str, remote: &[u8]) -> std::process::Output {
        let mut child = std::process::Command::new(login_shell)
            .arg("-c")
            .arg(std::ffi::OsStr::from_bytes(remote))
            .env("SHELL", login_shell)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let lifeline = child.stdin.take();
        let out = child.wait_with_output().unwrap();
        drop(lifeline);
        out
    }

    #[test]
    fn the_command_reaches_sh_dash_and_bash_login_shells_intact() {
        let values: [&[u8]; 6] = [
            b"it's \"q\" \\",
            b"$(echo executed) `echo x` $HOME ${PATH}",
            b"two\nlines",
            b"\xff\xfe bytes",
            b"*; echo pwned; '",
            b"",
        ];
        let mut cmd = b"printf '%s|' ".to_vec();
        for v in values {
            quote_into(v, &mut cmd);
            cmd.push(b' ');
        }
        let mut expected = Vec::new();
        for v in values {
            expected.extend_from_slice(v);
            expected.push(b'|');
        }
        let env = vec![("V".to_string(), b"a'b $(c)".to_vec())];
        for shell in ["/bin/sh", "/bin/dash", "/bin/bash"] {
            if !std::path::Path::new(shell).exists() {
                continue;
            }
            for stdin_is_data in [false, true] {
                let mut c = cmd.clone();
                c.extend_from_slice(b"; printf '%s' \"$V\"");
                let job = RemoteJob {
                    command: &c,
                    env: &env,
                    workdir: None,
                    stdin_is_data,
                };
                let out = run_as_sshd(shell, &remote_command(&job));
                let mut want = expected.clone();
                want.extend_from_slice(b"a'b $(c)");
                assert_eq!(
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&want),
                    "{shell}"
                );
                assert_eq!(out.stdout, want, "{shell}");
                assert_eq!(out.stderr, STARTED_MARKER, "{shell}");
                assert_eq!(out.status.code(), Some(0));
            }
        }
    }

    #[test]
    fn exit_status_and_signal_come_back() {
        for (cmd, code) in [(&b"exit 7"[..], 7), (b"kill -TERM $$", 128 + 15)] {
            let job = RemoteJob {
                command: cmd,
                env: &[],
                workdir: None,
                stdin_is_data: false,
            };
            let out = run_as_sshd("/bin/sh", &remote_command(&job));
            assert_eq!(out.status.code(), Some(code));
        }
    }
}
