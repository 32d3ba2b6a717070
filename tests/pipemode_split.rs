//! Block splitting against GNU parallel 20221122: every case in
//! `tests/fixtures/pipemode/cases.tsv` was run through GNU parallel
//! (`gen.sh`), which recorded the exact bytes each job received and the
//! warnings it printed; parx's `Splitter` (`--pipe`) and `plan_parts`
//! (`--pipepart`) must give the same blocks, byte for byte.

use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use parx::pipemode::{BlockSize, BlockSpec, Header, Splitter, parse_size, plan_parts};

struct Case {
    name: String,
    modes: String,
    input: String,
    args: Vec<String>,
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pipemode")
}

fn cases() -> Vec<Case> {
    let text = fs::read_to_string(fixtures().join("cases.tsv")).unwrap_or_default();
    let mut out = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let fields: Vec<&str> = line.split('\t').collect();
        assert!(fields.len() >= 3, "bad case line {line:?}");
        out.push(Case {
            name: fields[0].to_owned(),
            modes: fields[1].to_owned(),
            input: fields[2].to_owned(),
            args: fields[3..].iter().map(|s| (*s).to_owned()).collect(),
        });
    }
    assert!(out.len() > 40, "cases.tsv not found or truncated");
    out
}

/// The GNU options a case uses, as a `BlockSpec`.
fn spec_of(args: &[String]) -> BlockSpec {
    let mut spec = BlockSpec {
        block_size: 0,
        ..BlockSpec::default()
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().cloned().unwrap_or_default();
        match a.as_str() {
            "--block" => spec.block_size = parse_size(&value()).unwrap_or(0),
            "--recstart" => spec.recstart = Some(value().into_bytes()),
            "--recend" => spec.recend = Some(value().into_bytes()),
            "--regexp" => spec.regexp = true,
            "-N" => spec.records = value().parse().ok(),
            "-L" => spec.lines = value().parse().ok(),
            "--header" => spec.header = Header::parse(&value()),
            "--skip-first-line" => spec.skip_first_line = true,
            "--rrs" => spec.remove_rec_sep = true,
            other => panic!("unknown option in cases.tsv: {other}"),
        }
    }
    spec
}

/// `--pipe`'s default block is 1M; `--pipepart`'s is `-10` (a tenth of the
/// file per job slot; the fixtures run with -j1).
fn pipe_spec(args: &[String]) -> BlockSpec {
    let mut spec = spec_of(args);
    if spec.block_size == 0 {
        spec.block_size = BlockSpec::default().block_size;
    }
    spec
}

fn part_spec(args: &[String], file_size: u64) -> BlockSpec {
    let mut spec = spec_of(args);
    if spec.block_size == 0 {
        spec.block_size = BlockSize::PerJobSlot(10.0).resolve(file_size, 1);
    }
    spec
}

/// `<len>\n<bytes>` records, as `gen.sh` writes them.
fn expected_blocks(path: &Path) -> Vec<Vec<u8>> {
    let data = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut blocks = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let nl = data[at..]
            .iter()
            .position(|&b| b == b'\n')
            .unwrap_or_else(|| panic!("{}: bad length line", path.display()));
        let len: usize = std::str::from_utf8(&data[at..at + nl])
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or_else(|| panic!("{}: bad length at {at}", path.display()));
        at += nl + 1;
        blocks.push(data[at..at + len].to_vec());
        at += len;
    }
    blocks
}

fn expected_warnings(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.strip_prefix("parallel: Warning: "))
        .map(str::to_owned)
        .collect()
}

/// A reader that hands out at most a few bytes per `read`, to show that
/// where reads happen to end changes nothing.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.step = self.step % 7 + 1;
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn split_all(input: impl Read, spec: BlockSpec) -> (Vec<Vec<u8>>, Vec<String>) {
    let mut splitter = Splitter::new(input, spec);
    let mut blocks = Vec::new();
    let mut seq = 0;
    for block in splitter.by_ref() {
        let block = block.unwrap_or_else(|e| panic!("split error: {e}"));
        seq += 1;
        assert_eq!(block.seq, seq, "block numbers run from 1 without gaps");
        blocks.push(block.data);
    }
    let warnings = splitter
        .take_warnings()
        .iter()
        .map(ToString::to_string)
        .collect();
    (blocks, warnings)
}

fn describe(blocks: &[Vec<u8>]) -> String {
    let sizes: Vec<usize> = blocks.iter().map(Vec::len).collect();
    format!("{} blocks, sizes {sizes:?}", blocks.len())
}

#[test]
fn pipe_blocks_match_gnu_parallel() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in cases()
        .iter()
        .filter(|c| c.modes == "pipe" || c.modes == "both")
    {
        let input = fs::read(fixtures().join("inputs").join(&case.input)).unwrap_or_default();
        let expected_path = fixtures()
            .join("expected")
            .join(format!("{}.pipe", case.name));
        let want = expected_blocks(&expected_path);
        let want_warnings = expected_warnings(&expected_path.with_extension("pipe.err"));
        let (got, warnings) = split_all(&input[..], pipe_spec(&case.args));
        if got != want {
            failures.push(format!(
                "{}: got {}, GNU {}",
                case.name,
                describe(&got),
                describe(&want)
            ));
        } else if warnings != want_warnings {
            failures.push(format!(
                "{}: warnings {warnings:?}, GNU {want_warnings:?}",
                case.name
            ));
        }
        let (trickled, _) = split_all(
            Trickle {
                data: &input,
                step: 0,
            },
            pipe_spec(&case.args),
        );
        if trickled != got {
            failures.push(format!("{}: short reads changed the blocks", case.name));
        }
        checked += 1;
    }
    assert!(checked > 40);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn pipepart_ranges_match_gnu_parallel() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in cases()
        .iter()
        .filter(|c| c.modes == "part" || c.modes == "both")
    {
        let path = fixtures().join("inputs").join(&case.input);
        let file = File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let want = expected_blocks(
            &fixtures()
                .join("expected")
                .join(format!("{}.part", case.name)),
        );
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let parts = plan_parts(&file, &part_spec(&case.args, size))
            .unwrap_or_else(|e| panic!("{}: plan_parts: {e}", case.name));
        let read = |offset: u64, len: u64| {
            let mut buf = vec![0; len as usize];
            file.read_exact_at(&mut buf, offset)
                .unwrap_or_else(|e| panic!("read: {e}"));
            buf
        };
        let got: Vec<Vec<u8>> = parts
            .iter()
            .map(|p| {
                let mut data = p.header.map(|(o, l)| read(o, l)).unwrap_or_default();
                data.extend(read(p.offset, p.len));
                data
            })
            .collect();
        if got != want {
            failures.push(format!(
                "{}: got {}, GNU {}",
                case.name,
                describe(&got),
                describe(&want)
            ));
        }
        checked += 1;
    }
    assert!(checked > 25);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn seq(count: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(count * 8);
    for i in 1..=count {
        out.extend_from_slice(format!("{i}\n").as_bytes());
    }
    out
}

fn expected_sizes(path: &Path) -> Vec<usize> {
    fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| l.trim().parse().unwrap_or(usize::MAX))
        .collect()
}

/// `seq 1000000` cases (`sizes.tsv`): GNU's per-job byte counts.
#[test]
fn large_inputs_match_gnu_parallel_block_sizes() {
    let text = fs::read_to_string(fixtures().join("sizes.tsv")).unwrap_or_default();
    let mut failures = Vec::new();
    let mut checked = 0;
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let fields: Vec<&str> = line.split('\t').collect();
        let (name, modes) = (fields[0], fields[1]);
        let input = seq(fields[2].parse().unwrap_or(0));
        let args: Vec<String> = fields[3..].iter().map(|s| (*s).to_owned()).collect();
        let expected = fixtures().join("expected");
        if modes == "pipe" || modes == "both" {
            let want = expected_sizes(&expected.join(format!("{name}.pipe.sizes")));
            let mut splitter = Splitter::new(&input[..], pipe_spec(&args));
            let mut got = Vec::new();
            let mut records = Vec::new();
            while let Some(block) = splitter.next() {
                let block = block.unwrap_or_else(|e| panic!("{name}: {e}"));
                got.push(block.data.len());
                records.extend_from_slice(block.records());
                splitter.recycle(block.data);
            }
            if got != want {
                failures.push(format!("{name} --pipe: got {got:?}, GNU {want:?}"));
            }
            let header_len = input.len() - records.len();
            if input[header_len..] != records[..] {
                failures.push(format!("{name} --pipe: blocks do not reassemble the input"));
            }
            checked += 1;
        }
        if modes == "part" || modes == "both" {
            let want = expected_sizes(&expected.join(format!("{name}.part.sizes")));
            let mut file = tempfile::tempfile().unwrap_or_else(|e| panic!("tempfile: {e}"));
            std::io::Write::write_all(&mut file, &input).unwrap_or_else(|e| panic!("{e}"));
            let parts = plan_parts(&file, &part_spec(&args, input.len() as u64))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let got: Vec<usize> = parts
                .iter()
                .map(|p| (p.len + p.header.map_or(0, |h| h.1)) as usize)
                .collect();
            if got != want {
                failures.push(format!("{name} --pipepart: got {got:?}, GNU {want:?}"));
            }
            checked += 1;
        }
    }
    assert!(checked >= 13, "sizes.tsv not found or truncated");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
