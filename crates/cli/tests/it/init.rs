//! `portcullis init`: the first administrator, once.

use crate::util::run;

#[test]
fn init_creates_one_administrator_and_prints_its_password_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("i.sqlite").display());
    let out = run(&["--database", &db, "init", "--email", "root@example.org"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("created group `admin`"), "{out:?}");
    assert!(
        out.stderr.contains("created administrator `admin`"),
        "{out:?}"
    );
    let password = out.stdout.trim().to_owned();
    assert_eq!(password.len(), 20, "{out:?}");
    // The administrator is in the group.
    let principals = run(&["--database", &db, "principals", "admin"]);
    assert_eq!(principals.code, 0, "{principals:?}");
    assert!(principals.stdout.contains("group:admin"), "{principals:?}");
    // The group grants the permission the admin UI and API need.
    assert!(
        out.stderr
            .contains("granted permission `admin` to group `admin`"),
        "{out:?}"
    );
    let perms = run(&["--database", &db, "permission", "list", "admin"]);
    assert_eq!(perms.code, 0, "{perms:?}");
    assert!(
        perms.stdout.lines().any(|l| l.trim() == "admin"),
        "{perms:?}"
    );
    // A second run creates nothing and says so.
    let again = run(&["--database", &db, "init"]);
    assert_eq!(again.code, 1, "{again:?}");
    assert!(again.stderr.contains("already initialised"), "{again:?}");
    assert!(again.stdout.is_empty());
}
