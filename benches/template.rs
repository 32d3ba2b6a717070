//! Template expansion per job: how long parx takes to turn one input value
//! into the command line GNU parallel would build (`Job::command_line`,
//! what `--dry-run` prints and what the executor parses).
//!
//! ```text
//! cargo bench --bench template
//! ```
//!
//! Groups (criterion's elem/s = jobs per second):
//! - `command_line/<template>`: jobs already read; only the expansion and
//!   GNU parallel's quoting of the substituted values;
//! - `stream/<template>`: the whole input side for 10,000 `:::` values:
//!   parse the command line once, read the records, build each `Job`,
//!   expand it (what `parx --dry-run` does per input, minus the write).
//!
//! Side-by-side numbers against GNU parallel are `bench/compare.sh`'s
//! `dry-run-10M` scenario; results in `bench/README.md`.

use std::ffi::OsString;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use parx::template::Job;

/// Templates from simple to busy: one `{}`, a typical pipeline with path
/// replacements, and positional/sequence/slot strings.
const TEMPLATES: &[(&str, &[&str])] = &[
    ("echo", &["echo", "{}"]),
    (
        "gzip-mv",
        &["gzip -1 < {} > {.}.gz && mv {.}.gz out/{/.}.gz"],
    ),
    (
        "rich",
        &["convert", "{}", "-resize", "50%", "thumbs/{/.}_{#}_{%}.jpg"],
    ),
];

/// Input values: plain words, paths, and values that need shell quoting.
fn inputs(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| match i % 3 {
            0 => format!("item-{i}"),
            1 => format!("/data/run {i}/file.{i}.txt"),
            _ => format!("it's $HOME; a|b {i}"),
        })
        .collect()
}

/// Parses `template ::: inputs...` as parx's command line.
fn config(template: &[&str], inputs: &[String]) -> parx::cli::Config {
    let mut args: Vec<OsString> = template.iter().map(OsString::from).collect();
    args.push(":::".into());
    args.extend(inputs.iter().map(OsString::from));
    match parx::cli::parse(args) {
        Ok(c) => c,
        Err(e) => panic!("bench command line rejected: {e}"),
    }
}

fn jobs(config: &parx::cli::Config) -> Vec<Job> {
    let iter = match config.jobs() {
        Ok(it) => it,
        Err(e) => panic!("opening inputs: {e}"),
    };
    iter.map(|j| match j {
        Ok(job) => job,
        Err(e) => panic!("reading inputs: {e}"),
    })
    .collect()
}

fn command_line(c: &mut Criterion) {
    let values = inputs(1000);
    let mut g = c.benchmark_group("command_line");
    g.throughput(Throughput::Elements(values.len() as u64));
    for (name, template) in TEMPLATES {
        let jobs = jobs(&config(template, &values));
        assert_eq!(jobs.len(), values.len());
        g.bench_with_input(BenchmarkId::from_parameter(name), &jobs, |b, jobs| {
            b.iter(|| {
                for (i, job) in jobs.iter().enumerate() {
                    black_box(job.command_line(i % 2 + 1));
                }
            })
        });
    }
    g.finish();
}

fn stream(c: &mut Criterion) {
    let values = inputs(10_000);
    let mut g = c.benchmark_group("stream");
    g.sample_size(20);
    g.throughput(Throughput::Elements(values.len() as u64));
    for (name, template) in TEMPLATES {
        g.bench_with_input(
            BenchmarkId::from_parameter(name),
            template,
            |b, template| {
                b.iter(|| {
                    let config = config(template, &values);
                    let mut bytes = 0;
                    for job in jobs(&config) {
                        bytes += black_box(job.command_line(1)).len();
                    }
                    bytes
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, command_line, stream);

fn main() {
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
