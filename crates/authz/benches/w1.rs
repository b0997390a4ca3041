//! W1 'acl-deep' and W1b 'root-decided' (../shared/bench/WORKLOADS.md), timed with the baseline
//! harness's protocol: data structures, principal sets and request objects are built first;
//! the timed region is one pass over the 100,000 queries; the figure is the median of `REPS`
//! (default 7) passes; every decision is compared with `expected` before anything is reported.
//!
//! Prints one JSON line per variant, in the baseline harness's result format.
//! Data: `$PORTCULLIS_BENCH_DATA` (default /tmp/portcullis-bench/data), made by
//! `python3 ../shared/bench/gen_workloads.py DIR`. Run: `cargo bench -p portcullis-authz --bench w1`.

#[path = "support/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Instant;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn emit(imp: &str, workload: &str, n: usize, times: &mut [f64]) {
    let min = times.iter().cloned().fold(f64::INFINITY, f64::min);
    let max = times.iter().cloned().fold(0.0, f64::max);
    let med = median(times);
    println!(
        "{}",
        serde_json::json!({
            "impl": imp, "workload": workload, "n": n, "reps": times.len(),
            "median_s": med, "min_s": min, "max_s": max,
            "ops_per_s": n as f64 / med, "ns_per_op": med / n as f64 * 1e9,
        })
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing we need.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let Some(dir) = common::data_dir() else {
        eprintln!(
            "skipped: no workload data; run python3 ../shared/bench/gen_workloads.py /tmp/portcullis-bench/data"
        );
        return;
    };
    let reps: usize = std::env::var("REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    for name in ["w1", "w1b"] {
        let w = common::load(&dir, name);
        let (tree, nodes) = common::build(&w);
        let sets: Vec<_> = w
            .principal_sets
            .iter()
            .map(|s| tree.principal_set(s))
            .collect();
        let expected: Vec<bool> = w.expected.bytes().map(|b| b == b'1').collect();

        // Variant 1: permission resolved beforehand (as a route does at startup).
        let queries: Vec<_> = w
            .queries
            .iter()
            .map(|(l, s, p)| (nodes[*l], &sets[*s], tree.permission(p)))
            .collect();
        for (i, (node, set, perm)) in queries.iter().enumerate() {
            assert_eq!(
                tree.check(*node, perm, set).allowed(),
                expected[i],
                "{name} query {i}"
            );
        }
        let mut times = Vec::with_capacity(reps);
        for _ in 0..reps {
            let t0 = Instant::now();
            let mut allowed = 0usize;
            for (node, set, perm) in &queries {
                allowed += black_box(tree.check(*node, perm, set)).allowed() as usize;
            }
            times.push(t0.elapsed().as_secs_f64());
            black_box(allowed);
        }
        emit(
            "portcullis-compiled",
            &name.to_uppercase(),
            queries.len(),
            &mut times,
        );

        // Variant 2: permission looked up by name inside the timed loop.
        let by_name: Vec<_> = w
            .queries
            .iter()
            .map(|(l, s, p)| (nodes[*l], &sets[*s], p.as_str()))
            .collect();
        let mut times = Vec::with_capacity(reps);
        for _ in 0..reps {
            let t0 = Instant::now();
            let mut allowed = 0usize;
            for (node, set, perm) in &by_name {
                allowed +=
                    black_box(tree.check(*node, &tree.permission(perm), set)).allowed() as usize;
            }
            times.push(t0.elapsed().as_secs_f64());
            black_box(allowed);
        }
        emit(
            "portcullis-compiled-by-name",
            &name.to_uppercase(),
            by_name.len(),
            &mut times,
        );

        // Variant 3: the reference walk with explanation (allocates; for comparison only).
        let strs: Vec<Vec<&str>> = w
            .principal_sets
            .iter()
            .map(|s| s.iter().map(String::as_str).collect())
            .collect();
        let paths: Vec<String> = nodes.iter().map(|n| tree.path(*n).to_owned()).collect();
        let n_ref = 20_000.min(w.queries.len());
        let mut times = Vec::with_capacity(3);
        for _ in 0..3 {
            let t0 = Instant::now();
            for (i, (l, s, p)) in w.queries.iter().take(n_ref).enumerate() {
                let d = tree.decide_by_walking(&paths[*l], p, &strs[*s]);
                assert_eq!(d.allowed(), expected[i]);
                black_box(d);
            }
            times.push(t0.elapsed().as_secs_f64());
        }
        emit(
            "portcullis-reference-walk",
            &name.to_uppercase(),
            n_ref,
            &mut times,
        );
    }
}
