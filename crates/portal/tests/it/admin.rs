//! The admin API (`/auth/api/admin/`) and UI (`/auth/admin/`) over a real SQLite store:
//! who may use them, every action with its errors and audit entries, paging, search and
//! filters, bad input at every endpoint, and the HTML forms with and without CSRF.

use http::{StatusCode, header};
use portcullis_store::{AuditQuery, NewUser, USERS, UserStatus};
use serde_json::{Value, json};

use crate::harness::{FORM, H, PW, Resp, csrf, enc, form_body, location, with_origin};

const API: &str = "/auth/api/admin";

/// A portal with an administrator `root` (group `admin` granting `admin`), logged in.
async fn setup() -> (H, String, i64) {
    let h = H::new().await;
    let id = h.user("root", "root@example.org").await;
    h.store
        .create_group("admin", "administrators")
        .await
        .unwrap();
    h.store.grant_permission("admin", "admin").await.unwrap();
    h.store.add_member(id, "admin").await.unwrap();
    let cookie = h.login("root", PW).await;
    (h, cookie, id)
}

fn ok(r: &Resp, what: &str) {
    assert_eq!(r.status, StatusCode::OK, "{what}: {}", r.raw);
    assert_eq!(r.body["status"], "success", "{what}");
}

fn err(r: &Resp, status: StatusCode, what: &str) {
    assert_eq!(r.status, status, "{what}: {}", r.raw);
    assert_eq!(r.body["status"], "error", "{what}: {}", r.raw);
    assert_eq!(r.body["code"], status.as_u16(), "{what}");
    assert!(
        !r.body["message"].as_str().unwrap_or("").is_empty(),
        "{what}: a message"
    );
}

/// The audit events of `kind`, newest first.
async fn events(h: &H, kind: &str) -> Vec<portcullis_store::AuditRecord> {
    h.store
        .list_audit(&AuditQuery {
            kind: Some(kind.into()),
            ..AuditQuery::default()
        })
        .await
        .unwrap()
}

async fn audited_by_root(h: &H, kind: &str, user: Option<i64>) {
    let evs = events(h, kind).await;
    let e = evs.first().unwrap_or_else(|| panic!("no `{kind}` event"));
    assert_eq!(e.actor.as_deref(), Some("admin:root"), "{kind}: {e:?}");
    assert_eq!(e.client_addr.as_deref(), Some("192.0.2.10"), "{kind}");
    if user.is_some() {
        assert_eq!(e.user_id, user, "{kind}");
    }
}

// ---------------------------------------------------------------------------------------
// Who may administer

#[tokio::test]
async fn anonymous_is_401_users_are_403_admins_200() {
    let (h, admin, admin_id) = setup().await;
    h.user("pat", "pat@example.org").await;
    let pat = h.login("pat", PW).await;
    let paths = [
        "/users",
        &format!("/users/{admin_id}"),
        "/groups",
        "/groups/admin",
        "/groups/admin/members",
        "/groups/admin/permissions",
        &format!("/users/{admin_id}/tokens"),
        &format!("/tags/users/{admin_id}"),
        "/tags/users?tag=x",
        "/audit",
    ];
    for p in paths {
        let path = format!("{API}{p}");
        err(
            &h.call("GET", &path, None, None).await,
            StatusCode::UNAUTHORIZED,
            &path,
        );
        let r = h.call("GET", &path, None, Some(&pat)).await;
        err(&r, StatusCode::FORBIDDEN, &path);
        assert!(
            r.body["message"]
                .as_str()
                .unwrap()
                .contains("`admin` permission"),
            "{}",
            r.raw
        );
        ok(&h.call("GET", &path, None, Some(&admin)).await, &path);
    }
    // Changes too: 401/403 before the body is even read.
    for (m, p) in [
        ("POST", format!("{API}/groups")),
        ("POST", format!("{API}/users/{admin_id}/block")),
        ("DELETE", format!("{API}/groups/admin")),
    ] {
        let r = h.call(m, &p, Some(json!({"name": "x"})), None).await;
        err(&r, StatusCode::UNAUTHORIZED, &p);
        let r = h.call(m, &p, Some(json!({"name": "x"})), Some(&pat)).await;
        err(&r, StatusCode::FORBIDDEN, &p);
    }
    assert!(h.store.get_group("x").await.unwrap().is_none());
    assert!(h.store.get_group("admin").await.unwrap().is_some());

    // Checked on every request: a revoked permission or a blocked admin loses access at once.
    let users = format!("{API}/users");
    h.store.revoke_permission("admin", "admin").await.unwrap();
    err(
        &h.call("GET", &users, None, Some(&admin)).await,
        StatusCode::FORBIDDEN,
        "revoked",
    );
    h.store.grant_permission("admin", "admin").await.unwrap();
    ok(
        &h.call("GET", &users, None, Some(&admin)).await,
        "granted again",
    );
    h.store.block_user(admin_id).await.unwrap();
    let r = h.call("GET", &users, None, Some(&admin)).await;
    err(&r, StatusCode::FORBIDDEN, "blocked admin");
    assert!(
        r.body["message"].as_str().unwrap().contains("blocked"),
        "{}",
        r.raw
    );
    // Logged out: 401 again.
    h.store.unblock_user(admin_id).await.unwrap();
    let r = h.call("POST", "/auth/api/logout", None, Some(&admin)).await;
    ok(&r, "logout");
    err(
        &h.call("GET", &users, None, Some(&admin)).await,
        StatusCode::UNAUTHORIZED,
        "logged out",
    );
}

#[tokio::test]
async fn the_openapi_document_lists_the_admin_api() {
    let doc = portcullis_portal::openapi_document();
    let paths = doc["paths"].as_object().unwrap();
    let admin: Vec<&String> = paths
        .keys()
        .filter(|p| p.starts_with("/auth/api/admin/"))
        .collect();
    assert!(admin.len() >= 14, "{admin:?}");
    let op = &doc["paths"]["/auth/api/admin/users/{id}/block"]["post"];
    assert_eq!(op["tags"][0], "admin");
    // No fields: the body may be left out, or be `{}` / a form with only the CSRF token.
    assert_eq!(op["requestBody"]["required"], false, "{op}");
    assert!(op["requestBody"]["content"]["application/x-www-form-urlencoded"].is_object());
    assert!(
        op["description"]
            .as_str()
            .unwrap()
            .contains("`admin` permission")
    );
    for code in ["401", "403", "404", "409"] {
        assert!(op["responses"].get(code).is_some(), "{code}");
    }
    let q = &doc["paths"]["/auth/api/admin/users"]["get"]["parameters"];
    let names: Vec<&str> = q
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for n in ["q", "status", "group", "page", "per_page"] {
        assert!(names.contains(&n), "{names:?}");
    }
    assert!(
        doc["paths"]["/auth/api/admin/groups/{name}/permissions/{permission}"]["put"].is_object()
    );
    assert!(doc["paths"]["/auth/api/admin/tokens/{id}"]["delete"].is_object());
    // Request fields carry the limits the handlers check.
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["GroupIn"]["properties"]["name"]["maxLength"], 255);
    assert_eq!(schemas["TagsIn"]["properties"]["tags"]["maxItems"], 100);
    // (Named apart from the REST API's `TokenIn`: schemas are keyed by type name.)
    let days = schemas["NewTokenIn"]["properties"]["expires_in_days"].to_string();
    assert!(days.contains("3650"), "{}", schemas["NewTokenIn"]);
    let user = &schemas["AdminUserAnswer"]["properties"]["user"];
    assert!(user.to_string().contains("AdminUser"), "{user}");
}

// ---------------------------------------------------------------------------------------
// Users

#[tokio::test]
async fn users_are_searched_and_paged_with_a_total() {
    let (h, admin, _) = setup().await;
    for i in 0..23 {
        let mut u = NewUser::new(format!("member{i:02}")).email(format!("m{i}@example.org"));
        if i % 4 == 0 {
            u = u.name("Ada", "Lovelace");
        }
        h.store.create_user(u).await.unwrap();
    }
    let r = h
        .call(
            "GET",
            &format!("{API}/users?per_page=10&page=3"),
            None,
            Some(&admin),
        )
        .await;
    ok(&r, "page 3");
    assert_eq!(r.body["total"], 24);
    assert_eq!(r.body["pages"], 3);
    assert_eq!(r.body["page"], 3);
    assert_eq!(r.body["users"].as_array().unwrap().len(), 4);
    assert!(r.body["users"][0].get("password_hash").is_none());
    let r = h
        .call(
            "GET",
            &format!("{API}/users?q=LOVELACE"),
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(r.body["total"], 6);
    let r = h
        .call(
            "GET",
            &format!("{API}/users?q=m7%40example"),
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(r.body["total"], 1);
    assert_eq!(r.body["users"][0]["username"], "member07");
    let r = h
        .call(
            "GET",
            &format!("{API}/users?group=admin"),
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(r.body["total"], 1);
    assert_eq!(r.body["users"][0]["username"], "root");
    let pat = h
        .store
        .get_user_by_username("member05")
        .await
        .unwrap()
        .unwrap();
    h.store.block_user(pat.id).await.unwrap();
    let r = h
        .call(
            "GET",
            &format!("{API}/users?status=blocked"),
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(r.body["total"], 1);
    assert_eq!(r.body["users"][0]["status"], "blocked");
    // Beyond the last page: empty, with the total.
    let r = h
        .call("GET", &format!("{API}/users?page=99"), None, Some(&admin))
        .await;
    ok(&r, "page 99");
    assert_eq!(r.body["users"], json!([]));
    assert_eq!(r.body["total"], 24);
    // Bad queries name the field.
    for (q, field) in [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("page=99999999999999999999999", "page"),
        ("page=1000001", "page"),
        ("per_page=0", "per_page"),
        ("per_page=201", "per_page"),
        ("status=gone", "status"),
    ] {
        let r = h
            .call("GET", &format!("{API}/users?{q}"), None, Some(&admin))
            .await;
        err(&r, StatusCode::BAD_REQUEST, q);
        assert!(r.body["errors"][field].is_string(), "{q}: {}", r.raw);
    }
    let long = "x".repeat(300);
    let r = h
        .call("GET", &format!("{API}/users?q={long}"), None, Some(&admin))
        .await;
    err(&r, StatusCode::BAD_REQUEST, "long q");
    for q in ["unknown=1", "q=a&q=b", "page=1&page=2"] {
        let r = h
            .call("GET", &format!("{API}/users?{q}"), None, Some(&admin))
            .await;
        err(&r, StatusCode::BAD_REQUEST, q);
    }
}

#[tokio::test]
async fn a_user_page_shows_groups_permissions_tags_tokens_and_events() {
    let (h, admin, _) = setup().await;
    let pat = h.user("pat", "pat@example.org").await;
    h.store.create_group("editors", "").await.unwrap();
    h.store.grant_permission("editors", "edit").await.unwrap();
    h.store.add_member(pat, "editors").await.unwrap();
    h.store
        .add_tags(
            USERS,
            pat,
            &[portcullis_store::Tag::new("team/blue").unwrap()],
        )
        .await
        .unwrap();
    h.store.create_api_token(pat, "ci", None).await.unwrap();
    let r = h
        .call("GET", &format!("{API}/users/{pat}"), None, Some(&admin))
        .await;
    ok(&r, "detail");
    assert_eq!(r.body["user"]["username"], "pat");
    assert_eq!(r.body["user"]["has_password"], true);
    assert_eq!(r.body["groups"], json!(["editors"]));
    assert_eq!(r.body["permissions"], json!(["edit"]));
    assert_eq!(r.body["tags"], json!(["team/blue"]));
    assert_eq!(r.body["tokens"][0]["name"], "ci");
    assert!(r.body["tokens"][0].get("secret").is_none());
    let kinds: Vec<&str> = r.body["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"member_added") && kinds.contains(&"user_created"),
        "{kinds:?}"
    );
    err(
        &h.call("GET", &format!("{API}/users/999999"), None, Some(&admin))
            .await,
        StatusCode::NOT_FOUND,
        "unknown",
    );
}

#[tokio::test]
async fn block_unblock_force_reset_and_delete() {
    let (h, admin, admin_id) = setup().await;
    let pat = h.user("pat", "pat@example.org").await;
    let pat_cookie = h.login("pat", PW).await;
    let p = |a: &str| format!("{API}/users/{pat}/{a}");

    // Block: status, audit, and the user's session ends.
    let r = h.call("POST", &p("block"), None, Some(&admin)).await;
    ok(&r, "block");
    assert_eq!(r.body["user"]["status"], "blocked");
    audited_by_root(&h, "status_changed", Some(pat)).await;
    assert_eq!(
        h.get("/auth/api/profile", Some(&pat_cookie)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = h
        .post(
            "/auth/api/login",
            json!({"username": "pat", "password": PW}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.raw);
    // Unblock (with `{}` as the body); a second unblock is a conflict.
    let r = h
        .call("POST", &p("unblock"), Some(json!({})), Some(&admin))
        .await;
    ok(&r, "unblock");
    assert_eq!(r.body["user"]["status"], "active");
    err(
        &h.call("POST", &p("unblock"), None, Some(&admin)).await,
        StatusCode::CONFLICT,
        "unblock twice",
    );
    let pat_cookie = h.login("pat", PW).await;

    // Force reset: password gone, sessions ended, a reset link mailed, audited.
    let r = h.call("POST", &p("force_reset"), None, Some(&admin)).await;
    ok(&r, "force_reset");
    assert_eq!(r.body["mailed"], true);
    assert!(
        h.store
            .get_user(pat)
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .is_none()
    );
    assert_eq!(
        h.get("/auth/api/profile", Some(&pat_cookie)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = h
        .post(
            "/auth/api/login",
            json!({"username": "pat", "password": PW}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    audited_by_root(&h, "password_reset_forced", Some(pat)).await;
    audited_by_root(&h, "password_invalidated", Some(pat)).await;
    let token = h.token_for("pat@example.org");
    let r = h
        .post(
            "/auth/api/reset_password",
            json!({"token": token, "new_password": "a brand new passphrase"}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    h.login("pat", "a brand new passphrase").await;

    // An administrator cannot block, reset or delete themselves.
    for a in ["block", "force_reset"] {
        let r = h
            .call(
                "POST",
                &format!("{API}/users/{admin_id}/{a}"),
                None,
                Some(&admin),
            )
            .await;
        err(&r, StatusCode::CONFLICT, a);
        assert!(
            r.body["message"]
                .as_str()
                .unwrap()
                .contains("your own account"),
            "{}",
            r.raw
        );
    }
    let r = h
        .call(
            "DELETE",
            &format!("{API}/users/{admin_id}"),
            None,
            Some(&admin),
        )
        .await;
    err(&r, StatusCode::CONFLICT, "delete self");
    assert_eq!(
        h.store.get_user(admin_id).await.unwrap().unwrap().status,
        UserStatus::Active
    );

    // Unknown ids are 404 for every action.
    for a in ["block", "unblock", "force_reset"] {
        let r = h
            .call(
                "POST",
                &format!("{API}/users/424242/{a}"),
                None,
                Some(&admin),
            )
            .await;
        err(&r, StatusCode::NOT_FOUND, a);
    }

    // Delete.
    let r = h
        .call("DELETE", &format!("{API}/users/{pat}"), None, Some(&admin))
        .await;
    ok(&r, "delete");
    assert!(h.store.get_user(pat).await.unwrap().is_none());
    audited_by_root(&h, "user_deleted", Some(pat)).await;
    err(
        &h.call("DELETE", &format!("{API}/users/{pat}"), None, Some(&admin))
            .await,
        StatusCode::NOT_FOUND,
        "again",
    );
}

#[tokio::test]
async fn force_reset_of_a_user_without_address_mails_nothing() {
    let (h, admin, _) = setup().await;
    let u = h
        .store
        .create_user(NewUser::new("sso").password(PW))
        .await
        .unwrap();
    let before = h.mailer.sent().len();
    let r = h
        .call(
            "POST",
            &format!("{API}/users/{}/force_reset", u.id),
            None,
            Some(&admin),
        )
        .await;
    ok(&r, "force_reset");
    assert_eq!(r.body["mailed"], false);
    assert_eq!(h.mailer.sent().len(), before);
    assert!(
        h.store
            .get_user(u.id)
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .is_none()
    );
}

// ---------------------------------------------------------------------------------------
// Groups, memberships, permissions

#[tokio::test]
async fn groups_members_and_permissions() {
    let (h, admin, _) = setup().await;
    let pat = h.user("pat", "pat@example.org").await;
    let sam = h.user("sam", "sam@example.org").await;
    let g = format!("{API}/groups");

    let r = h
        .call(
            "POST",
            &g,
            Some(json!({"name": "editors", "description": "edit pages"})),
            Some(&admin),
        )
        .await;
    ok(&r, "create");
    assert_eq!(r.body["group"]["name"], "editors");
    audited_by_root(&h, "group_created", None).await;
    let r = h
        .call("POST", &g, Some(json!({"name": "editors"})), Some(&admin))
        .await;
    err(&r, StatusCode::CONFLICT, "duplicate group");
    for bad in ["", " padded", "a\u{7}b", &"x".repeat(256)] {
        let r = h
            .call("POST", &g, Some(json!({"name": bad})), Some(&admin))
            .await;
        err(&r, StatusCode::BAD_REQUEST, bad);
        assert!(r.body["errors"]["name"].is_string(), "{}", r.raw);
    }
    let r = h.call("GET", &g, None, Some(&admin)).await;
    let names: Vec<&str> = r.body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "editors"]);

    // Members: by username, by e-mail, by id; duplicates conflict; unknowns are 404.
    let m = format!("{API}/groups/editors/members");
    ok(
        &h.call("POST", &m, Some(json!({"user": "pat"})), Some(&admin))
            .await,
        "by name",
    );
    audited_by_root(&h, "member_added", Some(pat)).await;
    ok(
        &h.call("POST", &m, Some(json!({"user": sam})), Some(&admin))
            .await,
        "by id",
    );
    err(
        &h.call(
            "POST",
            &m,
            Some(json!({"user": "pat@example.org"})),
            Some(&admin),
        )
        .await,
        StatusCode::CONFLICT,
        "dup",
    );
    for bad in [json!({"x": 1}), json!(-4), json!(null), json!(1.5)] {
        let r = h
            .call("POST", &m, Some(json!({"user": bad})), Some(&admin))
            .await;
        err(&r, StatusCode::BAD_REQUEST, "bad user");
        assert!(r.body["errors"]["user"].is_string(), "{}", r.raw);
    }
    err(
        &h.call("POST", &m, Some(json!({"user": "nobody"})), Some(&admin))
            .await,
        StatusCode::NOT_FOUND,
        "nobody",
    );
    err(
        &h.call("POST", &m, Some(json!({"user": 987654})), Some(&admin))
            .await,
        StatusCode::NOT_FOUND,
        "no id",
    );
    err(
        &h.call(
            "POST",
            &format!("{API}/groups/nope/members"),
            Some(json!({"user": "pat"})),
            Some(&admin),
        )
        .await,
        StatusCode::NOT_FOUND,
        "no group",
    );
    let r = h.call("GET", &m, None, Some(&admin)).await;
    let ids: Vec<i64> = r.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [pat, sam]);
    ok(
        &h.call("DELETE", &format!("{m}/{sam}"), None, Some(&admin))
            .await,
        "remove",
    );
    audited_by_root(&h, "member_removed", Some(sam)).await;
    err(
        &h.call("DELETE", &format!("{m}/{sam}"), None, Some(&admin))
            .await,
        StatusCode::NOT_FOUND,
        "remove twice",
    );

    // Permissions: POST conflicts on a duplicate, PUT is idempotent, DELETE 404s when absent.
    let p = format!("{API}/groups/editors/permissions");
    let r = h
        .call(
            "POST",
            &p,
            Some(json!({"permission": "edit"})),
            Some(&admin),
        )
        .await;
    ok(&r, "grant");
    assert_eq!(r.body["permissions"], json!(["edit"]));
    audited_by_root(&h, "permission_granted", None).await;
    err(
        &h.call(
            "POST",
            &p,
            Some(json!({"permission": "edit"})),
            Some(&admin),
        )
        .await,
        StatusCode::CONFLICT,
        "grant twice",
    );
    ok(
        &h.call("PUT", &format!("{p}/edit"), None, Some(&admin))
            .await,
        "put existing",
    );
    let r = h
        .call("PUT", &format!("{p}/publish"), None, Some(&admin))
        .await;
    ok(&r, "put new");
    assert_eq!(r.body["permissions"], json!(["edit", "publish"]));
    assert_eq!(
        h.store.permissions_for(pat).await.unwrap(),
        ["edit", "publish"]
    );
    let r = h
        .call("DELETE", &format!("{p}/publish"), None, Some(&admin))
        .await;
    ok(&r, "revoke");
    audited_by_root(&h, "permission_revoked", None).await;
    err(
        &h.call("DELETE", &format!("{p}/publish"), None, Some(&admin))
            .await,
        StatusCode::NOT_FOUND,
        "revoke twice",
    );
    let r = h
        .call("GET", &format!("{API}/groups/editors"), None, Some(&admin))
        .await;
    assert_eq!(r.body["permissions"], json!(["edit"]));
    assert_eq!(r.body["members"][0]["username"], "pat");

    // Names with reserved characters work when percent-encoded.
    ok(
        &h.call("POST", &g, Some(json!({"name": "a/b c?"})), Some(&admin))
            .await,
        "odd name",
    );
    ok(
        &h.call(
            "GET",
            &format!("{API}/groups/a%2Fb%20c%3F"),
            None,
            Some(&admin),
        )
        .await,
        "odd get",
    );

    // Delete.
    ok(
        &h.call(
            "DELETE",
            &format!("{API}/groups/editors"),
            None,
            Some(&admin),
        )
        .await,
        "delete",
    );
    audited_by_root(&h, "group_deleted", None).await;
    err(
        &h.call(
            "DELETE",
            &format!("{API}/groups/editors"),
            None,
            Some(&admin),
        )
        .await,
        StatusCode::NOT_FOUND,
        "delete twice",
    );
    assert!(h.store.permissions_for(pat).await.unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------
// Tags and API tokens

#[tokio::test]
async fn tags_are_added_found_paged_and_removed() {
    let (h, admin, _) = setup().await;
    let a = h.user("a", "a@example.org").await;
    let b = h.user("b", "b@example.org").await;
    let t = |id: i64| format!("{API}/tags/users/{id}");
    let r = h
        .call(
            "POST",
            &t(a),
            Some(json!({"tags": ["team/blue", "role/lead"]})),
            Some(&admin),
        )
        .await;
    ok(&r, "add");
    assert_eq!(r.body["tags"], json!(["team/blue", "role/lead"]));
    audited_by_root(&h, "tags_added", Some(a)).await;
    ok(
        &h.call(
            "POST",
            &t(b),
            Some(json!({"tags": ["/team/red/"]})),
            Some(&admin),
        )
        .await,
        "add b",
    );
    let r = h.call("GET", &t(b), None, Some(&admin)).await;
    assert_eq!(r.body["tags"], json!(["team/red"]));

    let f = format!("{API}/tags/users");
    let r = h
        .call("GET", &format!("{f}?tag=team"), None, Some(&admin))
        .await;
    ok(&r, "find");
    assert_eq!(r.body["ids"], json!([a, b]));
    assert_eq!(r.body["next_after"], Value::Null);
    let r = h
        .call(
            "GET",
            &format!("{f}?tag=team&tag=role%2Flead"),
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(r.body["ids"], json!([a]));
    let r = h
        .call(
            "GET",
            &format!("{f}?tag=team%2Fred&tag=role&any=true"),
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(r.body["ids"], json!([a, b]));
    let r = h
        .call("GET", &format!("{f}?tag=team&limit=1"), None, Some(&admin))
        .await;
    assert_eq!(r.body["ids"], json!([a]));
    assert_eq!(r.body["next_after"], json!(a));
    let r = h
        .call(
            "GET",
            &format!("{f}?tag=team&limit=1&after={a}"),
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(r.body["ids"], json!([b]));
    assert_eq!(r.body["next_after"], Value::Null);

    let r = h
        .call(
            "DELETE",
            &t(a),
            Some(json!({"tags": ["team/blue"]})),
            Some(&admin),
        )
        .await;
    ok(&r, "remove");
    assert_eq!(r.body["tags"], json!(["role/lead"]));
    audited_by_root(&h, "tags_removed", Some(a)).await;

    // Errors name the field; unknown users and groups are 404; other kinds are free.
    for (body, field) in [
        (json!({"tags": []}), "tags"),
        (json!({"tags": ["a//b"]}), "tags"),
        (json!({"tags": ["x".repeat(5000)]}), "tags"),
        (json!({"tags": vec!["t"; 101]}), "tags"),
    ] {
        let r = h.call("POST", &t(a), Some(body), Some(&admin)).await;
        err(&r, StatusCode::BAD_REQUEST, field);
        assert!(r.body["errors"][field].is_string(), "{}", r.raw);
    }
    err(
        &h.call(
            "POST",
            &t(777_777),
            Some(json!({"tags": ["x"]})),
            Some(&admin),
        )
        .await,
        StatusCode::NOT_FOUND,
        "no user",
    );
    err(
        &h.call(
            "POST",
            &format!("{API}/tags/groups/777777"),
            Some(json!({"tags": ["x"]})),
            Some(&admin),
        )
        .await,
        StatusCode::NOT_FOUND,
        "no group",
    );
    ok(
        &h.call(
            "POST",
            &format!("{API}/tags/pages/5"),
            Some(json!({"tags": ["x"]})),
            Some(&admin),
        )
        .await,
        "own kind",
    );
    err(
        &h.call(
            "GET",
            &format!("{API}/tags/{}/1", "k".repeat(65)),
            None,
            Some(&admin),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "long kind",
    );
    for q in [
        "",
        "?tag=",
        "?tag=a&any=maybe",
        "?tag=a&limit=0",
        "?tag=a&limit=1001",
        "?tag=a&after=x",
        "?tag=a&other=1",
    ] {
        let r = h.call("GET", &format!("{f}{q}"), None, Some(&admin)).await;
        err(&r, StatusCode::BAD_REQUEST, q);
    }
}

#[tokio::test]
async fn api_tokens_are_created_once_listed_and_revoked() {
    let (h, admin, _) = setup().await;
    let pat = h.user("pat", "pat@example.org").await;
    let t = format!("{API}/users/{pat}/tokens");
    let r = h
        .call(
            "POST",
            &t,
            Some(json!({"name": "deploy", "expires_in_days": 30})),
            Some(&admin),
        )
        .await;
    ok(&r, "create");
    let secret = r.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("pct_"));
    let id = r.body["token"]["id"].as_i64().unwrap();
    assert_eq!(
        r.body["token"]["expires_at"],
        crate::harness::T0 + 30 * 86_400
    );
    audited_by_root(&h, "api_token_created", Some(pat)).await;
    assert_eq!(
        h.store
            .authenticate_api_token(&secret)
            .await
            .unwrap()
            .unwrap()
            .id,
        pat
    );
    let r = h.call("GET", &t, None, Some(&admin)).await;
    assert_eq!(r.body["tokens"][0]["id"], id);
    assert!(!r.raw.contains(&secret), "the secret is never listed");
    for (body, field) in [
        (json!({"name": ""}), "name"),
        (
            json!({"name": "x", "expires_in_days": 0}),
            "expires_in_days",
        ),
        (
            json!({"name": "x", "expires_in_days": 3651}),
            "expires_in_days",
        ),
        (
            json!({"name": "x", "expires_in_days": 99_999_999_999u64}),
            "expires_in_days",
        ),
        (
            json!({"name": "x", "expires_in_days": -3}),
            "expires_in_days",
        ),
        (
            json!({"name": "x", "expires_in_days": [1]}),
            "expires_in_days",
        ),
    ] {
        let r = h.call("POST", &t, Some(body), Some(&admin)).await;
        err(&r, StatusCode::BAD_REQUEST, field);
        assert!(r.body["errors"][field].is_string(), "{}", r.raw);
    }
    err(
        &h.call(
            "POST",
            &format!("{API}/users/55555/tokens"),
            Some(json!({"name": "x"})),
            Some(&admin),
        )
        .await,
        StatusCode::NOT_FOUND,
        "no user",
    );
    ok(
        &h.call("DELETE", &format!("{API}/tokens/{id}"), None, Some(&admin))
            .await,
        "revoke",
    );
    audited_by_root(&h, "api_token_revoked", Some(pat)).await;
    assert!(
        h.store
            .authenticate_api_token(&secret)
            .await
            .unwrap()
            .is_none()
    );
    err(
        &h.call("DELETE", &format!("{API}/tokens/{id}"), None, Some(&admin))
            .await,
        StatusCode::NOT_FOUND,
        "twice",
    );
}

// ---------------------------------------------------------------------------------------
// Audit log

#[tokio::test]
async fn the_audit_log_is_filtered_and_paged() {
    let (h, _, _) = setup().await;
    let pat = h.user("pat", "pat@example.org").await;
    h.clock.advance(86_400);
    // The session idled out meanwhile: log in again.
    let admin = h.login("root", PW).await;
    for _ in 0..3 {
        let r = h
            .post(
                "/auth/api/login",
                json!({"username": "pat", "password": "wrong"}),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    ok(
        &h.call(
            "POST",
            &format!("{API}/users/{pat}/block"),
            None,
            Some(&admin),
        )
        .await,
        "block",
    );
    let a = |q: &str| format!("{API}/audit{q}");
    let r = h
        .call("GET", &a("?event=login_failed"), None, Some(&admin))
        .await;
    ok(&r, "event");
    assert_eq!(r.body["total"], 3);
    assert!(
        r.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["event"] == "login_failed")
    );
    let r = h
        .call("GET", &a("?user=pat&per_page=2"), None, Some(&admin))
        .await;
    let total = r.body["total"].as_i64().unwrap();
    assert!(total >= 5, "{}", r.raw);
    assert_eq!(r.body["events"].as_array().unwrap().len(), 2);
    assert_eq!(
        r.body["events"][0]["event"], "status_changed",
        "newest first"
    );
    let r2 = h
        .call(
            "GET",
            &a(&format!("?user={pat}&per_page=2&page=2")),
            None,
            Some(&admin),
        )
        .await;
    assert!(r2.body["events"][0]["id"].as_i64() < r.body["events"][1]["id"].as_i64());
    let r = h
        .call("GET", &a("?actor=admin%3Aroot"), None, Some(&admin))
        .await;
    assert_eq!(r.body["total"], 1);
    // Time filters: dates (UTC days) or Unix seconds.
    let t0 = crate::harness::T0;
    let r = h
        .call("GET", &a(&format!("?until={}", t0 + 1)), None, Some(&admin))
        .await;
    let before = r.body["total"].as_i64().unwrap();
    let r = h
        .call(
            "GET",
            &a(&format!("?since={}", t0 + 86_400)),
            None,
            Some(&admin),
        )
        .await;
    let after = r.body["total"].as_i64().unwrap();
    let r = h.call("GET", &a(""), None, Some(&admin)).await;
    assert_eq!(before + after, r.body["total"].as_i64().unwrap());
    assert!(before > 0 && after >= 4);
    let r = h
        .call(
            "GET",
            &a("?since=2027-01-15&until=2027-01-15"),
            None,
            Some(&admin),
        )
        .await;
    ok(&r, "dates");
    // T0 is 2027-01-15 08:00 UTC: the day holds the events before the clock moved.
    assert_eq!(r.body["total"].as_i64().unwrap(), before);
    for (q, field) in [
        ("?since=yesterday", "since"),
        ("?until=2027-02-30", "until"),
        ("?since=99999999999999999999", "since"),
        ("?page=0", "page"),
        ("?page=100000000000", "page"),
        ("?per_page=100000", "per_page"),
        ("?user=nobody", "user"),
    ] {
        let r = h.call("GET", &a(q), None, Some(&admin)).await;
        err(&r, StatusCode::BAD_REQUEST, q);
        assert!(r.body["errors"][field].is_string(), "{q}: {}", r.raw);
    }
    err(
        &h.call("GET", &a("?kind=x"), None, Some(&admin)).await,
        StatusCode::BAD_REQUEST,
        "unknown",
    );
}

// ---------------------------------------------------------------------------------------
// Bad input everywhere

/// Every change of the admin API, with a valid body and the name of a string field.
fn changes(pat: i64) -> Vec<(&'static str, String, Value, &'static str)> {
    vec![
        ("POST", format!("{API}/users/{pat}/block"), json!({}), ""),
        ("POST", format!("{API}/users/{pat}/unblock"), json!({}), ""),
        (
            "POST",
            format!("{API}/users/{pat}/force_reset"),
            json!({}),
            "",
        ),
        ("DELETE", format!("{API}/users/{pat}"), json!({}), ""),
        (
            "POST",
            format!("{API}/users/{pat}/tokens"),
            json!({"name": "t"}),
            "name",
        ),
        ("DELETE", format!("{API}/tokens/1"), json!({}), ""),
        (
            "POST",
            format!("{API}/groups"),
            json!({"name": "g2"}),
            "name",
        ),
        ("DELETE", format!("{API}/groups/staff"), json!({}), ""),
        (
            "POST",
            format!("{API}/groups/staff/members"),
            json!({"user": "pat"}),
            "user",
        ),
        (
            "DELETE",
            format!("{API}/groups/staff/members/{pat}"),
            json!({}),
            "",
        ),
        (
            "POST",
            format!("{API}/groups/staff/permissions"),
            json!({"permission": "p"}),
            "permission",
        ),
        (
            "PUT",
            format!("{API}/groups/staff/permissions/p"),
            json!({}),
            "",
        ),
        (
            "DELETE",
            format!("{API}/groups/staff/permissions/p"),
            json!({}),
            "",
        ),
        (
            "POST",
            format!("{API}/tags/users/{pat}"),
            json!({"tags": ["a"]}),
            "",
        ),
        (
            "DELETE",
            format!("{API}/tags/users/{pat}"),
            json!({"tags": ["a"]}),
            "",
        ),
    ]
}

#[tokio::test]
async fn every_admin_endpoint_rejects_bad_input_without_writing() {
    let (h, admin, _) = setup().await;
    let pat = h.user("pat", "pat@example.org").await;
    h.store.create_group("staff", "").await.unwrap();
    let c = Some(admin.as_str());
    let audit_before = h.store.count_audit(&AuditQuery::default()).await.unwrap();
    for (m, path, good, long_field) in changes(pat) {
        let send = |ctype: &str, body: Vec<u8>| H::request(m, &path, Some(ctype), body, c);
        let what = |w: &str| format!("{m} {path}: {w}");
        err(
            &h.send(send("application/json", b"{\"name\": ".to_vec()))
                .await,
            StatusCode::BAD_REQUEST,
            &what("malformed"),
        );
        err(
            &h.send(send("application/json", b"[1]".to_vec())).await,
            StatusCode::BAD_REQUEST,
            &what("array"),
        );
        err(
            &h.send(send("text/plain", good.to_string().into_bytes()))
                .await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &what("text/plain"),
        );
        err(
            &h.send(send("multipart/form-data; boundary=x", b"--x--".to_vec()))
                .await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &what("multipart"),
        );
        let r = h.send(H::request(m, &path, None, b"{}x".to_vec(), c)).await;
        err(
            &r,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &what("no content type"),
        );
        err(
            &h.send(send(FORM, b"name=x".to_vec())).await,
            StatusCode::FORBIDDEN,
            &what("form without token"),
        );
        let big = format!("{{\"name\": \"{}\"}}", "a".repeat(100_000));
        err(
            &h.send(send("application/json", big.into_bytes())).await,
            StatusCode::PAYLOAD_TOO_LARGE,
            &what("oversized"),
        );
        let mut utf8 = b"{\"name\": \"".to_vec();
        utf8.extend_from_slice(&[0xff, 0xfe, b'"', b'}']);
        err(
            &h.send(send("application/json", utf8)).await,
            StatusCode::BAD_REQUEST,
            &what("invalid utf-8"),
        );
        let mut extra = good.clone();
        extra["is_admin"] = json!(true);
        let r = h
            .send(send("application/json", extra.to_string().into_bytes()))
            .await;
        err(&r, StatusCode::BAD_REQUEST, &what("extra field"));
        assert!(
            r.body["message"].as_str().unwrap().contains("is_admin"),
            "{}",
            r.raw
        );
        if let Some(k) = good.as_object().unwrap().keys().next().cloned() {
            let mut missing = good.clone();
            missing.as_object_mut().unwrap().remove(&k);
            err(
                &h.send(send("application/json", missing.to_string().into_bytes()))
                    .await,
                StatusCode::BAD_REQUEST,
                &what("missing"),
            );
            let mut wrong = good.clone();
            wrong[&k] = json!({"nested": true});
            err(
                &h.send(send("application/json", wrong.to_string().into_bytes()))
                    .await,
                StatusCode::BAD_REQUEST,
                &what("wrong type"),
            );
        }
        if !long_field.is_empty() {
            let mut long = good.clone();
            long[long_field] = json!("x".repeat(10_000));
            let r = h
                .send(send("application/json", long.to_string().into_bytes()))
                .await;
            assert!(r.status.is_client_error(), "{}: {}", what("long"), r.raw);
            assert_ne!(r.status, StatusCode::OK);
        }
        // An untrusted Origin is refused before anything else.
        let mut req = send("application/json", good.to_string().into_bytes());
        req.headers_mut()
            .insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        err(&h.send(req).await, StatusCode::FORBIDDEN, &what("origin"));
    }
    // Absurd ids in paths: 400 naming the parameter (never 500); huge valid ids are 404.
    for id in [
        "abc",
        "0",
        "-5",
        "1.5",
        "99999999999999999999999",
        "%FF",
        "%00",
    ] {
        for (m, p) in [
            ("GET", format!("{API}/users/{id}")),
            ("POST", format!("{API}/users/{id}/block")),
            ("DELETE", format!("{API}/users/{id}")),
            ("GET", format!("{API}/users/{id}/tokens")),
            ("DELETE", format!("{API}/tokens/{id}")),
            ("DELETE", format!("{API}/groups/staff/members/{id}")),
            ("GET", format!("{API}/tags/users/{id}")),
        ] {
            let r = h.call(m, &p, None, c).await;
            err(&r, StatusCode::BAD_REQUEST, &format!("{m} {p}"));
        }
    }
    let huge = i64::MAX;
    err(
        &h.call("GET", &format!("{API}/users/{huge}"), None, c).await,
        StatusCode::NOT_FOUND,
        "huge id",
    );
    err(
        &h.call("DELETE", &format!("{API}/tokens/{huge}"), None, c)
            .await,
        StatusCode::NOT_FOUND,
        "huge token",
    );
    err(
        &h.call("GET", &format!("{API}/groups/%FF"), None, c).await,
        StatusCode::BAD_REQUEST,
        "bad utf-8 name",
    );
    err(
        &h.call("GET", &format!("{API}/groups/{}", "g".repeat(300)), None, c)
            .await,
        StatusCode::BAD_REQUEST,
        "long name",
    );
    // Nothing was written: no user, group, membership or permission changed, and the audit
    // log holds only the refused CSRF attempts.
    let u = h.store.get_user(pat).await.unwrap().unwrap();
    assert_eq!(u.status, UserStatus::Active);
    assert!(u.password_hash.is_some());
    assert!(h.store.get_group("g2").await.unwrap().is_none());
    assert!(h.store.members_of("staff").await.unwrap().is_empty());
    assert!(h.store.group_permissions("staff").await.unwrap().is_empty());
    assert!(h.store.get_tags(USERS, pat).await.unwrap().is_empty());
    assert!(h.store.list_api_tokens(Some(pat)).await.unwrap().is_empty());
    let audit_after = h.store.count_audit(&AuditQuery::default()).await.unwrap();
    let csrf = events(&h, "csrf_refused").await.len() as i64;
    assert_eq!(audit_after, audit_before + csrf);
}

#[tokio::test]
async fn api_form_posts_work_with_the_csrf_token() {
    let (h, admin, _) = setup().await;
    let r = h.get("/auth/api/config", Some(&admin)).await;
    let token = r.body["csrf_token"].as_str().unwrap().to_owned();
    let body = format!("name=viaform&description=made+by+form&csrf_token={token}");
    let r = h
        .send(H::form(&format!("{API}/groups"), body, Some(&admin)))
        .await;
    ok(&r, "form with token");
    assert_eq!(
        h.store
            .get_group("viaform")
            .await
            .unwrap()
            .unwrap()
            .description,
        "made by form"
    );
    let body = "name=other&csrf_token=wrong";
    let r = h
        .send(H::form(&format!("{API}/groups"), body, Some(&admin)))
        .await;
    err(&r, StatusCode::FORBIDDEN, "wrong token");
    assert!(h.store.get_group("other").await.unwrap().is_none());
}

// ---------------------------------------------------------------------------------------
// The HTML UI

async fn page(h: &H, path: &str, cookie: &str) -> Resp {
    let r = h.get(path, Some(cookie)).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.raw);
    assert!(
        r.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = r.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert_eq!(r.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(r.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(!r.raw.contains("<script"), "{path}: no script");
    r
}

async fn submit(h: &H, path: &str, fields: &[(&str, &str)], cookie: &str) -> Resp {
    h.send(H::form(path, form_body(fields), Some(cookie))).await
}

#[tokio::test]
async fn ui_needs_an_administrator() {
    let (h, admin, _) = setup().await;
    let r = h.get("/auth/admin/users?q=a%20b", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        location(&r),
        "/auth/login?came_from=%2Fauth%2Fadmin%2Fusers%3Fq%3Da%2520b"
    );
    let r = h.get("/auth/admin/", Some(&admin)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/auth/admin/users");
    h.user("pat", "pat@example.org").await;
    let pat = h.login("pat", PW).await;
    let r = h.get("/auth/admin/users", Some(&pat)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.raw.contains("`admin` permission"), "{}", r.raw);
    assert!(r.headers.contains_key(header::CONTENT_SECURITY_POLICY));
    // A post by a non-administrator changes nothing.
    let r = submit(
        &h,
        "/auth/admin/groups",
        &[("name", "x"), ("csrf_token", "t")],
        &pat,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = submit(&h, "/auth/admin/groups", &[("name", "x")], "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(h.store.get_group("x").await.unwrap().is_none());
    let css = h.get("/auth/admin/static/admin.css", None).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(
        css.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
}

#[tokio::test]
async fn ui_pages_render_and_forms_work_with_csrf_only() {
    let (h, admin, admin_id) = setup().await;
    let pat = h.user("pat", "pat@example.org").await;
    for i in 0..60 {
        h.store
            .create_user(NewUser::new(format!("bulk{i:02}")))
            .await
            .unwrap();
    }
    let users = page(&h, "/auth/admin/users", &admin).await;
    assert!(users.raw.contains("62 user(s)"), "{}", users.raw);
    assert!(users.raw.contains("Page 1 of 2"));
    assert!(
        users.raw.contains("users?page=2\" rel=\"next\""),
        "{}",
        users.raw
    );
    let r = page(&h, "/auth/admin/users?q=PAT&status=active", &admin).await;
    assert!(
        r.raw.contains("1 user(s)") && r.raw.contains(">pat</a>"),
        "{}",
        r.raw
    );
    let r = h.get("/auth/admin/users?page=0", Some(&admin)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.raw.contains("page"), "{}", r.raw);

    let user_page = page(&h, &format!("/auth/admin/users/{pat}"), &admin).await;
    let token = csrf(&user_page.raw);
    for label in [
        "Block",
        "Force password reset",
        "Delete…",
        "Add tag",
        "New token name",
    ] {
        assert!(user_page.raw.contains(label), "{label}");
    }
    let own = page(&h, &format!("/auth/admin/users/{admin_id}"), &admin).await;
    assert!(own.raw.contains("This is your own account"));

    // Without the token, with a wrong one, or from another origin: refused, nothing changes.
    let block = format!("/auth/admin/users/{pat}/block");
    let r = submit(&h, &block, &[], &admin).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.raw);
    assert!(r.raw.contains("csrf"), "{}", r.raw);
    let r = submit(&h, &block, &[("csrf_token", "nope")], &admin).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let body = format!("csrf_token={token}");
    let req = with_origin(H::form(&block, body, Some(&admin)), "https://evil.example");
    assert_eq!(h.send(req).await.status, StatusCode::FORBIDDEN);
    let r = h
        .send(H::request(
            "POST",
            &block,
            Some("application/json"),
            "{}",
            Some(&admin),
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = submit(
        &h,
        &block,
        &[("csrf_token", &token), ("extra", "1")],
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        h.store.get_user(pat).await.unwrap().unwrap().status,
        UserStatus::Active
    );

    // With the token (and the portal's own Origin): done, redirected, flashed once.
    let body = format!("csrf_token={token}");
    let req = with_origin(H::form(&block, body, Some(&admin)), "https://portal.test");
    let r = h.send(req).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.raw);
    assert_eq!(location(&r), format!("/auth/admin/users/{pat}"));
    assert_eq!(
        h.store.get_user(pat).await.unwrap().unwrap().status,
        UserStatus::Blocked
    );
    audited_by_root(&h, "status_changed", Some(pat)).await;
    let r = page(&h, &format!("/auth/admin/users/{pat}"), &admin).await;
    assert!(r.raw.contains("pat is blocked"), "flash");
    assert!(r.raw.contains("Unblock"));
    let r = page(&h, &format!("/auth/admin/users/{pat}"), &admin).await;
    assert!(!r.raw.contains("pat is blocked"), "the flash shows once");
    let r = submit(
        &h,
        &format!("/auth/admin/users/{pat}/unblock"),
        &[("csrf_token", &token)],
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // Self-block through the UI is refused too.
    let r = submit(
        &h,
        &format!("/auth/admin/users/{admin_id}/block"),
        &[("csrf_token", &token)],
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.raw.contains("your own account"));

    // Groups: create, add member, grant, revoke, remove, delete with confirmation.
    let groups = page(&h, "/auth/admin/groups", &admin).await;
    assert!(groups.raw.contains("<label for=\"name\">Name</label>"));
    let r = submit(
        &h,
        "/auth/admin/groups",
        &[
            ("csrf_token", &token),
            ("name", "web team"),
            ("description", "<b>bold</b>"),
        ],
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.raw);
    assert_eq!(location(&r), "/auth/admin/groups/web%20team");
    let g = page(&h, "/auth/admin/groups/web%20team", &admin).await;
    assert!(
        g.raw.contains("&lt;b&gt;bold&lt;&#x2f;b&gt;") || g.raw.contains("&lt;b&gt;bold&lt;/b&gt;"),
        "escaped: {}",
        g.raw
    );
    let r = submit(
        &h,
        "/auth/admin/groups",
        &[("csrf_token", &token), ("name", "web team")],
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let base = "/auth/admin/groups/web%20team";
    let r = submit(
        &h,
        &format!("{base}/members"),
        &[("csrf_token", &token), ("user", "pat@example.org")],
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.raw);
    let r = submit(
        &h,
        &format!("{base}/permissions"),
        &[("csrf_token", &token), ("permission", "deploy")],
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(h.store.permissions_for(pat).await.unwrap(), ["deploy"]);
    let g = page(&h, base, &admin).await;
    assert!(
        g.raw.contains(">pat</a>") && g.raw.contains("<code>deploy</code>"),
        "{}",
        g.raw
    );
    let r = submit(
        &h,
        &format!("{base}/permissions/remove"),
        &[("csrf_token", &token), ("permission", "deploy")],
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = submit(
        &h,
        &format!("{base}/members/remove"),
        &[("csrf_token", &token), ("user_id", &pat.to_string())],
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(h.store.members_of("web team").await.unwrap().is_empty());
    let r = submit(
        &h,
        &format!("{base}/members/remove"),
        &[("csrf_token", &token), ("user_id", "abc")],
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let confirm = page(&h, &format!("{base}/delete"), &admin).await;
    assert!(confirm.raw.contains("Delete the group"));
    let r = submit(
        &h,
        &format!("{base}/delete"),
        &[("csrf_token", &token)],
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(h.store.get_group("web team").await.unwrap().is_none());

    // Memberships and tags from the user page.
    let up = format!("/auth/admin/users/{pat}");
    let r = submit(
        &h,
        &format!("{up}/groups"),
        &[("csrf_token", &token), ("group", "admin")],
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(h.store.permissions_for(pat).await.unwrap(), ["admin"]);
    let r = submit(
        &h,
        &format!("{up}/groups/remove"),
        &[("csrf_token", &token), ("group", "admin")],
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = submit(
        &h,
        &format!("{up}/tags"),
        &[("csrf_token", &token), ("tag", "team/blue")],
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        page(&h, &up, &admin)
            .await
            .raw
            .contains("<code>team&#x2f;blue</code>")
            || page(&h, &up, &admin)
                .await
                .raw
                .contains("<code>team/blue</code>")
    );
    let r = submit(
        &h,
        &format!("{up}/tags"),
        &[("csrf_token", &token), ("tag", "a//b")],
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = submit(
        &h,
        &format!("{up}/tags/remove"),
        &[("csrf_token", &token), ("tag", "team/blue")],
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(h.store.get_tags(USERS, pat).await.unwrap().is_empty());

    // API tokens: the secret is shown in the answer to the post, once.
    let r = submit(
        &h,
        &format!("{up}/tokens"),
        &[
            ("csrf_token", &token),
            ("name", "laptop"),
            ("expires_in_days", ""),
        ],
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    assert_eq!(r.headers[header::CACHE_CONTROL], "no-store");
    let at = r.raw.find("pct_").expect("the secret");
    let secret: String = r.raw[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    assert!(
        h.store
            .authenticate_api_token(&secret)
            .await
            .unwrap()
            .is_some()
    );
    let again = page(&h, &up, &admin).await;
    assert!(!again.raw.contains(&secret), "never shown again");
    let tid = h.store.list_api_tokens(Some(pat)).await.unwrap()[0].id;
    let r = submit(
        &h,
        &format!("/auth/admin/tokens/{tid}/revoke"),
        &[("csrf_token", &token), ("user", &pat.to_string())],
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&r), up);
    assert!(
        h.store
            .authenticate_api_token(&secret)
            .await
            .unwrap()
            .is_none()
    );
    let r = submit(
        &h,
        &format!("{up}/tokens"),
        &[
            ("csrf_token", &token),
            ("name", "x"),
            ("expires_in_days", "many"),
        ],
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Force reset, then delete with its confirmation step.
    let r = submit(
        &h,
        &format!("{up}/force_reset"),
        &[("csrf_token", &token)],
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        h.store
            .get_user(pat)
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .is_none()
    );
    let confirm = page(&h, &format!("{up}/delete"), &admin).await;
    assert!(confirm.raw.contains("Delete the user") && confirm.raw.contains("Cancel"));
    assert!(
        h.store.get_user(pat).await.unwrap().is_some(),
        "the confirmation page deletes nothing"
    );
    let r = submit(
        &h,
        &format!("{up}/delete"),
        &[("csrf_token", &token)],
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/auth/admin/users");
    assert!(h.store.get_user(pat).await.unwrap().is_none());
    let r = h.get(&up, Some(&admin)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.raw.contains("not found"));

    // The audit page filters and pages.
    let a = page(
        &h,
        &format!("/auth/admin/audit?user={pat}&event=user_deleted"),
        &admin,
    )
    .await;
    assert!(
        a.raw.contains("1 event(s)") && a.raw.contains("admin:root"),
        "{}",
        a.raw
    );
    let a = page(&h, "/auth/admin/audit?per_page=5&since=2027-01-01", &admin).await;
    assert!(a.raw.contains("rel=\"next\""), "{}", a.raw);
    let r = h.get("/auth/admin/audit?since=soon", Some(&admin)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    for bad in [
        "/auth/admin/users/abc",
        "/auth/admin/users/99999999999999999999",
        "/auth/admin/groups/nope",
    ] {
        let r = h.get(bad, Some(&admin)).await;
        assert!(r.status.is_client_error(), "{bad}: {}", r.status);
    }
}

/// Every form of the admin UI, with its fields.
fn ui_forms(pat: i64) -> Vec<(String, Vec<(&'static str, String)>)> {
    let u = format!("/auth/admin/users/{pat}");
    let g = "/auth/admin/groups/staff".to_owned();
    vec![
        (format!("{u}/block"), vec![]),
        (format!("{u}/unblock"), vec![]),
        (format!("{u}/force_reset"), vec![]),
        (format!("{u}/delete"), vec![]),
        (format!("{u}/groups"), vec![("group", "staff".into())]),
        (
            format!("{u}/groups/remove"),
            vec![("group", "staff".into())],
        ),
        (format!("{u}/tags"), vec![("tag", "a".into())]),
        (format!("{u}/tags/remove"), vec![("tag", "a".into())]),
        (format!("{u}/tokens"), vec![("name", "t".into())]),
        (
            "/auth/admin/tokens/1/revoke".into(),
            vec![("user", pat.to_string())],
        ),
        ("/auth/admin/groups".into(), vec![("name", "g2".into())]),
        (format!("{g}/delete"), vec![]),
        (format!("{g}/members"), vec![("user", "pat".into())]),
        (
            format!("{g}/members/remove"),
            vec![("user_id", pat.to_string())],
        ),
        (format!("{g}/permissions"), vec![("permission", "p".into())]),
        (
            format!("{g}/permissions/remove"),
            vec![("permission", "p".into())],
        ),
    ]
}

#[tokio::test]
async fn every_ui_form_rejects_bad_input_without_writing() {
    let (h, admin, _) = setup().await;
    let pat = h.user("pat", "pat@example.org").await;
    h.store.create_group("staff", "").await.unwrap();
    let token = csrf(&page(&h, "/auth/admin/groups", &admin).await.raw);
    let form = FORM;
    for (path, fields) in ui_forms(pat) {
        let body = |extra: &str| {
            let mut parts: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{k}={}", enc(v)))
                .collect();
            if !extra.is_empty() {
                parts.push(extra.to_owned());
            }
            parts.join("&")
        };
        let with_token = |extra: &str| {
            let b = body(extra);
            if b.is_empty() {
                format!("csrf_token={token}")
            } else {
                format!("{b}&csrf_token={token}")
            }
        };
        let status = |r: &Resp, want: StatusCode, what: &str| {
            assert_eq!(r.status, want, "{path} {what}: {}", r.raw);
            assert!(
                r.headers[header::CONTENT_TYPE]
                    .to_str()
                    .unwrap()
                    .starts_with("text/html"),
                "{path} {what}"
            );
            assert!(
                r.headers.contains_key(header::CONTENT_SECURITY_POLICY),
                "{path} {what}"
            );
        };
        let send = |ctype: Option<&'static str>, b: Vec<u8>| {
            H::request("POST", &path, ctype, b, Some(&admin))
        };
        status(
            &h.send(send(Some(form), body("").into_bytes())).await,
            StatusCode::FORBIDDEN,
            "no token",
        );
        status(
            &h.send(send(Some("application/json"), b"{}".to_vec())).await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "json",
        );
        status(
            &h.send(send(Some("text/plain"), with_token("").into_bytes()))
                .await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "text",
        );
        status(
            &h.send(send(None, with_token("").into_bytes())).await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "none",
        );
        let big = with_token(&format!("pad={}", "x".repeat(100_000)));
        status(
            &h.send(send(Some(form), big.into_bytes())).await,
            StatusCode::PAYLOAD_TOO_LARGE,
            "oversized",
        );
        status(
            &h.send(send(Some(form), with_token("bad=%FF%FE").into_bytes()))
                .await,
            StatusCode::BAD_REQUEST,
            "utf-8",
        );
        status(
            &h.send(send(Some(form), with_token("bad=%G0").into_bytes()))
                .await,
            StatusCode::BAD_REQUEST,
            "escape",
        );
        status(
            &h.send(send(Some(form), with_token("is_admin=1").into_bytes()))
                .await,
            StatusCode::BAD_REQUEST,
            "extra",
        );
        if let Some((k, _)) = fields.first() {
            let r = h
                .send(send(Some(form), format!("csrf_token={token}").into_bytes()))
                .await;
            status(&r, StatusCode::BAD_REQUEST, "missing");
            assert!(r.raw.contains(k), "{path}: names `{k}`");
            let twice = format!("{}&{k}=again", with_token(""));
            status(
                &h.send(send(Some(form), twice.into_bytes())).await,
                StatusCode::BAD_REQUEST,
                "twice",
            );
            let long = fields
                .iter()
                .map(|(k, _)| format!("{k}={}", "x".repeat(5_000)))
                .collect::<Vec<_>>()
                .join("&");
            let r = h
                .send(send(
                    Some(form),
                    format!("{long}&csrf_token={token}").into_bytes(),
                ))
                .await;
            assert!(r.status.is_client_error(), "{path} long: {}", r.status);
        }
    }
    for id in ["abc", "0", "-1", "99999999999999999999", "%FF"] {
        for p in [
            format!("/auth/admin/users/{id}/block"),
            format!("/auth/admin/tokens/{id}/revoke"),
        ] {
            let r = submit(&h, &p, &[("csrf_token", &token)], &admin).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{p}: {}", r.raw);
        }
        let r = h
            .get(&format!("/auth/admin/users/{id}"), Some(&admin))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{id}");
    }
    // Nothing was written.
    let u = h.store.get_user(pat).await.unwrap().unwrap();
    assert_eq!(u.status, UserStatus::Active);
    assert!(u.password_hash.is_some());
    assert!(h.store.get_group("g2").await.unwrap().is_none());
    assert!(h.store.get_group("staff").await.unwrap().is_some());
    assert!(h.store.members_of("staff").await.unwrap().is_empty());
    assert!(h.store.group_permissions("staff").await.unwrap().is_empty());
    assert!(h.store.get_tags(USERS, pat).await.unwrap().is_empty());
    assert!(h.store.list_api_tokens(Some(pat)).await.unwrap().is_empty());
}

#[tokio::test]
async fn ui_templates_and_style_are_overridable_from_templates_dir() {
    let dir = tempfile::tempdir().unwrap();
    let admin_dir = dir.path().join("admin");
    std::fs::create_dir_all(&admin_dir).unwrap();
    std::fs::write(
        admin_dir.join("users.html"),
        "{% extends \"base.html\" %}{% block content %}<p>Our users: {{ total }}</p>{% endblock %}",
    )
    .unwrap();
    std::fs::write(admin_dir.join("admin.css"), "body { color: teal; }").unwrap();
    let path = dir.path().to_owned();
    let h = H::with(move |c| c.templates_dir = Some(path)).await;
    let id = h.user("root", "root@example.org").await;
    h.store.create_group("admin", "").await.unwrap();
    h.store.grant_permission("admin", "admin").await.unwrap();
    h.store.add_member(id, "admin").await.unwrap();
    let admin = h.login("root", PW).await;
    let r = page(&h, "/auth/admin/users", &admin).await;
    assert!(r.raw.contains("<p>Our users: 1</p>"), "{}", r.raw);
    assert!(
        r.raw.contains("Portcullis admin"),
        "the built-in base.html still frames it"
    );
    let css = h.get("/auth/admin/static/admin.css", None).await;
    assert_eq!(css.raw, "body { color: teal; }");
    // Templates that are not overridden stay built in.
    let r = page(&h, "/auth/admin/groups", &admin).await;
    assert!(r.raw.contains("New group"));
    let r = h.get("/auth/admin/users/abc", Some(&admin)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.raw.contains("Error 400"));
}

#[tokio::test]
async fn the_last_administrator_cannot_be_removed() {
    let (h, root, root_id) = setup().await;
    let last = |r: &Resp, what: &str| {
        err(r, StatusCode::CONFLICT, what);
        assert!(
            r.body["message"]
                .as_str()
                .unwrap()
                .contains("no active administrator"),
            "{what}: {}",
            r.raw
        );
    };
    last(
        &h.call(
            "DELETE",
            &format!("{API}/groups/admin/permissions/admin"),
            None,
            Some(&root),
        )
        .await,
        "revoke admin from the only granting group",
    );
    last(
        &h.call(
            "DELETE",
            &format!("{API}/groups/admin/members/{root_id}"),
            None,
            Some(&root),
        )
        .await,
        "the last administrator leaves the group",
    );
    last(
        &h.call("DELETE", &format!("{API}/groups/admin"), None, Some(&root))
            .await,
        "delete the only granting group",
    );
    // Nothing changed.
    assert_eq!(
        h.store.group_permissions("admin").await.unwrap(),
        vec!["admin".to_owned()]
    );
    assert_eq!(h.store.members_of("admin").await.unwrap().len(), 1);
    // Other permissions of that group can still be revoked.
    h.store.grant_permission("admin", "edit").await.unwrap();
    ok(
        &h.call(
            "DELETE",
            &format!("{API}/groups/admin/permissions/edit"),
            None,
            Some(&root),
        )
        .await,
        "revoke another permission",
    );
    // With a second administrator (through another group), root may leave.
    let ann = h.user("ann", "ann@example.org").await;
    h.store.create_group("ops", "").await.unwrap();
    h.store.grant_permission("ops", "admin").await.unwrap();
    h.store.add_member(ann, "ops").await.unwrap();
    ok(
        &h.call(
            "DELETE",
            &format!("{API}/groups/admin/members/{root_id}"),
            None,
            Some(&root),
        )
        .await,
        "leave while ann administers",
    );
    // Root is no administrator any more; ann, the last one, cannot drop `ops`' grant.
    let ann_cookie = h.login("ann", PW).await;
    last(
        &h.call(
            "DELETE",
            &format!("{API}/groups/ops/permissions/admin"),
            None,
            Some(&ann_cookie),
        )
        .await,
        "revoke from the last granting group",
    );
}
