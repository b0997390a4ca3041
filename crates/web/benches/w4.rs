//! W4 'http-protected' (../shared/bench/WORKLOADS.md) on Portcullis: cookie → auth ticket
//! (sha512, verbatim secret) → groupfinder (the in-memory groups map of w4.json, as the
//! baselines use) → compiled ACL check of `perm05` on W1 leaf 450 → 200 `ok\n`; next to a bare
//! axum handler (`/hello`) in the same server.
//!
//! * `cargo bench -p portcullis-web --bench w4` — W4-inproc: the router driven through tower's
//!   `oneshot` on one thread (median of `REPS`=7 passes of `N`=100,000 requests), JSON lines.
//! * `cargo bench -p portcullis-web --bench w4 -- --serve PORT` — serves it on 127.0.0.1:PORT
//!   for `bench/w4_http.sh` (wrk over loopback).
//!
//! Data: `$PORTCULLIS_BENCH_DATA` (default /tmp/portcullis-bench/data).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, StatusCode, header};
use portcullis_authz::{Ace, Acl, Action};
use portcullis_web::groupfinder::FnGroupfinder;
use portcullis_web::ticket::{AuthTktCookie, TicketSecret};
use portcullis_web::{Authorizer, TicketPolicy};
use serde::Deserialize;
use tower::ServiceExt;

#[derive(Deserialize)]
struct W1Node {
    name: String,
    parent: Option<usize>,
    acl: Vec<(String, String, String)>,
}

#[derive(Deserialize)]
struct W1 {
    nodes: Vec<W1Node>,
}

#[derive(Deserialize)]
struct W4 {
    secret: String,
    cookie_name: String,
    ticket: String,
    leaf: usize,
    permission: String,
    groups_db: HashMap<String, Vec<String>>,
}

fn load<T: for<'de> Deserialize<'de>>(dir: &str, name: &str) -> T {
    let path = format!("{dir}/{name}.json");
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("read {path}: {e}")))
        .unwrap_or_else(|e| panic!("parse {path}: {e}"))
}

/// The router and the protected path; `/hello` is outside the AuthLayer.
fn router(dir: &str) -> (Router, String, String) {
    let w1: W1 = load(dir, "w1");
    let w4: W4 = load(dir, "w4");
    // The in-memory groups map of w4.json, principals built once per user (as a cache would).
    let users: HashMap<String, Arc<[String]>> = w4
        .groups_db
        .into_iter()
        .map(|(u, g)| {
            let mut p = vec![format!("user:{u}")];
            p.extend(g);
            (u, Arc::from(p))
        })
        .collect();
    let groupfinder = FnGroupfinder::new(move |userid: &str| users.get(userid).cloned());
    let helper =
        AuthTktCookie::builder(TicketSecret::verbatim(w4.secret.into_bytes()).expect("secret"))
            .cookie_name(w4.cookie_name.clone())
            .build()
            .expect("ticket helper");
    let mut paths: Vec<String> = Vec::with_capacity(w1.nodes.len());
    let mut builder = Authorizer::builder(TicketPolicy::new(helper), groupfinder);
    for n in &w1.nodes {
        let path = match n.parent {
            None => "/".to_owned(),
            Some(p) => format!("{}/{}", paths[p].trim_end_matches('/'), n.name),
        };
        let acl: Acl = n
            .acl
            .iter()
            .map(|(a, p, perm)| {
                Ace::new(
                    if a == "Allow" {
                        Action::Allow
                    } else {
                        Action::Deny
                    },
                    p.clone(),
                    perm.as_str(),
                )
            })
            .collect();
        builder = builder.acl(&path, acl);
        paths.push(path);
    }
    // As in the baselines, `/protected` is about W1 leaf 450 (Pyramid: a route factory that
    // returns that resource); the permission is checked on it with the compiled tree.
    let leaf = paths[w4.leaf].clone();
    let authz = builder.build().expect("authorizer");
    let protected = Router::new()
        .route(
            "/protected",
            get(|| async { "ok\n" }).route_layer(authz.permission_on_path(w4.permission, leaf)),
        )
        .layer(authz.layer());
    let app = Router::new()
        .route("/hello", get(|| async { "ok\n" }))
        .merge(protected);
    (
        app,
        "/protected".to_owned(),
        format!("{}={}", w4.cookie_name, w4.ticket),
    )
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

async fn inproc(dir: &str) {
    let (app, leaf, cookie) = router(dir);
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let reps: usize = std::env::var("REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    // correctness: 200 with the cookie; without it the protected path is refused
    let req = |path: &str, cookie: Option<&str>| {
        let mut b = Request::builder().uri(path);
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        b.body(Body::empty()).unwrap()
    };
    assert_eq!(
        app.clone()
            .oneshot(req(&leaf, Some(&cookie)))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.clone()
            .oneshot(req(&leaf, None))
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    for (label, path) in [
        ("portcullis in-process /hello (bare axum)", "/hello"),
        ("portcullis in-process protected (W4)", leaf.as_str()),
    ] {
        let mut times = Vec::with_capacity(reps);
        for _ in 0..reps {
            let t0 = Instant::now();
            for _ in 0..n {
                let resp = app.clone().oneshot(req(path, Some(&cookie))).await.unwrap();
                let body = axum::body::to_bytes(resp.into_body(), 1 << 16)
                    .await
                    .unwrap();
                std::hint::black_box(body);
            }
            times.push(t0.elapsed().as_secs_f64());
        }
        let med = median(&mut times);
        println!(
            "{}",
            serde_json::json!({"impl": label, "workload": "W4-inproc", "n": n, "reps": reps,
                "median_s": med, "ns_per_op": med / n as f64 * 1e9, "correct": true})
        );
    }
}

async fn serve(dir: &str, port: u16) {
    let (app, leaf, _) = router(dir);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    eprintln!("serving /hello and {leaf} on 127.0.0.1:{port}");
    println!("{leaf}");
    axum::serve(listener, app).await.expect("serve");
}

fn main() {
    let dir = std::env::var("PORTCULLIS_BENCH_DATA")
        .unwrap_or_else(|_| "/tmp/portcullis-bench/data".into());
    if !std::path::Path::new(&dir).join("w4.json").exists() {
        eprintln!(
            "skipped: no workload data in {dir}; run python3 ../shared/bench/gen_workloads.py {dir}"
        );
        return;
    }
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--serve") {
        let port: u16 = args
            .get(i + 1)
            .and_then(|p| p.parse().ok())
            .expect("--serve PORT");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(serve(&dir, port));
    } else if !args.iter().any(|a| a == "--list") {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(inproc(&dir));
    }
}
