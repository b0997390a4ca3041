//! Micro-benchmarks (divan): `cargo bench -p portcullis-authz --bench acl`.
//! The W1/W1b workloads with the baseline protocol are in `benches/w1.rs`.

#[path = "support/mod.rs"]
mod common;

use divan::{Bencher, black_box};
use portcullis_authz::{Acl, ResourceTree};

fn main() {
    divan::main();
}

fn small_tree() -> ResourceTree {
    ResourceTree::builder()
        .acl(
            "/",
            Acl::new()
                .allow("system.Everyone", "view")
                .allow("group:editors", ["add", "edit"])
                .deny_all(),
        )
        .acl("/blog/2024", Acl::new().allow("bob", "edit"))
        .build()
        .unwrap()
}

const BOB: [&str; 4] = [
    "system.Everyone",
    "system.Authenticated",
    "bob",
    "group:staff",
];

#[divan::bench]
fn check_compiled(b: Bencher) {
    let tree = small_tree();
    let node = tree.locate("/blog/2024/post");
    let perm = tree.permission("edit");
    let set = tree.principal_set(&BOB);
    b.bench_local(|| black_box(&tree).check(black_box(node), &perm, &set));
}

#[divan::bench]
fn locate_path(b: Bencher) {
    let tree = small_tree();
    b.bench_local(|| black_box(&tree).locate(black_box("/blog/2024/post")));
}

#[divan::bench]
fn principal_set(b: Bencher) {
    let tree = small_tree();
    b.bench_local(|| black_box(&tree).principal_set(black_box(&BOB)));
}

#[divan::bench]
fn decide_explained(b: Bencher) {
    let tree = small_tree();
    b.bench_local(|| black_box(&tree).decide(black_box("/blog/2024/post"), "edit", &BOB));
}

#[divan::bench]
fn w1_check(b: Bencher) {
    let Some(dir) = common::data_dir() else {
        return;
    };
    let w = common::load(&dir, "w1");
    let (tree, nodes) = common::build(&w);
    let sets: Vec<_> = w
        .principal_sets
        .iter()
        .map(|s| tree.principal_set(s))
        .collect();
    let q: Vec<_> = w
        .queries
        .iter()
        .map(|(l, s, p)| (nodes[*l], &sets[*s], tree.permission(p)))
        .collect();
    for ((n, s, p), want) in q.iter().zip(w.expected.bytes()) {
        assert_eq!(tree.check(*n, p, s).allowed(), want == b'1');
    }
    let mut i = 0;
    b.bench_local(|| {
        let (n, s, p) = &q[i % q.len()];
        i += 1;
        tree.check(*n, p, s)
    });
}
