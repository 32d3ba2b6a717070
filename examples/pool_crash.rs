//! One item crashes its worker process (it calls `abort()`), another
//! panics; the pool reports both, replaces the dead worker, and every other
//! item completes.
//!
//!     cargo run --example pool_crash

use parx::pool::Pool;

fn fragile(n: u32) -> u32 {
    if n == 13 {
        // A bug that would take down a threaded program with it.
        std::process::abort();
    }
    if n == 21 {
        panic!("no blackjack for item {n}");
    }
    n * n
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pool = Pool::new().workers(4);
    let (mut ok, mut failed) = (0, 0);
    for result in pool.map(0..32u32, fragile)? {
        match result {
            Ok(_) => ok += 1,
            Err(e) => {
                failed += 1;
                println!("{e}");
            }
        }
    }
    println!("{ok} items completed, {failed} failed; this process is still alive");
    Ok(())
}
