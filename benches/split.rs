//! Block splitting throughput (MB/s of input cut into blocks), for
//! `--pipe` with the default `\n`, a multi-byte `--recend`, `-N`, `-L` and
//! `--regexp`, and `--pipepart` planning on a file. Input: 64 MiB of
//! ~100-byte lines, in memory (so this measures the splitter, not a pipe),
//! and once from a (page-cached) file through `read(2)`.

use std::hint::black_box;
use std::io::Write;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use parx::pipemode::{BlockSpec, Splitter, plan_parts};

fn lines(total: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(total + 200);
    let mut i = 0u64;
    while out.len() < total {
        // 80-120 bytes per line, deterministic.
        let width = 80 + (i.wrapping_mul(2654435761) % 41) as usize;
        let start = out.len();
        out.extend_from_slice(format!("{i:>12} ").as_bytes());
        out.resize(start + width - 4, b'x');
        out.extend_from_slice(b"END\n");
        i += 1;
    }
    out
}

fn run(input: impl std::io::Read, spec: &BlockSpec, recycle: bool) -> usize {
    let mut s = Splitter::new(input, spec.clone());
    let mut n = 0;
    while let Some(block) = s.next() {
        let block = block.unwrap_or_default_block();
        n += block.len();
        if recycle {
            s.recycle(block);
        }
    }
    n
}

trait OrEmpty {
    fn unwrap_or_default_block(self) -> Vec<u8>;
}

impl OrEmpty for std::io::Result<parx::pipemode::Block> {
    fn unwrap_or_default_block(self) -> Vec<u8> {
        self.map(|b| b.data).unwrap_or_default()
    }
}

fn bench(c: &mut Criterion) {
    let input = lines(64 << 20);
    let mut g = c.benchmark_group("split");
    g.throughput(Throughput::Bytes(input.len() as u64));
    g.sample_size(10);
    let mb = |n: usize| BlockSpec {
        block_size: n,
        ..BlockSpec::default()
    };
    let cases: Vec<(&str, BlockSpec, bool)> = vec![
        ("newline_1M_recycled", mb(1 << 20), true),
        ("newline_1M", mb(1 << 20), false),
        ("newline_100k_recycled", mb(100_000), true),
        (
            "recend_END_1M_recycled",
            BlockSpec {
                recend: Some(br"END\n".to_vec()),
                ..mb(1 << 20)
            },
            true,
        ),
        (
            "N1000",
            BlockSpec {
                records: Some(1000),
                ..mb(1 << 20)
            },
            true,
        ),
        (
            "L1000",
            BlockSpec {
                lines: Some(1000),
                ..mb(1 << 20)
            },
            true,
        ),
        (
            "regexp_newline_1M",
            BlockSpec {
                regexp: true,
                recend: Some(b"\\n".to_vec()),
                ..mb(1 << 20)
            },
            true,
        ),
        (
            "regexp_N1000",
            BlockSpec {
                regexp: true,
                recend: Some(b"END\\n".to_vec()),
                records: Some(1000),
                ..mb(1 << 20)
            },
            true,
        ),
    ];
    for (name, spec, recycle) in &cases {
        g.bench_function(*name, |b| {
            b.iter(|| black_box(run(&input[..], spec, *recycle)))
        });
    }
    if let Ok(mut file) = tempfile::tempfile()
        && file.write_all(&input).is_ok()
    {
        let spec = mb(1 << 20);
        g.bench_function("file_read_newline_1M_recycled", |b| {
            b.iter(|| {
                let mut f = &file;
                let n = match std::io::Seek::rewind(&mut f) {
                    Ok(()) => run(f, &spec, true),
                    Err(_) => 0,
                };
                black_box(n)
            })
        });
        g.bench_function("pipepart_plan_1M", |b| {
            b.iter(|| black_box(plan_parts(&file, &spec).map(|p| p.len()).unwrap_or(0)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
