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
    /// A percentage of all jobs (GNU parallel reads all input to count
    /// them; so does parx, except in pipe mode, where it counts the
    /// blocks started so far).
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

    /// Whether the condition holds after `counted` of `total` jobs, as GNU
    /// parallel decides it: `counted >= N`, or `counted >= total × N/100`
    /// in the same floating-point steps (so the edge cases agree).
    pub fn reached(&self, counted: u64, total: u64) -> bool {
        match self.threshold {
            Threshold::Count(n) => counted >= n,
            Threshold::Percent(p) => counted as f64 >= total as f64 * (p / 100.0),
        }
    }

    /// parx's exit status once the condition held: 0 for `success`;
    /// otherwise the share of failed jobs in percent for a percentage, the
    /// status of the job that triggered it for a count of 1, else the
    /// number of failed jobs (GNU parallel's rules).
    pub fn status(&self, failed: u64, total: u64, job_status: i32) -> i32 {
        match (self.on, self.threshold) {
            (HaltOn::Success, _) => 0,
            (_, Threshold::Percent(_)) => percent_failed(failed, total),
            (_, Threshold::Count(1)) => job_status,
            (_, Threshold::Count(_)) => exit_code_for_failures(failed),
        }
    }

    /// parx's exit status when the run ended without the condition
    /// holding: the share of failed jobs among those started for a
    /// percentage, else the number of failed jobs (as GNU parallel).
    pub fn status_unreached(&self, failed: u64, started: u64) -> i32 {
        match self.threshold {
            Threshold::Percent(_) => percent_failed(failed, started.max(1)),
            Threshold::Count(_) => exit_code_for_failures(failed),
        }
    }
}

/// `ceil(failed / total * 100)` in GNU parallel's floating-point steps
/// (11 of 20 is 56, as there).
fn percent_failed(failed: u64, total: u64) -> i32 {
    if total == 0 {
        return 0;
    }
    (failed as f64 / total as f64 * 100.0).ceil() as i32
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
    fn halt_statuses_as_gnu_parallel() {
        let h = Halt::parse("soon,fail=55%").unwrap().unwrap();
        assert!(h.reached(11, 20));
        assert_eq!(h.status(11, 20, 1), 56);
        assert_eq!(h.status_unreached(3, 10), 30);
        let h = Halt::parse("now,done=1").unwrap().unwrap();
        assert_eq!(h.status(0, 5, 3), 3);
        let h = Halt::parse("now,success=40%").unwrap().unwrap();
        assert_eq!(h.status(5, 10, 0), 0);
        let h = Halt::parse("now,fail=3").unwrap().unwrap();
        assert_eq!(h.status(3, 10, 1), 3);
        assert_eq!(h.status_unreached(150, 200), 101);
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
