//! The run's policies, parsed from GNU parallel's option syntax: `--halt`,
//! `--timeout`, `--termseq`, and the exit status they lead to.

use std::time::Duration;

/// When to stop once a `--halt` condition holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HaltWhen {
    /// Kill running jobs and exit.
    Now,
    /// Start no new jobs; let running ones finish.
    Soon,
}

/// What a `--halt` condition counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HaltOn {
    /// Failed jobs.
    Fail,
    /// Succeeded jobs.
    Success,
    /// Finished jobs, either way.
    Done,
}

/// How many jobs make the condition true.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    /// A number of jobs.
    Count(u64),
    /// A percentage of all jobs (known only once input is exhausted; GNU
    /// parallel counts against the jobs seen so far, and so does parx).
    Percent(f64),
}

/// `--halt when,why=threshold`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Halt {
    /// Now or soon.
    pub when: HaltWhen,
    /// What is counted.
    pub on: HaltOn,
    /// How many.
    pub threshold: Threshold,
}

impl Halt {
    /// Parses GNU's forms: `never`, `now,fail=1`, `soon,success=30%`,
    /// `done=3` (`now` implied? no: GNU requires when), and the numeric
    /// shorthands `0`, `1`, `2`, `-1`, `-2`, `1-99%`.
    pub fn parse(s: &str) -> Result<Option<Halt>, String> {
        let bad = || format!("--halt: can not understand '{s}' (try now,fail=1 or soon,fail=10%)");
        let halt = |when, on, threshold| {
            Ok(Some(Halt {
                when,
                on,
                threshold,
            }))
        };
        match s {
            "never" | "0" => return Ok(None),
            "1" => return halt(HaltWhen::Soon, HaltOn::Fail, Threshold::Count(1)),
            "2" => return halt(HaltWhen::Now, HaltOn::Fail, Threshold::Count(1)),
            "-1" => return halt(HaltWhen::Soon, HaltOn::Success, Threshold::Count(1)),
            "-2" => return halt(HaltWhen::Now, HaltOn::Success, Threshold::Count(1)),
            _ => {}
        }
        if let Some(pct) = s.strip_suffix('%')
            && !s.contains(',')
        {
            let p: f64 = pct.parse().map_err(|_| bad())?;
            return halt(HaltWhen::Soon, HaltOn::Fail, Threshold::Percent(p));
        }
        let (when, why) = s.split_once(',').ok_or_else(bad)?;
        let when = match when {
            "now" => HaltWhen::Now,
            "soon" => HaltWhen::Soon,
            _ => return Err(bad()),
        };
        let (on, n) = why.split_once('=').ok_or_else(bad)?;
        let on = match on {
            "fail" => HaltOn::Fail,
            "success" => HaltOn::Success,
            "done" => HaltOn::Done,
            _ => return Err(bad()),
        };
        let threshold = match n.strip_suffix('%') {
            Some(p) => Threshold::Percent(p.parse().map_err(|_| bad())?),
            None => Threshold::Count(n.parse().map_err(|_| bad())?),
        };
        halt(when, on, threshold)
    }

    /// Whether the condition holds after `counted` of `total` jobs.
    pub fn reached(&self, counted: u64, total: u64) -> bool {
        match self.threshold {
            Threshold::Count(n) => counted >= n.max(1),
            Threshold::Percent(p) => total > 0 && (counted as f64) * 100.0 >= p * total as f64,
        }
    }
}

/// `--timeout`: a fixed number of seconds, or a percentage of the median
/// runtime of the jobs finished so far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Timeout {
    /// Kill after this long.
    Fixed(Duration),
    /// Kill after this percentage of the median runtime (needs 3 finished
    /// jobs before it applies, as GNU parallel).
    PercentOfMedian(f64),
}

impl Timeout {
    /// Parses `SECS` (fractions allowed) or `N%`.
    pub fn parse(s: &str) -> Result<Timeout, String> {
        let bad = || format!("--timeout: '{s}' is not a number of seconds or a percentage");
        match s.strip_suffix('%') {
            Some(p) => Ok(Timeout::PercentOfMedian(p.parse().map_err(|_| bad())?)),
            None => {
                let secs: f64 = s.parse().map_err(|_| bad())?;
                if !(secs.is_finite() && secs > 0.0) {
                    return Err(bad());
                }
                Ok(Timeout::Fixed(Duration::from_secs_f64(secs)))
            }
        }
    }
}

/// `--termseq`: signals to send, each followed by a grace period in ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermSeq(pub Vec<(i32, Duration)>);

impl Default for TermSeq {
    /// GNU parallel's default: `TERM,200,TERM,100,TERM,50,KILL,25`.
    fn default() -> TermSeq {
        TermSeq(vec![
            (libc::SIGTERM, Duration::from_millis(200)),
            (libc::SIGTERM, Duration::from_millis(100)),
            (libc::SIGTERM, Duration::from_millis(50)),
            (libc::SIGKILL, Duration::from_millis(25)),
        ])
    }
}

impl TermSeq {
    /// Parses `SIG,ms,SIG,ms,…` with signal names (`TERM`, `SIGKILL`) or
    /// numbers.
    pub fn parse(s: &str) -> Result<TermSeq, String> {
        let parts: Vec<&str> = s.split(',').collect();
        let mut seq = Vec::new();
        for pair in parts.chunks(2) {
            let sig = signal_number(pair[0])
                .ok_or_else(|| format!("--termseq: unknown signal '{}'", pair[0]))?;
            let ms = match pair.get(1) {
                Some(ms) => ms
                    .parse()
                    .map_err(|_| format!("--termseq: '{ms}' is not milliseconds"))?,
                None => 0,
            };
            seq.push((sig, Duration::from_millis(ms)));
        }
        if seq.is_empty() {
            return Err("--termseq: empty sequence".into());
        }
        Ok(TermSeq(seq))
    }
}

/// A signal's number from its name (`TERM`, `SIGTERM`) or number.
pub fn signal_number(name: &str) -> Option<i32> {
    if let Ok(n) = name.parse() {
        return Some(n);
    }
    let name = name.strip_prefix("SIG").unwrap_or(name);
    Some(match name {
        "HUP" => libc::SIGHUP,
        "INT" => libc::SIGINT,
        "QUIT" => libc::SIGQUIT,
        "KILL" => libc::SIGKILL,
        "USR1" => libc::SIGUSR1,
        "USR2" => libc::SIGUSR2,
        "PIPE" => libc::SIGPIPE,
        "ALRM" => libc::SIGALRM,
        "TERM" => libc::SIGTERM,
        "CONT" => libc::SIGCONT,
        "STOP" => libc::SIGSTOP,
        "TSTP" => libc::SIGTSTP,
        _ => return None,
    })
}

/// parx's exit status from the number of failed jobs, as GNU parallel's:
/// 0 none, 1–100 that many, 101 more than 100.
pub fn exit_code_for_failures(failed: u64) -> i32 {
    if failed > 100 { 101 } else { failed as i32 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halt_forms() {
        assert_eq!(Halt::parse("never").unwrap(), None);
        let h = Halt::parse("now,fail=1").unwrap().unwrap();
        assert_eq!((h.when, h.on), (HaltWhen::Now, HaltOn::Fail));
        assert_eq!(h.threshold, Threshold::Count(1));
        let h = Halt::parse("soon,success=30%").unwrap().unwrap();
        assert_eq!(h.threshold, Threshold::Percent(30.0));
        assert_eq!(Halt::parse("2").unwrap().unwrap().when, HaltWhen::Now);
        let h = Halt::parse("20%").unwrap().unwrap();
        assert_eq!((h.when, h.on), (HaltWhen::Soon, HaltOn::Fail));
        assert!(Halt::parse("later,fail=1").is_err());
        assert!(h.reached(2, 10));
        assert!(!h.reached(1, 10));
    }

    #[test]
    fn termseq_and_timeout() {
        assert_eq!(TermSeq::parse("INT,100,KILL,25").unwrap().0.len(), 2);
        assert_eq!(TermSeq::parse("SIGKILL").unwrap().0[0].0, libc::SIGKILL);
        assert!(TermSeq::parse("BOGUS,1").is_err());
        assert_eq!(
            Timeout::parse("1.5").unwrap(),
            Timeout::Fixed(Duration::from_millis(1500))
        );
        assert_eq!(
            Timeout::parse("200%").unwrap(),
            Timeout::PercentOfMedian(200.0)
        );
        assert!(Timeout::parse("-1").is_err());
    }

    #[test]
    fn failure_counts_cap_at_101() {
        assert_eq!(exit_code_for_failures(0), 0);
        assert_eq!(exit_code_for_failures(3), 3);
        assert_eq!(exit_code_for_failures(100), 100);
        assert_eq!(exit_code_for_failures(150), 101);
    }
}
