//! Bulk import: batches are atomic and re-running resumes.

use std::sync::Arc;

use portcullis_store::{ImportUser, StoreError};

use crate::harness::Ctx;

fn user(i: usize) -> ImportUser {
    ImportUser {
        username: format!("imp{i:05}"),
        email: Some(format!("imp{i}@example.org")),
        password_hash: Some("sha1$$abf7aad6438836dbe526aa231abde2d0eef74d42".into()),
        groups: vec![format!("g{}", i % 3), "all".into()],
        ..ImportUser::default()
    }
}

async fn batches(ctx: Ctx) {
    let s = &ctx.store;
    let first: Vec<_> = (0..50).map(user).collect();
    let st = s.import_batch(&first).await.unwrap();
    assert_eq!(
        (st.inserted, st.skipped, st.groups_created, st.memberships),
        (50, 0, 4, 100)
    );
    // Again: everything is skipped (resume after an interruption).
    let st = s.import_batch(&first).await.unwrap();
    assert_eq!((st.inserted, st.skipped), (0, 50));
    assert_eq!(s.members_of("all").await.unwrap().len(), 50);
    s.optimize().await.unwrap();
    // Imported legacy hashes verify (and get upgraded).
    assert!(
        s.verify_password("imp00007", "correct horse battery staple")
            .await
            .unwrap()
            .is_some()
    );

    // One invalid record rejects the whole batch before anything is written.
    let mut bad: Vec<_> = (50..60).map(user).collect();
    bad[5].status = Some("weird".into());
    let err = s.import_batch(&bad).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::InvalidInput {
                field: "status",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("imp00055"), "{err}");
    assert_eq!(s.count_users().await.unwrap(), 50);
}
store_test!(batches);

async fn interrupted_import_leaves_whole_batches(ctx: Ctx) {
    let s = Arc::new(ctx.store.clone());
    let batch = 200;
    let importer = {
        let s = s.clone();
        tokio::spawn(async move {
            for b in 0..50 {
                let users: Vec<_> = (b * batch..(b + 1) * batch).map(user).collect();
                s.import_batch(&users).await.unwrap();
            }
        })
    };
    // Kill the import somewhere in the middle (dropping the in-flight transaction).
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    importer.abort();
    let _ = importer.await;
    let n = s.count_users().await.unwrap();
    assert_eq!(n % batch as i64, 0, "{n} users: only whole batches");
    assert_eq!(s.members_of("all").await.unwrap().len() as i64, n);
    // Running it again completes it.
    for b in 0..50 {
        let users: Vec<_> = (b * batch..(b + 1) * batch).map(user).collect();
        s.import_batch(&users).await.unwrap();
    }
    assert_eq!(s.count_users().await.unwrap(), 50 * batch as i64);
}
store_test!(interrupted_import_leaves_whole_batches);

async fn duplicates_within_a_batch(ctx: Ctx) {
    let s = &ctx.store;
    let mut users: Vec<_> = (0..5).map(user).collect();
    users.push(ImportUser {
        username: "imp00001".into(),
        ..ImportUser::default()
    });
    users.push(ImportUser {
        username: "other".into(),
        email: Some("IMP2@example.org".into()),
        ..ImportUser::default()
    });
    let st = s.import_batch(&users).await.unwrap();
    assert_eq!((st.inserted, st.skipped), (5, 2));
    assert_eq!(s.members_of("all").await.unwrap().len(), 5);
    assert!(s.get_user_by_username("other").await.unwrap().is_none());
}
store_test!(duplicates_within_a_batch);
