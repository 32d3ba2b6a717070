//! Spawn rate: start `/bin/true` and wait for it, through `parx::sys`
//! (`posix_spawn` + pidfd + `wait4`) and through `std::process::Command`,
//! one at a time and with 2 in flight (the machine has 2 cores).
//!
//! ```text
//! cargo bench --bench spawn
//! ```
//!
//! Criterion's throughput line (elem/s) is processes per second. With
//! `PARX_SPAWN_AB=10` it instead runs an interleaved A/B (see
//! [`interleaved`]). Numbers are recorded in `bench/spawn_rate.md`.

use std::collections::VecDeque;
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group};
use parx::sys::Spawn;

const TRUE: &str = "/bin/true";

fn sys_start() -> parx::sys::Child {
    Spawn::new(TRUE).spawn().expect("spawn /bin/true")
}

fn sys_wait(child: parx::sys::Child) {
    let exit = child.wait().expect("wait");
    assert!(exit.status.success());
}

fn std_start() -> std::process::Child {
    Command::new(TRUE).spawn().expect("spawn /bin/true")
}

fn std_wait(mut child: std::process::Child) {
    assert!(child.wait().expect("wait").success());
}

/// Runs `n` processes keeping `width` of them running: when the window is
/// full, wait for the oldest before starting the next.
fn in_flight<C>(n: u64, width: usize, start: fn() -> C, wait: fn(C)) -> Duration {
    let began = Instant::now();
    let mut running = VecDeque::with_capacity(width);
    for _ in 0..n {
        if running.len() == width
            && let Some(oldest) = running.pop_front()
        {
            wait(oldest);
        }
        running.push_back(start());
    }
    for child in running {
        wait(child);
    }
    began.elapsed()
}

fn spawn_wait(c: &mut Criterion) {
    let mut g = c.benchmark_group("spawn_wait_true");
    g.throughput(Throughput::Elements(1));
    g.sample_size(30);
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("parx_sys/sequential", |b| {
        b.iter_custom(|n| in_flight(n, 1, sys_start, sys_wait))
    });
    g.bench_function("std_command/sequential", |b| {
        b.iter_custom(|n| in_flight(n, 1, std_start, std_wait))
    });
    g.bench_function("parx_sys/2_in_flight", |b| {
        b.iter_custom(|n| in_flight(n, 2, sys_start, sys_wait))
    });
    g.bench_function("std_command/2_in_flight", |b| {
        b.iter_custom(|n| in_flight(n, 2, std_start, std_wait))
    });
    g.finish();
}

/// Interleaved A/B (`PARX_SPAWN_AB=ROUNDS cargo bench --bench spawn`):
/// alternates rounds of 500 processes through parx and std, so both see the
/// same background load, and prints each variant's median rate. On a busy
/// machine this compares better than criterion's back-to-back runs.
fn interleaved(rounds: usize) {
    const N: u64 = 500;
    type Variant = (&'static str, fn(u64) -> Duration);
    let variants: [Variant; 4] = [
        ("parx_sys/sequential", |n| {
            in_flight(n, 1, sys_start, sys_wait)
        }),
        ("std_command/sequential", |n| {
            in_flight(n, 1, std_start, std_wait)
        }),
        ("parx_sys/2_in_flight", |n| {
            in_flight(n, 2, sys_start, sys_wait)
        }),
        ("std_command/2_in_flight", |n| {
            in_flight(n, 2, std_start, std_wait)
        }),
    ];
    let mut rates = vec![Vec::new(); variants.len()];
    for _ in 0..rounds {
        for (i, (_, run)) in variants.iter().enumerate() {
            rates[i].push(N as f64 / run(N).as_secs_f64());
        }
    }
    for ((name, _), mut r) in variants.iter().zip(rates) {
        r.sort_by(f64::total_cmp);
        let (lo, med, hi) = (r[0], r[r.len() / 2], r[r.len() - 1]);
        println!(
            "{name:<24} median {med:>6.0} processes/s  (min {lo:.0}, max {hi:.0}, {rounds} rounds of {N})"
        );
    }
}

criterion_group!(benches, spawn_wait);

fn main() {
    if let Some(rounds) = std::env::var("PARX_SPAWN_AB")
        .ok()
        .and_then(|r| r.parse().ok())
    {
        interleaved(rounds);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
