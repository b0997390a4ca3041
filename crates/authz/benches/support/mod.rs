//! Loads the baseline harness's W1/W1b workload files into a `ResourceTree`.

use portcullis_authz::{Ace, Acl, Action, ResourceTree, tree::NodeId};
use serde::Deserialize;

#[derive(Deserialize)]
pub(crate) struct W1Node {
    pub(crate) parent: Option<usize>,
    pub(crate) name: String,
    pub(crate) acl: Vec<(String, String, String)>,
}

#[derive(Deserialize)]
pub(crate) struct W1 {
    pub(crate) nodes: Vec<W1Node>,
    pub(crate) principal_sets: Vec<Vec<String>>,
    pub(crate) queries: Vec<(usize, usize, String)>,
    pub(crate) expected: String,
}

pub(crate) fn data_dir() -> Option<String> {
    let dir = std::env::var("PORTCULLIS_BENCH_DATA")
        .unwrap_or_else(|_| "/tmp/portcullis-bench/data".into());
    std::path::Path::new(&dir)
        .join("w1.json")
        .exists()
        .then_some(dir)
}

pub(crate) fn load(dir: &str, name: &str) -> W1 {
    let path = format!("{dir}/{name}.json");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("parse {path}: {e}"))
}

/// The tree, and the node of every workload node id.
pub(crate) fn build(w: &W1) -> (ResourceTree, Vec<NodeId>) {
    let mut paths: Vec<String> = Vec::with_capacity(w.nodes.len());
    let mut builder = ResourceTree::builder();
    for n in &w.nodes {
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
        builder = builder.acl(path.clone(), acl);
        paths.push(path);
    }
    let tree = builder.build().expect("valid tree");
    let nodes = paths.iter().map(|p| tree.locate(p)).collect();
    (tree, nodes)
}
