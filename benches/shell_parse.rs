//! Shell parse of typical job commands: the cost parx pays per job to read
//! `a | b > f && c` itself instead of starting a shell (GNU parallel pays a
//! whole `bash` start, ~1 ms, for the same).
//!
//! ```text
//! cargo bench --bench shell_parse
//! ```
//!
//! Criterion's elem/s is commands parsed per second. The commands are the
//! kind `--dry-run` prints: substituted values already shell-quoted.
//! Results in `bench/README.md`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};

const COMMANDS: &[(&str, &str)] = &[
    ("simple", "gzip -1 /data/logs/access.log.1"),
    ("pipeline", "echo job-4711 | tr a-z A-Z"),
    (
        "quoted",
        r#"grep -c 'it'"'"'s $HOME; a|b' "/data/run 7/file.7.txt" > out/7.count 2>&1"#,
    ),
    (
        "and-or",
        "FOO=bar sort -u in/12.txt | uniq -c > out/12.txt && mv out/12.txt done/ || echo failed 12 >&2",
    ),
    // Needs a real shell: detected at parse time (the fallback path).
    ("fallback", "for f in $(ls /data/12); do wc -l \"$f\"; done"),
];

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("shell_parse");
    g.throughput(Throughput::Elements(1));
    for (name, cmd) in COMMANDS {
        let script = match parx::shell::parse(cmd.as_bytes()) {
            Ok(s) => s,
            Err(e) => panic!("{name}: {e}"),
        };
        assert_eq!(
            script.fallback_reason().is_some(),
            *name == "fallback",
            "{name}"
        );
        g.bench_with_input(BenchmarkId::from_parameter(name), cmd, |b, cmd| {
            b.iter(|| parx::shell::parse(black_box(cmd.as_bytes())))
        });
    }
    g.finish();
}

criterion_group!(benches, parse);

fn main() {
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
