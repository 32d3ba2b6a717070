//! `--help`, generated from the flag table, grouped by task.

use super::flags::{Category, FLAGS, Value};

const USAGE: &str = "\
parx - run commands in parallel, a drop-in replacement for GNU parallel

Usage:
  parx [OPTIONS] COMMAND [ARGS] ::: VALUES ... [:::+ VALUES] [:::: FILES]
  parx [OPTIONS] COMMAND [ARGS] < lines-of-values
  cat data | parx --pipe [OPTIONS] COMMAND

Replacement strings in COMMAND (without any, the values are appended):
  {}  value          {.}  without extension   {/}  basename    {//} dirname
  {/.} basename without extension  {#} job number  {%} job slot
  {3} {3.} {3/} {3//} {3/.}  the same for the 3rd input source or column
  With --plus: {+/} {+.} {..} {...} {/..} {+..} {0%} {:-default} {:N} {:N:M}
               {#prefix} {##prefix} {%suffix} {%%suffix} {/re/str} {//re/str}

Exit status: the number of failed jobs (at most 101), 0 if all succeeded;
255 for a bad command line or unreadable input (one line on stderr).
";

/// The full help text.
pub fn help() -> String {
    let mut out = String::from(USAGE);
    let mut cats: Vec<Category> = FLAGS.iter().map(|f| f.category).collect();
    cats.sort();
    cats.dedup();
    for cat in cats {
        out.push('\n');
        out.push_str(cat.title());
        out.push_str(":\n");
        for f in FLAGS.iter().filter(|f| f.category == cat) {
            let mut left = String::from("  ");
            if let Some(c) = f.short {
                left.push_str(&format!("-{c}"));
                if !f.names.is_empty() {
                    left.push_str(", ");
                }
            }
            if let Some(n) = f.names.first() {
                left.push_str(&format!("--{n}"));
            }
            match f.value {
                Value::Switch => {}
                Value::Required(m) => left.push_str(&format!(" {m}")),
                Value::OptionalStr(m) | Value::OptionalNum(m) => left.push_str(&format!(" [{m}]")),
            }
            if matches!(cat, Category::Unsupported | Category::Retired) {
                out.push_str(&format!("{left:<34} {}\n", f.doc));
                continue;
            }
            if left.len() > 33 {
                out.push_str(&left);
                out.push('\n');
                left = String::new();
            }
            out.push_str(&format!("{left:<34} {}\n", f.doc));
        }
    }
    out
}
