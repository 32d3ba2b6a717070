//! The pool's results equal a sequential map: ordered, unordered, over a
//! slice, over raw bytes.

use parx::pool::{Failure, Pool, TaskError};

fn f(n: u64) -> u64 {
    n.wrapping_mul(2_654_435_761) ^ (n >> 3)
}

#[test]
fn ordered_map_equals_sequential_map_for_100_000_items() {
    let pool = Pool::new().workers(2);
    let got: Vec<u64> = pool
        .map(0..100_000u64, f)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let want: Vec<u64> = (0..100_000u64).map(f).collect();
    assert_eq!(got, want);
}

#[test]
fn unordered_map_gives_every_result_once_for_100_000_items() {
    let pool = Pool::new().workers(3);
    let mut got: Vec<(usize, u64)> = pool
        .map(0..100_000u64, f)
        .unwrap()
        .unordered()
        .map(|(i, r)| (i, r.unwrap()))
        .collect();
    got.sort_unstable();
    let want: Vec<(usize, u64)> = (0..100_000u64).map(|n| (n as usize, f(n))).collect();
    assert_eq!(got, want);
}

#[test]
fn slice_map_sends_indices_and_handles_big_items() {
    // Each item is 10 KB: too big for one pipe message, fine by index.
    let items: Vec<Vec<u8>> = (0..200u32).map(|i| vec![(i % 251) as u8; 10_000]).collect();
    let pool = Pool::new().workers(2);
    let got: Vec<u64> = pool
        .map_slice(&items, |v| v.iter().map(|&b| u64::from(b)).sum())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let want: Vec<u64> = items
        .iter()
        .map(|v| v.iter().map(|&b| u64::from(b)).sum())
        .collect();
    assert_eq!(got, want);
}

#[test]
fn bytes_map_round_trips_raw_bytes_of_any_result_size() {
    let pool = Pool::new().workers(2);
    let items: Vec<Vec<u8>> = (0..500u32).map(|i| i.to_string().into_bytes()).collect();
    // Results much larger than PIPE_BUF come back whole.
    let got: Vec<Vec<u8>> = pool
        .map_bytes(&items, |b| b.repeat(2000))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let want: Vec<Vec<u8>> = items.iter().map(|b| b.repeat(2000)).collect();
    assert_eq!(got, want);
}

#[test]
fn an_item_too_large_for_one_message_fails_alone() {
    let pool = Pool::new().workers(2);
    let items = vec![vec![1u8; 10], vec![2u8; 5000], vec![3u8; 10]];
    let got: Vec<Result<usize, TaskError>> =
        pool.map(items, |v: Vec<u8>| v.len()).unwrap().collect();
    assert_eq!(got[0], Ok(10));
    assert!(matches!(
        &got[1],
        Err(TaskError {
            index: 1,
            failure: Failure::TooLarge { .. }
        })
    ));
    assert_eq!(got[2], Ok(10));
}

#[test]
fn strings_and_structs_cross_with_postcard() {
    let pool = Pool::new().workers(2);
    let words = ["alpha", "beta", "gamma"].map(String::from);
    let got: Vec<(String, usize)> = pool
        .map(words.clone(), |w: String| (w.to_uppercase(), w.len()))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        got,
        [
            ("ALPHA".to_string(), 5),
            ("BETA".to_string(), 4),
            ("GAMMA".to_string(), 5)
        ]
    );
}

#[test]
fn an_empty_input_gives_an_empty_result() {
    let pool = Pool::new().workers(2);
    assert_eq!(pool.map(Vec::<u32>::new(), |x| x).unwrap().count(), 0);
}

#[test]
fn a_worker_can_run_a_pool_of_its_own() {
    let pool = Pool::new().workers(2);
    let got: Vec<u64> = pool
        .map(1..=4u64, |n| {
            let inner = Pool::new().workers(2);
            inner
                .map(0..n * 10, |k| k * n)
                .unwrap()
                .map(|r| r.unwrap())
                .sum::<u64>()
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let want: Vec<u64> = (1..=4u64)
        .map(|n| (0..n * 10).map(|k| k * n).sum())
        .collect();
    assert_eq!(got, want);
}

#[test]
fn the_function_sees_data_captured_before_the_fork() {
    // No Send, no 'static, no serde: the workers hold a copy-on-write copy.
    let table: std::rc::Rc<Vec<u32>> = std::rc::Rc::new((0..1000).map(|i| i * i).collect());
    let pool = Pool::new().workers(2);
    let got: Vec<u32> = pool
        .map(0..1000usize, |i| table[i] + 1)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(got, table.iter().map(|v| v + 1).collect::<Vec<_>>());
}

#[test]
fn megabyte_results_come_back_whole() {
    let pool = Pool::new().workers(2);
    let got: Vec<Vec<u8>> = pool
        .map_bytes([[1u8], [2], [3], [4]], |b| vec![b[0]; 1 << 20])
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (i, r) in got.iter().enumerate() {
        assert_eq!(r.len(), 1 << 20);
        assert!(r.iter().all(|&x| x == i as u8 + 1));
    }
}

#[test]
fn a_result_that_cannot_be_serialized_fails_alone() {
    // postcard needs the length of a sequence up front: a serializer
    // error, reported for that item only.
    struct Unsized;
    impl serde::Serialize for Unsized {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeSeq;
            let seq = s.serialize_seq(None)?;
            seq.end()
        }
    }
    impl<'de> serde::Deserialize<'de> for Unsized {
        fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
            Ok(Unsized)
        }
    }
    let pool = Pool::new().workers(1);
    let got: Vec<Result<Option<Unsized>, TaskError>> = pool
        .map(0..3u8, |n| (n == 1).then_some(Unsized))
        .unwrap()
        .collect();
    assert!(got[0].as_ref().is_ok_and(Option::is_none));
    let err = got[1].as_ref().err().unwrap();
    assert!(
        matches!(&err.failure, Failure::Codec(m) if m.contains("could not serialize the result")),
        "{err}"
    );
    assert!(got[2].as_ref().is_ok_and(Option::is_none));
}

#[test]
fn an_item_that_cannot_be_serialized_fails_alone() {
    struct Unsized(u8);
    impl serde::Serialize for Unsized {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeSeq;
            if self.0 == 1 {
                return s.serialize_seq(None)?.end();
            }
            s.serialize_u8(self.0)
        }
    }
    impl<'de> serde::Deserialize<'de> for Unsized {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            <u8 as serde::Deserialize>::deserialize(d).map(Unsized)
        }
    }
    let pool = Pool::new().workers(1);
    let got: Vec<Result<u8, TaskError>> = pool
        .map((0..3u8).map(Unsized), |u: Unsized| u.0 * 10)
        .unwrap()
        .collect();
    assert_eq!(got[0], Ok(0));
    assert!(
        matches!(&got[1], Err(TaskError { index: 1, failure: Failure::Codec(m) }) if m.contains("could not serialize the item")),
        "{:?}",
        got[1]
    );
    assert_eq!(got[2], Ok(20));
}
