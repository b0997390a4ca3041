//! A compiled check never touches the heap: counted with a counting global allocator.

use portcullis_authz::{Acl, EVERYONE, ResourceTree};

#[test]
fn compiled_checks_do_not_allocate() {
    let tree = ResourceTree::builder()
        .acl(
            "/",
            Acl::new()
                .allow(EVERYONE, "view")
                .allow("group:editors", ["add", "edit"])
                .deny_all(),
        )
        .acl(
            "/blog/2024",
            Acl::new()
                .allow("bob", "edit")
                .deny("eve", "ALL_PERMISSIONS"),
        )
        .build()
        .unwrap();
    let principals = [EVERYONE, "system.Authenticated", "bob", "group:editors"];
    let node = tree.locate("/blog/2024/post");
    let perms = ["view", "edit", "add", "delete", "never-named"].map(|p| tree.permission(p));
    let set = tree.principal_set(&principals);
    let mut allowed = 0;
    let info = allocation_counter::measure(|| {
        for _ in 0..1000 {
            for p in &perms {
                allowed += usize::from(tree.check(node, p, &set).allowed());
            }
        }
    });
    assert_eq!(allowed, 3000);
    assert_eq!(info.count_total, 0, "{info:?}");

    // Resolving a path, a permission and a (small) principal set does not allocate either.
    let info = allocation_counter::measure(|| {
        let node = tree.locate("/blog/2024/post");
        let set = tree.principal_set(&principals);
        let perm = tree.permission("edit");
        assert!(tree.check(node, &perm, &set).allowed());
    });
    assert_eq!(info.count_total, 0, "{info:?}");
}
