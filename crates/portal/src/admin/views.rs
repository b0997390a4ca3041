//! The admin API's answer types (also the UI templates' data) and their conversions.
//! Instants are Unix seconds.

use portcullis_store::{ApiToken, AuditRecord, Group, User};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// A user as administrators see it (never the password hash).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct AdminUser {
    pub(crate) id: i64,
    pub(crate) username: String,
    pub(crate) email: Option<String>,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    /// `active`, `pending` or `blocked`.
    pub(crate) status: String,
    /// Whether a password is set (false after a forced reset, or for SSO-only accounts).
    pub(crate) has_password: bool,
    /// Failed logins since the last successful one.
    pub(crate) failed_logins: i64,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) last_login_at: Option<i64>,
}

impl From<&User> for AdminUser {
    fn from(u: &User) -> AdminUser {
        AdminUser {
            id: u.id,
            username: u.username.clone(),
            email: u.email.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            status: u.status.as_str().to_owned(),
            has_password: u.password_hash.is_some(),
            failed_logins: u.failed_logins,
            created_at: u.created_at.unix_timestamp(),
            updated_at: u.updated_at.unix_timestamp(),
            last_login_at: u.last_login_at.map(|t| t.unix_timestamp()),
        }
    }
}

/// Where a page is in a numbered listing.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub(crate) struct Paging {
    /// The page (from 1).
    pub(crate) page: u64,
    /// Items per page.
    pub(crate) per_page: u64,
    /// Items matching the filters, on all pages.
    pub(crate) total: i64,
    /// The number of pages (at least 1).
    pub(crate) pages: u64,
}

impl Paging {
    pub(crate) fn new(page: u64, per_page: u64, total: i64) -> Paging {
        let total_u = u64::try_from(total).unwrap_or(0);
        Paging {
            page,
            per_page,
            total,
            pages: total_u.div_ceil(per_page.max(1)).max(1),
        }
    }
}

/// A page of users.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct UsersPage {
    pub(crate) users: Vec<AdminUser>,
    #[serde(flatten)]
    pub(crate) paging: Paging,
}

/// One user.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct AdminUserAnswer {
    pub(crate) user: AdminUser,
}

/// A user with everything attached to it.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct UserDetail {
    pub(crate) user: AdminUser,
    /// Group names, sorted.
    pub(crate) groups: Vec<String>,
    /// Permissions granted by those groups, sorted.
    pub(crate) permissions: Vec<String>,
    /// The user's tags (kind `users`), in insertion order.
    pub(crate) tags: Vec<String>,
    /// API tokens (metadata, never secrets), newest first.
    pub(crate) tokens: Vec<TokenOut>,
    /// The newest audit events about the user (at most 20).
    pub(crate) audit: Vec<AuditOut>,
}

/// A group.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct GroupOut {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) created_at: i64,
}

impl From<&Group> for GroupOut {
    fn from(g: &Group) -> GroupOut {
        GroupOut {
            id: g.id,
            name: g.name.clone(),
            description: g.description.clone(),
            created_at: g.created_at.unix_timestamp(),
        }
    }
}

/// All groups.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct GroupsAnswer {
    pub(crate) groups: Vec<GroupOut>,
}

/// One group.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct GroupAnswer {
    pub(crate) group: GroupOut,
}

/// A member of a group.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct MemberOut {
    pub(crate) id: i64,
    pub(crate) username: String,
    pub(crate) status: String,
}

/// The members of a group.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct MembersAnswer {
    pub(crate) group: String,
    pub(crate) members: Vec<MemberOut>,
}

/// The permissions of a group.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct PermissionsAnswer {
    pub(crate) group: String,
    pub(crate) permissions: Vec<String>,
}

/// A group with its members and permissions.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct GroupDetail {
    pub(crate) group: GroupOut,
    pub(crate) members: Vec<MemberOut>,
    pub(crate) permissions: Vec<String>,
}

/// The tags of one record.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TagsAnswer {
    pub(crate) kind: String,
    pub(crate) id: i64,
    pub(crate) tags: Vec<String>,
}

/// A page of records found by tags.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TaggedAnswer {
    pub(crate) kind: String,
    /// Record ids, ascending.
    pub(crate) ids: Vec<i64>,
    /// Pass as `after` for the next page; absent on the last page.
    pub(crate) next_after: Option<i64>,
}

/// An API token's metadata.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct TokenOut {
    pub(crate) id: i64,
    pub(crate) user_id: i64,
    pub(crate) name: String,
    /// The token's first 12 characters, to recognize it.
    pub(crate) prefix: String,
    pub(crate) created_at: i64,
    pub(crate) expires_at: Option<i64>,
    pub(crate) last_used_at: Option<i64>,
    pub(crate) revoked_at: Option<i64>,
}

impl From<&ApiToken> for TokenOut {
    fn from(t: &ApiToken) -> TokenOut {
        TokenOut {
            id: t.id,
            user_id: t.user_id,
            name: t.name.clone(),
            prefix: t.prefix.clone(),
            created_at: t.created_at.unix_timestamp(),
            expires_at: t.expires_at.map(|t| t.unix_timestamp()),
            last_used_at: t.last_used_at.map(|t| t.unix_timestamp()),
            revoked_at: t.revoked_at.map(|t| t.unix_timestamp()),
        }
    }
}

/// A user's API tokens.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TokensAnswer {
    pub(crate) tokens: Vec<TokenOut>,
}

/// A new API token: `secret` is shown this once and never stored.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TokenCreated {
    pub(crate) token: TokenOut,
    /// The bearer token (`pct_...`).
    pub(crate) secret: String,
}

/// The outcome of a forced password reset.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ForceResetAnswer {
    /// Whether a reset link was mailed (false when the user has no e-mail address or the
    /// mail failed).
    pub(crate) mailed: bool,
}

/// An audit event.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct AuditOut {
    pub(crate) id: i64,
    pub(crate) at: i64,
    pub(crate) event: String,
    pub(crate) user_id: Option<i64>,
    pub(crate) actor: Option<String>,
    pub(crate) client_addr: Option<String>,
    pub(crate) details: Value,
}

impl From<&AuditRecord> for AuditOut {
    fn from(r: &AuditRecord) -> AuditOut {
        AuditOut {
            id: r.id,
            at: r.at.unix_timestamp(),
            event: r.kind.clone(),
            user_id: r.user_id,
            actor: r.actor.clone(),
            client_addr: r.client_addr.clone(),
            details: r.details.clone(),
        }
    }
}

/// A page of the audit log, newest first.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct AuditPage {
    pub(crate) events: Vec<AuditOut>,
    #[serde(flatten)]
    pub(crate) paging: Paging,
}

/// `(year, month, day)` of a count of days since 1970-01-01 (proleptic Gregorian;
/// Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// Days since 1970-01-01 of a civil date (`days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD HH:MM:SS UTC`.
pub(crate) fn format_unix(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rest = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Parses an instant: Unix seconds, or a date `YYYY-MM-DD` (its midnight UTC; with
/// `end_of_day`, the next midnight, so that `until=DATE` includes that day).
pub(crate) fn parse_instant(s: &str, end_of_day: bool) -> Option<i64> {
    if let Ok(n) = s.parse::<i64>() {
        // Within years 0..=9999, so every later computation stays in range.
        return (-62_167_219_200..=253_402_300_799)
            .contains(&n)
            .then_some(n);
    }
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || d == 0 {
        return None;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let max = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if d > max {
        return None;
    }
    let days = days_from_civil(i64::from(y), m, d) + i64::from(end_of_day);
    Some(days * 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_format_and_parse() {
        assert_eq!(format_unix(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_unix(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(format_unix(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(parse_instant("2023-11-14", false), Some(1_699_920_000));
        assert_eq!(parse_instant("2023-11-14", true), Some(1_700_006_400));
        assert_eq!(parse_instant("2000-02-29", false), Some(951_782_400));
        assert_eq!(parse_instant("1700000000", false), Some(1_700_000_000));
        for bad in [
            "2023-02-29",
            "2023-13-01",
            "2023-1-01",
            "+023-01-01",
            "x",
            "",
            "99999999999999999999",
        ] {
            assert_eq!(parse_instant(bad, false), None, "{bad}");
        }
    }

    #[test]
    fn pages_count() {
        assert_eq!(Paging::new(1, 50, 0).pages, 1);
        assert_eq!(Paging::new(1, 50, 50).pages, 1);
        assert_eq!(Paging::new(1, 50, 51).pages, 2);
    }
}
