//! Job slots (`{%}`): the lowest free slot number is handed out first, as
//! GNU parallel does, so `{%}` stays within 1..=jobs.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The free job slots.
pub(crate) struct Slots {
    free: BinaryHeap<Reverse<usize>>,
}

impl Slots {
    /// Slots 1..=n, all free.
    pub(crate) fn new(n: usize) -> Slots {
        Slots {
            free: (1..=n.max(1)).map(Reverse).collect(),
        }
    }

    /// Whether a slot is free.
    pub(crate) fn any_free(&self) -> bool {
        !self.free.is_empty()
    }

    /// Takes the lowest free slot.
    pub(crate) fn take(&mut self) -> Option<usize> {
        self.free.pop().map(|Reverse(s)| s)
    }

    /// Gives a slot back.
    pub(crate) fn give_back(&mut self, slot: usize) {
        self.free.push(Reverse(slot));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_free_slot_first() {
        let mut s = Slots::new(3);
        assert_eq!(s.take(), Some(1));
        assert_eq!(s.take(), Some(2));
        s.give_back(1);
        assert_eq!(s.take(), Some(1));
        assert_eq!(s.take(), Some(3));
        assert!(!s.any_free());
    }
}
