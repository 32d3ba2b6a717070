//! `--joblog-format json`: one object per line, GNU's fields plus parx's
//! per-stage statuses, CPU time and peak memory.

use std::fmt::Write as _;

use super::JobRecord;

pub(super) fn line(r: &JobRecord) -> Vec<u8> {
    let mut s = format!("{{\"Seq\":{},\"Host\":", r.seq);
    push_json_string(&mut s, r.host.as_bytes());
    let _ = write!(
        s,
        ",\"Starttime\":{:.3},\"JobRuntime\":{:.3},\"Send\":{},\"Receive\":{},\"Exitval\":{},\"Signal\":{},\"Command\":",
        r.start_time, r.runtime, r.send, r.receive, r.exitval, r.signal
    );
    push_json_string(&mut s, &r.command);
    s.push_str(",\"Stages\":[");
    for (i, st) in r.stages.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{st}");
    }
    let _ = writeln!(
        s,
        "],\"UserTime\":{:.3},\"SystemTime\":{:.3},\"MaxRssKiB\":{}}}",
        r.user_time, r.system_time, r.max_rss_kb
    );
    s.into_bytes()
}

/// JSON string of arbitrary bytes: valid UTF-8 is kept, other bytes become
/// U+FFFD (JSON can not carry raw bytes).
fn push_json_string(s: &mut String, bytes: &[u8]) {
    s.push('"');
    for c in String::from_utf8_lossy(bytes).chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\t' => s.push_str("\\t"),
            '\r' => s.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                let _ = write!(s, "\\u{:04x}", c as u32);
            }
            c => s.push(c),
        }
    }
    s.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_adds_parx_fields() {
        let r = JobRecord {
            seq: 1,
            host: ":".into(),
            start_time: 10.0,
            runtime: 0.5,
            send: 0,
            receive: 0,
            exitval: 0,
            signal: 0,
            command: b"echo \"a\"\tb".to_vec(),
            stages: vec![0, 1],
            user_time: 0.25,
            system_time: 0.125,
            max_rss_kb: 2048,
        };
        let got = String::from_utf8(line(&r)).unwrap();
        assert_eq!(
            got,
            "{\"Seq\":1,\"Host\":\":\",\"Starttime\":10.000,\"JobRuntime\":0.500,\"Send\":0,\"Receive\":0,\"Exitval\":0,\"Signal\":0,\"Command\":\"echo \\\"a\\\"\\tb\",\"Stages\":[0,1],\"UserTime\":0.250,\"SystemTime\":0.125,\"MaxRssKiB\":2048}\n"
        );
    }
}
