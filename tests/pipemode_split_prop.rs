//! Properties of block splitting over random inputs and specs: nothing is
//! lost, added or reordered; blocks end on record boundaries; `-N` and `-L`
//! blocks hold exactly their count; blocks stay within the (grown) block
//! size; short reads change nothing; `--pipepart` parts tile the file.

use std::io::{self, Read, Write};

use parx::pipemode::{Block, BlockSpec, Header, Splitter, decode_escapes, plan_parts};
use proptest::prelude::*;

struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.step = self.step % 5 + 1;
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn input() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop::sample::select(vec![b'a', b'a', b'b', b'\n', b'\n', b'>', 0u8]),
        0..2500,
    )
}

fn spec() -> impl Strategy<Value = BlockSpec> {
    (
        1usize..300,
        prop::option::of(prop::sample::select(vec![">", "a>", "\\n"])),
        prop::option::of(prop::sample::select(vec!["\\n", "\\0", "ab", "", "b\\n"])),
        prop::option::of(0usize..5),
        prop::option::of(0usize..4),
        prop::sample::select(vec![Header::None, Header::Lines(1), Header::Lines(2)]),
        any::<bool>(),
    )
        .prop_map(
            |(block_size, recstart, recend, records, lines, header, skip)| BlockSpec {
                block_size,
                recstart: recstart.map(|s| s.as_bytes().to_vec()),
                recend: recend.map(|s| s.as_bytes().to_vec()),
                records,
                lines,
                header,
                skip_first_line: skip,
                ..BlockSpec::default()
            },
        )
}

fn split(input: impl Read, spec: BlockSpec) -> (Vec<Block>, usize) {
    let mut s = Splitter::new(input, spec);
    let blocks = s
        .by_ref()
        .collect::<io::Result<Vec<_>>>()
        .unwrap_or_else(|e| panic!("split: {e}"));
    (blocks, s.block_size())
}

/// The separator as bytes and where in it a block is cut.
fn separator(spec: &BlockSpec) -> (Vec<u8>, usize) {
    let (start, end) = match (&spec.recstart, &spec.recend) {
        (None, None) => (Vec::new(), b"\n".to_vec()),
        (s, e) => (
            s.as_deref().map(decode_escapes).unwrap_or_default(),
            e.as_deref().map(decode_escapes).unwrap_or_default(),
        ),
    };
    let mut sep = end.clone();
    sep.extend_from_slice(&start);
    (sep, end.len())
}

fn count(hay: &[u8], needle: &[u8]) -> usize {
    memchr::memmem::find_iter(hay, needle).count()
}

/// Blocks reassemble the input (header once, then every block's records),
/// each block ends on a record boundary, `-N`/`-L` blocks hold exactly
/// their count. An input that is only the header starts no job (no block),
/// as in GNU parallel.
fn blocks_respect_records(data: &[u8], spec: BlockSpec) -> Result<(), TestCaseError> {
    let (blocks, final_size) = split(data, spec.clone());
    let body = if spec.skip_first_line {
        match memchr::memchr(b'\n', data) {
            Some(i) => &data[i + 1..],
            None => &[][..],
        }
    } else {
        data
    };
    if blocks.is_empty() {
        // `--header 2` on exactly two lines: nothing but the header.
        let header_only = matches!(spec.header, Header::Lines(n)
            if count(body, b"\n") == n && body.ends_with(b"\n"));
        prop_assert!(body.is_empty() || header_only, "no block for {:?}", body);
        return Ok(());
    }
    let header_len = blocks.first().map_or(0, |b| b.header_len);
    let header = &body[..header_len];
    let mut joined = header.to_vec();
    for (i, b) in blocks.iter().enumerate() {
        prop_assert_eq!(b.seq, i as u64 + 1);
        prop_assert_eq!(b.header_len, header_len);
        prop_assert_eq!(&b.data[..header_len], header);
        prop_assert!(!b.records().is_empty(), "empty block");
        prop_assert!(b.records().len() <= final_size);
        joined.extend_from_slice(b.records());
    }
    prop_assert_eq!(&joined[..], body, "blocks do not reassemble the input");
    if let Header::Lines(n) = spec.header
        && header_len > 0
    {
        prop_assert_eq!(count(header, b"\n"), n);
        prop_assert!(header.ends_with(b"\n"));
    }

    let (sep, recend_len) = separator(&spec);
    let lines = spec.lines.map(|l| l.max(1));
    let records = spec.records.filter(|&n| n > 0);
    let mut at = header_len;
    let last = blocks.len().saturating_sub(1);
    for (i, b) in blocks.iter().enumerate() {
        let recs = b.records();
        at += recs.len();
        if i == last {
            break;
        }
        match (records, lines) {
            (None, Some(l)) => {
                prop_assert!(recs.ends_with(b"\n"));
                prop_assert_eq!(count(recs, b"\n") % l, 0);
            }
            _ if sep.is_empty() => {}
            (n, l) => {
                // The cut is right after `recend`, before `recstart`.
                let cut = at - recend_len;
                prop_assert!(body[cut..].starts_with(&sep), "record split at {}", at);
                if let (Some(n), true) = (n, sep.len() == 1) {
                    // GNU's nindex: the n-th separator counted from the
                    // block's second byte is where the block ends.
                    let from = at - recs.len() + 1;
                    prop_assert_eq!(count(&body[from..=cut], &sep), n * l.unwrap_or(1));
                }
            }
        }
    }
    Ok(())
}

/// Inputs that failed once (kept as explicit cases: proptest writes no
/// regression files, see `CONFIG`).
#[test]
fn past_failures_respect_records() {
    let cases = [
        (
            vec![10, 10],
            BlockSpec {
                header: Header::Lines(2),
                ..BlockSpec::default()
            },
        ),
        (
            vec![97, 10, 10, 10],
            BlockSpec {
                block_size: 1,
                recstart: Some(b"\\n".to_vec()),
                records: Some(1),
                ..BlockSpec::default()
            },
        ),
        (
            vec![97],
            BlockSpec {
                block_size: 2,
                skip_first_line: true,
                ..BlockSpec::default()
            },
        ),
    ];
    for (data, spec) in cases {
        blocks_respect_records(&data, spec.clone())
            .unwrap_or_else(|e| panic!("{data:?} {spec:?}: {e}"));
        let (whole, _) = split(&data[..], spec.clone());
        let (trickled, _) = split(
            Trickle {
                data: &data,
                step: 0,
            },
            spec,
        );
        assert_eq!(whole, trickled);
    }
}

/// Property-test settings: a failure is reported with its minimal input
/// and never written to a `.proptest-regressions` file (a tracked file
/// that would make every later run fail the same way; a case worth
/// keeping becomes an explicit test like the one above).
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(400))]

    #[test]
    fn blocks_reassemble_the_input_and_respect_records(data in input(), spec in spec()) {
        blocks_respect_records(&data, spec)?;
    }

    #[test]
    fn short_reads_change_nothing(data in input(), spec in spec()) {
        let (whole, _) = split(&data[..], spec.clone());
        let (trickled, _) = split(Trickle { data: &data, step: 0 }, spec);
        prop_assert_eq!(whole, trickled);
    }

    #[test]
    fn regexp_blocks_reassemble_the_input(
        data in input(),
        block_size in 1usize..300,
        recend in prop::sample::select(vec!["\n", "b+\n", "\n(?:>|a)", ""]),
        recstart in prop::option::of(prop::sample::select(vec!["^>", "a"])),
        records in prop::option::of(1usize..4),
    ) {
        let spec = BlockSpec {
            block_size,
            regexp: true,
            recend: Some(recend.as_bytes().to_vec()),
            recstart: recstart.map(|s| s.as_bytes().to_vec()),
            records,
            ..BlockSpec::default()
        };
        let (blocks, _) = split(&data[..], spec);
        let joined: Vec<u8> = blocks.iter().flat_map(|b| b.data.iter().copied()).collect();
        prop_assert_eq!(joined, data);
    }

    #[test]
    fn pipepart_parts_tile_the_file(data in input(), spec in spec()) {
        let spec = BlockSpec { records: None, lines: None, ..spec };
        let mut file = tempfile::tempfile().map_err(|e| TestCaseError::fail(e.to_string()))?;
        file.write_all(&data).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let parts = plan_parts(&file, &spec).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let start = parts.first().map_or(data.len() as u64, |p| p.offset);
        let mut at = start;
        for p in &parts {
            prop_assert_eq!(p.offset, at);
            prop_assert!(p.len > 0);
            prop_assert_eq!(p.header, parts[0].header);
            at += p.len;
        }
        prop_assert_eq!(at, data.len() as u64);
        let (sep, recend_len) = separator(&spec);
        for p in &parts[..parts.len().saturating_sub(1)] {
            prop_assert!(p.len >= spec.block_size as u64, "part shorter than --block");
            if !sep.is_empty() {
                let cut = (p.offset + p.len) as usize - recend_len;
                prop_assert!(data[cut..].starts_with(&sep));
            }
        }
    }
}

/// A non-blocking input: every other `read` would block.
struct Flaky<'a> {
    data: &'a [u8],
    calls: usize,
}

impl Read for Flaky<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.calls % 2 == 1 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = (self.calls % 9 + 1).min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

proptest! {
    #![proptest_config(config(200))]

    /// `WouldBlock` is resumable: retrying `next()` gives the same blocks.
    #[test]
    fn would_block_is_resumable(data in input(), spec in spec()) {
        let (want, _) = split(&data[..], spec.clone());
        let mut s = Splitter::new(Flaky { data: &data, calls: 0 }, spec);
        let mut got = Vec::new();
        let mut spins = 0;
        for item in s.by_ref() {
            match item {
                Ok(block) => got.push(block),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    spins += 1;
                    prop_assert!(spins < 100_000, "no progress");
                }
                Err(e) => return Err(TestCaseError::fail(e.to_string())),
            }
        }
        prop_assert_eq!(got, want);
    }
}
