//! Hierarchical tags, as in py4web's `Tags`.
//!
//! A tag is a path of non-empty segments separated by `/`: `teacher/high-school/physics`.
//! Tags are hierarchical: a record tagged `teacher/high-school/physics` is found by a search
//! for `teacher`, for `teacher/high-school` and for the tag itself, but not by `physics`
//! (a search matches whole leading segments, never a suffix) and `teacher` never matches
//! `teacherX`. Leading and trailing slashes are optional; matching is case-sensitive.
//!
//! Storage lives in `portcullis-store`; this module owns the semantics so that every backend
//! agrees. The store keeps each tag in its [`Tag::key`] form (`/teacher/high-school/physics/`),
//! so that "tagged with `t` or below" is the index-friendly prefix test
//! `key.starts_with(t.key())`, which SQL can express as a range scan
//! (`key >= '/t/' AND key < '/t0'`, see [`Tag::key_range`]).
//!
//! ```
//! use portcullis_authz::tag::Tag;
//!
//! let physics = Tag::new("teacher/high-school/physics")?;
//! assert!(physics.is_within(&Tag::new("teacher")?));
//! assert!(physics.is_within(&Tag::new("/teacher/high-school/")?));
//! assert!(!physics.is_within(&Tag::new("physics")?));
//! assert!(!Tag::new("teacherX")?.is_within(&Tag::new("teacher")?));
//! # Ok::<(), portcullis_authz::tag::TagError>(())
//! ```
//!
//! Design decision: py4web accepts any characters between slashes, and so does Portcullis,
//! with one exception: empty segments (`a//b`, or a tag that is only slashes) are rejected,
//! because they cannot be told apart from the separators and would make `a/` match `a//b`.

use std::fmt;

/// The longest tag accepted, in bytes (after normalization).
pub const MAX_TAG_LEN: usize = 512;

/// A normalized hierarchical tag: no leading or trailing slash, no empty segment.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(String);

/// Why a string is not a valid tag.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TagError {
    /// The tag is empty or consists only of slashes.
    Empty,
    /// The tag contains an empty segment (`a//b`).
    EmptySegment {
        /// The tag as given.
        tag: String,
    },
    /// The tag is longer than [`MAX_TAG_LEN`] bytes.
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The tag contains a control character (such as a newline or NUL).
    ControlCharacter {
        /// The tag as given.
        tag: String,
    },
}

impl fmt::Display for TagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TagError::Empty => f.write_str("a tag must not be empty"),
            TagError::EmptySegment { tag } => {
                write!(f, "tag `{tag}` has an empty segment between two slashes")
            }
            TagError::TooLong { len } => {
                write!(
                    f,
                    "a tag is at most {MAX_TAG_LEN} bytes long, this one has {len}"
                )
            }
            TagError::ControlCharacter { tag } => {
                write!(
                    f,
                    "tag `{}` contains a control character",
                    tag.escape_debug()
                )
            }
        }
    }
}

impl std::error::Error for TagError {}

impl Tag {
    /// Normalizes `raw`: strips one or more leading and trailing slashes and checks the rest.
    pub fn new(raw: &str) -> Result<Tag, TagError> {
        let trimmed = raw.trim_matches('/');
        if trimmed.is_empty() {
            return Err(TagError::Empty);
        }
        if trimmed.len() > MAX_TAG_LEN {
            return Err(TagError::TooLong { len: trimmed.len() });
        }
        if trimmed.chars().any(char::is_control) {
            return Err(TagError::ControlCharacter {
                tag: raw.to_owned(),
            });
        }
        if trimmed.split('/').any(str::is_empty) {
            return Err(TagError::EmptySegment {
                tag: raw.to_owned(),
            });
        }
        Ok(Tag(trimmed.to_owned()))
    }

    /// The normalized tag, without leading or trailing slash: `teacher/high-school`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The storage key: the tag between slashes, `/teacher/high-school/`.
    ///
    /// `a.key().starts_with(&b.key())` exactly when `a.is_within(&b)`.
    pub fn key(&self) -> String {
        let mut k = String::with_capacity(self.0.len() + 2);
        k.push('/');
        k.push_str(&self.0);
        k.push('/');
        k
    }

    /// Parses a storage key produced by [`Tag::key`].
    pub fn from_key(key: &str) -> Result<Tag, TagError> {
        Tag::new(key)
    }

    /// The half-open range of storage keys `[low, high)` of all tags within this one
    /// (itself and its descendants): `["/a/b/", "/a/b0")`, because `0` follows `/` in
    /// every byte-wise (and UTF-8 code point) ordering. Use it for index range scans;
    /// SQL `LIKE` is case-insensitive in SQLite and must not be used.
    pub fn key_range(&self) -> (String, String) {
        let low = self.key();
        let mut high = String::with_capacity(low.len());
        high.push('/');
        high.push_str(&self.0);
        high.push('0');
        (low, high)
    }

    /// True when this tag is `ancestor` or lies below it (`teacher/high-school` is within
    /// `teacher`). Case-sensitive, whole segments only.
    pub fn is_within(&self, ancestor: &Tag) -> bool {
        let a = ancestor.0.as_str();
        match self.0.strip_prefix(a) {
            Some("") => true,
            Some(rest) => rest.starts_with('/'),
            None => false,
        }
    }

    /// The tag's segments, top-down: `["teacher", "high-school", "physics"]`.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// The tag itself and each of its ancestors, shortest first:
    /// `teacher`, `teacher/high-school`, `teacher/high-school/physics`.
    pub fn ancestors_and_self(&self) -> impl Iterator<Item = &str> {
        let s = self.0.as_str();
        s.match_indices('/')
            .map(move |(i, _)| &s[..i])
            .chain(std::iter::once(s))
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({:?})", self.0)
    }
}

impl std::str::FromStr for Tag {
    type Err = TagError;
    fn from_str(s: &str) -> Result<Tag, TagError> {
        Tag::new(s)
    }
}

impl AsRef<str> for Tag {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// True when a record with `tags` matches every one of `wanted` (py4web's `find(..., mode="and")`).
pub fn matches_all<'a>(tags: impl IntoIterator<Item = &'a Tag> + Clone, wanted: &[Tag]) -> bool {
    wanted
        .iter()
        .all(|w| tags.clone().into_iter().any(|t| t.is_within(w)))
}

/// True when a record with `tags` matches at least one of `wanted` (`mode="or"`).
pub fn matches_any<'a>(tags: impl IntoIterator<Item = &'a Tag> + Clone, wanted: &[Tag]) -> bool {
    wanted
        .iter()
        .any(|w| tags.clone().into_iter().any(|t| t.is_within(w)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Tag {
        Tag::new(s).unwrap()
    }

    #[test]
    fn hierarchy_from_the_seed() {
        let physics = t("teacher/high-school/physics");
        assert!(physics.is_within(&t("teacher/high-school/physics")));
        assert!(physics.is_within(&t("teacher/high-school")));
        assert!(physics.is_within(&t("teacher")));
        assert!(!physics.is_within(&t("physics")));
        assert!(!physics.is_within(&t("high-school")));
        assert!(!t("teacher").is_within(&physics));
    }

    #[test]
    fn whole_segments_only() {
        assert!(!t("teacherX").is_within(&t("teacher")));
        assert!(!t("teacher-x/y").is_within(&t("teacher")));
        assert!(!t("teacher").is_within(&t("teacherX")));
    }

    #[test]
    fn slashes_are_optional_at_both_ends() {
        assert_eq!(t("/teacher/"), t("teacher"));
        assert_eq!(t("//teacher/high-school//"), t("teacher/high-school"));
        assert_eq!(t("/a/b/").as_str(), "a/b");
    }

    #[test]
    fn case_sensitive() {
        assert!(!t("Teacher/x").is_within(&t("teacher")));
        assert!(!t("teacher").is_within(&t("TEACHER")));
    }

    #[test]
    fn invalid_tags() {
        assert_eq!(Tag::new(""), Err(TagError::Empty));
        assert_eq!(Tag::new("///"), Err(TagError::Empty));
        assert!(matches!(
            Tag::new("a//b"),
            Err(TagError::EmptySegment { .. })
        ));
        assert!(matches!(
            Tag::new("a\nb"),
            Err(TagError::ControlCharacter { .. })
        ));
        assert!(matches!(
            Tag::new(&"x".repeat(600)),
            Err(TagError::TooLong { len: 600 })
        ));
        assert!(Tag::new("a b/ü é").is_ok());
    }

    #[test]
    fn keys_and_ranges_agree_with_is_within() {
        let all = [
            "a", "a/b", "a/b/c", "a/bc", "ab", "a0", "a/b0", "b", "a/b/c/d",
        ]
        .map(t);
        for x in &all {
            for y in &all {
                let (lo, hi) = y.key_range();
                let k = x.key();
                let in_range = k.as_str() >= lo.as_str() && k.as_str() < hi.as_str();
                assert_eq!(in_range, x.is_within(y), "{x} within {y}");
                assert_eq!(k.starts_with(&y.key()), x.is_within(y));
            }
        }
        assert_eq!(Tag::from_key("/a/b/").unwrap(), t("a/b"));
    }

    #[test]
    fn ancestors() {
        let abc = t("a/b/c");
        let v: Vec<_> = abc.ancestors_and_self().collect();
        assert_eq!(v, ["a", "a/b", "a/b/c"]);
        assert_eq!(t("a/b/c").segments().collect::<Vec<_>>(), ["a", "b", "c"]);
    }

    #[test]
    fn find_modes() {
        let tags = [t("teacher/high-school/physics"), t("dancer")];
        assert!(matches_all(&tags, &[t("teacher"), t("dancer")]));
        assert!(!matches_all(&tags, &[t("teacher"), t("singer")]));
        assert!(matches_any(&tags, &[t("singer"), t("dancer")]));
        assert!(!matches_any(&tags, &[t("singer"), t("physics")]));
    }
}
