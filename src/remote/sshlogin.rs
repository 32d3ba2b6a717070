//! GNU parallel's sshlogin grammar: `[@grp+grp/][ncpus/][sshcommand ][user[:password]@]host[:port]`,
//! lists separated by `,` or newlines (`\,` and `,,` are a literal comma), `:` for
//! this machine, `..` for `~/.parallel/sshloginfile`, and `--slf` files with `#`
//! comments. Parsing only: nothing here starts a process.

use std::path::{Path, PathBuf};

/// One login as the user wrote it, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshLogin {
    /// `N/`: the number of CPUs (job slots) the user gave for this host.
    pub ncpus: Option<usize>,
    /// The ssh command given in the login itself (`/usr/bin/ssh -J jump host`).
    pub sshcommand: Option<String>,
    /// `user@`.
    pub user: Option<String>,
    /// The host name or address; empty for this machine.
    pub host: String,
    /// `:port`.
    pub port: Option<String>,
    /// `:`: this machine, no ssh.
    pub local: bool,
}

impl SshLogin {
    /// Parses one login; `Err` names what could not be understood.
    pub fn parse(text: &str) -> Result<SshLogin, String> {
        let orig = text;
        let mut s = text.trim_end();
        // Host groups (`@grp+grp/`) are parsed and ignored.
        if let Some(rest) = s.strip_prefix('@') {
            s = rest.split_once('/').map_or("", |(_, r)| r);
        }
        let mut ncpus = None;
        if let Some((n, rest)) = s.split_once('/')
            && !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_digit())
        {
            ncpus = n.parse().ok();
            s = rest;
        }
        let mut sshcommand = None;
        if let Some(i) = s.rfind(' ') {
            sshcommand = Some(s[..i].to_string());
            s = &s[i + 1..];
        }
        let mut user = None;
        if let Some((u, rest)) = s.split_once('@') {
            if u.contains(':') {
                return Err(format!(
                    "--sshlogin with a password ({orig}) needs sshpass; use an ssh key instead"
                ));
            }
            user = Some(u.to_string());
            s = rest;
        }
        if s == ":" {
            return Ok(SshLogin {
                ncpus,
                sshcommand: None,
                user: None,
                host: String::new(),
                port: None,
                local: true,
            });
        }
        let (host, port) = split_host_port(s);
        if host.is_empty() {
            return Err(format!("can not understand --sshlogin {orig:?}"));
        }
        Ok(SshLogin {
            ncpus,
            sshcommand,
            user,
            host: host.to_string(),
            port: port.map(str::to_string),
            local: false,
        })
    }

    /// GNU parallel's name for the login (`PARALLEL_SSHLOGIN`, the joblog's
    /// Host): `[sshcommand ][user@]host[:port]`, or `:`.
    pub fn string(&self) -> String {
        if self.local {
            return ":".into();
        }
        let mut s = String::new();
        if let Some(c) = &self.sshcommand {
            s.push_str(c);
            s.push(' ');
        }
        if let Some(u) = &self.user {
            s.push_str(u);
            s.push('@');
        }
        s.push_str(&self.host);
        if let Some(p) = &self.port {
            s.push(':');
            s.push_str(p);
        }
        s
    }
}

/// `host:port`, `[v6addr]:port`, `v6addr` (two or more `:`), `v6addrpPORT`.
fn split_host_port(s: &str) -> (&str, Option<&str>) {
    if let Some(rest) = s.strip_prefix('[')
        && let Some((h, after)) = rest.split_once(']')
    {
        return (h, after.strip_prefix(':').filter(|p| !p.is_empty()));
    }
    if s.matches(':').count() >= 2 {
        // IPv6; a port only with `p`, `.` or `#`.
        if let Some(i) = s.rfind(['p', '#', '.']) {
            let (h, p) = (&s[..i], &s[i + 1..]);
            if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) {
                return (h, Some(p));
            }
        }
        return (s, None);
    }
    match s.split_once(':') {
        Some((h, p)) if !p.is_empty() => (h, Some(p)),
        Some((h, _)) => (h, None),
        None => (s, None),
    }
}

/// Splits one `-S` value into logins: `,` and newlines separate, `\,` and
/// `,,` are a comma. `..` and `-` read a login file (`-` is stdin).
pub fn split_list(value: &str) -> Vec<String> {
    let protected = value.replace("\\,", "\0").replace(",,", "\0");
    protected
        .split([',', '\n'])
        .map(|s| s.replace('\0', ","))
        .map(|s| s.trim_end().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The file `..` (and `--slf ..`) stands for; `.` is the system-wide one.
pub fn expand_file_shorthand(name: &str) -> PathBuf {
    let home = || {
        std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default()
    };
    match name {
        ".." => home().join(".parallel/sshloginfile"),
        "." => PathBuf::from("/etc/parallel/sshloginfile"),
        _ => {
            let p = PathBuf::from(name);
            if !p.exists() && !name.contains('/') {
                // GNU looks in ~/.parallel/ too.
                let alt = home().join(".parallel").join(name);
                if alt.exists() {
                    return alt;
                }
            }
            p
        }
    }
}

/// The logins of a login file's text: one per line, `#` starts a comment.
pub fn parse_file_text(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split_once('#').map_or(l, |(a, _)| a).trim())
        .filter(|l| !l.is_empty())
        .flat_map(split_list)
        .collect()
}

/// Reads the logins of a login file.
pub fn read_file(path: &Path) -> Result<Vec<String>, String> {
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|e| format!("can not read --sshloginfile {}: {e}", path.display()))?;
    Ok(parse_file_text(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> SshLogin {
        SshLogin::parse(s).unwrap()
    }

    #[test]
    fn gnu_grammar() {
        let l = p("8//usr/bin/ssh -J jump user@server:2222");
        assert_eq!(l.ncpus, Some(8));
        assert_eq!(l.sshcommand.as_deref(), Some("/usr/bin/ssh -J jump"));
        assert_eq!(l.user.as_deref(), Some("user"));
        assert_eq!(l.host, "server");
        assert_eq!(l.port.as_deref(), Some("2222"));
        assert_eq!(l.string(), "/usr/bin/ssh -J jump user@server:2222");
        assert_eq!(p("host").string(), "host");
        assert_eq!(p("2/host").ncpus, Some(2));
        assert!(p(":").local);
        assert_eq!(p("@grp/4/h").ncpus, Some(4));
        assert_eq!(p("[::1]:22").host, "::1");
        assert_eq!(p("2001:db8::1p80").port.as_deref(), Some("80"));
        assert_eq!(p("2001:db8::1").port, None);
        assert!(SshLogin::parse("u:pw@h").is_err());
    }

    #[test]
    fn lists_and_files() {
        assert_eq!(split_list("a,b\nc"), ["a", "b", "c"]);
        assert_eq!(split_list("ssh -J j1,,j2 h1,h2"), ["ssh -J j1,j2 h1", "h2"]);
        assert_eq!(parse_file_text("# c\n a \n\n2/b # x\n"), ["a", "2/b"]);
    }
}
