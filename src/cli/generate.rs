//! `parx --generate KIND`: the man page and shell completions, made from
//! the flag table (`flags.rs`) like `--help`, so the three can never
//! disagree with the parser about which options exist (ripgrep's model).
//!
//! Options GNU parallel has that parx rejects (unsupported or retired) are
//! left out of the completions and listed in their own man page section.

use super::flags::{Category, FLAGS, Flag, Value};

/// What `--generate` can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generate {
    /// A roff man page (`parx --generate man > parx.1`).
    Man,
    /// A bash completion script.
    CompleteBash,
    /// A zsh completion function (`_parx`).
    CompleteZsh,
    /// fish completions.
    CompleteFish,
}

impl Generate {
    /// Every kind, with the name `--generate` takes.
    pub const ALL: [(&'static str, Generate); 4] = [
        ("man", Generate::Man),
        ("complete-bash", Generate::CompleteBash),
        ("complete-zsh", Generate::CompleteZsh),
        ("complete-fish", Generate::CompleteFish),
    ];

    /// Parses the value of `--generate`.
    pub fn parse(name: &str) -> Result<Generate, String> {
        Self::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, g)| g)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|(n, _)| *n).collect();
                format!("unknown kind '{name}' (one of: {})", names.join(", "))
            })
    }

    /// The generated text.
    pub fn render(self) -> String {
        match self {
            Generate::Man => man(),
            Generate::CompleteBash => bash(),
            Generate::CompleteZsh => zsh(),
            Generate::CompleteFish => fish(),
        }
    }
}

/// Whether parx accepts the option (rejected ones are not completed).
fn accepted(f: &Flag) -> bool {
    !matches!(f.category, Category::Unsupported | Category::Retired)
}

/// The value's placeholder, if the option takes one.
fn metavar(f: &Flag) -> Option<&'static str> {
    match f.value {
        Value::Switch => None,
        Value::Required(m) | Value::OptionalStr(m) | Value::OptionalNum(m) => Some(m),
    }
}

fn categories() -> Vec<Category> {
    let mut cats: Vec<Category> = FLAGS.iter().map(|f| f.category).collect();
    cats.sort();
    cats.dedup();
    cats
}

/// Escapes text for roff: backslashes, and a leading `.` or `'`.
fn roff(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with('.') || escaped.starts_with('\'') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

fn man() -> String {
    let mut out = format!(
        ".TH PARX 1 \"\" \"parx {}\" \"User Commands\"\n",
        env!("CARGO_PKG_VERSION")
    );
    out.push_str(
        ".SH NAME\nparx \\- run commands in parallel, a drop\\-in replacement for GNU parallel\n\
         .SH SYNOPSIS\n\
         .B parx\n[\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR] ::: \\fIVALUES\\fR ...\n.br\n\
         .B parx\n[\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR] < \\fIlines\\-of\\-values\\fR\n.br\n\
         cat data | \\fBparx \\-\\-pipe\\fR [\\fIOPTIONS\\fR] \\fICOMMAND\\fR\n\
         .SH DESCRIPTION\n\
         parx runs many commands at once as child processes wired with pipes, and \
         tells exactly how each one ended. It reads GNU parallel's command line: options, \
         then the command, then the input values. Replacement strings in the command \
         ({} {.} {/} {//} {/.} {#} {%} {N} and the \\-\\-plus family) take each job's values; \
         without any, the values are appended. Simple commands and pipelines run without \
         a shell; anything else runs under bash.\n",
    );
    for cat in categories() {
        out.push_str(&format!(".SH \"{}\"\n", roff(&cat.title().to_uppercase())));
        for f in FLAGS.iter().filter(|f| f.category == cat) {
            let mut names = Vec::new();
            if let Some(c) = f.short {
                names.push(format!("\\fB\\-{c}\\fR"));
            }
            for n in f.names {
                names.push(format!("\\fB\\-\\-{}\\fR", roff(n)));
            }
            let mut head = names.join(", ");
            match f.value {
                Value::Switch => {}
                Value::Required(m) => head.push_str(&format!(" \\fI{}\\fR", roff(m))),
                Value::OptionalStr(m) | Value::OptionalNum(m) => {
                    head.push_str(&format!(" [\\fI{}\\fR]", roff(m)))
                }
            }
            out.push_str(&format!(".TP\n{head}\n{}\n", roff(f.doc)));
        }
    }
    out.push_str(
        ".SH \"EXIT STATUS\"\n\
         0 if every job succeeded; otherwise the number of failed jobs, at most 101; \
         with \\-\\-halt, the status GNU parallel gives; 255 for a bad command line or \
         input that cannot be read (one line on stderr); 130, 143 or 129 after SIGINT, \
         SIGTERM or SIGHUP.\n\
         .SH \"SEE ALSO\"\n\\fBparallel\\fR(1), \\fBxargs\\fR(1)\n",
    );
    out
}

/// Every option as it is typed: `--name` for each long name, `-c`.
fn spellings(f: &Flag) -> Vec<String> {
    let mut all: Vec<String> = f.names.iter().map(|n| format!("--{n}")).collect();
    if let Some(c) = f.short {
        all.push(format!("-{c}"));
    }
    all
}

fn bash() -> String {
    let words: Vec<String> = FLAGS
        .iter()
        .filter(|f| accepted(f))
        .flat_map(spellings)
        .collect();
    format!(
        "# bash completion for parx (generated by `parx --generate complete-bash`)\n\
         _parx() {{\n\
         \x20   local cur=${{COMP_WORDS[COMP_CWORD]}}\n\
         \x20   if [[ $cur == -* ]]; then\n\
         \x20       COMPREPLY=($(compgen -W '{}' -- \"$cur\"))\n\
         \x20   else\n\
         \x20       COMPREPLY=($(compgen -f -- \"$cur\"))\n\
         \x20   fi\n\
         }}\n\
         complete -o filenames -F _parx parx\n",
        words.join(" ")
    )
}

/// Escapes a description for a zsh `_arguments` spec inside single quotes.
fn zsh_text(text: &str) -> String {
    text.replace('\'', "'\\''")
        .replace('[', "\\[")
        .replace(']', "\\]")
        .replace(':', "\\:")
}

fn zsh() -> String {
    let mut out = String::from(
        "#compdef parx\n# zsh completion for parx (generated by `parx --generate complete-zsh`)\n\
         _arguments -s \\\n",
    );
    for f in FLAGS.iter().filter(|f| accepted(f)) {
        let doc = zsh_text(f.doc);
        let arg = metavar(f).map_or(String::new(), |m| format!(":{}:_files", zsh_text(m)));
        for s in spellings(f) {
            out.push_str(&format!("  '{s}[{doc}]{arg}' \\\n"));
        }
    }
    out.push_str("  '*::command:_normal'\n");
    out
}

fn fish() -> String {
    let mut out = String::from(
        "# fish completions for parx (generated by `parx --generate complete-fish`)\n",
    );
    for f in FLAGS.iter().filter(|f| accepted(f)) {
        let mut line = String::from("complete -c parx");
        for n in f.names {
            line.push_str(&format!(" -l {n}"));
        }
        if let Some(c) = f.short {
            line.push_str(&format!(" -s {c}"));
        }
        if matches!(f.value, Value::Required(_)) {
            line.push_str(" -r");
        }
        line.push_str(&format!(
            " -d '{}'\n",
            f.doc.replace('\\', "\\\\").replace('\'', "\\'")
        ));
        out.push_str(&line);
    }
    out
}
