//! Reading a joblog back: which jobs `--resume` / `--resume-failed` skip,
//! and which commands `--retry-failed` runs again.

use std::collections::HashSet;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

/// How a run continues from an earlier joblog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResumeMode {
    /// `--resume`: skip every job the log lists, whatever its status.
    Resume,
    /// `--resume-failed`: skip jobs that succeeded; run failed ones again.
    ResumeFailed,
}

/// One job as an earlier run logged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Sequence number.
    pub seq: u64,
    /// Exit value (-1 for a timeout).
    pub exitval: i32,
    /// Killing signal or 0.
    pub signal: i32,
    /// The command line (NULs turned back into newlines).
    pub command: Vec<u8>,
}

impl Entry {
    /// Whether the job succeeded.
    pub fn succeeded(&self) -> bool {
        self.exitval == 0 && self.signal == 0
    }
}

/// Reads every entry of a joblog in either format. A missing file has no
/// entries (the first run of a `--resume` script).
pub fn read_entries(path: &Path) -> io::Result<Vec<Entry>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut entries = Vec::new();
    for line in BufReader::new(file).split(b'\n') {
        let line = line?;
        let entry = if line.first() == Some(&b'{') {
            parse_json(&line)
        } else {
            parse_tsv(&line)
        };
        entries.extend(entry);
    }
    Ok(entries)
}

/// The sequence numbers a resumed run must not run again.
pub fn read_done(path: &Path, mode: ResumeMode) -> io::Result<HashSet<u64>> {
    let entries = read_entries(path)?;
    let done = match mode {
        ResumeMode::Resume => entries.iter().map(|e| e.seq).collect(),
        ResumeMode::ResumeFailed => {
            // A job retried later in the log counts by its last entry.
            let mut ok = HashSet::new();
            for e in &entries {
                if e.succeeded() {
                    ok.insert(e.seq);
                } else {
                    ok.remove(&e.seq);
                }
            }
            ok
        }
    };
    Ok(done)
}

fn parse_tsv(line: &[u8]) -> Option<Entry> {
    let mut cols = line.splitn(9, |&b| b == b'\t');
    let seq = std::str::from_utf8(cols.next()?)
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let mut cols = cols.skip(5);
    let exitval = std::str::from_utf8(cols.next()?)
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let signal = std::str::from_utf8(cols.next()?)
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let command = cols
        .next()
        .unwrap_or_default()
        .iter()
        .map(|&b| if b == 0 { b'\n' } else { b })
        .collect();
    Some(Entry {
        seq,
        exitval,
        signal,
        command,
    })
}

fn json_number(line: &str, key: &str) -> Option<i64> {
    let at = line.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &line[at..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '-'))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

fn parse_json(line: &[u8]) -> Option<Entry> {
    let text = std::str::from_utf8(line).ok()?;
    Some(Entry {
        seq: u64::try_from(json_number(text, "Seq")?).ok()?,
        exitval: i32::try_from(json_number(text, "Exitval")?).ok()?,
        signal: i32::try_from(json_number(text, "Signal")?).ok()?,
        command: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn resume_modes_pick_the_right_jobs() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(
            b"Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n\
              1\t:\t1.000\t     0.001\t0\t2\t0\t0\techo a\n\
              2\t:\t1.000\t     0.001\t0\t0\t1\t0\tfalse\n\
              3\t:\t1.000\t     0.001\t0\t0\t0\t9\tsleep 9\n\
              {\"Seq\":4,\"Host\":\":\",\"Exitval\":0,\"Signal\":0}\n",
        )
        .unwrap();
        let all = read_done(f.path(), ResumeMode::Resume).unwrap();
        assert_eq!(all, HashSet::from([1, 2, 3, 4]));
        let ok = read_done(f.path(), ResumeMode::ResumeFailed).unwrap();
        assert_eq!(ok, HashSet::from([1, 4]));
        let entries = read_entries(f.path()).unwrap();
        assert_eq!(entries[2].command, b"sleep 9");
    }
}
