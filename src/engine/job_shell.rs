//! Which jobs run under a real shell, and which one: GNU parallel runs every
//! job under `$PARALLEL_SHELL` (else the shell parx was started from); parx
//! runs what it can itself, as bash would, and hands the rest to the shell.
//!
//! A job goes to the shell, whole, when parx running it could not give
//! bash's result or would print a message in the name of a shell that
//! never ran: when `$PARALLEL_SHELL` is not bash, when a command word names
//! an exported bash function (`BASH_FUNC_name%%` in the environment, from
//! `export -f name`), and when a command is not found in `PATH` or names a
//! file that cannot be run (so the message is bash's own). The decision is made per
//! job, before it starts; this module does not run anything.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use crate::shell::{Script, is_builtin};

/// The shell for jobs parx does not run itself, and what sends a job there.
#[derive(Debug, Clone)]
pub struct JobShell {
    /// The shell: `$PARALLEL_SHELL` (a name without `/` is searched in
    /// `PATH`), else `/bin/bash` (`/bin/sh` without bash).
    pub path: OsString,
    /// parx may run jobs itself (the shell is bash, whose results parx
    /// reproduces); otherwise every job runs under the shell.
    pub native: bool,
    /// Names of the exported bash functions in parx's environment.
    pub functions: Vec<Vec<u8>>,
    /// `PATH` as jobs inherit it, to find commands that do not exist.
    search_path: Option<Vec<u8>>,
}

impl Default for JobShell {
    /// bash, parx's own environment's functions and `PATH`.
    fn default() -> JobShell {
        let path = if Path::new("/bin/bash").exists() {
            "/bin/bash"
        } else {
            "/bin/sh"
        };
        JobShell::new(path.into(), std::env::vars_os())
    }
}

impl JobShell {
    /// The shell GNU parallel would use: `$PARALLEL_SHELL` if set (an
    /// error if it is neither executable nor found in `PATH`, as in GNU
    /// parallel), else bash.
    pub fn from_env() -> Result<JobShell, String> {
        let Some(shell) = std::env::var_os("PARALLEL_SHELL").filter(|s| !s.is_empty()) else {
            return Ok(JobShell::default());
        };
        if find_program(shell.as_bytes(), std::env::var_os("PATH").as_ref()).is_none() {
            return Err(format!("Shell '{}' not found.", shell.to_string_lossy()));
        }
        // Spelled as given: the shell's `$0` is what GNU parallel shows.
        Ok(JobShell::new(shell, std::env::vars_os()))
    }

    /// `shell`, with the functions and `PATH` found in `env`.
    pub fn new(shell: OsString, env: impl Iterator<Item = (OsString, OsString)>) -> JobShell {
        let native = Path::new(&shell)
            .file_name()
            .is_some_and(|n| n.as_bytes().starts_with(b"bash"));
        let mut functions = Vec::new();
        let mut search_path = None;
        for (k, v) in env {
            let k = k.into_vec();
            if k == b"PATH" {
                search_path = Some(v.into_vec());
            } else if let Some(name) = k
                .strip_prefix(b"BASH_FUNC_")
                .and_then(|n| n.strip_suffix(b"%%"))
            {
                functions.push(name.to_vec());
            }
        }
        JobShell {
            path: shell,
            native,
            functions,
            search_path,
        }
    }

    /// Why `script`, run in `cwd` (`None`: parx's own directory), must
    /// run under the shell rather than in parx, if it must.
    pub fn reason(&self, script: &Script, cwd: Option<&Path>) -> Option<&'static str> {
        if !self.native {
            return Some("$PARALLEL_SHELL is not bash");
        }
        let words = script.command_words();
        // A script that sets PATH finds its programs elsewhere, one that
        // changes directory finds `./prog` elsewhere: parx runs those and
        // searches itself.
        let check_path = memchr::memmem::find(script.text(), b"PATH").is_none();
        let check_files = !words.contains(&Some(b"cd"));
        for word in words {
            let Some(name) = word else {
                if !self.functions.is_empty() {
                    return Some("a command word that may name an exported function");
                }
                continue;
            };
            if self.functions.iter().any(|f| f == name) {
                return Some("an exported function");
            }
            if name.contains(&b'/') {
                if check_files && !is_executable(&in_dir(cwd, name)) {
                    return Some("a program that cannot be run");
                }
            } else if check_path && !is_builtin(name) && !self.in_path(name) {
                return Some("a command not found in PATH");
            }
        }
        None
    }

    /// Whether `name` is an executable file in a `PATH` directory. A `PATH`
    /// with relative entries (they depend on the job's directory) counts
    /// as finding everything: parx's own search decides then.
    fn in_path(&self, name: &[u8]) -> bool {
        let path = self
            .search_path
            .as_deref()
            .unwrap_or(b"/usr/local/bin:/usr/bin:/bin");
        if path.split(|&c| c == b':').any(|d| !d.starts_with(b"/")) {
            return true;
        }
        find_in(name, path).is_some()
    }
}

/// `name` as `execvp` would find it: itself if it contains a `/`, else the
/// first executable file of that name in `path`.
fn find_program(name: &[u8], path: Option<&OsString>) -> Option<PathBuf> {
    if name.contains(&b'/') {
        let p = PathBuf::from(std::ffi::OsStr::from_bytes(name));
        return is_executable(&p).then_some(p);
    }
    let path = path.map_or(&b"/usr/local/bin:/usr/bin:/bin"[..], |p| p.as_bytes());
    find_in(name, path)
}

/// `name` as a path from `cwd` (`None`: parx's own directory).
fn in_dir(cwd: Option<&Path>, name: &[u8]) -> PathBuf {
    let p = Path::new(std::ffi::OsStr::from_bytes(name));
    match cwd {
        Some(dir) if p.is_relative() => dir.join(p),
        _ => p.to_path_buf(),
    }
}

fn find_in(name: &[u8], path: &[u8]) -> Option<PathBuf> {
    path.split(|&c| c == b':').find_map(|dir| {
        let dir = if dir.is_empty() { b"." as &[u8] } else { dir };
        let p = Path::new(std::ffi::OsStr::from_bytes(dir)).join(std::ffi::OsStr::from_bytes(name));
        is_executable(&p).then_some(p)
    })
}

fn is_executable(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file())
        && rustix::fs::access(p, rustix::fs::Access::EXEC_OK).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(env: &[(&str, &str)]) -> JobShell {
        JobShell::new(
            "/bin/bash".into(),
            env.iter()
                .map(|(k, v)| (OsString::from(k), OsString::from(v))),
        )
    }

    #[test]
    fn exported_functions_send_the_job_to_bash() {
        let sh = shell(&[("BASH_FUNC_f%%", "() { echo; }"), ("PATH", "/usr/bin:/bin")]);
        assert_eq!(sh.functions, vec![b"f".to_vec()]);
        assert!(sh.reason(&Script::new(b"f a"), None).is_some());
        assert!(sh.reason(&Script::new(b"echo a | f"), None).is_some());
        assert!(sh.reason(&Script::new(b"true && f"), None).is_some());
        assert!(sh.reason(&Script::new(b"$cmd a"), None).is_some());
        assert_eq!(sh.reason(&Script::new(b"echo f | cat"), None), None);
    }

    #[test]
    fn commands_not_found_go_to_bash_for_its_message() {
        let sh = shell(&[("PATH", "/usr/bin:/bin")]);
        assert!(
            sh.reason(&Script::new(b"no-such-command-parx x"), None)
                .is_some()
        );
        assert_eq!(sh.reason(&Script::new(b"cat x; echo y"), None), None);
        assert_eq!(
            sh.reason(&Script::new(b"PATH=/x no-such-command-parx"), None),
            None
        );
        assert!(sh.reason(&Script::new(b"./no-such-file x"), None).is_some());
        assert!(sh.reason(&Script::new(b"/etc/passwd"), None).is_some());
        assert!(sh.reason(&Script::new(b"/tmp"), None).is_some());
        assert_eq!(sh.reason(&Script::new(b"/bin/sh -c :"), None), None);
        assert_eq!(
            sh.reason(&Script::new(b"./sh -c :"), Some(Path::new("/bin"))),
            None
        );
        assert_eq!(sh.reason(&Script::new(b"cd /bin && ./sh"), None), None);
    }

    #[test]
    fn another_shell_runs_everything() {
        let sh = JobShell::new("/bin/dash".into(), std::iter::empty());
        assert!(!sh.native);
        assert!(sh.reason(&Script::new(b"echo a"), None).is_some());
    }
}
