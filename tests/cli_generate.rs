//! `parx --generate`: the man page and completions name exactly the
//! options the parser accepts.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::process::Command;

use parx::cli::{Category, CliError, FLAGS};

fn generate(kind: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_parx"))
        .args(["--generate", kind])
        .output()
        .expect("run parx");
    assert!(out.status.success(), "--generate {kind}: {out:?}");
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// Every `--long-name` spelled in `text` (man pages escape `-` as `\-`
/// and switch fonts with `\fB`, `\fI`, `\fR`).
fn long_names(text: &str) -> BTreeSet<String> {
    let text = text
        .replace("\\-", "-")
        .replace("\\fB", " ")
        .replace("\\fI", " ")
        .replace("\\fR", " ");
    let mut names = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(pos) = text[i..].find("--") {
        let start = i + pos + 2;
        let before_ok = start < 3 || !bytes[start - 3].is_ascii_alphanumeric();
        let end = text[start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .map_or(text.len(), |e| start + e);
        if before_ok && end > start && bytes[start].is_ascii_alphabetic() {
            names.insert(text[start..end].to_string());
        }
        i = end.max(start);
    }
    names
}

/// The long names of the options parx accepts.
fn accepted_names() -> BTreeSet<String> {
    FLAGS
        .iter()
        .filter(|f| !matches!(f.category, Category::Unsupported | Category::Retired))
        .flat_map(|f| f.names.iter().map(|n| n.to_string()))
        .collect()
}

/// Whether the parser knows `--name` as an option it accepts (a missing or
/// bad value is fine; unknown, ambiguous or rejected is not).
fn parser_accepts(name: &str) -> bool {
    let args = vec![OsString::from(format!("--{name}"))];
    !matches!(
        parx::cli::parse(args),
        Err(CliError::UnknownOption(_)
            | CliError::Ambiguous { .. }
            | CliError::Unsupported(_)
            | CliError::Retired { .. })
    )
}

#[test]
fn completions_list_exactly_the_accepted_options() {
    let accepted = accepted_names();
    for kind in ["complete-bash", "complete-zsh", "complete-fish"] {
        let text = generate(kind);
        let mut named = long_names(&text);
        // fish spells long names as `-l name`.
        if kind == "complete-fish" {
            named = text
                .split_whitespace()
                .collect::<Vec<_>>()
                .windows(2)
                .filter(|w| w[0] == "-l")
                .map(|w| w[1].to_string())
                .collect();
        }
        assert_eq!(named, accepted, "{kind} differs from the flag table");
        for name in &named {
            assert!(
                parser_accepts(name),
                "{kind} offers --{name}, which the parser rejects"
            );
        }
    }
}

#[test]
fn man_page_documents_every_option_the_parser_accepts() {
    let text = generate("man");
    assert!(
        text.starts_with(".TH PARX 1 "),
        "not a man page: {text:.80}"
    );
    let named = long_names(&text);
    for name in accepted_names() {
        assert!(
            named.contains(&name),
            "the man page does not document --{name}"
        );
        assert!(
            parser_accepts(&name),
            "--{name} is in the table but the parser rejects it"
        );
    }
}

#[test]
fn bash_completion_completes_a_prefix() {
    let script = generate("complete-bash");
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "{script}\nCOMP_WORDS=(parx --joblog-f); COMP_CWORD=1; _parx; printf '%s\\n' \"${{COMPREPLY[@]}}\""
        ))
        .output()
        .expect("run bash");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "--joblog-format\n");
}

#[test]
fn an_unknown_kind_is_a_one_line_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_parx"))
        .args(["--generate", "pdf"])
        .output()
        .expect("run parx");
    assert_eq!(out.status.code(), Some(255));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("unknown kind 'pdf'"), "{err}");
}
