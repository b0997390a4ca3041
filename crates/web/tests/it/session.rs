//! Server-side sessions against the real backends: SQLite (a temporary file) always,
//! PostgreSQL when `PORTCULLIS_TEST_POSTGRES_URL` is set, Redis when
//! `PORTCULLIS_TEST_REDIS_URL` is set (otherwise `skipped: ...` is printed).

use std::sync::Arc;
use std::time::Duration;

use http::header::{COOKIE, SET_COOKIE};
use portcullis_store::{ManualClock, Store};
use portcullis_web::csrf::SessionCsrfStorage;
use portcullis_web::policy::SecurityPolicy;
use portcullis_web::session::{
    SessionConfig, SessionError, SessionHash, SessionManager, SessionPolicy, SqlSessionStore,
};

const T0: i64 = 1_700_000_000;
const IDLE: i64 = 30 * 60;
const ABSOLUTE: i64 = 12 * 60 * 60;

static OPEN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

enum Raw {
    Sql {
        store: Store,
        dir: Option<tempfile::TempDir>,
    },
    #[cfg(feature = "redis")]
    Redis { url: String },
}

struct Env {
    name: &'static str,
    m: SessionManager,
    clock: Arc<ManualClock>,
    raw: Raw,
}

fn random_user(prefix: &str) -> String {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap();
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{prefix}-{hex}")
}

async fn sql_env(
    name: &'static str,
    url: &str,
    dir: Option<tempfile::TempDir>,
    config: SessionConfig,
) -> Env {
    let store = {
        // Tests run in parallel on one PostgreSQL database; concurrent first-time
        // migrations would race on `CREATE TABLE IF NOT EXISTS`, so opens take turns.
        let _turn = OPEN.lock().await;
        Store::open(url).await.unwrap()
    };
    let clock = Arc::new(ManualClock::new(T0));
    let m = SessionManager::new(SqlSessionStore::new(store.clone()), config)
        .unwrap()
        .with_clock(clock.clone());
    Env {
        name,
        m,
        clock,
        raw: Raw::Sql { store, dir },
    }
}

async fn envs_with(config: SessionConfig) -> Vec<Env> {
    let mut out = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("sessions.sqlite").display());
    out.push(sql_env("sqlite", &url, Some(dir), config.clone()).await);
    match std::env::var("PORTCULLIS_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => {
            out.push(sql_env("postgres", &url, None, config.clone()).await)
        }
        _ => println!("skipped: postgres backend (PORTCULLIS_TEST_POSTGRES_URL not set)"),
    }
    redis_env(&mut out, config).await;
    out
}

#[cfg(feature = "redis")]
async fn redis_env(out: &mut Vec<Env>, config: SessionConfig) {
    use portcullis_web::session::RedisSessionStore;
    match std::env::var("PORTCULLIS_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => {
            let store = RedisSessionStore::connect(&url).await.unwrap();
            let clock = Arc::new(ManualClock::new(T0));
            let m = SessionManager::new(store, config)
                .unwrap()
                .with_clock(clock.clone());
            out.push(Env {
                name: "redis",
                m,
                clock,
                raw: Raw::Redis { url },
            });
        }
        _ => println!("skipped: redis backend (PORTCULLIS_TEST_REDIS_URL not set)"),
    }
}

#[cfg(not(feature = "redis"))]
async fn redis_env(_: &mut Vec<Env>, _: SessionConfig) {
    println!("skipped: redis backend (cargo feature `redis` off)");
}

async fn envs() -> Vec<Env> {
    envs_with(SessionConfig::new()).await
}

/// `name=value` from a `Set-Cookie` header: what the browser sends back.
fn pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

fn value(set_cookie: &str) -> String {
    pair(set_cookie).split_once('=').unwrap().1.to_owned()
}

macro_rules! each_backend {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn on_each_backend() {
                for env in super::envs().await {
                    println!("backend: {}", env.name);
                    super::$name(env).await;
                }
            }
        }
    )*};
}

each_backend!(
    create_load_save_destroy,
    rotate_and_login_defeat_fixation,
    idle_timeout_slides_and_expires,
    absolute_timeout_ends_an_active_session,
    revoke_user_ends_that_users_sessions_only,
    a_deleted_session_is_never_resurrected,
    ids_are_stored_only_as_hashes,
    csrf_token_lives_in_the_session,
    session_policy_identify_remember_forget,
    a_touch_does_not_undo_a_concurrent_save,
);

async fn create_load_save_destroy(env: Env) {
    let m = &env.m;
    assert!(m.load(None).await.unwrap().is_none());
    assert!(
        m.load(Some("portcullis_session=nope"))
            .await
            .unwrap()
            .is_none()
    );
    let unknown = "portcullis_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert!(m.load(Some(unknown)).await.unwrap().is_none());

    let mut s = m.create().unwrap();
    s.insert("cart", serde_json::json!([1, 2]));
    let set = m
        .save(&mut s)
        .await
        .unwrap()
        .expect("a new session sends its cookie");
    assert_eq!(value(&set).len(), 43, "256-bit id, base64url");
    assert!(
        set.contains("; HttpOnly") && set.contains("; Secure") && set.contains("; SameSite=Lax")
    );
    assert!(
        set.contains("; Path=/") && !set.contains("Max-Age"),
        "{set}"
    );

    let cookie = format!("a=b; {}; c=d", pair(&set));
    let mut again = m.load(Some(&cookie)).await.unwrap().expect("found");
    assert_eq!(again.user_id(), None);
    assert_eq!(again.get("cart"), Some(&serde_json::json!([1, 2])));
    assert_eq!(again.record().created_at, T0);
    assert_eq!(again.record().expires_at, T0 + ABSOLUTE);
    again.insert("step", 2);
    assert_eq!(
        m.save(&mut again).await.unwrap(),
        None,
        "existing: no new cookie"
    );
    let third = m.load(Some(&cookie)).await.unwrap().unwrap();
    assert_eq!(third.get("step"), Some(&2.into()));

    let gone = m.destroy(third).await.unwrap();
    assert!(gone.starts_with("portcullis_session=;"), "{gone}");
    assert!(gone.contains("; Max-Age=0") && gone.contains("Expires=Thu, 01 Jan 1970"));
    assert!(gone.contains("; Path=/") && gone.contains("; HttpOnly") && gone.contains("; Secure"));
    assert!(
        m.load(Some(&cookie)).await.unwrap().is_none(),
        "deleted server-side"
    );

    // forget() by cookie header does the same.
    let mut s = m.create().unwrap();
    let set = m.save(&mut s).await.unwrap().unwrap();
    assert!(m.load(Some(&pair(&set))).await.unwrap().is_some());
    let gone = m.forget(Some(&pair(&set))).await.unwrap();
    assert!(gone.contains("Max-Age=0"));
    assert!(m.load(Some(&pair(&set))).await.unwrap().is_none());
}

async fn rotate_and_login_defeat_fixation(env: Env) {
    let m = &env.m;
    // The attacker obtains an anonymous session and plants its id in the victim's browser.
    let mut planted = m.create().unwrap();
    planted.insert("basket", "book");
    let planted_cookie = pair(&m.save(&mut planted).await.unwrap().unwrap());
    // The victim logs in with it.
    let current = m.load(Some(&planted_cookie)).await.unwrap();
    let user = random_user("victim");
    let (s, set) = m.remember(current, &user).await.unwrap();
    assert_ne!(pair(&set), planted_cookie, "a new id on login");
    assert_eq!(s.user_id(), Some(user.as_str()));
    assert_eq!(
        s.get("basket"),
        Some(&"book".into()),
        "data survives the login"
    );
    // The attacker's id is dead, the victim's works.
    assert!(m.load(Some(&planted_cookie)).await.unwrap().is_none());
    assert!(m.identify(Some(&planted_cookie)).await.unwrap().is_none());
    let (who, _) = m.identify(Some(&pair(&set))).await.unwrap().unwrap();
    assert_eq!(who, user);

    // Plain rotation (privilege change) keeps user and data, kills the old id.
    env.clock.advance(100);
    let mut s = m.load(Some(&pair(&set))).await.unwrap().unwrap();
    let old_hash = s.hash().clone();
    let rotated = m.rotate(&mut s).await.unwrap();
    assert_ne!(s.hash(), &old_hash);
    assert!(m.load(Some(&pair(&set))).await.unwrap().is_none());
    let again = m.load(Some(&pair(&rotated))).await.unwrap().unwrap();
    assert_eq!(again.user_id(), Some(user.as_str()));
    assert_eq!(again.get("basket"), Some(&"book".into()));
    assert_eq!(again.record().created_at, T0, "rotation keeps the lifetime");

    // remember() after the absolute start: a login restarts the lifetime.
    env.clock.advance(1000);
    let (s2, set2) = m.remember(Some(again), &user).await.unwrap();
    assert_eq!(s2.record().created_at, T0 + 1100);
    assert_eq!(s2.record().expires_at, T0 + 1100 + ABSOLUTE);
    assert!(m.load(Some(&pair(&rotated))).await.unwrap().is_none());

    // Another user logging in on the same browser does not inherit the data.
    let other = random_user("other");
    let cur = m.load(Some(&pair(&set2))).await.unwrap();
    let (s3, _) = m.remember(cur, &other).await.unwrap();
    assert_eq!(s3.user_id(), Some(other.as_str()));
    assert!(s3.data().is_empty());

    // remember() without a session, and with a session that vanished, creates one.
    let (fresh, set4) = m.remember(None, &user).await.unwrap();
    assert!(set4.starts_with("portcullis_session="));
    m.revoke(fresh.hash()).await.unwrap();
    let (fresh2, _) = m.remember(Some(fresh), &user).await.unwrap();
    assert_eq!(fresh2.user_id(), Some(user.as_str()));
}

async fn idle_timeout_slides_and_expires(env: Env) {
    let m = &env.m;
    let (_, set) = m.remember(None, &random_user("idle")).await.unwrap();
    let c = pair(&set);
    env.clock.advance(IDLE - 1);
    assert!(
        m.load(Some(&c)).await.unwrap().is_some(),
        "just inside the idle timeout"
    );
    env.clock.advance(IDLE - 1);
    let s = m
        .load(Some(&c))
        .await
        .unwrap()
        .expect("the last use slid the timeout");
    assert_eq!(s.record().last_seen_at, T0 + 2 * (IDLE - 1));
    // Uses within the touch interval (60 s) do not write.
    env.clock.advance(30);
    let s = m.load(Some(&c)).await.unwrap().unwrap();
    assert_eq!(s.record().last_seen_at, T0 + 2 * (IDLE - 1));
    env.clock.advance(IDLE - 30);
    assert!(
        m.load(Some(&c)).await.unwrap().is_none(),
        "idle for the whole timeout"
    );
    // The expired session was deleted, not just hidden.
    env.clock.set(T0);
    assert!(m.load(Some(&c)).await.unwrap().is_none());
}

async fn absolute_timeout_ends_an_active_session(env: Env) {
    let m = &env.m;
    let (_, set) = m.remember(None, &random_user("busy")).await.unwrap();
    let c = pair(&set);
    let mut t = 0;
    while t + 20 * 60 < ABSOLUTE {
        t += 20 * 60;
        env.clock.set(T0 + t);
        assert!(m.load(Some(&c)).await.unwrap().is_some(), "active at +{t}s");
    }
    env.clock.set(T0 + ABSOLUTE);
    assert!(
        m.load(Some(&c)).await.unwrap().is_none(),
        "12 h after login, whatever the activity"
    );
}

async fn revoke_user_ends_that_users_sessions_only(env: Env) {
    let m = &env.m;
    let alice = random_user("alice");
    let bob = random_user("bob");
    let (_, a1) = m.remember(None, &alice).await.unwrap();
    env.clock.advance(120);
    let (_, a2) = m.remember(None, &alice).await.unwrap();
    let (_, b1) = m.remember(None, &bob).await.unwrap();
    let mut anon = m.create().unwrap();
    let anon_cookie = pair(&m.save(&mut anon).await.unwrap().unwrap());

    let listed = m.list_user_sessions(&alice).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(
        listed[0].1.last_seen_at >= listed[1].1.last_seen_at,
        "most recent first"
    );
    assert!(
        listed
            .iter()
            .all(|(_, r)| r.user_id.as_deref() == Some(alice.as_str()))
    );

    assert_eq!(m.revoke_user(&alice).await.unwrap(), 2);
    assert!(m.load(Some(&pair(&a1))).await.unwrap().is_none());
    assert!(m.load(Some(&pair(&a2))).await.unwrap().is_none());
    assert!(m.identify(Some(&pair(&b1))).await.unwrap().is_some());
    assert!(m.load(Some(&anon_cookie)).await.unwrap().is_some());
    assert!(m.list_user_sessions(&alice).await.unwrap().is_empty());
    assert_eq!(m.revoke_user(&alice).await.unwrap(), 0);

    // Revoking one session by its handle ("log out that device").
    let (b2, _) = m.remember(None, &bob).await.unwrap();
    assert_eq!(m.list_user_sessions(&bob).await.unwrap().len(), 2);
    assert!(m.revoke(b2.hash()).await.unwrap());
    let left = m.list_user_sessions(&bob).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_ne!(&left[0].0, b2.hash());

    // A session that changed hands is not revoked with its former user.
    let carol = random_user("carol");
    let dave = random_user("dave");
    let (_, c1) = m.remember(None, &carol).await.unwrap();
    let cur = m.load(Some(&pair(&c1))).await.unwrap();
    let (_, d1) = m.remember(cur, &dave).await.unwrap();
    assert_eq!(m.revoke_user(&carol).await.unwrap(), 0);
    assert!(m.identify(Some(&pair(&d1))).await.unwrap().is_some());
}

async fn a_deleted_session_is_never_resurrected(env: Env) {
    let m = &env.m;
    let user = random_user("raced");
    let (_, set) = m.remember(None, &user).await.unwrap();
    let c = pair(&set);
    // Two requests hold the session; one logs out everywhere.
    let mut slow = m.load(Some(&c)).await.unwrap().unwrap();
    let mut slow2 = m.load(Some(&c)).await.unwrap().unwrap();
    assert_eq!(m.revoke_user(&user).await.unwrap(), 1);
    slow.insert("late", true);
    assert!(matches!(m.save(&mut slow).await, Err(SessionError::Gone)));
    assert!(matches!(
        m.rotate(&mut slow2).await,
        Err(SessionError::Gone)
    ));
    assert!(m.load(Some(&c)).await.unwrap().is_none());
    assert!(m.list_user_sessions(&user).await.unwrap().is_empty());
}

async fn ids_are_stored_only_as_hashes(env: Env) {
    let m = &env.m;
    let user = random_user("hashed");
    let (s, set) = m.remember(None, &user).await.unwrap();
    let raw = value(&set);
    assert_eq!(raw.len(), 43);
    let hash = s.hash().as_str().to_owned();
    assert_eq!(hash.len(), 64);
    assert!(!hash.contains(&raw));
    // Fresh ids every time.
    let (_, set2) = m.remember(None, &user).await.unwrap();
    assert_ne!(value(&set2), raw);

    match &env.raw {
        Raw::Sql { store, dir } => {
            let row = store
                .load_session(&hash)
                .await
                .unwrap()
                .expect("row under the hash");
            assert_eq!(row.id_hash, hash);
            assert_eq!(row.user_id.as_deref(), Some(user.as_str()));
            for field in [&row.id_hash, &row.data, row.user_id.as_ref().unwrap()] {
                assert!(!field.contains(&raw), "raw id in a column");
            }
            assert!(
                store.load_session(&raw).await.is_err(),
                "a raw id is not even a valid key"
            );
            if let Some(dir) = dir {
                // Every byte SQLite wrote (database + WAL): the hash is there, the id is not.
                let mut bytes = Vec::new();
                for f in std::fs::read_dir(dir.path()).unwrap() {
                    bytes.extend(std::fs::read(f.unwrap().path()).unwrap());
                }
                let has =
                    |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
                assert!(has(&hash), "the scan sees the stored hash");
                assert!(!has(&raw), "the raw session id is on disk");
            }
        }
        #[cfg(feature = "redis")]
        Raw::Redis { url } => {
            let client = redis::Client::open(url.as_str()).unwrap();
            let mut conn = client.get_multiplexed_async_connection().await.unwrap();
            let key = format!("portcullis:session:{hash}");
            let stored: Option<String> = redis::cmd("HGET")
                .arg(&key)
                .arg("r")
                .query_async(&mut conn)
                .await
                .unwrap();
            let stored = stored.expect("stored under portcullis:session:<sha-256>");
            assert!(
                stored.contains(&user),
                "the record is the JSON in field `r`"
            );
            assert!(!stored.contains(&raw));
            let ttl: i64 = redis::cmd("TTL")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .unwrap();
            assert!(
                ttl > 0 && ttl <= IDLE,
                "ttl = min(idle, absolute left): {ttl}"
            );
            let raw_key: bool = redis::cmd("EXISTS")
                .arg(format!("portcullis:session:{raw}"))
                .query_async(&mut conn)
                .await
                .unwrap();
            assert!(!raw_key);
            let members: Vec<String> = redis::cmd("SMEMBERS")
                .arg(format!("portcullis:session:user:{user}"))
                .query_async(&mut conn)
                .await
                .unwrap();
            assert!(members.contains(&hash) && !members.contains(&raw));
        }
    }
}

async fn csrf_token_lives_in_the_session(env: Env) {
    let m = &env.m;
    let csrf = SessionCsrfStorage::new();
    let mut s = m.create().unwrap();
    let t = csrf.get_token(&mut s).unwrap();
    assert_eq!(t.len(), 43);
    assert_eq!(csrf.get_token(&mut s).unwrap(), t, "stable until renewed");
    let c = pair(&m.save(&mut s).await.unwrap().unwrap());
    let mut loaded = m.load(Some(&c)).await.unwrap().unwrap();
    assert!(csrf.check_token(Some(&loaded), &t));
    assert!(!csrf.check_token(Some(&loaded), "x"));
    assert!(!csrf.check_token(None, &t));
    let t2 = csrf.new_token(&mut loaded).unwrap();
    assert_ne!(t2, t);
    m.save(&mut loaded).await.unwrap();
    let loaded = m.load(Some(&c)).await.unwrap().unwrap();
    assert!(csrf.check_token(Some(&loaded), &t2));
    assert!(!csrf.check_token(Some(&loaded), &t));
    // A login drops the token: one seen before the login is useless after it.
    let (s, _) = m
        .remember(Some(loaded), &random_user("csrf"))
        .await
        .unwrap();
    assert!(csrf.token(&s).is_none());
    assert!(!csrf.check_token(Some(&s), &t2));
}

fn parts(cookie: Option<&str>) -> http::request::Parts {
    let mut b = http::Request::builder().uri("https://example.com/");
    if let Some(c) = cookie {
        b = b.header(COOKIE, c);
    }
    b.body(()).unwrap().into_parts().0
}

async fn session_policy_identify_remember_forget(env: Env) {
    let policy = SessionPolicy::new(env.m.clone());
    assert_eq!(policy.name(), "session");
    assert!(policy.identify(&parts(None)).await.unwrap().is_none());

    // An anonymous session with data, then a login through the policy.
    let mut anon = env.m.create().unwrap();
    anon.insert("k", "v");
    let anon_cookie = pair(&env.m.save(&mut anon).await.unwrap().unwrap());
    assert!(
        policy
            .identify(&parts(Some(&anon_cookie)))
            .await
            .unwrap()
            .is_none()
    );
    let user = random_user("policy");
    let headers = policy
        .remember(&parts(Some(&anon_cookie)), &user)
        .await
        .unwrap();
    assert_eq!(headers.len(), 1);
    assert_eq!(headers[0].0, SET_COOKIE);
    let set = headers[0].1.to_str().unwrap().to_owned();
    let claim = policy
        .identify(&parts(Some(&pair(&set))))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claim.userid, user);
    assert_eq!(claim.via, "session");
    let s = env.m.load(Some(&pair(&set))).await.unwrap().unwrap();
    assert_eq!(s.get("k"), Some(&"v".into()), "pre-login data kept");
    assert!(
        env.m.load(Some(&anon_cookie)).await.unwrap().is_none(),
        "pre-login id dead"
    );

    // Two Cookie headers (HTTP/2 style) are read together.
    let mut p = parts(Some("x=1"));
    p.headers.append(COOKIE, pair(&set).parse().unwrap());
    assert!(policy.identify(&p).await.unwrap().is_some());

    let headers = policy.forget(&parts(Some(&pair(&set)))).await.unwrap();
    assert!(headers[0].1.to_str().unwrap().contains("Max-Age=0"));
    assert!(
        policy
            .identify(&parts(Some(&pair(&set))))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn purge_removes_expired_sql_rows() {
    for env in envs().await {
        #[allow(irrefutable_let_patterns)] // without the `redis` feature there is only SQL
        let Raw::Sql { store, .. } = &env.raw else {
            assert_eq!(
                env.m.purge_expired().await.unwrap(),
                0,
                "redis expires by itself"
            );
            continue;
        };
        // Far in the past, so that purging cannot touch the rows of tests running in
        // parallel on the same PostgreSQL database (they all live at T0 and later).
        env.clock.set(1_000_000_000);
        let user = random_user("purge");
        let (old, _) = env.m.remember(None, &user).await.unwrap();
        env.clock.advance(IDLE - 10);
        let (fresh, _) = env.m.remember(None, &user).await.unwrap();
        env.clock.advance(10);
        // `old` is now idle for exactly the timeout; `fresh` is 10 s old.
        assert!(env.m.purge_expired().await.unwrap() >= 1);
        assert!(
            store
                .load_session(old.hash().as_str())
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .load_session(fresh.hash().as_str())
                .await
                .unwrap()
                .is_some()
        );
    }
}

#[tokio::test]
async fn cookie_tossing_does_not_hide_the_real_session() {
    for env in envs().await {
        let (_, set) = env.m.remember(None, &random_user("tossed")).await.unwrap();
        // A sibling subdomain planted a cookie of the same name, sent first by the browser.
        let header = format!(
            "portcullis_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA; {}",
            pair(&set)
        );
        assert!(
            env.m.identify(Some(&header)).await.unwrap().is_some(),
            "{}",
            env.name
        );
    }
}

#[tokio::test]
async fn configured_timeouts_and_persistent_cookies() {
    let config = SessionConfig::new()
        .idle_timeout(Duration::from_secs(300))
        .absolute_timeout(Duration::from_secs(3600))
        .persistent(true)
        .cookie_name("__Host-sid");
    for env in envs_with(config).await {
        let (_, set) = env.m.remember(None, &random_user("short")).await.unwrap();
        assert!(set.starts_with("__Host-sid="));
        assert!(set.contains("; Max-Age=3600"), "{set}");
        env.clock.advance(299);
        assert!(env.m.load(Some(&pair(&set))).await.unwrap().is_some());
        env.clock.advance(300);
        assert!(
            env.m.load(Some(&pair(&set))).await.unwrap().is_none(),
            "{}",
            env.name
        );
    }
}

#[test]
fn session_hash_handles_parse() {
    assert!(SessionHash::parse(&"0".repeat(64)).is_some());
    assert!(SessionHash::parse("zz").is_none());
}

async fn a_touch_does_not_undo_a_concurrent_save(env: Env) {
    let m = &env.m;
    let (_, set) = m.remember(None, &random_user("touch")).await.unwrap();
    let c = pair(&set);
    env.clock.advance(120);
    // Request B (read-only) has read the record; request A saves a change meanwhile;
    // then B records its use.
    let store = m.store();
    let mut a = m.load(Some(&c)).await.unwrap().unwrap();
    let hash = a.hash().clone();
    let b_view = store.load(&hash).await.unwrap().unwrap();
    env.clock.advance(120);
    a.insert("written_by_a", true);
    m.save(&mut a).await.unwrap();
    assert!(store.touch(&hash, T0 + 300, 600).await.unwrap());
    let after = m.load(Some(&c)).await.unwrap().unwrap();
    assert_eq!(
        after.get("written_by_a"),
        Some(&true.into()),
        "A's write survived"
    );
    assert_eq!(
        after.record().last_seen_at,
        T0 + 300,
        "B's use was recorded"
    );
    assert!(b_view.data.get("written_by_a").is_none());
    // Touching a deleted session reports it gone and creates nothing.
    m.revoke(&hash).await.unwrap();
    assert!(!store.touch(&hash, T0 + 400, 600).await.unwrap());
    assert!(store.load(&hash).await.unwrap().is_none());
}
