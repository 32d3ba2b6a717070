//! Process pool benchmarks (`cargo bench --bench pool`).
//!
//! - `cpu_bound`: 2,000 items of ~1 ms of CPU each: a sequential loop, the
//!   pool with 1 and 2 workers, and rayon with 2 threads.
//! - `trivial`: 100,000 items that cost nothing: the pool's own per-item
//!   overhead, as items/s (`map` sends each item serialized, `map_slice`
//!   only its index).
//! - `distribution`: the two designs for handing out work, as bare
//!   prototypes without failure handling, on trivial items: one shared
//!   packet-mode pipe of 8-byte indices read by competing workers (what the
//!   pool does), the same with plain-mode batched index writes, and one
//!   pipe per worker carrying length-prefixed frames with the parent
//!   choosing the worker.
//!
//! `cargo bench --bench pool -- --side-by-side` skips criterion and prints
//! one table instead: each contender run in turn, rounds interleaved, best
//! of N (a fair comparison on a machine shared with other load).
//!
//! Results and how to read them: `bench/README.md`.

use std::hint::black_box;
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use parx::pool::Pool;
use parx::sys::Pipe;
use parx::sys::fork::fork_with;
use rayon::prelude::*;
use rustix::event::{PollFd, PollFlags, poll};
use rustix::io::{Errno, read, write};

/// Spins `rounds` rounds of an xorshift: deterministic CPU work.
fn spin(seed: u64, rounds: u64) -> u64 {
    let mut x = seed | 1;
    for _ in 0..rounds {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}

/// Rounds of `spin` that take about one millisecond on this machine.
fn rounds_per_ms() -> u64 {
    let mut rounds = 10_000;
    loop {
        let t = Instant::now();
        black_box(spin(black_box(7), rounds));
        let took = t.elapsed();
        if took >= Duration::from_millis(20) {
            return (rounds as f64 / (took.as_secs_f64() * 1e3)) as u64;
        }
        rounds *= 2;
    }
}

fn cpu_bound(c: &mut Criterion) {
    let rounds = rounds_per_ms();
    let items: Vec<u64> = (0..2000).collect();
    let work = |&n: &u64| spin(n, rounds);
    let mut g = c.benchmark_group("cpu_bound");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.warm_up_time(Duration::from_secs(1));
    g.throughput(Throughput::Elements(items.len() as u64));
    g.bench_function("sequential", |b| {
        b.iter(|| items.iter().map(work).collect::<Vec<u64>>())
    });
    for workers in [1, 2] {
        let pool = Pool::new().workers(workers);
        g.bench_with_input(BenchmarkId::new("pool", workers), &pool, |b, pool| {
            b.iter(|| {
                pool.map_slice(&items, work)
                    .unwrap()
                    .collect::<Result<Vec<u64>, _>>()
                    .unwrap()
            })
        });
    }
    for threads in [1, 2] {
        let rayon = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        g.bench_function(BenchmarkId::new("rayon", threads), |b| {
            b.iter(|| rayon.install(|| items.par_iter().map(work).collect::<Vec<u64>>()))
        });
    }
    g.finish();
}

const TRIVIAL: u64 = 100_000;

fn trivial(c: &mut Criterion) {
    let items: Vec<u64> = (0..TRIVIAL).collect();
    let mut g = c.benchmark_group("trivial");
    g.sample_size(10);
    g.throughput(Throughput::Elements(TRIVIAL));
    g.bench_function("sequential", |b| {
        b.iter(|| items.iter().map(|n| black_box(n + 1)).collect::<Vec<u64>>())
    });
    for workers in [1, 2] {
        let pool = Pool::new().workers(workers);
        g.bench_with_input(BenchmarkId::new("map", workers), &pool, |b, pool| {
            b.iter(|| pool.map(0..TRIVIAL, |n| n + 1).unwrap().count())
        });
        g.bench_with_input(
            BenchmarkId::new("map_unordered", workers),
            &pool,
            |b, pool| b.iter(|| pool.map(0..TRIVIAL, |n| n + 1).unwrap().unordered().count()),
        );
        g.bench_with_input(BenchmarkId::new("map_slice", workers), &pool, |b, pool| {
            b.iter(|| pool.map_slice(&items, |n| n + 1).unwrap().count())
        });
    }
    g.finish();
}

// ---- bare prototypes of the two work-distribution designs ----

const WINDOW: u64 = 256;

fn write_all(fd: impl AsFd, mut buf: &[u8]) {
    while !buf.is_empty() {
        match write(&fd, buf) {
            Ok(n) => buf = &buf[n..],
            Err(Errno::INTR) => {}
            Err(_) => return,
        }
    }
}

/// Reads 16-byte (index, value) records from ready result pipes; returns
/// (records, sum of values). `partial` keeps bytes of unfinished records.
fn collect(results: &[OwnedFd], partial: &mut [Vec<u8>], per_worker: &mut [u64]) -> (u64, u64) {
    let mut fds: Vec<PollFd> = results
        .iter()
        .map(|fd| PollFd::new(fd, PollFlags::IN))
        .collect();
    let _ = poll(&mut fds, None);
    let ready: Vec<bool> = fds.iter().map(|p| !p.revents().is_empty()).collect();
    let (mut n, mut sum) = (0, 0);
    let mut buf = [0u8; 65536];
    for (w, fd) in results.iter().enumerate() {
        if !ready[w] {
            continue;
        }
        let Ok(got) = read(fd, &mut buf[..]) else {
            continue;
        };
        partial[w].extend_from_slice(&buf[..got]);
        let whole = partial[w].len() / 16 * 16;
        for rec in partial[w][..whole].chunks_exact(16) {
            sum += u64::from_le_bytes(rec[8..].try_into().unwrap_or_default());
            n += 1;
            per_worker[w] += 1;
        }
        partial[w].drain(..whole);
    }
    (n, sum)
}

/// One shared work pipe read by all workers; 8-byte index messages.
/// `packet`: O_DIRECT, one write per index (what the pool does); else plain
/// mode with up to 512 indices (4 KiB, still atomic) per write.
fn proto_shared(items: u64, workers: usize, packet: bool) -> u64 {
    let flags = rustix::pipe::PipeFlags::CLOEXEC
        | if packet {
            rustix::pipe::PipeFlags::DIRECT
        } else {
            rustix::pipe::PipeFlags::empty()
        };
    let (work_r, work_w) = rustix::pipe::pipe_with(flags).unwrap();
    let mut work_w = Some(work_w);
    let _ = rustix::pipe::fcntl_setpipe_size(work_w.as_ref().unwrap(), 1 << 20);
    let mut results = Vec::new();
    let mut children = Vec::new();
    for _ in 0..workers {
        let Pipe { read: r, write: w } = Pipe::new().unwrap();
        let ww = &mut work_w;
        let wr = &work_r;
        children.push(
            fork_with(move || {
                drop(ww.take());
                let mut msg = [0u8; 8];
                while let Ok(8) = read(wr, &mut msg[..]) {
                    let i = u64::from_le_bytes(msg);
                    let mut rec = [0u8; 16];
                    rec[..8].copy_from_slice(&msg);
                    rec[8..].copy_from_slice(&(i + 1).to_le_bytes());
                    write_all(&w, &rec);
                }
                0
            })
            .unwrap(),
        );
        results.push(r);
    }
    let work_w = work_w.unwrap();
    let (mut next, mut done, mut sum) = (0u64, 0u64, 0u64);
    let mut partial = vec![Vec::new(); workers];
    let mut per_worker = vec![0; workers];
    let mut batch = Vec::with_capacity(4096);
    while done < items {
        while next < items && next - done < WINDOW {
            let end = if packet {
                next + 1
            } else {
                items.min(next + 512).min(done + WINDOW)
            };
            batch.clear();
            for i in next..end {
                batch.extend_from_slice(&i.to_le_bytes());
            }
            write_all(&work_w, &batch);
            next = end;
        }
        let (n, s) = collect(&results, &mut partial, &mut per_worker);
        done += n;
        sum += s;
    }
    drop(work_w);
    for child in children {
        let _ = child.wait();
    }
    sum
}

/// One work pipe per worker; the parent keeps up to `per_worker` frames
/// (`len: u32`, `index: u64`) in flight on each and sends them in batches.
fn proto_per_worker(items: u64, workers: usize, per_worker: u64) -> u64 {
    let mut work = Vec::new();
    let mut results = Vec::new();
    let mut children = Vec::new();
    for _ in 0..workers {
        let Pipe {
            read: wr,
            write: ww,
        } = Pipe::new().unwrap();
        let Pipe {
            read: rr,
            write: rw,
        } = Pipe::new().unwrap();
        work.push(Some(ww));
        let all_work = &mut work;
        children.push(
            fork_with(move || {
                // No worker may keep any work pipe's write end open.
                all_work.iter_mut().for_each(|w| drop(w.take()));
                let mut buf = vec![0u8; 65536];
                let mut have = Vec::new();
                let mut out = Vec::new();
                while let Ok(n @ 1..) = read(&wr, &mut buf[..]) {
                    have.extend_from_slice(&buf[..n]);
                    let mut at = 0;
                    while have.len() - at >= 4 {
                        let len =
                            u32::from_le_bytes(have[at..at + 4].try_into().unwrap_or_default())
                                as usize;
                        if have.len() - at - 4 < len {
                            break;
                        }
                        let idx = &have[at + 4..at + 12];
                        let i = u64::from_le_bytes(idx.try_into().unwrap_or_default());
                        out.extend_from_slice(idx);
                        out.extend_from_slice(&(i + 1).to_le_bytes());
                        at += 4 + len;
                    }
                    have.drain(..at);
                    write_all(&rw, &out);
                    out.clear();
                }
                0
            })
            .unwrap(),
        );
        results.push(rr);
    }
    let work: Vec<OwnedFd> = work.into_iter().flatten().collect();
    let (mut next, mut done, mut sum) = (0u64, 0u64, 0u64);
    let mut sent = vec![0u64; workers];
    let mut finished = vec![0u64; workers];
    let mut partial = vec![Vec::new(); workers];
    let mut batch = Vec::new();
    while done < items {
        for w in 0..workers {
            batch.clear();
            while next < items && sent[w] - finished[w] < per_worker {
                batch.extend_from_slice(&8u32.to_le_bytes());
                batch.extend_from_slice(&next.to_le_bytes());
                next += 1;
                sent[w] += 1;
            }
            if !batch.is_empty() {
                write_all(&work[w], &batch);
            }
        }
        let (n, s) = collect(&results, &mut partial, &mut finished);
        done += n;
        sum += s;
    }
    drop(work);
    for child in children {
        let _ = child.wait();
    }
    sum
}

fn distribution(c: &mut Criterion) {
    let want: u64 = (1..=TRIVIAL).sum();
    let mut g = c.benchmark_group("distribution");
    g.sample_size(10);
    g.throughput(Throughput::Elements(TRIVIAL));
    for workers in [1, 2] {
        g.bench_function(BenchmarkId::new("shared_packet_indices", workers), |b| {
            b.iter(|| assert_eq!(proto_shared(TRIVIAL, workers, true), want))
        });
        g.bench_function(BenchmarkId::new("shared_batched_indices", workers), |b| {
            b.iter(|| assert_eq!(proto_shared(TRIVIAL, workers, false), want))
        });
        g.bench_function(BenchmarkId::new("per_worker_frames_k2", workers), |b| {
            b.iter(|| assert_eq!(proto_per_worker(TRIVIAL, workers, 2), want))
        });
        g.bench_function(BenchmarkId::new("per_worker_frames_k64", workers), |b| {
            b.iter(|| assert_eq!(proto_per_worker(TRIVIAL, workers, 64), want))
        });
    }
    g.finish();
}

criterion_group!(benches, trivial, distribution, cpu_bound);

/// CPU seconds used so far by this process (all threads) and its reaped
/// children (user + system, from /proc/self/stat, in clock ticks of 10 ms).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rfind(')').map_or("", |i| &stat[i + 2..]);
    // Fields 14-17 (utime stime cutime cstime) are 11-14 after the name.
    let ticks: u64 = after
        .split_whitespace()
        .skip(11)
        .take(4)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    ticks as f64 / 100.0
}

/// Best wall time of each contender over `rounds` interleaved rounds, and
/// its mean CPU time per round.
fn best_of(rounds: usize, contenders: &mut [(&str, &mut dyn FnMut())]) -> Vec<(Duration, f64)> {
    let mut best = vec![(Duration::MAX, 0.0); contenders.len()];
    for _ in 0..rounds {
        for (i, (_, run)) in contenders.iter_mut().enumerate() {
            let (t, cpu) = (Instant::now(), cpu_seconds());
            run();
            best[i].0 = best[i].0.min(t.elapsed());
            best[i].1 += (cpu_seconds() - cpu) / rounds as f64;
        }
    }
    best
}

fn side_by_side() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let per_ms = rounds_per_ms();
    let items: Vec<u64> = (0..2000).collect();
    let work = |&n: &u64| spin(n, per_ms);
    let pool1 = Pool::new().workers(1);
    let pool2 = Pool::new().workers(2);
    let rayon1 = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let rayon2 = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let want: Vec<u64> = items.iter().map(work).collect();
    let check = |got: Vec<u64>| assert!(got == want);
    let mut contenders: [(&str, &mut dyn FnMut()); 5] = [
        ("sequential", &mut || {
            check(items.iter().map(work).collect())
        }),
        ("pool, 1 worker", &mut || {
            check(
                pool1
                    .map_slice(&items, work)
                    .unwrap()
                    .map(|r| r.unwrap())
                    .collect(),
            )
        }),
        ("pool, 2 workers", &mut || {
            check(
                pool2
                    .map_slice(&items, work)
                    .unwrap()
                    .map(|r| r.unwrap())
                    .collect(),
            )
        }),
        ("rayon, 1 thread", &mut || {
            check(rayon1.install(|| items.par_iter().map(work).collect()))
        }),
        ("rayon, 2 threads", &mut || {
            check(rayon2.install(|| items.par_iter().map(work).collect()))
        }),
    ];
    let best = best_of(rounds, &mut contenders);
    println!("cpu-bound: 2,000 items of ~1 ms, best of {rounds} interleaved rounds");
    println!("  (cpu = mean CPU seconds per run, all threads and workers)");
    let seq = best[0].0.as_secs_f64();
    for ((name, _), (t, cpu)) in contenders.iter().zip(&best) {
        let t = t.as_secs_f64();
        println!(
            "  {name:<18} {:>8.1} ms   cpu {cpu:>5.2} s   speedup vs sequential {:.2}x",
            t * 1e3,
            seq / t
        );
    }
    println!(
        "  rayon/pool time with 2: {:.2} (1.00 = pool as fast as rayon)",
        best[4].0.as_secs_f64() / best[2].0.as_secs_f64()
    );

    let n = TRIVIAL;
    let slice: Vec<u64> = (0..n).collect();
    let mut trivial: [(&str, &mut dyn FnMut()); 5] = [
        ("map, 1 worker", &mut || {
            assert_eq!(pool1.map(0..n, |x| x + 1).unwrap().count(), n as usize)
        }),
        ("map, 2 workers", &mut || {
            assert_eq!(pool2.map(0..n, |x| x + 1).unwrap().count(), n as usize)
        }),
        ("map unordered, 2", &mut || {
            assert_eq!(
                pool2.map(0..n, |x| x + 1).unwrap().unordered().count(),
                n as usize
            )
        }),
        ("map_slice, 2", &mut || {
            assert_eq!(
                pool2.map_slice(&slice, |x| x + 1).unwrap().count(),
                n as usize
            )
        }),
        ("map_bytes, 2", &mut || {
            assert_eq!(
                pool2
                    .map_bytes((0..n).map(u64::to_le_bytes), |b| b.to_vec())
                    .unwrap()
                    .count(),
                n as usize
            )
        }),
    ];
    let best = best_of(rounds, &mut trivial);
    println!("trivial items: {n} items, best of {rounds}");
    for ((name, _), (t, _)) in trivial.iter().zip(&best) {
        let t = t.as_secs_f64();
        println!(
            "  {name:<18} {:>8.1} ms   {:>6.2} M items/s",
            t * 1e3,
            n as f64 / t / 1e6
        );
    }

    let mut empty = Duration::MAX;
    for _ in 0..rounds * 10 {
        let t = Instant::now();
        assert_eq!(pool2.map(0..0u64, |x| x).unwrap().count(), 0);
        empty = empty.min(t.elapsed());
    }
    println!(
        "  empty map, 2 workers (fork, set up, kill, reap): {:.0} us",
        empty.as_secs_f64() * 1e6
    );

    let want: u64 = (1..=n).sum();
    let mut designs: [(&str, &mut dyn FnMut()); 5] = [
        ("shared, packet, 1/msg", &mut || {
            assert_eq!(proto_shared(n, 2, true), want)
        }),
        ("shared, plain, batched", &mut || {
            assert_eq!(proto_shared(n, 2, false), want)
        }),
        ("per-worker, k=2", &mut || {
            assert_eq!(proto_per_worker(n, 2, 2), want)
        }),
        ("per-worker, k=64", &mut || {
            assert_eq!(proto_per_worker(n, 2, 64), want)
        }),
        ("pool (shared, chunks)", &mut || {
            assert_eq!(
                pool2
                    .map_slice(&slice, |x| x + 1)
                    .unwrap()
                    .map(|r| r.unwrap())
                    .sum::<u64>(),
                want
            )
        }),
    ];
    let best = best_of(rounds, &mut designs);
    println!("distribution prototypes, 2 workers, {n} trivial items, best of {rounds}");
    for ((name, _), (t, _)) in designs.iter().zip(&best) {
        let t = t.as_secs_f64();
        println!(
            "  {name:<22} {:>8.1} ms   {:>6.2} M items/s",
            t * 1e3,
            n as f64 / t / 1e6
        );
    }
}

fn main() {
    if std::env::args().any(|a| a == "--side-by-side") {
        side_by_side();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
