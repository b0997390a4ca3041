//! Request principals compiled against a tree: a bitset over the tree's interned principals.

/// The effective principals of one request, compiled for one [`super::ResourceTree`] with
/// [`super::ResourceTree::principal_set`]. Membership is one bit test; principals that no ACL
/// of the tree names are dropped (they can never match). Up to 256 distinct ACL principals are
/// stored inline, so building a set for a typical policy does not allocate.
#[derive(Clone, PartialEq, Eq)]
pub struct PrincipalSet {
    pub(super) tree_id: u64,
    pub(super) bits: Bits,
    pub(super) len: usize,
}

#[derive(Clone, PartialEq, Eq)]
pub(super) enum Bits {
    Inline([u64; 4]),
    Heap(Box<[u64]>),
}

impl Bits {
    pub(super) fn with_capacity(n_principals: usize) -> Bits {
        let words = n_principals.div_ceil(64);
        if words <= 4 {
            Bits::Inline([0; 4])
        } else {
            Bits::Heap(vec![0; words].into_boxed_slice())
        }
    }

    #[inline]
    fn words(&self) -> &[u64] {
        match self {
            Bits::Inline(w) => w,
            Bits::Heap(w) => w,
        }
    }

    #[inline]
    pub(super) fn contains(&self, id: u32) -> bool {
        let words = self.words();
        match words.get((id >> 6) as usize) {
            Some(w) => (w >> (id & 63)) & 1 == 1,
            None => false,
        }
    }

    pub(super) fn insert(&mut self, id: u32) {
        let words: &mut [u64] = match self {
            Bits::Inline(w) => w,
            Bits::Heap(w) => w,
        };
        if let Some(w) = words.get_mut((id >> 6) as usize) {
            *w |= 1 << (id & 63);
        }
    }
}

impl PrincipalSet {
    /// How many of the given principals some ACL of the tree names.
    pub fn known_len(&self) -> usize {
        self.len
    }
}

impl std::fmt::Debug for PrincipalSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrincipalSet")
            .field("known_len", &self.len)
            .finish_non_exhaustive()
    }
}
