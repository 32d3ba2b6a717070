//! Where a job runs: the seam between the scheduler and a backend that
//! runs jobs elsewhere (`-S` hosts). The scheduler asks for a place before
//! it starts a job, runs the command line the backend gives it (through
//! the shell layer, like any job) and gives the place back when the job
//! ends. Without a placement every job runs here.

use std::io;
use std::os::fd::OwnedFd;

/// A place a job was given: a host and which connection to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// The host's index.
    pub host: usize,
    /// The connection's index on that host.
    pub conn: usize,
}

/// Which job is placed.
#[derive(Debug, Clone, Copy)]
pub struct JobAt {
    /// `{#}`.
    pub seq: u64,
    /// `{%}`.
    pub slot: usize,
    /// The job's stdin carries data (`--pipe`).
    pub stdin_is_data: bool,
}

/// What the scheduler runs for a job at a place.
pub struct Placed {
    /// The local command line (e.g. `ssh … host -- '…'`).
    pub command: Vec<u8>,
    /// The job's stdin when it has no data to read (`None`: `/dev/null`).
    pub stdin: Option<OwnedFd>,
    /// The wrapper writes this on stderr when the job itself starts; it is
    /// removed from the output. Without it a 255 is the transport's own
    /// failure.
    pub started_marker: Option<&'static [u8]>,
}

/// Files a job takes to its host and brings back (`--transfer`, `--tf`,
/// `--return`), already rendered for the job.
#[derive(Debug, Clone, Default)]
pub struct JobFiles {
    /// Copied to the host before the job.
    pub transfer: Vec<Vec<u8>>,
    /// Copied back after the job.
    pub ret: Vec<Vec<u8>>,
}

/// A backend placing jobs on hosts.
pub trait Placement {
    /// A place with a free slot, preferring hosts not in `avoid` (where
    /// the job failed before), only `pin` if given; `None` if no such
    /// host has a free slot now.
    fn acquire(&mut self, avoid: &[usize], pin: Option<usize>) -> Option<Place>;
    /// The command that runs `command` (job `seq` in slot `slot`) there,
    /// with its `files`.
    fn place(
        &mut self,
        place: Place,
        command: &[u8],
        job: JobAt,
        files: &JobFiles,
    ) -> io::Result<Placed>;
    /// The job at `place` has ended; `transport_failed` if it never ran
    /// because the connection failed.
    fn release(&mut self, place: Place, transport_failed: bool);
    /// The host's name for the joblog's Host column and messages.
    fn host_name(&self, host: usize) -> String;
    /// Number of hosts.
    fn hosts(&self) -> usize;
}

/// Removes a marker from the start of a stream: bytes before it pass
/// through (the transport's own messages), the marker itself is dropped
/// once, everything after passes untouched.
#[derive(Debug)]
pub struct MarkerFilter {
    marker: &'static [u8],
    held: Vec<u8>,
    seen: bool,
}

impl MarkerFilter {
    /// A filter for `marker`.
    pub fn new(marker: &'static [u8]) -> MarkerFilter {
        MarkerFilter {
            marker,
            held: Vec::new(),
            seen: false,
        }
    }

    /// Whether the marker has gone by.
    pub fn seen(&self) -> bool {
        self.seen
    }

    /// The bytes of `data` to pass on now.
    pub fn filter<'b>(&mut self, data: &'b [u8]) -> std::borrow::Cow<'b, [u8]> {
        if self.seen {
            return data.into();
        }
        self.held.extend_from_slice(data);
        let m = self.marker;
        if let Some(i) = self.held.windows(m.len()).position(|w| w == m) {
            self.seen = true;
            let mut out = self.held[..i].to_vec();
            out.extend_from_slice(&self.held[i + m.len()..]);
            self.held.clear();
            return out.into();
        }
        // Keep what could be the start of a marker split across reads.
        let keep = (1..m.len())
            .rev()
            .find(|&k| self.held.len() >= k && self.held.ends_with(&m[..k]))
            .unwrap_or(0);
        let out = self.held[..self.held.len() - keep].to_vec();
        self.held.drain(..self.held.len() - keep);
        out.into()
    }

    /// Bytes still held at the end of the stream.
    pub fn flush(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_removed_across_reads() {
        let mut f = MarkerFilter::new(b"<M>");
        let mut out = f.filter(b"warn\n<").into_owned();
        assert!(!f.seen());
        out.extend_from_slice(&f.filter(b"M>job <M> err"));
        assert!(f.seen());
        out.extend_from_slice(&f.flush());
        assert_eq!(out, b"warn\njob <M> err");
        let mut g = MarkerFilter::new(b"<M>");
        let mut out = g.filter(b"ssh: no route <").into_owned();
        out.extend_from_slice(&g.flush());
        assert_eq!(out, b"ssh: no route <");
        assert!(!g.seen());
    }
}
