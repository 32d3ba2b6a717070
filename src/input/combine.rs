//! Combining several input sources into records, in GNU parallel's order.
//!
//! - Without links every combination is produced, the first source varying
//!   slowest (`::: a b ::: 1 2` gives `a 1`, `a 2`, `b 1`, `b 2`).
//! - Sources linked with `:::+`/`::::+` are paired up value by value,
//!   stopping at the shortest, and the pairs are combined with the rest.
//! - `--link` pairs up all sources, cycling the shorter ones until the
//!   longest ends.
//! - An empty source counts as one empty value, unless every source is
//!   empty (then there are no records).
//!
//! The first source (or first linked group) is streamed; later sources are
//! read into memory once.

use super::{InputError, RecordReader};

/// Yields one value per input source for each record.
pub struct Combiner {
    state: State,
}

enum State {
    Nested(Nested),
    Link(Link),
    Done,
}

struct Nested {
    /// The first group, streamed; `None` for a source known to be empty
    /// (it contributes one empty value).
    first: Vec<Option<RecordReader>>,
    /// Values peeked while checking for emptiness, used before reading on.
    peeked: Vec<Option<Vec<u8>>>,
    /// Later groups, in memory: each is a list of tuples.
    rest: Vec<Vec<Vec<Vec<u8>>>>,
    current: Option<Vec<Vec<u8>>>,
    odometer: Vec<usize>,
    first_done_once: bool,
}

struct Link {
    readers: Vec<Option<RecordReader>>,
    history: Vec<Vec<Vec<u8>>>,
    cursor: Vec<usize>,
}

fn read_all(reader: &mut RecordReader) -> Result<Vec<Vec<u8>>, InputError> {
    let mut all = Vec::new();
    while let Some(v) = reader.next_record()? {
        all.push(v);
    }
    Ok(all)
}

impl Combiner {
    /// Combines `readers`; `linked[i]` links source `i` to source `i-1`;
    /// `link_all` is `--link`.
    pub fn new(
        mut readers: Vec<RecordReader>,
        linked: &[bool],
        link_all: bool,
    ) -> Result<Self, InputError> {
        if readers.is_empty() {
            return Ok(Combiner { state: State::Done });
        }
        if link_all {
            let n = readers.len();
            return Ok(Combiner {
                state: State::Link(Link {
                    readers: readers.into_iter().map(Some).collect(),
                    history: vec![Vec::new(); n],
                    cursor: vec![0; n],
                }),
            });
        }
        // Group boundaries: a source starts a new group unless linked.
        let mut group_of = Vec::with_capacity(readers.len());
        let mut g = 0usize;
        for i in 0..readers.len() {
            if i > 0 && !linked.get(i).copied().unwrap_or(false) {
                g += 1;
            }
            group_of.push(g);
        }
        let first_len = group_of.iter().filter(|&&x| x == 0).count();
        let later = readers.split_off(first_len);
        let mut any_value = false;
        // Later sources: read fully, empty ones become one empty value.
        let mut later_values = Vec::with_capacity(later.len());
        for mut r in later {
            let mut values = read_all(&mut r)?;
            if values.is_empty() {
                values.push(Vec::new());
            } else {
                any_value = true;
            }
            later_values.push(values);
        }
        // First group: peek one value from each source.
        let mut first = Vec::with_capacity(first_len);
        let mut peeked = Vec::with_capacity(first_len);
        for mut r in readers {
            match r.next_record()? {
                Some(v) => {
                    any_value = true;
                    peeked.push(Some(v));
                    first.push(Some(r));
                }
                None => {
                    peeked.push(Some(Vec::new()));
                    first.push(None);
                }
            }
        }
        if !any_value {
            return Ok(Combiner { state: State::Done });
        }
        // Zip later sources within their groups.
        let mut rest: Vec<Vec<Vec<Vec<u8>>>> = Vec::new();
        let mut values_iter = later_values.into_iter();
        let mut group_sizes = Vec::new();
        for &gi in &group_of[first_len..] {
            if group_sizes.len() < gi {
                group_sizes.push(0usize);
            }
            if let Some(last) = group_sizes.last_mut() {
                *last += 1;
            }
        }
        for size in group_sizes {
            let members: Vec<Vec<Vec<u8>>> = values_iter.by_ref().take(size).collect();
            let shortest = members.iter().map(Vec::len).min().unwrap_or(0);
            let tuples = (0..shortest)
                .map(|k| members.iter().map(|m| m[k].clone()).collect())
                .collect();
            rest.push(tuples);
        }
        let odometer = vec![0; rest.len()];
        Ok(Combiner {
            state: State::Nested(Nested {
                first,
                peeked,
                rest,
                current: None,
                odometer,
                first_done_once: false,
            }),
        })
    }
}

impl Nested {
    /// The next tuple of the (streamed) first group.
    fn next_first(&mut self) -> Result<Option<Vec<Vec<u8>>>, InputError> {
        let mut tuple = Vec::with_capacity(self.first.len());
        let mut any_live = false;
        for (reader, peek) in self.first.iter_mut().zip(self.peeked.iter_mut()) {
            if let Some(v) = peek.take() {
                if reader.is_some() {
                    any_live = true;
                }
                tuple.push(v);
                continue;
            }
            match reader {
                Some(r) => match r.next_record()? {
                    Some(v) => {
                        any_live = true;
                        tuple.push(v);
                    }
                    None => return Ok(None),
                },
                // An empty source gave its one empty value already.
                None => return Ok(None),
            }
        }
        if !any_live && self.first_done_once {
            return Ok(None);
        }
        self.first_done_once = true;
        Ok(Some(tuple))
    }

    fn next(&mut self) -> Result<Option<Vec<Vec<u8>>>, InputError> {
        if self.rest.iter().any(Vec::is_empty) {
            return Ok(None);
        }
        loop {
            if self.current.is_none() {
                match self.next_first()? {
                    Some(t) => {
                        self.current = Some(t);
                        self.odometer.iter_mut().for_each(|x| *x = 0);
                    }
                    None => return Ok(None),
                }
            }
            if self.rest.is_empty() {
                // One group only: nothing to combine, no copy needed.
                if let Some(record) = self.current.take() {
                    return Ok(Some(record));
                }
                continue;
            }
            let Some(current) = &self.current else {
                continue;
            };
            let mut record = current.clone();
            for (group, &k) in self.rest.iter().zip(&self.odometer) {
                record.extend(group[k].iter().cloned());
            }
            // Advance the odometer, last group fastest.
            let mut carry = true;
            for (i, group) in self.rest.iter().enumerate().rev() {
                self.odometer[i] += 1;
                if self.odometer[i] < group.len() {
                    carry = false;
                    break;
                }
                self.odometer[i] = 0;
            }
            if carry {
                self.current = None;
            }
            return Ok(Some(record));
        }
    }
}

impl Link {
    fn next(&mut self) -> Result<Option<Vec<Vec<u8>>>, InputError> {
        let mut record = Vec::with_capacity(self.readers.len());
        let mut fresh = false;
        for i in 0..self.readers.len() {
            let value = match &mut self.readers[i] {
                Some(r) => r.next_record()?,
                None => None,
            };
            match value {
                Some(v) => {
                    fresh = true;
                    self.history[i].push(v.clone());
                    record.push(v);
                }
                None => {
                    self.readers[i] = None;
                    let h = &self.history[i];
                    if h.is_empty() {
                        record.push(Vec::new());
                    } else {
                        record.push(h[self.cursor[i] % h.len()].clone());
                        self.cursor[i] += 1;
                    }
                }
            }
        }
        Ok(if fresh { Some(record) } else { None })
    }
}

impl Iterator for Combiner {
    type Item = Result<Vec<Vec<u8>>, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        let result = match &mut self.state {
            State::Nested(n) => n.next(),
            State::Link(l) => l.next(),
            State::Done => return None,
        };
        match result {
            Ok(Some(r)) => Some(Ok(r)),
            Ok(None) => {
                self.state = State::Done;
                None
            }
            Err(e) => {
                self.state = State::Done;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{ReadOptions, Source, SourceKind};

    fn src(values: &[&str]) -> RecordReader {
        let s = Source {
            kind: SourceKind::Args(values.iter().map(|v| v.as_bytes().to_vec()).collect()),
            linked: false,
        };
        RecordReader::new(s.open(b"\n").unwrap(), ReadOptions::default(), "t".into())
    }

    fn run(sources: Vec<RecordReader>, linked: &[bool], link: bool) -> Vec<String> {
        Combiner::new(sources, linked, link)
            .unwrap()
            .map(|r| String::from_utf8(r.unwrap().join(&b' ')).unwrap())
            .collect()
    }

    #[test]
    fn nested_order() {
        assert_eq!(
            run(
                vec![src(&["a", "b"]), src(&["1", "2"])],
                &[false, false],
                false
            ),
            ["a 1", "a 2", "b 1", "b 2"]
        );
    }

    #[test]
    fn linked_truncates_and_link_all_cycles() {
        assert_eq!(
            run(
                vec![src(&["a", "b", "c"]), src(&["1", "2"])],
                &[false, true],
                false
            ),
            ["a 1", "b 2"]
        );
        assert_eq!(
            run(
                vec![src(&["a", "b", "c"]), src(&["1", "2"])],
                &[false, false],
                true
            ),
            ["a 1", "b 2", "c 1"]
        );
    }

    #[test]
    fn empty_sources() {
        assert_eq!(
            run(vec![src(&["a", "b"]), src(&[])], &[false, false], false),
            ["a ", "b "]
        );
        assert_eq!(
            run(vec![src(&[]), src(&["1"])], &[false, false], false),
            [" 1"]
        );
        assert!(run(vec![src(&[]), src(&[])], &[false, false], false).is_empty());
    }
}
