//! Counts the primes below 4,000,000 in ranges spread over worker
//! processes, and prints the speedup against a single worker process.
//!
//!     cargo run --release --example pool_primes [LIMIT] [WORKERS]

use std::time::Instant;

use parx::pool::Pool;

fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    let mut d = 2;
    while d * d <= n {
        if n.is_multiple_of(d) {
            return false;
        }
        d += 1;
    }
    true
}

fn count_primes((start, end): (u64, u64)) -> u64 {
    (start..end).filter(|&n| is_prime(n)).count() as u64
}

fn run(pool: &Pool, ranges: &[(u64, u64)]) -> Result<u64, Box<dyn std::error::Error>> {
    let mut total = 0;
    for count in pool.map(ranges.iter().copied(), count_primes)? {
        total += count?;
    }
    Ok(total)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let limit: u64 = args.next().map_or(Ok(4_000_000), |a| a.parse())?;
    let pool = match args.next() {
        Some(n) => Pool::new().workers(n.parse()?),
        None => Pool::new(),
    };
    let step = 20_000;
    let ranges: Vec<(u64, u64)> = (0..limit)
        .step_by(step as usize)
        .map(|s| (s, (s + step).min(limit)))
        .collect();

    let t = Instant::now();
    let one = run(&Pool::new().workers(1), &ranges)?;
    let t_one = t.elapsed();

    let t = Instant::now();
    let many = run(&pool, &ranges)?;
    let t_many = t.elapsed();

    assert_eq!(one, many, "the pool must not change the answer");
    println!(
        "{many} primes below {limit} ({} ranges of {step})",
        ranges.len()
    );
    println!("1 worker process:   {:>8.1} ms", t_one.as_secs_f64() * 1e3);
    println!(
        "{} worker processes: {:>8.1} ms  (speedup {:.2}x)",
        pool.worker_count(),
        t_many.as_secs_f64() * 1e3,
        t_one.as_secs_f64() / t_many.as_secs_f64()
    );
    Ok(())
}
