//! Runs one async test body against each backend.

use std::future::Future;
use std::sync::Arc;

use portcullis_store::password::{Argon2Params, PasswordConfig, PasswordHasher};
use portcullis_store::{ManualClock, PrincipalsConfig, Store, StoreOptions};
use sqlx::Connection as _;

/// The clock's starting point in every test (2023-11-14).
pub(crate) const T0: i64 = 1_700_000_000;

/// What a test body gets.
pub(crate) struct Ctx {
    pub(crate) store: Store,
    pub(crate) url: String,
    pub(crate) clock: Arc<ManualClock>,
}

impl Ctx {
    /// Opens another store on the same database (like a second process would).
    pub(crate) async fn reopen(&self, tweak: fn(StoreOptions) -> StoreOptions) -> Store {
        Store::open_with(&self.url, tweak(options(&self.clock)))
            .await
            .unwrap()
    }
}

pub(crate) fn fast_hasher() -> PasswordHasher {
    PasswordHasher::new(PasswordConfig::new(Argon2Params::new(256, 1, 1).unwrap()))
}

pub(crate) fn options(clock: &Arc<ManualClock>) -> StoreOptions {
    StoreOptions {
        clock: clock.clone(),
        hasher: fast_hasher(),
        principals: PrincipalsConfig::default(),
        ..StoreOptions::default()
    }
}

fn random_suffix() -> String {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap();
    hex::encode(b)
}

pub(crate) async fn run_sqlite<F, Fut>(tweak: fn(StoreOptions) -> StoreOptions, body: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("store.sqlite").display());
    let clock = Arc::new(ManualClock::new(T0));
    let store = Store::open_with(&url, tweak(options(&clock)))
        .await
        .unwrap();
    body(Ctx {
        store: store.clone(),
        url,
        clock,
    })
    .await;
    store.close().await;
}

pub(crate) fn postgres_base() -> Option<String> {
    match std::env::var("PORTCULLIS_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            println!("skipped: PORTCULLIS_TEST_POSTGRES_URL not set");
            None
        }
    }
}

/// Replaces the database name (the URL path) of `base`.
pub(crate) fn with_database(base: &str, db: &str) -> String {
    let (head, query) = match base.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (base, None),
    };
    let scheme_end = head.find("://").map_or(0, |i| i + 3);
    let host_end = head[scheme_end..]
        .find('/')
        .map_or(head.len(), |i| scheme_end + i);
    let mut url = format!("{}/{db}", &head[..host_end]);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

/// A fresh PostgreSQL database for one test; `None` (after printing why) when unset.
pub(crate) async fn fresh_postgres() -> Option<(String, String, String)> {
    let base = postgres_base()?;
    let name = format!("portcullis_t_{}", random_suffix());
    let mut conn = sqlx::PgConnection::connect(&base).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.ok();
    let url = with_database(&base, &name);
    Some((base, name, url))
}

pub(crate) async fn drop_postgres(base: &str, name: &str) {
    if let Ok(mut conn) = sqlx::PgConnection::connect(base).await {
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await;
        conn.close().await.ok();
    }
}

pub(crate) async fn run_postgres<F, Fut>(tweak: fn(StoreOptions) -> StoreOptions, body: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some((base, name, url)) = fresh_postgres().await else {
        return;
    };
    let clock = Arc::new(ManualClock::new(T0));
    let store = Store::open_with(&url, tweak(options(&clock)))
        .await
        .unwrap();
    body(Ctx {
        store: store.clone(),
        url,
        clock,
    })
    .await;
    store.close().await;
    drop_postgres(&base, &name).await;
}

pub(crate) fn same(o: StoreOptions) -> StoreOptions {
    o
}

/// Declares `sqlite` and `postgres` tests running the async fn `$name(ctx: Ctx)`.
macro_rules! store_test {
    ($name:ident) => {
        store_test!($name, $crate::harness::same);
    };
    ($name:ident, $tweak:expr) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::harness::run_sqlite($tweak, super::$name).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::harness::run_postgres($tweak, super::$name).await
            }
        }
    };
}
