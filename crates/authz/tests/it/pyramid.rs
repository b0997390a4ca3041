//! The same decisions as real Pyramid: random policies and requests are answered by
//! `pyramid.authorization.ACLHelper` (installed by `.ci/setup.d/20-pyramid.sh`, path in
//! `PORTCULLIS_TEST_PYRAMID_PYTHON`) and by the compiled tree; every answer must agree:
//! allowed or not, the deciding entry's index, the location of its ACL, and
//! `principals_allowed_by_permission`.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use portcullis_authz::ResourceTree;
use serde_json::{Value, json};

/// splitmix64, as the shared benchmark generator uses.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const PRINCIPALS: [&str; 7] = [
    "system.Everyone",
    "system.Authenticated",
    "alice",
    "bob",
    "group:a",
    "group:b",
    "g:admin",
];
const PERMS: [&str; 4] = ["view", "edit", "add", "delete"];
const SEGS: [&str; 3] = ["x", "y", "z"];

fn random_path(rng: &mut Rng, max_depth: usize) -> String {
    let depth = rng.below(max_depth + 1);
    let mut p = String::new();
    for _ in 0..depth {
        p.push('/');
        p.push_str(SEGS[rng.below(SEGS.len())]);
    }
    if p.is_empty() { "/".into() } else { p }
}

fn random_acl(rng: &mut Rng) -> Value {
    let n = rng.below(6);
    let mut acl = Vec::new();
    for _ in 0..n {
        let action = if rng.below(100) < 60 { "Allow" } else { "Deny" };
        let principal = PRINCIPALS[rng.below(PRINCIPALS.len())];
        let perms = match rng.below(10) {
            0 => json!("ALL_PERMISSIONS"),
            1 | 2 => {
                let k = 1 + rng.below(3);
                let mut v: Vec<&str> = Vec::new();
                while v.len() < k {
                    let p = PERMS[rng.below(PERMS.len())];
                    if !v.contains(&p) {
                        v.push(p);
                    }
                }
                json!(v)
            }
            _ => json!(PERMS[rng.below(PERMS.len())]),
        };
        acl.push(json!([action, principal, perms]));
    }
    if rng.below(10) == 0 {
        acl.push(json!(["Deny", "system.Everyone", "ALL_PERMISSIONS"]));
    }
    Value::Array(acl)
}

fn toml_for(resources: &BTreeMap<String, Value>) -> String {
    let mut s = String::new();
    for (path, acl) in resources {
        s.push_str(&format!("[[resource]]\npath = {}\n", json!(path)));
        if !acl.is_null() {
            s.push_str(&format!("acl = {acl}\n"));
        }
    }
    s
}

#[test]
fn decisions_match_real_pyramid() {
    let Ok(python) = std::env::var("PORTCULLIS_TEST_PYRAMID_PYTHON") else {
        println!("skipped: PORTCULLIS_TEST_PYRAMID_PYTHON not set (see .ci/setup.d/20-pyramid.sh)");
        return;
    };
    let mut rng = Rng(0x5EED_AC1D);
    let mut cases = Vec::new();
    let mut trees = Vec::new();
    for _ in 0..300 {
        let mut resources: BTreeMap<String, Value> = BTreeMap::new();
        resources.insert("/".into(), random_acl(&mut rng));
        for _ in 0..rng.below(7) {
            let path = random_path(&mut rng, 3);
            let acl = if rng.below(6) == 0 {
                Value::Null
            } else {
                random_acl(&mut rng)
            };
            resources.insert(path, acl);
        }
        let mut queries = Vec::new();
        for _ in 0..25 {
            let path = random_path(&mut rng, 4);
            let principals: Vec<&str> = PRINCIPALS
                .iter()
                .copied()
                .filter(|_| rng.below(2) == 0)
                .collect();
            let perm = if rng.below(8) == 0 {
                "unknown"
            } else {
                PERMS[rng.below(PERMS.len())]
            };
            queries.push(json!([path, principals, perm]));
        }
        trees.push(ResourceTree::from_toml_str(&toml_for(&resources)).unwrap());
        cases.push(json!({ "resources": resources, "queries": queries }));
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/pyramid_acl.py");
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run python");
    let input = json!({ "cases": cases }).to_string();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "pyramid script failed");
    let answers: Vec<Vec<Value>> = serde_json::from_slice(&out.stdout).unwrap();
    let mut compared = 0;
    let mut allowed = 0;
    for ((case, tree), answers) in cases.iter().zip(&trees).zip(&answers) {
        for (q, want) in case["queries"].as_array().unwrap().iter().zip(answers) {
            let path = q[0].as_str().unwrap();
            let principals: Vec<&str> = q[1]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap())
                .collect();
            let perm = q[2].as_str().unwrap();
            let d = tree.decide(path, perm, &principals);
            let got = json!([
                d.allowed(),
                d.ace_index(),
                d.acl_location(),
                tree.principals_allowed_by_permission(path, perm)
            ]);
            assert_eq!(&got, want, "case {case}\nquery {q}");
            compared += 1;
            allowed += usize::from(d.allowed());
        }
    }
    assert_eq!(compared, 300 * 25);
    // The comparison is only meaningful with both answers well represented.
    assert!(
        allowed > compared / 10 && allowed < compared * 9 / 10,
        "a useful mix of answers: {allowed}/{compared}"
    );
}
