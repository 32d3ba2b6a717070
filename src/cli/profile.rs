//! Options that come from outside argv, as in GNU parallel: profile files
//! (`/etc/parallel/config`, `~/.parallel/config`, `~/.parallelrc`, or the
//! ones named with `-J`) and the `$PARALLEL` environment variable. Each is
//! split into words like a shell line (Perl's `Text::ParseWords`).
//! `--plain` ignores them all.

use super::CliError;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// Splits a line into words as Perl's `Text::ParseWords::shellwords`:
/// white space separates, `'…'` is literal, `"…"` and bare text take
/// backslash escapes.
pub fn shell_words(line: &[u8]) -> Vec<Vec<u8>> {
    let mut words = Vec::new();
    let mut word: Option<Vec<u8>> = None;
    let mut i = 0;
    while i < line.len() {
        let c = line[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                if let Some(w) = word.take() {
                    words.push(w);
                }
                i += 1;
            }
            b'\'' => {
                let w = word.get_or_insert_with(Vec::new);
                i += 1;
                while i < line.len() && line[i] != b'\'' {
                    w.push(line[i]);
                    i += 1;
                }
                i += 1;
            }
            b'"' => {
                let w = word.get_or_insert_with(Vec::new);
                i += 1;
                while i < line.len() && line[i] != b'"' {
                    if line[i] == b'\\' && i + 1 < line.len() {
                        i += 1;
                    }
                    w.push(line[i]);
                    i += 1;
                }
                i += 1;
            }
            b'\\' if i + 1 < line.len() => {
                word.get_or_insert_with(Vec::new).push(line[i + 1]);
                i += 2;
            }
            _ => {
                word.get_or_insert_with(Vec::new).push(c);
                i += 1;
            }
        }
    }
    if let Some(w) = word {
        words.push(w);
    }
    words
}

/// What argv says about profiles, read before the real parse (GNU
/// parallel does the same pre-pass): `--plain` and `-J`/`--profile`.
struct PrePass {
    plain: bool,
    profiles: Vec<OsString>,
}

fn pre_pass(args: &[OsString]) -> PrePass {
    let mut pre = PrePass {
        plain: false,
        profiles: Vec::new(),
    };
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_bytes();
        if a == b"--" || !a.starts_with(b"-") || a == b"-" {
            break;
        }
        if a == b"--plain" {
            pre.plain = true;
        } else if a == b"-J" || a == b"--profile" {
            if let Some(v) = args.get(i + 1) {
                pre.profiles.push(v.clone());
                i += 1;
            }
        } else if let Some(v) = a.strip_prefix(b"--profile=") {
            pre.profiles.push(OsString::from_vec(v.to_vec()));
        } else if let Some(v) = a.strip_prefix(b"-J") {
            pre.profiles.push(OsString::from_vec(v.to_vec()));
        }
        i += 1;
    }
    pre
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// GNU parallel's own directory: `$PARALLEL_HOME`, else `~/.parallel`.
pub(crate) fn parallel_home() -> Option<PathBuf> {
    env_path("PARALLEL_HOME").or_else(|| env_path("HOME").map(|h| h.join(".parallel")))
}

/// GNU parallel's configuration directories that exist.
fn config_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(p) = env_path("PARALLEL_HOME") {
        dirs.push(p);
    }
    if let Some(x) = env_path("XDG_CONFIG_HOME") {
        dirs.push(x.join("parallel"));
    }
    if let Some(x) = std::env::var_os("XDG_CONFIG_DIRS") {
        for d in x.as_bytes().split(|&b| b == b':').filter(|d| !d.is_empty()) {
            dirs.push(Path::new(std::ffi::OsStr::from_bytes(d)).join("parallel"));
        }
    }
    if let Some(h) = env_path("HOME") {
        dirs.push(h.join(".parallel"));
    }
    dirs.retain(|d| d.is_dir());
    dirs
}

fn read_profile(path: &Path) -> Result<Vec<OsString>, CliError> {
    let text = std::fs::read(path)
        .map_err(|e| CliError::Other(format!("cannot read profile '{}': {e}", path.display())))?;
    let mut words = Vec::new();
    for line in text.split(|&b| b == b'\n') {
        if line.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'#') {
            continue;
        }
        words.extend(shell_words(line).into_iter().map(OsString::from_vec));
    }
    Ok(words)
}

/// The option words from profiles and from `$PARALLEL`, in the order GNU
/// parallel reads them (profiles first).
pub fn outside_words(args: &[OsString]) -> Result<(Vec<OsString>, Vec<OsString>), CliError> {
    let pre = pre_pass(args);
    if pre.plain {
        return Ok((Vec::new(), Vec::new()));
    }
    let dirs = config_dirs();
    let mut profile_words = Vec::new();
    if pre.profiles.is_empty() {
        let mut defaults = vec![PathBuf::from("/etc/parallel/config")];
        defaults.extend(dirs.iter().map(|d| d.join("config")));
        if let Some(h) = env_path("HOME") {
            defaults.push(h.join(".parallelrc"));
        }
        for p in defaults.iter().filter(|p| p.is_file()) {
            profile_words.extend(read_profile(p)?);
        }
    } else {
        for name in &pre.profiles {
            let b = name.as_bytes();
            let found = if b.starts_with(b"/") || b.starts_with(b"./") {
                Some(PathBuf::from(name)).filter(|p| p.is_file())
            } else {
                dirs.iter().map(|d| d.join(name)).find(|p| p.is_file())
            };
            // GNU parallel silently skips a profile it cannot find.
            if let Some(p) = found {
                profile_words.extend(read_profile(&p)?);
            }
        }
    }
    let env_words = std::env::var_os("PARALLEL")
        .map(|v| {
            shell_words(v.as_bytes())
                .into_iter()
                .map(OsString::from_vec)
                .collect()
        })
        .unwrap_or_default();
    Ok((profile_words, env_words))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_like_text_parsewords() {
        let w = shell_words(br#"-k "a b" c\ d 'e f' "g\"h" x\y '' -j4"#);
        let want: Vec<&[u8]> = vec![b"-k", b"a b", b"c d", b"e f", b"g\"h", b"xy", b"", b"-j4"];
        assert_eq!(w, want);
    }

    #[test]
    fn pre_pass_finds_plain_and_profiles() {
        let args: Vec<OsString> = ["-k", "-J", "p1", "--profile=p2", "-Jp3", "echo", "--plain"]
            .iter()
            .map(OsString::from)
            .collect();
        let pre = pre_pass(&args);
        assert!(!pre.plain);
        assert_eq!(pre.profiles, ["p1", "p2", "p3"]);
    }
}
