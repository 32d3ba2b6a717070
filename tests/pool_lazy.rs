//! Back-pressure: an endless input is read lazily, and memory stays flat
//! however many items flow through.

use std::cell::Cell;
use std::time::Duration;

use parx::pool::Pool;

fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn an_endless_input_is_read_only_as_far_as_the_window() {
    let window = 64;
    let pool = Pool::new().workers(2).window(window);
    let pulled = Cell::new(0usize);
    let endless = (0u64..).inspect(|_| pulled.set(pulled.get() + 1));
    let got: Vec<u64> = pool
        .map(endless, |n| n * 2)
        .unwrap()
        .take(1000)
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(got, (0..1000u64).map(|n| n * 2).collect::<Vec<_>>());
    assert!(
        pulled.get() <= 1000 + window,
        "took {} items from the input for 1000 results",
        pulled.get()
    );
}

#[test]
fn memory_does_not_grow_with_the_number_of_items() {
    let pool = Pool::new().workers(2);
    // 1 KB items: buffering 40,000 of them would cost 40 MB.
    let items = || std::iter::repeat_with(|| vec![7u8; 1000]);
    let run = |n: usize| {
        let total: usize = pool
            .map_bytes(items(), |v| v.len().to_le_bytes().to_vec())
            .unwrap()
            .take(n)
            .map(|r| usize::from_le_bytes(r.unwrap().try_into().unwrap()))
            .sum();
        assert_eq!(total, n * 1000);
    };
    run(1000);
    let before = rss_kb();
    run(40_000);
    let grown = rss_kb().saturating_sub(before);
    assert!(
        grown < 12 * 1024,
        "resident memory grew by {grown} KiB over 40,000 items"
    );
}

#[test]
fn a_stuck_first_item_holds_back_at_most_a_window_of_input() {
    // Results must come out in order, so everything after a stuck first
    // item waits in memory: the window bounds how much.
    let window = 100;
    let pool = Pool::new()
        .workers(2)
        .window(window)
        .timeout(Duration::from_millis(800));
    let pulled = Cell::new(0usize);
    let endless = (0u64..).inspect(|_| pulled.set(pulled.get() + 1));
    let mut map = pool
        .map(endless, |n| {
            if n == 0 {
                // Stuck until the timeout kills the worker.
                let (r, _w) = std::io::pipe().unwrap();
                let _ = std::io::Read::read(&mut &r, &mut [0u8; 1]);
            }
            vec![n as u8; 10_000]
        })
        .unwrap();
    let first = map.next().unwrap();
    assert!(first.is_err(), "item 0 should have timed out");
    assert!(
        pulled.get() <= window,
        "{} items taken while the first was stuck (window {window})",
        pulled.get()
    );
    assert_eq!(map.next().unwrap().unwrap(), vec![1u8; 10_000]);
}
