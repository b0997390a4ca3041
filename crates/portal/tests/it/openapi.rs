//! The OpenAPI document against the router that serves it: every documented operation
//! is routed to a JSON handler, answers statuses the document lists, and every schema
//! reference resolves.

use http::StatusCode;
use portcullis_portal::{OPENAPI_PATH, openapi_document};
use serde_json::{Value, json};

use crate::harness::H;

fn concrete(path: &str) -> String {
    path.split('/')
        .map(
            |seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) if name == "id" || name.ends_with("_id") => "1".to_owned(),
                Some(_) => "x".to_owned(),
                None => seg.to_owned(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn served_document_is_the_generated_one() {
    let h = H::new().await;
    let r = h.get(OPENAPI_PATH, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.headers.get("content-type").unwrap().to_str().unwrap(),
        "application/json"
    );
    assert_eq!(r.body["openapi"], "3.1.0");
    assert_eq!(r.body, openapi_document());
    let paths = r.body["paths"].as_object().unwrap();
    for p in [
        "register",
        "login",
        "logout",
        "request_reset_password",
        "reset_password",
        "verify_email",
        "profile",
        "change_password",
        "change_email",
        "config",
        "request_magic_link",
        "magic_login",
    ] {
        assert!(paths.contains_key(&format!("/auth/api/{p}")), "{p} missing");
    }
}

#[tokio::test]
async fn every_reference_resolves() {
    let doc = openapi_document();
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(
        found.len() > 10,
        "expected schema references, got {found:?}"
    );
    for r in found {
        let pointer = r.strip_prefix('#').expect("local reference");
        assert!(doc.pointer(pointer).is_some(), "dangling reference {r}");
    }
    // Request bodies refuse unknown fields, as the handlers do.
    assert_eq!(
        doc["components"]["schemas"]["LoginIn"]["additionalProperties"],
        false
    );
}

#[tokio::test]
async fn every_documented_operation_is_served_and_answers_a_documented_status() {
    let h = H::new().await;
    let doc = openapi_document();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let uri = concrete(path);
            let method_upper = method.to_ascii_uppercase();
            let req = if op.get("requestBody").is_some() {
                H::request(
                    &method_upper,
                    &uri,
                    Some("application/json"),
                    json!({}).to_string(),
                    None,
                )
            } else {
                H::request(&method_upper, &uri, None, axum::body::Body::empty(), None)
            };
            let r = h.send(req).await;
            assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(
                !r.status.is_server_error(),
                "{method} {path}: {} {}",
                r.status,
                r.raw
            );
            let code = r.status.as_u16().to_string();
            assert!(
                op["responses"].get(&code).is_some(),
                "{method} {path} answered {code}, which the document does not list: {}",
                r.raw
            );
            if path != OPENAPI_PATH {
                // A routed JSON handler, not axum's empty 404.
                let status = r.body["status"].as_str();
                assert!(
                    status == Some("success") || status == Some("error"),
                    "{method} {path}: not an envelope: {}",
                    r.raw
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 12, "only {checked} operations checked");
}
