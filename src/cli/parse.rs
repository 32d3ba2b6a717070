//! Reading argv into [`LowArgs`] the way GNU parallel's `Getopt::Long`
//! (with `bundling` and `require_order`) does: short options bundle
//! (`-kj4`), values attach (`-j4`, `-j-1`, `--jobs=4`) or follow, long
//! options may be abbreviated to a unique prefix, and the first word that
//! is not an option starts the command.

use super::CliError;
use super::flags::{Flag, Value, find_long, find_short};
use super::lowargs::LowArgs;
use std::ffi::OsString;

fn looks_numeric(s: &std::ffi::OsStr) -> bool {
    s.to_str().is_some_and(|s| s.parse::<f64>().is_ok())
}

fn apply(
    p: &mut lexopt::Parser,
    low: &mut LowArgs,
    flag: &'static Flag,
    shown: String,
) -> Result<(), CliError> {
    let value = match flag.value {
        Value::Switch => None,
        Value::Required(_) => match p.value() {
            Ok(v) => Some(v),
            Err(_) => return Err(CliError::MissingValue(shown)),
        },
        Value::OptionalStr(_) => match p.optional_value() {
            Some(v) => Some(v),
            None => p
                .try_raw_args()
                .and_then(|mut raw| raw.next_if(|next| !next.as_encoded_bytes().starts_with(b"-"))),
        },
        Value::OptionalNum(_) => match p.optional_value() {
            Some(v) => Some(v),
            None => p
                .try_raw_args()
                .and_then(|mut raw| raw.next_if(looks_numeric)),
        },
    };
    match flag.category {
        super::flags::Category::Unsupported => return Err(CliError::Unsupported(shown)),
        super::flags::Category::Retired => {
            return Err(CliError::Retired {
                option: shown,
                instead: flag.doc,
            });
        }
        _ => {}
    }
    (flag.update)(low, value).map_err(|why| CliError::BadValue { option: shown, why })
}

/// Parses one array of words into `low`; returns the words from the first
/// non-option on (the command and input sources).
fn parse_words(low: &mut LowArgs, args: Vec<OsString>) -> Result<Vec<OsString>, CliError> {
    let mut p = lexopt::Parser::from_args(args);
    p.set_short_equals(false);
    let mut rest = Vec::new();
    loop {
        let arg = match p.next() {
            Ok(a) => a,
            Err(lexopt::Error::UnexpectedValue { option, .. }) => {
                return Err(CliError::UnexpectedValue(option));
            }
            Err(e) => return Err(CliError::Other(e.to_string())),
        };
        match arg {
            None => break,
            Some(lexopt::Arg::Short(c)) => {
                let flag = find_short(c).ok_or_else(|| CliError::UnknownOption(format!("-{c}")))?;
                apply(&mut p, low, flag, format!("-{c}"))?;
            }
            Some(lexopt::Arg::Long(name)) => {
                let name = name.to_string();
                let flag = match find_long(&name) {
                    Ok(f) => f,
                    Err(candidates) if candidates.is_empty() => {
                        return Err(CliError::UnknownOption(format!("--{name}")));
                    }
                    Err(candidates) => {
                        return Err(CliError::Ambiguous {
                            option: format!("--{name}"),
                            candidates: candidates.iter().map(|c| format!("--{c}")).collect(),
                        });
                    }
                };
                apply(&mut p, low, flag, format!("--{name}"))?;
            }
            Some(lexopt::Arg::Value(v)) => {
                rest.push(v);
                if let Some(raw) = p.try_raw_args() {
                    rest.extend(raw);
                }
                break;
            }
        }
    }
    Ok(rest)
}

/// Parses the arguments (without the program name), argv only.
#[cfg(test)]
pub fn parse_low(args: Vec<OsString>) -> Result<LowArgs, CliError> {
    let mut low = LowArgs::default();
    low.positional = parse_words(&mut low, args)?;
    Ok(low)
}

/// Parses profile files, `$PARALLEL`, then argv, as GNU parallel does:
/// options from all three, and words that are not options from each, in
/// that order, start the command.
pub fn parse_all(args: Vec<OsString>) -> Result<LowArgs, CliError> {
    let (profile, env) = super::profile::outside_words(&args)?;
    let mut low = LowArgs::default();
    let mut positional = parse_words(&mut low, profile)?;
    positional.extend(parse_words(&mut low, env)?);
    positional.extend(parse_words(&mut low, args)?);
    low.positional = positional;
    Ok(low)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn low(args: &[&str]) -> Result<LowArgs, CliError> {
        parse_low(args.iter().map(OsString::from).collect())
    }

    #[test]
    fn bundling_and_values() {
        let l = low(&["-kj4", "echo", "-j", "2"]).unwrap();
        assert!(l.keep_order);
        assert_eq!(l.jobs.as_deref(), Some("4".as_ref()));
        assert_eq!(l.positional, ["echo", "-j", "2"]);
        let l = low(&["-j-1", "echo"]).unwrap();
        assert_eq!(l.jobs.as_deref(), Some("-1".as_ref()));
        let l = low(&["--jobs=3", "--jobl", "x", "--", "-k"]).unwrap();
        assert_eq!(l.jobs.as_deref(), Some("3".as_ref()));
        assert_eq!(l.joblog.as_deref(), Some("x".as_ref()));
        assert_eq!(l.positional, ["-k"]);
    }

    #[test]
    fn optional_values() {
        let l = low(&["-i{}", "echo"]).unwrap();
        assert_eq!(l.replace.as_deref(), Some("{}".as_ref()));
        let l = low(&["-i", "echo", "x"]).unwrap();
        assert_eq!(l.replace.as_deref(), Some("echo".as_ref()));
        let l = low(&["-i", "-k", "x"]).unwrap();
        assert_eq!(l.replace.as_deref(), Some("{}".as_ref()));
        assert!(l.keep_order);
        let l = low(&["-l", "echo"]).unwrap();
        assert_eq!(l.max_lines.as_deref(), Some("1".as_ref()));
        assert_eq!(l.positional, ["echo"]);
        let l = low(&["-l", "3", "echo"]).unwrap();
        assert_eq!(l.max_lines.as_deref(), Some("3".as_ref()));
    }

    #[test]
    fn errors() {
        assert!(matches!(low(&["--foo"]), Err(CliError::UnknownOption(o)) if o == "--foo"));
        assert!(matches!(low(&["-j"]), Err(CliError::MissingValue(o)) if o == "-j"));
        assert!(matches!(
            low(&["--jo", "3"]),
            Err(CliError::Ambiguous { .. })
        ));
        assert!(matches!(
            low(&["--tag=x"]),
            Err(CliError::UnexpectedValue(_))
        ));
        assert!(matches!(low(&["--hgrp"]), Err(CliError::Unsupported(_))));
    }
}
