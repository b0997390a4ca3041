//! Default messages (TurboGears' English wording) and placeholder substitution.

pub(super) const NOT_ANONYMOUS: &str = "The current user must have been authenticated";
pub(super) const IS_ANONYMOUS: &str = "The current user must be anonymous";
pub(super) const IS_USER: &str = "The current user must be \"{user_name}\"";
pub(super) const IN_GROUP: &str = "The current user must belong to the group \"{group_name}\"";
pub(super) const IN_ANY_GROUP: &str =
    "The member must belong to at least one of the following groups: {group_list}";
pub(super) const HAS_PERMISSION: &str = "The user must have the \"{permission_name}\" permission";
pub(super) const HAS_ANY_PERMISSION: &str =
    "The user must have at least one of the following permissions: {permission_list}";
pub(super) const NOT: &str = "The condition must not be met";
pub(super) const ANY: &str =
    "At least one of the following predicates must be met: {failed_predicates}";

/// The separator of `{group_list}`, `{permission_list}` and `{failed_predicates}`.
pub(super) const LIST_SEPARATOR: &str = ", ";

/// Replaces each `{name}` in `template` for which `value(name)` is `Some`; other braces,
/// unknown placeholders included, are kept as written. Substituted values are not scanned
/// again, so a group named `{user_name}` appears literally.
pub(super) fn render(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let (before, from_open) = rest.split_at(open);
        out.push_str(before);
        let after_open = &from_open[1..];
        let name_len = after_open
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after_open.len());
        let (name, after_name) = after_open.split_at(name_len);
        match (after_name.strip_prefix('}'), value(name)) {
            (Some(after_close), Some(v)) if !name.is_empty() => {
                out.push_str(&v);
                rest = after_close;
            }
            _ => {
                out.push('{');
                rest = after_open;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `render` with one placeholder.
pub(super) fn render1(template: &str, key: &str, value: &str) -> String {
    render(template, |name| (name == key).then(|| value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(name: &str) -> Option<String> {
        match name {
            "a" => Some("A".into()),
            "user_name" => Some("{b}".into()),
            "b" => Some("B".into()),
            _ => None,
        }
    }

    #[test]
    fn substitutes_known_placeholders() {
        assert_eq!(render("x{a}y{b}z", vals), "xAyBz");
        assert_eq!(render("{a}{a}", vals), "AA");
        assert_eq!(render("", vals), "");
        assert_eq!(render("plain", vals), "plain");
    }

    #[test]
    fn keeps_unknown_and_malformed() {
        assert_eq!(render("{c} {a", vals), "{c} {a");
        assert_eq!(render("{} {{a}} }", vals), "{} {A} }");
        assert_eq!(render("{a-b} {é}", vals), "{a-b} {é}");
        assert_eq!(render("{", vals), "{");
        assert_eq!(render("ü{a}ü", vals), "üAü");
    }

    #[test]
    fn values_are_not_expanded_again() {
        assert_eq!(render("{user_name}", vals), "{b}");
    }

    #[test]
    fn render1_works() {
        assert_eq!(
            render1(IS_USER, "user_name", "bob"),
            "The current user must be \"bob\""
        );
        assert_eq!(render1(IS_USER, "group_name", "bob"), IS_USER);
    }
}
