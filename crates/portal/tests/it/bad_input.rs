//! Bad input at every endpoint: always a 4xx with a message, nothing written.

use http::StatusCode;
use serde_json::{Value, json};

use crate::harness::{FORM, H, PW};

/// Every POST endpoint with a valid body and the name of a string field to blow up.
fn endpoints() -> Vec<(&'static str, Value, &'static str)> {
    vec![
        (
            "/auth/api/register",
            json!({"email": "new@example.org", "password": PW}),
            "first_name",
        ),
        (
            "/auth/api/login",
            json!({"username": "pat", "password": PW}),
            "username",
        ),
        ("/auth/api/logout", json!({}), ""),
        (
            "/auth/api/request_reset_password",
            json!({"email": "pat@example.org"}),
            "email",
        ),
        (
            "/auth/api/reset_password",
            json!({"token": "x", "new_password": "some new password"}),
            "token",
        ),
        ("/auth/api/verify_email", json!({"token": "x"}), "token"),
        (
            "/auth/api/profile",
            json!({"first_name": "Pat"}),
            "first_name",
        ),
        (
            "/auth/api/change_password",
            json!({"old_password": PW, "new_password": "some new password"}),
            "old_password",
        ),
        (
            "/auth/api/change_email",
            json!({"password": PW, "new_email": "pat@new.example"}),
            "new_email",
        ),
    ]
}

fn assert_error(r: &crate::harness::Resp, status: StatusCode, what: &str) {
    assert_eq!(r.status, status, "{what}: {}", r.raw);
    assert_eq!(r.body["status"], "error", "{what}");
    assert!(
        !r.body["message"].as_str().unwrap_or("").is_empty(),
        "{what}: a message"
    );
    assert_eq!(r.body["code"], status.as_u16(), "{what}");
}

#[tokio::test]
async fn every_endpoint_rejects_bad_bodies() {
    let h = H::new().await;
    h.user("pat", "pat@example.org").await;
    let cookie = h.login("pat", PW).await;
    let users_before = h.store.count_users().await.unwrap();
    for (path, good, long_field) in endpoints() {
        let c = Some(cookie.as_str());
        let send =
            |ctype: &'static str, body: Vec<u8>| H::request("POST", path, Some(ctype), body, c);
        let r = h
            .send(send("application/json", b"{\"email\": ".to_vec()))
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST, &format!("{path} malformed"));
        let r = h.send(send("application/json", b"[1, 2]".to_vec())).await;
        assert_error(
            &r,
            StatusCode::BAD_REQUEST,
            &format!("{path} not an object"),
        );
        let r = h
            .send(send("text/plain", good.to_string().into_bytes()))
            .await;
        assert_error(
            &r,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &format!("{path} text/plain"),
        );
        let r = h
            .send(send("multipart/form-data; boundary=x", b"--x--".to_vec()))
            .await;
        assert_error(
            &r,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &format!("{path} multipart"),
        );
        // A form post without the CSRF token is refused before anything is read.
        let r = h.send(send(FORM, b"email=a%40b.c".to_vec())).await;
        assert_error(
            &r,
            StatusCode::FORBIDDEN,
            &format!("{path} form without token"),
        );
        let big = format!("{{\"email\": \"{}\"}}", "a".repeat(20_000));
        let r = h.send(send("application/json", big.into_bytes())).await;
        assert_error(
            &r,
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("{path} oversized"),
        );
        let mut bad_utf8 = b"{\"email\": \"".to_vec();
        bad_utf8.extend_from_slice(&[0xff, 0xfe, b'"', b'}']);
        let r = h.send(send("application/json", bad_utf8)).await;
        assert_error(
            &r,
            StatusCode::BAD_REQUEST,
            &format!("{path} invalid utf-8"),
        );
        let mut extra = good.clone();
        extra["is_admin"] = json!(true);
        let r = h
            .send(send("application/json", extra.to_string().into_bytes()))
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST, &format!("{path} extra field"));
        assert!(
            r.body["message"].as_str().unwrap().contains("is_admin"),
            "{}",
            r.raw
        );
        let mut wrong_type = good.clone();
        if let Some(obj) = wrong_type.as_object_mut()
            && let Some(k) = obj.keys().next().cloned()
        {
            obj.insert(k.clone(), json!(42));
            let r = h
                .send(send(
                    "application/json",
                    wrong_type.to_string().into_bytes(),
                ))
                .await;
            assert_error(&r, StatusCode::BAD_REQUEST, &format!("{path} wrong type"));
            // Missing a required field (all but profile/logout have one).
            if path != "/auth/api/profile" {
                let mut missing = good.clone();
                missing.as_object_mut().unwrap().remove(&k);
                let r = h
                    .send(send("application/json", missing.to_string().into_bytes()))
                    .await;
                assert_error(&r, StatusCode::BAD_REQUEST, &format!("{path} missing {k}"));
            }
        }
        if !long_field.is_empty() {
            let mut long = good.clone();
            long[long_field] = json!("x".repeat(10_000));
            let r = h
                .send(send("application/json", long.to_string().into_bytes()))
                .await;
            assert_error(
                &r,
                StatusCode::BAD_REQUEST,
                &format!("{path} absurd {long_field}"),
            );
            assert!(
                r.body["errors"][long_field].is_string(),
                "{path}: {}",
                r.raw
            );
        }
    }
    // Nothing was half-written.
    assert_eq!(h.store.count_users().await.unwrap(), users_before);
    let u = h.store.get_user_by_username("pat").await.unwrap().unwrap();
    assert_eq!(u.email.as_deref(), Some("pat@example.org"));
    assert_eq!(u.first_name, "");
    // The session still works: no bad input logged the user out or changed the password.
    assert_eq!(
        h.get("/auth/api/profile", Some(&cookie)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn verify_email_get_rejects_bad_queries() {
    let h = H::new().await;
    for q in [
        "",
        "?token=",
        "?token=x&extra=1",
        &format!("?token={}", "x".repeat(5000)),
    ] {
        let r = h.get(&format!("/auth/api/verify_email{q}"), None).await;
        assert_error(&r, StatusCode::BAD_REQUEST, q);
    }
}

#[tokio::test]
async fn unauthenticated_requests_get_401() {
    let h = H::new().await;
    let r = h.get("/auth/api/profile", None).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "profile");
    let r = h
        .post(
            "/auth/api/change_password",
            json!({"old_password": PW, "new_password": "some new password"}),
            None,
        )
        .await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "change_password");
    let r = h
        .post(
            "/auth/api/change_email",
            json!({"password": PW, "new_email": "a@b.example"}),
            None,
        )
        .await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "change_email");
    let r = h
        .post("/auth/api/profile", json!({"first_name": "X"}), None)
        .await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "profile post");
}
