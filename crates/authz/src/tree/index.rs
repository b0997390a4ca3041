//! The compiled index behind [`super::ResourceTree::check`].
//!
//! Design decision: for every node and every permission named anywhere in the tree, the index
//! stores the *flattened lineage list*: the entries of the node's own ACL that cover the
//! permission, then those of its parent, and so on up to the root, in the order Pyramid would
//! meet them. Within a list only the first entry per principal is kept, because a later entry
//! for the same principal can never be the first match. A check is then one slot lookup and a
//! short scan with one bit test per entry, instead of a walk over every ACE of every ancestor.
//! A permission no ACL names is covered only by `ALL_PERMISSIONS` entries, which get a list of
//! their own (the "other" column).
//!
//! The cost is memory: one list per (node, permission), at most one entry per distinct
//! principal of the lineage. Trees of thousands of nodes and hundreds of permissions stay in
//! the low megabytes; applications with millions of objects implement [`crate::Resource`]
//! (per-instance ACLs) instead of listing every object in a tree.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::ace::{Action, Permissions};
use crate::acl::Acl;

/// FNV-1a: keys are short names from the policy, compared by equality after hashing.
#[derive(Default)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

pub(crate) type FnvMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

/// One entry of a flattened list.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    pub(crate) principal: u32,
    pub(crate) node: u32,
    /// Index of the ACE in its ACL; the top bit is set for Allow.
    pub(crate) ace: u32,
}

pub(crate) const ALLOW_BIT: u32 = 1 << 31;

#[derive(Debug, Default)]
pub(crate) struct Index {
    pub(crate) principals: FnvMap<Box<str>, u32>,
    pub(crate) permissions: FnvMap<Box<str>, u32>,
    /// Number of permission columns: one per named permission plus the "other" column.
    pub(crate) stride: usize,
    /// `(start, len)` into `entries`, at `node * stride + permission`.
    pub(crate) slots: Vec<(u32, u32)>,
    pub(crate) entries: Vec<Entry>,
}

/// Too many entries for 32-bit offsets.
#[derive(Debug)]
pub(crate) struct IndexTooLarge;

impl Index {
    /// Builds the index; `acls[i]` and `parents[i]` describe node `i`, parents come first.
    pub(crate) fn build(
        acls: &[Option<&Acl>],
        parents: &[Option<u32>],
    ) -> Result<Index, IndexTooLarge> {
        let mut ix = Index::default();
        for acl in acls.iter().flatten() {
            for ace in acl.entries() {
                let next = ix.principals.len() as u32;
                ix.principals
                    .entry(ace.principal.as_str().into())
                    .or_insert(next);
                for p in ace.permissions.names() {
                    let next = ix.permissions.len() as u32;
                    ix.permissions.entry(p.as_str().into()).or_insert(next);
                }
            }
        }
        let other = ix.permissions.len();
        ix.stride = other + 1;
        ix.slots = vec![(0, 0); acls.len() * ix.stride];
        let mut seen: Vec<u32> = vec![0; ix.principals.len()];
        let mut stamp: u32 = 0;
        // Resolved ACEs per node: (principal id, permission ids or None for all, allow).
        let mut own: Vec<(u32, Option<Vec<u32>>, bool)> = Vec::new();
        for (node, acl) in acls.iter().enumerate() {
            own.clear();
            if let Some(acl) = acl {
                for ace in acl.entries() {
                    let pid = ix
                        .principals
                        .get(ace.principal.as_str())
                        .copied()
                        .unwrap_or(0);
                    let perms = match &ace.permissions {
                        Permissions::All => None,
                        named => Some(
                            named
                                .names()
                                .iter()
                                .filter_map(|n| ix.permissions.get(n.as_str()).copied())
                                .collect(),
                        ),
                    };
                    own.push((pid, perms, ace.action == Action::Allow));
                }
            }
            let parent = parents.get(node).copied().flatten();
            for perm in 0..ix.stride {
                stamp = stamp.wrapping_add(1);
                if stamp == 0 {
                    seen.iter_mut().for_each(|s| *s = 0);
                    stamp = 1;
                }
                let start = ix.entries.len();
                for (ace_index, (pid, perms, allow)) in own.iter().enumerate() {
                    let covers = match perms {
                        None => true,
                        Some(ids) => perm != other && ids.contains(&(perm as u32)),
                    };
                    let Some(mark) = seen.get_mut(*pid as usize) else {
                        continue;
                    };
                    if covers && *mark != stamp {
                        *mark = stamp;
                        let flag = if *allow { ALLOW_BIT } else { 0 };
                        ix.entries.push(Entry {
                            principal: *pid,
                            node: node as u32,
                            ace: ace_index as u32 | flag,
                        });
                    }
                }
                if let Some(parent) = parent {
                    let (pstart, plen) = ix
                        .slots
                        .get(parent as usize * ix.stride + perm)
                        .copied()
                        .unwrap_or((0, 0));
                    for i in pstart as usize..(pstart + plen) as usize {
                        let Some(e) = ix.entries.get(i).copied() else {
                            break;
                        };
                        let Some(mark) = seen.get_mut(e.principal as usize) else {
                            continue;
                        };
                        if *mark != stamp {
                            *mark = stamp;
                            ix.entries.push(e);
                        }
                    }
                }
                let len = ix.entries.len() - start;
                if ix.entries.len() > u32::MAX as usize / 2 {
                    return Err(IndexTooLarge);
                }
                if let Some(slot) = ix.slots.get_mut(node * ix.stride + perm) {
                    *slot = (start as u32, len as u32);
                }
            }
        }
        ix.entries.shrink_to_fit();
        Ok(ix)
    }

    /// The flattened list for a node and permission column.
    #[inline]
    pub(crate) fn list(&self, node: u32, perm: u32) -> &[Entry] {
        let Some(&(start, len)) = self.slots.get(node as usize * self.stride + perm as usize)
        else {
            return &[];
        };
        self.entries
            .get(start as usize..(start + len) as usize)
            .unwrap_or(&[])
    }

    /// The column of a permission name ("other" for names no ACL mentions).
    #[inline]
    pub(crate) fn permission_column(&self, name: &str) -> u32 {
        self.permissions
            .get(name)
            .copied()
            .unwrap_or((self.stride - 1) as u32)
    }
}
