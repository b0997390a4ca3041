//! `portcullis openapi`: the document, to stdout or a file.

use crate::util::{run, run_in};

#[test]
fn prints_the_portal_document() {
    let r = run(&["openapi"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/auth/api/login"]["post"].is_object());
    assert!(doc["components"]["securitySchemes"]["session"].is_object());
}

#[test]
fn writes_a_file_and_reports_an_unwritable_one() {
    let dir = tempfile::tempdir().unwrap();
    let r = run_in(Some(dir.path()), &["openapi", "--output", "api.json"], "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(dir.path().join("api.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");

    let r = run(&["openapi", "--output", "/nonexistent-dir/api.json"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("cannot write `/nonexistent-dir/api.json`"),
        "{}",
        r.stderr
    );
}
