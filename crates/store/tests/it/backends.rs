//! Backend-specific behaviour: opening, errors, locking, migrations, append-only audit.

use std::time::Duration;

use portcullis_store::{BackendKind, NewUser, SCHEMA_VERSION, Store, StoreError, StoreOptions};
use sqlx::Connection as _;

use crate::harness::Ctx;

async fn migrations_are_idempotent(ctx: Ctx) {
    assert_eq!(ctx.store.schema_version().await.unwrap(), SCHEMA_VERSION);
    assert!(ctx.store.migrate().await.unwrap().is_empty());
    let again = ctx.reopen(crate::harness::same).await;
    assert_eq!(again.schema_version().await.unwrap(), SCHEMA_VERSION);
    again.close().await;
}
store_test!(migrations_are_idempotent);

/// `ping` reaches the database while the store is open, and says so when it is closed.
async fn ping_tells_whether_the_database_answers(ctx: Ctx) {
    ctx.store.ping().await.unwrap();
    ctx.store.close().await;
    let err = ctx.store.ping().await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
}
store_test!(ping_tells_whether_the_database_answers);

async fn audit_log_is_append_only(ctx: Ctx) {
    ctx.store.create_user(NewUser::new("x")).await.unwrap();
    match ctx.store.backend() {
        BackendKind::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&ctx.url).await.unwrap();
            let e = sqlx::query("UPDATE audit_log SET event = 'forged'")
                .execute(&mut c)
                .await;
            assert!(e.unwrap_err().to_string().contains("append-only"));
            let e = sqlx::query("DELETE FROM audit_log").execute(&mut c).await;
            assert!(e.unwrap_err().to_string().contains("append-only"));
        }
        _ => {
            let mut c = sqlx::PgConnection::connect(&ctx.url).await.unwrap();
            let e = sqlx::query("UPDATE audit_log SET event = 'forged'")
                .execute(&mut c)
                .await;
            assert!(e.unwrap_err().to_string().contains("append-only"));
            let e = sqlx::query("DELETE FROM audit_log").execute(&mut c).await;
            assert!(e.unwrap_err().to_string().contains("append-only"));
        }
    }
}
store_test!(audit_log_is_append_only);

#[tokio::test]
async fn memory_and_missing_files() {
    let mem = Store::open("sqlite::memory:").await.unwrap();
    assert_eq!(mem.backend(), BackendKind::Sqlite);
    mem.create_user(NewUser::new("m")).await.unwrap();
    assert_eq!(mem.count_users().await.unwrap(), 1);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.sqlite");
    assert!(!path.exists());
    let s = Store::open(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    assert!(path.exists(), "a missing file is created");
    s.close().await;

    let err = Store::open(&format!(
        "sqlite://{}/no/such/dir/x.db",
        dir.path().display()
    ))
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    let err = Store::open("mysql://localhost/db").await.unwrap_err();
    assert!(matches!(err, StoreError::InvalidUrl { .. }), "{err:?}");
}

#[tokio::test]
async fn unreachable_postgres_is_a_clear_error() {
    let opts = StoreOptions {
        connect_timeout: Duration::from_secs(2),
        ..StoreOptions::default()
    };
    let err = Store::open_with("postgres://nobody:secret@127.0.0.1:1/none", opts)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("cannot connect to postgresql"), "{msg}");
    assert!(!msg.contains("secret"), "password redacted: {msg}");
}

#[tokio::test]
async fn locked_sqlite_gives_locked_after_retries() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("locked.sqlite").display());
    let opts = StoreOptions {
        busy_timeout: Duration::from_millis(100),
        busy_retries: 1,
        hasher: crate::harness::fast_hasher(),
        ..StoreOptions::default()
    };
    let s = Store::open_with(&url, opts).await.unwrap();
    // Another process holds the write lock.
    let mut other = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    let err = s.create_user(NewUser::new("late")).await.unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
    assert!(err.to_string().starts_with("database is locked"), "{err}");
    // Reads still work in WAL mode.
    assert_eq!(s.count_users().await.unwrap(), 0);
    sqlx::raw_sql("ROLLBACK").execute(&mut other).await.unwrap();
    // Released: the same write goes through.
    s.create_user(NewUser::new("late")).await.unwrap();
    s.close().await;
}

/// Regression: a migration numbered below the newest applied one must still run (the migrator
/// once skipped everything below the maximum recorded version).
#[tokio::test]
async fn migrations_below_the_newest_applied_one_still_run() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("gap.sqlite").display());
    {
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(dir.path().join("gap.sqlite"))
            .create_if_missing(true);
        let mut c = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
        sqlx::raw_sql(
            "CREATE TABLE portcullis_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL);
             INSERT INTO portcullis_migrations VALUES (100, 'sessions', 0);",
        )
        .execute(&mut c)
        .await
        .unwrap();
        c.close().await.unwrap();
    }
    let store = Store::open(&url).await.unwrap();
    assert_eq!(
        store.count_users().await.unwrap(),
        0,
        "version 1 (users) was applied"
    );
    store.close().await;
}

/// Connections the server ended while they sat idle in the pool are replaced: a
/// connection idle for more than half a second is pinged before it is handed out. One
/// used within that window is handed out unpinged: a statement on it fails with
/// `Unavailable` (never another kind of error), and the store recovers on its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connections_ended_by_the_server_are_replaced() {
    let Some((base, name, url)) = crate::harness::fresh_postgres().await else {
        return;
    };
    let store = Store::open(&url).await.unwrap();
    store.create_user(NewUser::new("kept")).await.unwrap();
    let terminate = || async {
        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
        let (ended,): (i64,) = sqlx::query_as(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_one(&mut c)
        .await
        .unwrap();
        c.close().await.ok();
        ended
    };

    // Ended while idle for longer than the window: pinged, dropped, replaced.
    assert!(terminate().await >= 1, "the store's connections were ended");
    tokio::time::sleep(Duration::from_millis(700)).await;
    for _ in 0..5 {
        assert_eq!(store.count_users().await.unwrap(), 1);
    }

    // Ended within the window: at most the statements on dead connections fail, and
    // only as `Unavailable`; the store then works again.
    assert!(terminate().await >= 1);
    let mut failed = 0;
    for _ in 0..20 {
        match store.count_users().await {
            Ok(n) => assert_eq!(n, 1),
            Err(StoreError::Unavailable(_)) => failed += 1,
            Err(other) => panic!("a dead connection is `Unavailable`, got {other:?}"),
        }
    }
    assert!(
        failed <= 8,
        "at most one failure per pooled connection: {failed}"
    );
    assert_eq!(store.count_users().await.unwrap(), 1);
    store.close().await;
    crate::harness::drop_postgres(&base, &name).await;
}
