//! One chunk of the tag index: which of 32 768 consecutive record ids carry a key.
//!
//! Record id `id` lies in chunk `id >> 15` at offset `id & 0x7fff` (arithmetic shift, so
//! every `i64` has a place and chunks sort like their ids). A chunk is stored in one of
//! two forms, whichever is smaller, told apart by length:
//!
//! - fewer than 2 048 ids: their offsets, ascending, as little-endian `u16`s (2 bytes
//!   each, so at most 4 094 bytes);
//! - otherwise: the 32 768-bit bitmap, 4 096 bytes, offset `o` at bit `o % 8` of byte
//!   `o / 8`.
//!
//! In memory a chunk is always the bitmap (512 words), so intersections and unions are
//! word-wise `&` and `|`.

/// Offsets per chunk, as a power of two.
pub(crate) const SHIFT: u32 = 15;
/// Record ids per chunk.
pub(crate) const IDS: usize = 1 << SHIFT;
const WORDS: usize = IDS / 64;
/// The stored size of a bitmap chunk.
const BITMAP_BYTES: usize = IDS / 8;
/// Chunks with at least this many ids are stored as the bitmap.
const BITMAP_FROM: usize = BITMAP_BYTES / 2;

/// The chunk of `id` and its offset there.
pub(crate) fn split(id: i64) -> (i64, u16) {
    (id >> SHIFT, (id & (IDS as i64 - 1)) as u16)
}

/// The record id at `offset` of `chunk`.
pub(crate) fn join(chunk: i64, offset: u16) -> i64 {
    (chunk << SHIFT) | i64::from(offset)
}

/// The size of the stored form of a chunk of `ids` ids.
pub(crate) fn stored_len(ids: usize) -> usize {
    if ids >= BITMAP_FROM {
        BITMAP_BYTES
    } else {
        2 * ids
    }
}

/// The record ids of one chunk of one key.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Chunk {
    words: Box<[u64; WORDS]>,
}

impl std::fmt::Debug for Chunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.offsets(0)).finish()
    }
}

impl Chunk {
    pub(crate) fn empty() -> Chunk {
        Chunk {
            words: Box::new([0; WORDS]),
        }
    }

    /// Reads the stored form; `Err` says why the bytes are not a chunk.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Chunk, &'static str> {
        let mut c = Chunk::empty();
        if bytes.len() == BITMAP_BYTES {
            for (w, b) in c.words.iter_mut().zip(bytes.chunks_exact(8)) {
                let mut le = [0u8; 8];
                le.copy_from_slice(b);
                *w = u64::from_le_bytes(le);
            }
            return Ok(c);
        }
        if !bytes.len().is_multiple_of(2) || bytes.len() > BITMAP_BYTES {
            return Err("neither a bitmap nor a list of 16-bit offsets");
        }
        let mut last: Option<u16> = None;
        for b in bytes.chunks_exact(2) {
            let o = u16::from_le_bytes([b[0], b[1]]);
            if usize::from(o) >= IDS || last.is_some_and(|l| l >= o) {
                return Err("offsets out of range or not ascending");
            }
            c.insert(o);
            last = Some(o);
        }
        Ok(c)
    }

    /// The stored form (see the module documentation), [`stored_len`] bytes.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let n = self.len() as usize;
        if n >= BITMAP_FROM {
            self.words.iter().flat_map(|w| w.to_le_bytes()).collect()
        } else {
            self.offsets(0).flat_map(u16::to_le_bytes).collect()
        }
    }

    /// How many ids the chunk holds.
    pub(crate) fn len(&self) -> u32 {
        self.words.iter().map(|w| w.count_ones()).sum()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }

    /// Adds `offset`; true when it was not there.
    pub(crate) fn insert(&mut self, offset: u16) -> bool {
        let (w, bit) = (usize::from(offset) / 64, 1u64 << (offset % 64));
        let new = self.words[w] & bit == 0;
        self.words[w] |= bit;
        new
    }

    /// Removes `offset`; true when it was there.
    pub(crate) fn remove(&mut self, offset: u16) -> bool {
        let (w, bit) = (usize::from(offset) / 64, 1u64 << (offset % 64));
        let had = self.words[w] & bit != 0;
        self.words[w] &= !bit;
        had
    }

    /// Keeps the ids that `other` also holds.
    pub(crate) fn intersect(&mut self, other: &Chunk) {
        for (a, b) in self.words.iter_mut().zip(other.words.iter()) {
            *a &= b;
        }
    }

    /// Adds the ids of `other`.
    pub(crate) fn unite(&mut self, other: &Chunk) {
        for (a, b) in self.words.iter_mut().zip(other.words.iter()) {
            *a |= b;
        }
    }

    /// The offsets from `from` on, ascending.
    pub(crate) fn offsets(&self, from: u16) -> impl Iterator<Item = u16> + '_ {
        let first = usize::from(from) / 64;
        let mask = !0u64 << (from % 64);
        self.words[first..]
            .iter()
            .enumerate()
            .flat_map(move |(i, &w)| {
                let w = if i == 0 { w & mask } else { w };
                let base = (first + i) * 64;
                BitIter(w).map(move |b| (base + b) as u16)
            })
    }
}

/// The positions of a word's set bits, lowest first.
struct BitIter(u64);

impl Iterator for BitIter {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        if self.0 == 0 {
            return None;
        }
        let b = self.0.trailing_zeros() as usize;
        self.0 &= self.0 - 1;
        Some(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(offsets: &[u16]) -> Chunk {
        let mut c = Chunk::empty();
        for &o in offsets {
            c.insert(o);
        }
        c
    }

    #[test]
    fn ids_split_and_join_in_order() {
        for id in [
            i64::MIN,
            -32_769,
            -1,
            0,
            1,
            32_767,
            32_768,
            1_000_000,
            i64::MAX,
        ] {
            let (c, o) = split(id);
            assert_eq!(join(c, o), id);
        }
        // Chunks sort like their ids, negative ones included.
        assert!(split(-1).0 < split(0).0);
        assert_eq!(split(32_767).0, 0);
        assert_eq!(split(32_768), (1, 0));
        assert_eq!(split(-1), (-1, 32_767));
    }

    #[test]
    fn small_chunks_store_offsets_and_large_ones_the_bitmap() {
        let c = chunk(&[5, 3, 4000, 32_767]);
        let bytes = c.encode();
        assert_eq!(
            bytes,
            [3u16, 5, 4000, 32_767].map(u16::to_le_bytes).concat()
        );
        assert_eq!(Chunk::decode(&bytes).unwrap(), c);

        let most: Vec<u16> = (0..BITMAP_FROM as u16).map(|o| o * 3).collect();
        let c = chunk(&most);
        let bytes = c.encode();
        assert_eq!(bytes.len(), BITMAP_BYTES);
        assert_eq!(
            bytes[0], 0b0100_1001,
            "offsets 0, 3 and 6 in the first byte"
        );
        assert_eq!(Chunk::decode(&bytes).unwrap(), c);
        assert_eq!(c.len() as usize, BITMAP_FROM);

        let fewer = chunk(&most[..BITMAP_FROM - 1]);
        assert_eq!(fewer.encode().len(), 2 * (BITMAP_FROM - 1));
        assert_eq!(stored_len(BITMAP_FROM - 1), fewer.encode().len());
        assert_eq!(stored_len(BITMAP_FROM), c.encode().len());
        assert!(Chunk::decode(&[]).unwrap().is_empty());
    }

    #[test]
    fn malformed_bytes_are_refused() {
        assert!(Chunk::decode(&[1]).is_err());
        assert!(Chunk::decode(&[5, 0, 3, 0]).is_err(), "not ascending");
        assert!(Chunk::decode(&[5, 0, 5, 0]).is_err(), "repeated");
        assert!(
            Chunk::decode(&0x8000u16.to_le_bytes()).is_err(),
            "out of range"
        );
        assert!(Chunk::decode(&vec![0; BITMAP_BYTES + 2]).is_err());
    }

    #[test]
    fn set_operations_and_ordered_offsets() {
        let mut a = chunk(&[1, 64, 65, 200, 32_767]);
        assert!(!a.insert(64));
        assert!(a.remove(65));
        assert!(!a.remove(65));
        assert_eq!(a.offsets(0).collect::<Vec<_>>(), [1, 64, 200, 32_767]);
        assert_eq!(a.offsets(64).collect::<Vec<_>>(), [64, 200, 32_767]);
        assert_eq!(a.offsets(65).collect::<Vec<_>>(), [200, 32_767]);
        assert_eq!(a.offsets(32_767).collect::<Vec<_>>(), [32_767]);
        let b = chunk(&[64, 200, 300]);
        let mut both = a.clone();
        both.intersect(&b);
        assert_eq!(both.offsets(0).collect::<Vec<_>>(), [64, 200]);
        a.unite(&b);
        assert_eq!(a.offsets(0).collect::<Vec<_>>(), [1, 64, 200, 300, 32_767]);
        assert_eq!(a.len(), 5);
    }
}
