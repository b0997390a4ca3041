//! Resource paths: `/`, `/blog`, `/blog/2024`.

use std::fmt;

/// Why a path is not acceptable in a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    /// Policy paths are absolute: they start with `/`.
    NotAbsolute {
        /// The path as given.
        path: String,
    },
    /// `.` and `..` segments are ambiguous in a policy; write the path they mean.
    DotSegment {
        /// The path as given.
        path: String,
    },
    /// Control characters have no place in a path.
    ControlCharacter {
        /// The path as given.
        path: String,
    },
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathError::NotAbsolute { path } => write!(f, "path `{path}` must start with `/`"),
            PathError::DotSegment { path } => {
                write!(f, "path `{path}` contains a `.` or `..` segment")
            }
            PathError::ControlCharacter { path } => {
                write!(
                    f,
                    "path `{}` contains a control character",
                    path.escape_debug()
                )
            }
        }
    }
}

impl std::error::Error for PathError {}

/// The segments of a policy path. Empty segments (`//`, a trailing `/`) are ignored, so
/// `/blog/2024/` and `/blog//2024` both mean `/blog/2024`.
pub(crate) fn policy_segments(path: &str) -> Result<Vec<&str>, PathError> {
    if !path.starts_with('/') {
        return Err(PathError::NotAbsolute {
            path: path.to_owned(),
        });
    }
    if path.chars().any(char::is_control) {
        return Err(PathError::ControlCharacter {
            path: path.to_owned(),
        });
    }
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segs.iter().any(|s| *s == "." || *s == "..") {
        return Err(PathError::DotSegment {
            path: path.to_owned(),
        });
    }
    Ok(segs)
}

/// The segments of a request path, with dot segments resolved as RFC 3986 does
/// (`/public/../admin` is `/admin`: a check must see the resource the request will reach).
/// A relative path is taken from the root. Percent-decoding is the caller's business.
pub(crate) fn request_segments(path: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    out
}

/// Joins segments into a canonical path (`/` for none).
pub(crate) fn join(segments: &[&str]) -> String {
    if segments.is_empty() {
        return "/".to_owned();
    }
    let mut s = String::new();
    for seg in segments {
        s.push('/');
        s.push_str(seg);
    }
    s
}

/// The canonical form of a request path: dot segments resolved, empty segments dropped,
/// no trailing slash (except `/` itself).
///
/// ```
/// use portcullis_authz::tree::canonical_path;
/// assert_eq!(canonical_path("/public/../admin/"), "/admin");
/// assert_eq!(canonical_path("//a/./b"), "/a/b");
/// assert_eq!(canonical_path(""), "/");
/// ```
pub fn canonical_path(path: &str) -> String {
    join(&request_segments(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_paths() {
        assert_eq!(policy_segments("/").unwrap(), Vec::<&str>::new());
        assert_eq!(policy_segments("/blog/2024/").unwrap(), ["blog", "2024"]);
        assert!(matches!(
            policy_segments("blog"),
            Err(PathError::NotAbsolute { .. })
        ));
        assert!(matches!(
            policy_segments("/a/../b"),
            Err(PathError::DotSegment { .. })
        ));
        assert!(matches!(
            policy_segments("/a\n"),
            Err(PathError::ControlCharacter { .. })
        ));
    }

    #[test]
    fn request_paths_resolve_dots() {
        assert_eq!(request_segments("/public/../admin"), ["admin"]);
        assert_eq!(request_segments("/../../admin"), ["admin"]);
        assert_eq!(request_segments("/a/./b/"), ["a", "b"]);
        assert_eq!(canonical_path("/a/b/.."), "/a");
    }
}
