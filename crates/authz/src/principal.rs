//! Principals: the strings an ACL entry names.
//!
//! As in Pyramid, a principal is just a string, so ACLs written for Pyramid carry over
//! unchanged: user ids (`"bob"`, `"42"`), group principals (`"group:editors"`, `"g:admin"`) and
//! the two system principals [`EVERYONE`] and [`AUTHENTICATED`].
//!
//! A request's *effective principals* are every principal it speaks for. Pyramid's rule, kept
//! here in [`effective_principals`]: every request has [`EVERYONE`]; an authenticated one also has
//! [`AUTHENTICATED`], its user id and whatever the groupfinder returns.
//!
//! ```
//! use portcullis_authz::principal::{effective_principals, AUTHENTICATED, EVERYONE};
//!
//! assert_eq!(effective_principals(None, &[] as &[&str]), vec![EVERYONE]);
//! assert_eq!(
//!     effective_principals(Some("bob"), &["group:editors"]),
//!     vec![EVERYONE, AUTHENTICATED, "bob", "group:editors"],
//! );
//! ```

/// Every request, authenticated or not (Pyramid's `Everyone`).
pub const EVERYONE: &str = "system.Everyone";

/// Every authenticated request (Pyramid's `Authenticated`).
pub const AUTHENTICATED: &str = "system.Authenticated";

/// The effective principals of a request, in Pyramid's order: [`EVERYONE`], then for an
/// authenticated user [`AUTHENTICATED`], the user id and the extra principals (groups).
///
/// Duplicates are dropped, keeping the first occurrence; a user id that equals a system
/// principal is refused (treated as anonymous), as Pyramid's `effective_principals` does,
/// so that nobody can register as `system.Everyone` and gain its grants.
pub fn effective_principals<'a, S: AsRef<str> + ?Sized>(
    userid: Option<&'a str>,
    extra: &'a [&'a S],
) -> Vec<&'a str> {
    let mut out: Vec<&'a str> = vec![EVERYONE];
    let Some(userid) = userid.filter(|u| !is_system(u)) else {
        return out;
    };
    out.push(AUTHENTICATED);
    out.push(userid);
    for p in extra {
        let p = p.as_ref();
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// True for the reserved `system.*` principals.
pub fn is_system(principal: &str) -> bool {
    principal == EVERYONE || principal == AUTHENTICATED
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_userids_are_anonymous() {
        assert_eq!(effective_principals(Some(EVERYONE), &["g"]), vec![EVERYONE]);
        assert_eq!(
            effective_principals(Some(AUTHENTICATED), &["g"]),
            vec![EVERYONE]
        );
    }

    #[test]
    fn duplicates_dropped() {
        assert_eq!(
            effective_principals(Some("u"), &["g", "g", "u"]),
            vec![EVERYONE, AUTHENTICATED, "u", "g"]
        );
    }
}
