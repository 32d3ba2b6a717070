//! GNU parallel's joblog line, byte for byte.

use super::JobRecord;

pub(super) const HEADER: &[u8] =
    b"Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n";

pub(super) fn line(r: &JobRecord) -> Vec<u8> {
    let mut out = format!(
        "{}\t{}\t{:.3}\t{:10.3}\t{}\t{}\t{}\t{}\t",
        r.seq, r.host, r.start_time, r.runtime, r.send, r.receive, r.exitval, r.signal
    )
    .into_bytes();
    // GNU writes newlines in the command as NUL, keeping one line per job.
    out.extend(r.command.iter().map(|&b| if b == b'\n' { 0 } else { b }));
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_gnu_layout() {
        let r = JobRecord {
            seq: 3,
            host: ":".into(),
            start_time: 1700000000.1234,
            runtime: 0.0456,
            send: 0,
            receive: 2,
            exitval: 1,
            signal: 0,
            command: b"echo a\nb".to_vec(),
            stages: vec![],
            user_time: 0.0,
            system_time: 0.0,
            max_rss_kb: 0,
        };
        assert_eq!(
            line(&r),
            b"3\t:\t1700000000.123\t     0.046\t0\t2\t1\t0\techo a\0b\n".to_vec()
        );
    }
}
