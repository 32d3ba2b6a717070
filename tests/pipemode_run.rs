//! `--pipe`, `--pipepart`, `--roundrobin`, `--cat` end to end, through the
//! real binary.

use std::io::Write;
use std::process::{Command, Stdio};

fn parx_with_input(args: &[&str], input: &[u8]) -> (i32, Vec<u8>, Vec<u8>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_parx"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        // The reader may stop early (a failing job): that is not an error here.
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (out.status.code().unwrap_or(-1), out.stdout, out.stderr)
}

fn seq(n: u32) -> Vec<u8> {
    (1..=n)
        .map(|i| format!("{i}\n"))
        .collect::<String>()
        .into_bytes()
}

#[test]
fn pipe_keep_order_cat_reproduces_the_input() {
    let input = seq(1_000_000);
    let (code, out, _) = parx_with_input(&["--pipe", "-k", "--block", "100k", "cat"], &input);
    assert_eq!(code, 0);
    assert!(out == input, "output differs from input");
}

#[test]
fn pipe_wc_counts_sum_to_the_input_lines() {
    let input = seq(1_000_000);
    let (code, out, _) = parx_with_input(&["--pipe", "--block", "100k", "wc", "-l"], &input);
    assert_eq!(code, 0);
    let text = String::from_utf8(out).unwrap();
    let counts: Vec<u64> = text.lines().map(|l| l.trim().parse().unwrap()).collect();
    assert!(counts.len() > 5, "several blocks: {}", counts.len());
    assert_eq!(counts.iter().sum::<u64>(), 1_000_000);
}

/// Every job sees only whole records: the job marks the end of its block
/// with `|`, and no record may straddle a mark.
fn blocks_of(args: &[&str], input: &[u8]) -> Vec<Vec<u8>> {
    let mut all = vec!["--pipe", "-k"];
    all.extend_from_slice(args);
    all.push("cat; printf '|'");
    let (code, out, err) = parx_with_input(&all, input);
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
    let mut blocks: Vec<Vec<u8>> = out.split(|&b| b == b'|').map(<[u8]>::to_vec).collect();
    assert_eq!(blocks.pop(), Some(Vec::new()));
    assert_eq!(blocks.concat(), input, "blocks reassemble the input");
    blocks
}

#[test]
fn records_are_never_split_by_newline_recend_recstart_or_n() {
    let lines = seq(20_000);
    for block in blocks_of(&["--block", "10k"], &lines) {
        assert_eq!(block.last(), Some(&b'\n'));
    }
    let recs: Vec<u8> = (0..3000)
        .flat_map(|i| format!("<rec>{i}\nbody {i}\n</rec>\n").into_bytes())
        .collect();
    for block in blocks_of(&["--block", "5k", "--recend", "</rec>\\n"], &recs) {
        assert!(block.ends_with(b"</rec>\n"));
    }
    for block in blocks_of(
        &["--block", "5k", "--recstart", "<rec>", "--recend", ""],
        &recs,
    ) {
        assert!(block.starts_with(b"<rec>"));
    }
    let blocks = blocks_of(&["-N", "7"], &lines);
    for block in &blocks[..blocks.len() - 1] {
        assert_eq!(block.iter().filter(|&&b| b == b'\n').count(), 7);
    }
}

#[test]
fn header_is_repeated_at_the_top_of_every_block() {
    let mut csv = b"name,value\n".to_vec();
    csv.extend((0..500).flat_map(|i| format!("n{i},{i}\n").into_bytes()));
    let (code, out, _) = parx_with_input(
        &[
            "--pipe",
            "-k",
            "--header",
            ":",
            "--block",
            "1k",
            "cat; printf '|'",
        ],
        &csv,
    );
    assert_eq!(code, 0);
    let blocks: Vec<&[u8]> = out
        .split(|&b| b == b'|')
        .filter(|b| !b.is_empty())
        .collect();
    assert!(blocks.len() > 3);
    let mut body = Vec::new();
    for b in blocks {
        assert!(b.starts_with(b"name,value\n"));
        assert_eq!(b.windows(11).filter(|w| w == b"name,value\n").count(), 1);
        body.extend_from_slice(&b[11..]);
    }
    assert_eq!(body, csv[11..]);
}

#[test]
fn pipepart_delivers_the_same_data_as_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data");
    let input = seq(300_000);
    std::fs::write(&file, &input).unwrap();
    let f = file.to_str().unwrap();
    let (code, part_out, _) = parx_with_input(
        &["--pipepart", "-a", f, "-k", "--block", "100k", "cat"],
        b"",
    );
    assert_eq!(code, 0);
    let (_, pipe_out, _) = parx_with_input(&["--pipe", "-k", "--block", "100k", "cat"], &input);
    assert!(part_out == pipe_out && part_out == input);
    let (_, counts, _) =
        parx_with_input(&["--pipepart", "-a", f, "--block", "100k", "wc", "-l"], b"");
    let total: u64 = String::from_utf8(counts)
        .unwrap()
        .lines()
        .map(|l| l.trim().parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, 300_000);
}

#[test]
fn roundrobin_starts_exactly_the_workers_and_delivers_everything_once() {
    let input = seq(200_000);
    // About 1,000 blocks for 2 workers.
    let (code, out, _) = parx_with_input(
        &[
            "--pipe",
            "--roundrobin",
            "-j2",
            "--block",
            "1300",
            "sort -n",
        ],
        &input,
    );
    assert_eq!(code, 0);
    // Two workers: two sorted runs whose merge is the input.
    let text = String::from_utf8(out).unwrap();
    let mut nums: Vec<u32> = text.lines().map(|l| l.parse().unwrap()).collect();
    let breaks = nums.windows(2).filter(|w| w[1] < w[0]).count();
    assert!(breaks <= 1, "more than 2 workers' outputs: {breaks} breaks");
    nums.sort_unstable();
    assert_eq!(nums, (1..=200_000).collect::<Vec<_>>());
}

#[test]
fn a_worker_that_exits_without_reading_fails_alone() {
    let input = seq(50_000);
    let (code, out, err) = parx_with_input(
        &[
            "--pipe",
            "-k",
            "--block",
            "10k",
            "if [ {#} = 3 ]; then exit 1; fi; cat",
        ],
        &input,
    );
    assert_eq!(code, 1, "{}", String::from_utf8_lossy(&err));
    let nums: Vec<u32> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    // In order, each at most once, one contiguous gap (block 3).
    assert!(nums.windows(2).all(|w| w[0] < w[1]));
    let gaps = nums.windows(2).filter(|w| w[1] != w[0] + 1).count();
    assert_eq!(gaps, 1);
    assert_eq!(nums[0], 1);
    assert_eq!(*nums.last().unwrap(), 50_000);
}

#[test]
fn cat_gives_each_job_a_file_that_is_removed_afterwards() {
    let input = seq(30_000);
    let (code, out, _) = parx_with_input(
        &["--pipe", "--cat", "-k", "--block", "50k", "cat {}; echo {}"],
        &input,
    );
    assert_eq!(code, 0);
    let text = String::from_utf8(out).unwrap();
    let mut data = String::new();
    for line in text.lines() {
        if line.starts_with('/') {
            assert!(!std::path::Path::new(line).exists(), "{line} left behind");
        } else {
            data.push_str(line);
            data.push('\n');
        }
    }
    assert_eq!(data.into_bytes(), input);
}

#[test]
fn empty_input_runs_no_job() {
    let (code, out, _) = parx_with_input(&["--pipe", "echo", "ran"], b"");
    assert_eq!(code, 0);
    assert!(out.is_empty());
}
