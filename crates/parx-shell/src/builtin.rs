//! The builtins parx runs in-process: `:`, `true`, `false`, `cd`,
//! `export`, `exit`, `unset`, `set -e`/`-o pipefail`, and `echo`, `printf`, `pwd`, `test`/`[` (whose output and
//! status parx computes itself, for the forms bash defines without error).
//!
//! A builtin never writes to an fd directly: it returns its status and the
//! bytes for stdout and stderr, and the executor delivers them (in-process
//! when that cannot block, else through a tiny writer process). Builtins
//! bash has but parx does not implement make the command fall back.

use std::path::{Path, PathBuf};

use crate::expand::Vars;

/// What running a builtin produced.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub status: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// `exit N` was run.
    pub exit: Option<i32>,
}

/// bash builtins and keywords-as-commands parx leaves to bash.
pub(crate) fn is_unimplemented_builtin(name: &[u8]) -> bool {
    const NAMES: &[&[u8]] = &[
        b".",
        b"alias",
        b"bg",
        b"bind",
        b"break",
        b"builtin",
        b"caller",
        b"command",
        b"compgen",
        b"complete",
        b"compopt",
        b"continue",
        b"declare",
        b"dirs",
        b"disown",
        b"enable",
        b"eval",
        b"exec",
        b"fc",
        b"fg",
        b"getopts",
        b"hash",
        b"help",
        b"history",
        b"jobs",
        b"kill",
        b"let",
        b"local",
        b"logout",
        b"mapfile",
        b"popd",
        b"pushd",
        b"read",
        b"readarray",
        b"readonly",
        b"return",
        b"shift",
        b"shopt",
        b"source",
        b"suspend",
        b"times",
        b"trap",
        b"type",
        b"typeset",
        b"ulimit",
        b"umask",
        b"unalias",
        b"wait",
    ];
    NAMES.contains(&name)
}

/// The builtins implemented here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Builtin {
    True,
    False,
    Cd,
    Export,
    Exit,
    Echo,
    Printf,
    Test,
    Bracket,
    Pwd,
    Unset,
    Set,
}

impl Builtin {
    pub(crate) fn lookup(name: &[u8]) -> Option<Builtin> {
        Some(match name {
            b":" | b"true" => Builtin::True,
            b"false" => Builtin::False,
            b"cd" => Builtin::Cd,
            b"export" => Builtin::Export,
            b"exit" => Builtin::Exit,
            b"echo" => Builtin::Echo,
            b"printf" => Builtin::Printf,
            b"test" => Builtin::Test,
            b"[" => Builtin::Bracket,
            b"pwd" => Builtin::Pwd,
            b"unset" => Builtin::Unset,
            b"set" => Builtin::Set,
            _ => return None,
        })
    }
}

/// The shell state builtins may change (a copy, for a pipeline stage).
pub(crate) struct State<'a> {
    /// Logical working directory (bash's `$PWD`).
    pub pwd: &'a mut PathBuf,
    pub vars: &'a mut Vars,
    /// Status of the previous command, for `exit` with no argument.
    pub last_status: i32,
    /// Relative paths are relative to `pwd` (else to parx's directory).
    pub pwd_is_set: bool,
    /// `set -e`.
    pub errexit: &'a mut bool,
    /// `set -o pipefail`.
    pub pipefail: &'a mut bool,
}

/// The byte a one-letter C escape (`\n`, `\t`, `\e`, `\\`, …) stands for,
/// as bash's `echo -e` and `printf` read them.
pub(crate) fn c_escape(e: u8) -> Option<u8> {
    Some(match e {
        b'a' => 7,
        b'b' => 8,
        b'e' | b'E' => 27,
        b'f' => 12,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'v' => 11,
        b'\\' => b'\\',
        _ => return None,
    })
}

/// Runs `builtin` with `args` (after the name). `Err` means bash must run
/// the command (an option or form parx does not implement).
pub(crate) fn run(
    builtin: Builtin,
    args: &[Vec<u8>],
    state: &mut State<'_>,
    shell_name: &[u8],
) -> Result<Outcome, &'static str> {
    let mut out = Outcome::default();
    match builtin {
        Builtin::True => {}
        Builtin::False => out.status = 1,
        Builtin::Echo => echo(args, &mut out)?,
        Builtin::Printf => out.stdout = crate::printf::printf(args)?,
        Builtin::Pwd => {
            if !args.is_empty() {
                return Err("pwd with arguments");
            }
            out.stdout = std::os::unix::ffi::OsStrExt::as_bytes(state.pwd.as_os_str()).to_vec();
            out.stdout.push(b'\n');
        }
        Builtin::Set => {
            // Only `-e`/`+e` and `-o pipefail`/`+o pipefail` (also `-eo
            // pipefail`); other options and listing are left to bash.
            if args.is_empty() {
                return Err("set listing");
            }
            let mut i = 0;
            while let Some(a) = args.get(i) {
                let (on, flags) = match a.split_first() {
                    Some((b'-', f)) => (true, f),
                    Some((b'+', f)) => (false, f),
                    _ => return Err("set with positional parameters"),
                };
                if flags.is_empty() || !flags.iter().all(|c| matches!(c, b'e' | b'o')) {
                    return Err("set option parx does not implement");
                }
                for &f in flags {
                    if f == b'e' {
                        *state.errexit = on;
                    } else {
                        i += 1;
                        match args.get(i) {
                            Some(name) if name.as_slice() == b"pipefail" => *state.pipefail = on,
                            _ => return Err("set -o option parx does not implement"),
                        }
                    }
                }
                i += 1;
            }
        }
        Builtin::Unset => {
            for a in args {
                let name = std::str::from_utf8(a).map_err(|_| "unset name")?;
                if !valid_name(a)
                    || crate::parse::is_special_var(name)
                    || name == "PWD"
                    || name == "PATH"
                {
                    return Err("unset of an option, invalid or special name");
                }
            }
            for a in args {
                if let Ok(name) = std::str::from_utf8(a) {
                    state.vars.unset(name);
                }
            }
        }
        Builtin::Test | Builtin::Bracket => {
            let args = if builtin == Builtin::Bracket {
                match args.split_last() {
                    Some((last, rest)) if last.as_slice() == b"]" => rest,
                    _ => return Err("[ without ]"),
                }
            } else {
                args
            };
            let relative = state.pwd_is_set;
            let ok = crate::test_builtin::eval(args, state.pwd, relative)?;
            out.status = i32::from(!ok);
        }
        Builtin::Exit => {
            let code = match args {
                [] => state.last_status,
                [n] => parse_exit_code(n).ok_or("exit with a non-numeric argument")?,
                _ => return Err("exit with several arguments"),
            };
            out.exit = Some(code & 255);
            out.status = code & 255;
        }
        Builtin::Export => {
            if args.is_empty() {
                return Err("export listing");
            }
            for a in args {
                let (name, value) = match memchr::memchr(b'=', a) {
                    Some(i) => (&a[..i], Some(&a[i + 1..])),
                    None => (&a[..], None),
                };
                if !valid_name(name) {
                    return Err("export of an invalid name or option");
                }
                let name = std::str::from_utf8(name).map_err(|_| "export name")?;
                if crate::parse::is_special_var(name) {
                    return Err("export of a special variable");
                }
                match value {
                    Some(v) => state.vars.set(name, v.to_vec(), true),
                    None => state.vars.export(name),
                }
            }
        }
        Builtin::Cd => cd(args, state, shell_name, &mut out)?,
    }
    Ok(out)
}

fn valid_name(name: &[u8]) -> bool {
    match name.split_first() {
        Some((&c, rest)) => {
            (c.is_ascii_alphabetic() || c == b'_')
                && rest.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_')
        }
        None => false,
    }
}

fn parse_exit_code(s: &[u8]) -> Option<i32> {
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut n: i64 = 0;
    for &d in digits {
        n = n * 10 + i64::from(d - b'0');
    }
    if neg {
        n = -n;
    }
    Some((n & 255) as i32)
}

/// bash's `echo`: leading `-n`/`-e`/`-E` option words, arguments joined
/// with spaces, a newline unless `-n`.
fn echo(args: &[Vec<u8>], out: &mut Outcome) -> Result<(), &'static str> {
    let mut newline = true;
    let mut escapes = false;
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if a.len() < 2 || a[0] != b'-' || !a[1..].iter().all(|c| matches!(c, b'n' | b'e' | b'E')) {
            break;
        }
        for &c in &a[1..] {
            match c {
                b'n' => newline = false,
                b'e' => escapes = true,
                _ => escapes = false,
            }
        }
        i += 1;
    }
    let buf = &mut out.stdout;
    for (k, a) in args[i..].iter().enumerate() {
        if k > 0 {
            buf.push(b' ');
        }
        if escapes {
            if !echo_escapes(a, buf)? {
                return Ok(());
            }
        } else {
            buf.extend_from_slice(a);
        }
    }
    if newline {
        buf.push(b'\n');
    }
    Ok(())
}

/// Appends `a` with `echo -e` escapes interpreted; `false` after `\c`.
fn echo_escapes(a: &[u8], buf: &mut Vec<u8>) -> Result<bool, &'static str> {
    let mut i = 0;
    while i < a.len() {
        let c = a[i];
        if c != b'\\' || i + 1 >= a.len() {
            buf.push(c);
            i += 1;
            continue;
        }
        let e = a[i + 1];
        i += 2;
        let simple = c_escape(e);
        if let Some(s) = simple {
            buf.push(s);
            continue;
        }
        match e {
            b'c' => return Ok(false),
            b'0' => {
                let mut v: u32 = 0;
                let mut n = 0;
                while n < 3 && i < a.len() && (b'0'..=b'7').contains(&a[i]) {
                    v = v * 8 + u32::from(a[i] - b'0');
                    i += 1;
                    n += 1;
                }
                buf.push((v & 255) as u8);
            }
            b'x' => {
                let mut v: u32 = 0;
                let mut n = 0;
                while n < 2 && i < a.len() && a[i].is_ascii_hexdigit() {
                    v = v * 16 + (a[i] as char).to_digit(16).unwrap_or(0);
                    i += 1;
                    n += 1;
                }
                if n == 0 {
                    buf.extend_from_slice(b"\\x");
                } else {
                    buf.push(v as u8);
                }
            }
            b'u' | b'U' | b'1'..=b'7' => return Err("echo -e with \\u, \\U or octal escapes"),
            _ => {
                buf.push(b'\\');
                buf.push(e);
            }
        }
    }
    Ok(true)
}

/// bash's logical `cd DIR`: the new `$PWD` is the lexically cleaned path.
fn cd(
    args: &[Vec<u8>],
    state: &mut State<'_>,
    shell_name: &[u8],
    out: &mut Outcome,
) -> Result<(), &'static str> {
    if std::env::var_os("CDPATH").is_some() {
        return Err("cd with CDPATH set");
    }
    let target: Vec<u8> = match args {
        [] => match state.vars.get("HOME") {
            Some(h) if !h.is_empty() => h.into_owned(),
            _ => return Err("cd without HOME"),
        },
        [d] if !d.is_empty() && d[0] != b'-' && !d.starts_with(b"//") => d.clone(),
        [_] => return Err("cd with an option, `-', `//' or an empty name"),
        [d, ..] if d.first() == Some(&b'-') => return Err("cd with an option"),
        _ => {
            message(out, shell_name, b"cd: too many arguments");
            out.status = 1;
            return Ok(());
        }
    };
    let path = Path::new(crate::expand::os(&target));
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        state.pwd.join(path)
    };
    let logical = clean(&joined);
    // bash checks that every directory before a `..` exists.
    let physical_ok = joined == logical || std::fs::metadata(&joined).is_ok();
    let check = if physical_ok {
        std::fs::metadata(&logical)
    } else {
        std::fs::metadata(&joined)
    }
    .and_then(|m| {
        if m.is_dir() {
            rustix::fs::access(&logical, rustix::fs::Access::EXEC_OK).map_err(Into::into)
        } else {
            Err(std::io::Error::from_raw_os_error(libc::ENOTDIR))
        }
    });
    match check {
        Ok(()) => {
            let old = std::mem::replace(state.pwd, logical);
            state.vars.set(
                "OLDPWD",
                std::os::unix::ffi::OsStrExt::as_bytes(old.as_os_str()).to_vec(),
                true,
            );
            state.vars.set(
                "PWD",
                std::os::unix::ffi::OsStrExt::as_bytes(state.pwd.as_os_str()).to_vec(),
                true,
            );
        }
        Err(e) => {
            let mut m = b"cd: ".to_vec();
            m.extend_from_slice(&target);
            m.extend_from_slice(b": ");
            m.extend_from_slice(strerror(&e).as_bytes());
            message(out, shell_name, &m);
            out.status = 1;
        }
    }
    Ok(())
}

/// Removes `.` and resolves `..` lexically, as bash's logical `cd` does.
fn clean(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push("/");
    }
    out
}

/// Appends `{prefix}: {msg}\n` to the builtin's stderr.
fn message(out: &mut Outcome, prefix: &[u8], msg: &[u8]) {
    out.stderr.extend_from_slice(prefix);
    out.stderr.extend_from_slice(b": ");
    out.stderr.extend_from_slice(msg);
    out.stderr.push(b'\n');
}

/// The C library's message for an OS error, as bash prints it.
pub(crate) fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}
