//! Finds every dictionary name in a text, overlapping matches included.
//!
//! Every division name has at least two characters, so the index is keyed by a
//! name's first two characters: one probe of a small open-addressing table per
//! text position, after a first-character bitset that rejects most positions
//! without touching memory outside the L1 cache. This does one lookup per
//! character where a byte automaton walks three (UTF-8) through a large graph.

/// Names keyed by their first two characters.
pub struct NameIndex {
    /// All names' characters, back to back.
    arena: Vec<char>,
    /// Per name, in lexicographic order: where it is and what it means.
    names: Vec<Name>,
    /// Open-addressing table: bigram key → range in `names`.
    slots: Vec<Slot>,
    mask: usize,
    /// Characters (low 16 bits) that start some name.
    first_chars: Vec<u64>,
    /// A bit per bigram hash: most text positions start no name, and this
    /// small bitset (in cache) says so before the table is probed.
    bigrams: Vec<u64>,
}

const BIGRAM_BITS: usize = 1 << 20;

/// A name's place in the arena and the caller's payload, together so that one
/// cache line serves both.
#[derive(Clone, Copy)]
struct Name {
    offset: u32,
    len: u32,
    payload: (u32, u32),
}

#[derive(Clone, Copy)]
struct Slot {
    key: u64,
    from: u32,
    to: u32,
}

const EMPTY: u64 = u64::MAX;

fn key(a: char, b: char) -> u64 {
    ((a as u64) << 32) | b as u64
}

fn hash(key: u64) -> usize {
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize
}

impl NameIndex {
    /// Builds the index over distinct `(name, id)` pairs; names shorter than
    /// two characters are skipped.
    pub fn new<'a>(names: impl IntoIterator<Item = (&'a str, (u32, u32))>) -> NameIndex {
        let mut list: Vec<(Vec<char>, (u32, u32))> = names
            .into_iter()
            .map(|(n, id)| (n.chars().collect::<Vec<char>>(), id))
            .filter(|(cs, _)| cs.len() >= 2)
            .collect();
        // Lexicographic order: within a bigram the two-character name (if any)
        // comes first, then the rest ordered by their third character.
        list.sort_by(|a, b| a.0.cmp(&b.0));
        let mut distinct = list
            .iter()
            .map(|(cs, _)| (cs[0], cs[1]))
            .collect::<Vec<_>>();
        distinct.dedup();
        let capacity = (distinct.len() * 2).next_power_of_two().max(16);
        let mut index = NameIndex {
            arena: Vec::new(),
            names: Vec::with_capacity(list.len()),
            slots: vec![
                Slot {
                    key: EMPTY,
                    from: 0,
                    to: 0
                };
                capacity
            ],
            mask: capacity - 1,
            first_chars: vec![0; 1 << 10],
            bigrams: vec![0; BIGRAM_BITS / 64],
        };
        let mut i = 0;
        while i < list.len() {
            let bigram = (list[i].0[0], list[i].0[1]);
            let from = index.names.len() as u32;
            while i < list.len() && (list[i].0[0], list[i].0[1]) == bigram {
                let (cs, payload) = &list[i];
                index.names.push(Name {
                    offset: index.arena.len() as u32,
                    len: cs.len() as u32,
                    payload: *payload,
                });
                index.arena.extend_from_slice(cs);
                i += 1;
            }
            let to = index.names.len() as u32;
            index.insert(key(bigram.0, bigram.1), from, to);
            let bit = bigram.0 as usize & 0xFFFF;
            index.first_chars[bit / 64] |= 1 << (bit % 64);
            let bit = hash(key(bigram.0, bigram.1)) & (BIGRAM_BITS - 1);
            index.bigrams[bit / 64] |= 1 << (bit % 64);
        }
        index
    }

    fn insert(&mut self, key: u64, from: u32, to: u32) {
        let mut slot = hash(key) & self.mask;
        while self.slots[slot].key != EMPTY {
            slot = (slot + 1) & self.mask;
        }
        self.slots[slot] = Slot { key, from, to };
    }

    fn lookup(&self, key: u64) -> Option<(u32, u32)> {
        let mut slot = hash(key) & self.mask;
        loop {
            let s = self.slots[slot];
            if s.key == key {
                return Some((s.from, s.to));
            }
            if s.key == EMPTY {
                return None;
            }
            slot = (slot + 1) & self.mask;
        }
    }

    /// Calls `found(payload, start, end)` (character offsets) for every name in `text`.
    pub fn find_all(&self, text: &[char], mut found: impl FnMut((u32, u32), usize, usize)) {
        for start in 0..text.len().saturating_sub(1) {
            let bit = text[start] as usize & 0xFFFF;
            if self.first_chars[bit / 64] & (1 << (bit % 64)) == 0 {
                continue;
            }
            let key = key(text[start], text[start + 1]);
            let bit = hash(key) & (BIGRAM_BITS - 1);
            if self.bigrams[bit / 64] & (1 << (bit % 64)) == 0 {
                continue;
            }
            let Some((from, to)) = self.lookup(key) else {
                continue;
            };
            let rest = &text[start..];
            let (mut from, to) = (from as usize, to as usize);
            if self.names[from].len == 2 {
                found(self.names[from].payload, start, start + 2);
                from += 1;
            }
            let Some(&third) = rest.get(2) else {
                continue;
            };
            let group = &self.names[from..to];
            let lo = group.partition_point(|n| self.arena[n.offset as usize + 2] < third);
            for name in &group[lo..] {
                let (offset, len) = (name.offset as usize, name.len as usize);
                if self.arena[offset + 2] != third {
                    break;
                }
                if len <= rest.len() && rest[3..len] == self.arena[offset + 3..offset + len] {
                    found(name.payload, start, start + len);
                }
            }
        }
    }

    pub fn heap_bytes(&self) -> usize {
        self.arena.capacity() * 4
            + self.names.capacity() * std::mem::size_of::<Name>()
            + self.slots.capacity() * std::mem::size_of::<Slot>()
            + self.first_chars.capacity() * 8
            + self.bigrams.capacity() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_overlapping_names() {
        let index = NameIndex::new([
            ("长沙", (0, 0)),
            ("长沙市", (1, 0)),
            ("沙市", (2, 0)),
            ("湖南省", (3, 0)),
            ("x", (4, 0)),
        ]);
        let text: Vec<char> = "湖南省长沙市".chars().collect();
        let mut found = Vec::new();
        index.find_all(&text, |(id, _), s, e| found.push((id, s, e)));
        found.sort();
        assert_eq!(found, vec![(0, 3, 5), (1, 3, 6), (2, 4, 6), (3, 0, 3)]);
        let mut none = 0;
        index.find_all(&['x'], |_, _, _| none += 1);
        index.find_all(&[], |_, _, _| none += 1);
        assert_eq!(none, 0);
    }
}
