//! A `HashMap` keyed by item or chunk index, with a hash that costs one
//! multiplication instead of SipHash: the keys are our own counters, not
//! attacker-chosen, and the map is on the per-item path.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Map from an index to `V`.
pub(crate) type IndexMap<V> = HashMap<usize, V, BuildHasherDefault<IndexHasher>>;

/// Fibonacci hashing of one `usize`: spreads consecutive indices over the
/// high bits, which hashbrown uses for its control bytes.
#[derive(Default)]
pub(crate) struct IndexHasher(u64);

impl Hasher for IndexHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_as_a_map() {
        let mut m: IndexMap<u32> = IndexMap::default();
        for i in 0..10_000 {
            m.insert(i, i as u32 * 2);
        }
        assert_eq!(m.len(), 10_000);
        assert_eq!(m.remove(&4321), Some(8642));
        assert_eq!(m.get(&4321), None);
    }
}
