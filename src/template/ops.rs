//! What each replacement string does to a value: the path operations of
//! `{.}` `{/}` `{//}` `{/.}`, the `--plus` forms and the bash-like
//! `{%suffix}` family, reproducing the Perl expressions GNU parallel uses.

use regex::bytes::Regex;

/// A replacement-string operation.
#[derive(Debug, Clone)]
pub enum Op {
    /// `{}`: the value.
    Whole,
    /// `{#}`: job sequence number.
    Seq,
    /// `{%}`: job slot number.
    Slot,
    /// `{0%}` (`--plus`): slot zero-padded to the width of the slot count.
    PadSlot,
    /// `{##}` (`--plus`): the number of jobs.
    TotalJobs,
    /// `{0#}` (`--plus`): `{#}` zero-padded to the width of the job count.
    PadSeq,
    /// `{//}`: directory part (Perl's `File::Basename::dirname`).
    Dirname,
    /// A Perl `s///` (or two, the second tried only if the first did not
    /// match; or both applied in turn), e.g. `{.}` is `s:\.[^/.]*$::`.
    Subst(Vec<Subst>),
    /// `{:-default}`: the value, or `default` if it is empty or `0`.
    Default(Vec<u8>),
    /// `{:N}`: drop the first N bytes.
    DropStart(usize),
    /// `{:N:M}`: M bytes from byte N.
    Substr(usize, usize),
    /// `{slot}`-style: a fixed text inserted unquoted.
    Unquoted(Vec<u8>),
    /// `{choose_k}`: the value; the job is skipped unless its values are
    /// in strictly increasing order.
    ChooseK,
    /// `{uniq}`: the value; the job is skipped if two values are equal.
    Uniq,
    /// `{= code =}`: Perl, evaluated by the run's co-process; `id` is the
    /// code's id in that session. Its values live in the job.
    Perl {
        /// The code (position and leading spaces removed).
        code: Vec<u8>,
        /// Id from [`super::perl::Perl::register`].
        id: u32,
    },
}

/// One Perl substitution.
#[derive(Debug, Clone)]
pub struct Subst {
    /// The pattern.
    pub re: Regex,
    /// The replacement.
    pub with: Replacement,
    /// `/g`.
    pub global: bool,
    /// How this substitution combines with the previous one.
    pub chain: Chain,
}

/// How a substitution follows the previous one in an [`Op::Subst`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chain {
    /// `a; b`: always applied.
    Then,
    /// `a || b`: applied only if the previous one did not match.
    OrElse,
}

/// The replacement part of a substitution.
#[derive(Debug, Clone)]
pub enum Replacement {
    /// Fixed bytes.
    Literal(Vec<u8>),
    /// `$1`: capture group 1.
    Group1,
    /// `uc($1)`.
    Upper,
    /// `lc($1)`.
    Lower,
}

impl Subst {
    /// A substitution from pattern text; panics never (errors returned).
    pub fn new(
        pattern: &str,
        with: Replacement,
        global: bool,
        chain: Chain,
    ) -> Result<Self, regex::Error> {
        Ok(Subst {
            re: Regex::new(pattern)?,
            with,
            global,
            chain,
        })
    }

    /// Applies to `v`; returns whether the pattern matched.
    fn apply(&self, v: &mut Vec<u8>) -> bool {
        let mut out = Vec::with_capacity(v.len());
        let mut last = 0;
        let mut matched = false;
        for caps in self.re.captures_iter(v) {
            let Some(m) = caps.get(0) else { continue };
            matched = true;
            out.extend_from_slice(&v[last..m.start()]);
            let g1 = caps.get(1).map(|g| g.as_bytes()).unwrap_or_default();
            match &self.with {
                Replacement::Literal(l) => out.extend_from_slice(l),
                Replacement::Group1 => out.extend_from_slice(g1),
                Replacement::Upper => out.extend(g1.iter().map(u8::to_ascii_uppercase)),
                Replacement::Lower => out.extend(g1.iter().map(u8::to_ascii_lowercase)),
            }
            last = m.end();
            if !self.global {
                break;
            }
        }
        if matched {
            out.extend_from_slice(&v[last..]);
            *v = out;
        }
        matched
    }
}

/// Perl's `File::Basename::dirname` on Unix.
pub fn dirname(path: &[u8]) -> Vec<u8> {
    fn fileparse(p: &[u8]) -> (Vec<u8>, Vec<u8>) {
        match p.iter().rposition(|&b| b == b'/') {
            Some(i) => (p[..=i].to_vec(), p[i + 1..].to_vec()),
            None => (b"./".to_vec(), p.to_vec()),
        }
    }
    fn strip_trailing_sep(d: &mut Vec<u8>) {
        // s{(.)/*\z}{$1}s
        while d.len() > 1 && d.last() == Some(&b'/') {
            d.pop();
        }
    }
    let (mut dir, base) = fileparse(path);
    strip_trailing_sep(&mut dir);
    if base.is_empty() {
        let (d2, _) = fileparse(&dir);
        dir = d2;
        strip_trailing_sep(&mut dir);
    }
    dir
}

/// Context a job gives to operations that do not depend on the value.
#[derive(Debug, Clone, Copy)]
pub struct JobContext {
    /// `{#}`.
    pub seq: u64,
    /// `{%}`.
    pub slot: usize,
    /// Number of job slots (for `{0%}`).
    pub slots: usize,
    /// Number of jobs in all (`{##}`, `{0#}`); 0 when not counted.
    pub total: u64,
}

impl Op {
    /// True if the operation does not look at the value: GNU parallel
    /// writes these as positional `{1 …}` expressions, so they appear once
    /// even when a job has several arguments.
    pub fn is_job_level(&self) -> bool {
        matches!(
            self,
            Op::Seq | Op::Slot | Op::PadSlot | Op::TotalJobs | Op::PadSeq | Op::Unquoted(_)
        )
    }

    /// True if the operation needs the number of jobs in all.
    pub fn needs_total(&self) -> bool {
        matches!(self, Op::TotalJobs | Op::PadSeq)
    }

    /// True if the result is inserted without quoting.
    pub fn unquoted(&self) -> bool {
        matches!(self, Op::Unquoted(_))
    }

    /// The operation applied to `value` (already trimmed).
    pub fn apply(&self, value: &[u8], ctx: &JobContext) -> Vec<u8> {
        match self {
            // A Perl value is only known once evaluated: for the length
            // bookkeeping that packs -X lines, the input stands in.
            Op::Whole | Op::ChooseK | Op::Uniq | Op::Perl { .. } => value.to_vec(),
            Op::Seq => ctx.seq.to_string().into_bytes(),
            Op::Slot => ctx.slot.to_string().into_bytes(),
            Op::PadSlot => {
                let width = 1 + (ctx.slots.max(1) as f64).log10().floor() as usize;
                format!("{:0width$}", ctx.slot).into_bytes()
            }
            Op::TotalJobs => ctx.total.to_string().into_bytes(),
            Op::PadSeq => {
                let width = 1 + (ctx.total.max(1) as f64).log10().floor() as usize;
                format!("{:0width$}", ctx.seq).into_bytes()
            }
            Op::Dirname => dirname(value),
            Op::Subst(steps) => {
                let mut v = value.to_vec();
                let mut prev_matched = false;
                for (i, s) in steps.iter().enumerate() {
                    if i > 0 && s.chain == Chain::OrElse && prev_matched {
                        continue;
                    }
                    prev_matched = s.apply(&mut v);
                }
                v
            }
            Op::Default(d) => {
                if value.is_empty() || value == b"0" {
                    d.clone()
                } else {
                    value.to_vec()
                }
            }
            Op::DropStart(n) => value.get(*n..).unwrap_or_default().to_vec(),
            Op::Substr(start, len) => {
                let s = (*start).min(value.len());
                let e = s.saturating_add(*len).min(value.len());
                value[s..e].to_vec()
            }
            Op::Unquoted(text) => text.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dirname_like_perl() {
        for (p, d) in [
            ("a/b", "a"),
            ("a", "."),
            ("/a", "/"),
            ("a/b/", "a"),
            ("/", "/"),
            ("", "."),
            ("a//b", "a"),
            ("/x/y/z.gz", "/x/y"),
        ] {
            assert_eq!(dirname(p.as_bytes()), d.as_bytes(), "dirname({p})");
        }
    }
}
