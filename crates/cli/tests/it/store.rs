//! `portcullis migrate|user|group|member|permission|tag|token|import|principals` against
//! a real SQLite file (and the exit codes 0/1/2).

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::util::{Run, run_in};

struct Db {
    dir: tempfile::TempDir,
    url: String,
}

impl Db {
    fn new() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("store.sqlite").display());
        Db { dir, url }
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_stdin(args, "")
    }

    fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        let mut all = vec!["--database", self.url.as_str()];
        all.extend_from_slice(args);
        run_in(Some(self.dir.path()), &all, stdin)
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }
}

fn ok(r: &Run) {
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn users_groups_principals() {
    let db = Db::new();
    let r = db.run(&["migrate"]);
    ok(&r);
    assert!(r.stdout.contains("to 1"), "{r:?}");
    ok(&db.run(&["group", "add", "editors", "--description", "may edit"]));
    let r = db.run_stdin(
        &[
            "user",
            "add",
            "alice",
            "--email",
            "alice@example.org",
            "--group",
            "editors",
        ],
        "correct horse battery staple\n",
    );
    ok(&r);
    // Weak password, duplicate user, missing group: errors (exit 2) that say why.
    let r = db.run_stdin(
        &["user", "add", "bob", "--email", "b@example.org"],
        "short\n",
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.starts_with("error: ") && r.stderr.contains("too short"),
        "{r:?}"
    );
    let r = db.run_stdin(
        &["user", "add", "alice", "--email", "x@example.org"],
        "correct horse battery staple\n",
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("username already exists"), "{r:?}");
    let r = db.run(&[
        "user",
        "add",
        "carol",
        "--email",
        "c@example.org",
        "--no-password",
        "--group",
        "nope",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("group `nope` not found"), "{r:?}");

    let r = db.run(&["principals", "alice"]);
    ok(&r);
    assert_eq!(r.stdout, "1\ngroup:editors\n");
    let r = db.run(&["principals", "ghost"]);
    assert_eq!(r.code, 1, "{r:?}");

    let r = db.run(&["user", "list", "--json"]);
    ok(&r);
    let list = r.json();
    assert_eq!(list[0]["username"], "alice");
    assert_eq!(list[0]["has_password"], true);
    let r = db.run(&["user", "show", "alice@example.org", "--json"]);
    assert_eq!(r.json()["groups"], serde_json::json!(["editors"]));

    ok(&db.run(&["permission", "grant", "editors", "edit"]));
    let r = db.run(&["permission", "list", "editors", "--json"]);
    assert_eq!(r.json(), serde_json::json!(["edit"]));
    assert_eq!(db.run(&["permission", "revoke", "editors", "nope"]).code, 1);

    ok(&db.run(&["member", "remove", "alice", "editors"]));
    assert_eq!(db.run(&["member", "remove", "alice", "editors"]).code, 1);
    assert_eq!(db.run(&["principals", "1"]).stdout, "1\n");

    ok(&db.run_stdin(&["user", "passwd", "alice"], "another fine passphrase\r\n"));
    ok(&db.run(&["user", "block", "alice"]));
    let r = db.run(&["principals", "alice"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("blocked"), "{r:?}");
    ok(&db.run(&["user", "unblock", "alice"]));
    ok(&db.run(&["principals", "alice"]));
    ok(&db.run(&["user", "delete", "alice"]));
    assert_eq!(db.run(&["user", "delete", "alice"]).code, 1);
    assert_eq!(db.run(&["principals", "1"]).code, 1);
    ok(&db.run(&["group", "list"]));
    ok(&db.run(&["group", "delete", "editors"]));
    assert_eq!(db.run(&["group", "delete", "editors"]).code, 1);
}

#[test]
fn tags() {
    let db = Db::new();
    ok(&db.run(&[
        "tag",
        "add",
        "users",
        "7",
        "teacher/high-school/physics",
        "dancer",
    ]));
    ok(&db.run(&["tag", "add", "users", "8", "teacher"]));
    let r = db.run(&["tag", "get", "users", "7", "--json"]);
    assert_eq!(
        r.json(),
        serde_json::json!(["teacher/high-school/physics", "dancer"])
    );
    let r = db.run(&["tag", "find", "users", "teacher", "--json"]);
    assert_eq!(r.json(), serde_json::json!([7, 8]));
    let r = db.run(&["tag", "find", "users", "teacher", "dancer"]);
    assert_eq!(r.stdout, "7\n");
    let r = db.run(&["tag", "find", "users", "Teacher"]);
    assert_eq!(r.code, 1, "case-sensitive, nothing found: {r:?}");
    let r = db.run(&[
        "tag", "find", "users", "physics", "dancer", "--any", "--json",
    ]);
    assert_eq!(r.json(), serde_json::json!([7]));
    ok(&db.run(&["tag", "remove", "users", "7", "dancer"]));
    assert_eq!(
        db.run(&["tag", "get", "users", "7"]).stdout,
        "teacher/high-school/physics\n"
    );
    let r = db.run(&["tag", "add", "users", "7", "a//b"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("invalid tag `a//b`"), "{r:?}");
}

#[test]
fn tokens() {
    let db = Db::new();
    ok(&db.run(&[
        "user",
        "add",
        "api",
        "--email",
        "api@example.org",
        "--no-password",
    ]));
    let r = db.run(&["token", "create", "api", "--name", "ci", "--json"]);
    ok(&r);
    let t = r.json();
    assert!(t["token"].as_str().unwrap().starts_with("pct_"));
    let r = db.run(&["token", "list", "--json"]);
    let list = r.json();
    assert_eq!(list[0]["name"], "ci");
    assert!(
        !r.stdout.contains(t["token"].as_str().unwrap()),
        "secret never listed"
    );
    let id = t["id"].to_string();
    ok(&db.run(&["token", "revoke", &id]));
    assert_eq!(db.run(&["token", "revoke", &id]).code, 1);
}

#[test]
fn errors_name_the_problem() {
    let db = Db::new();
    let r = run_in(
        Some(db.dir.path()),
        &["--database", "mysql://localhost/x", "user", "list"],
        "",
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("unsupported database url"), "{r:?}");
    let missing = format!("sqlite://{}/no/such/dir/x.db", db.dir.path().display());
    let r = run_in(
        Some(db.dir.path()),
        &["--database", &missing, "user", "list"],
        "",
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cannot open"), "{r:?}");
    let r = db.run(&["user", "show", "ghost"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("user `ghost` not found"), "{r:?}");
    let r = db.run(&["import", "nothing.csv"]);
    assert_eq!(r.code, 2);
    let r = db.run(&["user", "add", "x", "--email", "x@example.org"]);
    assert_eq!(r.code, 2, "empty stdin is no password: {r:?}");
    assert!(!r.stderr.contains("panicked"));
}

#[test]
fn import_csv_and_json() {
    let db = Db::new();
    std::fs::write(
        db.path("users.csv"),
        "id,username,email,password,first_name,groups\n\
         1,u1,u1@example.org,sha1$$abf7aad6438836dbe526aa231abde2d0eef74d42,Ann,a;b\n\
         2,u2,u2@example.org,,Bob,b\n",
    )
    .unwrap();
    let r = db.run(&["import", "users.csv"]);
    ok(&r);
    assert!(
        r.stdout.starts_with("2 user(s) imported, 0 skipped"),
        "{r:?}"
    );
    let r = db.run(&["import", "users.csv"]);
    assert!(
        r.stdout.starts_with("0 user(s) imported, 2 skipped"),
        "{r:?}"
    );
    assert_eq!(
        db.run(&["principals", "u1"]).stdout,
        "1\ngroup:a\ngroup:b\n"
    );

    std::fs::write(
        db.path("more.json"),
        r#"[{"username": "j1", "email": "j1@example.org", "groups": ["c"]}, {"username": "j2", "status": "pending"}]"#,
    )
    .unwrap();
    ok(&db.run(&["import", "more.json"]));
    std::fs::write(
        db.path("lines.jsonl"),
        "{\"username\": \"l1\"}\n{\"username\": \"l2\"}\n",
    )
    .unwrap();
    ok(&db.run(&["import", "lines.jsonl"]));
    std::fs::write(db.path("odd.data"), "username\nz1\n").unwrap();
    assert_eq!(db.run(&["import", "odd.data"]).code, 2);
    ok(&db.run(&["import", "odd.data", "--format", "csv"]));
    let r = db.run(&["user", "list", "--json"]);
    assert_eq!(r.json().as_array().unwrap().len(), 7);

    std::fs::write(
        db.path("bad.json"),
        r#"[{"username": "ok1"}, {"username": "#,
    )
    .unwrap();
    let r = db.run(&["import", "bad.json"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("bad.json") && r.stderr.contains("line"),
        "{r:?}"
    );
}

fn count_users(url: &str) -> (i64, usize) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let s = portcullis_store::Store::open(url).await.unwrap();
        let n = s.count_users().await.unwrap();
        let members = s.members_of("all").await.map(|m| m.len()).unwrap_or(0);
        s.close().await;
        (n, members)
    })
}

/// A process killed mid-import leaves only whole batches, and running the import again
/// completes it.
#[test]
fn killed_import_leaves_whole_batches() {
    let db = Db::new();
    let total = 200_000;
    let batch = 1000;
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(db.path("big.csv")).unwrap());
        writeln!(f, "username,email,password_hash,groups").unwrap();
        for i in 0..total {
            writeln!(
                f,
                "user{i},user{i}@example.org,sha1$$abf7aad6438836dbe526aa231abde2d0eef74d42,all"
            )
            .unwrap();
        }
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args([
            "--database",
            &db.url,
            "import",
            "big.csv",
            "--batch-size",
            "1000",
        ])
        .current_dir(db.dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until some batches are in, then SIGKILL it.
    let mut waited = Duration::ZERO;
    loop {
        std::thread::sleep(Duration::from_millis(100));
        waited += Duration::from_millis(100);
        if db.dir.path().join("store.sqlite").exists() && count_users(&db.url).0 > 0 {
            break;
        }
        assert!(waited < Duration::from_secs(60), "import never started");
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let (n, members) = count_users(&db.url);
    assert_eq!(n % batch, 0, "{n} users: whole batches only");
    assert_eq!(members as i64, n, "every imported user has its membership");
    let r = db.run(&["import", "big.csv", "--batch-size", "1000"]);
    ok(&r);
    assert_eq!(count_users(&db.url), (total, total as usize));
}

/// A server's cached principals follow `portcullis user block|delete` and `member remove`
/// run by another process (the CLI), within the SQLite change-counter poll interval
/// (250 ms): a still-valid cookie of a blocked or deleted user authenticates nobody.
#[test]
fn cli_changes_reach_a_running_stores_cache() {
    let db = Db::new();
    ok(&db.run(&["migrate"]));
    ok(&db.run(&["group", "add", "editors"]));
    for name in ["alice", "bob"] {
        ok(&db.run(&[
            "user",
            "add",
            name,
            "--email",
            &format!("{name}@example.org"),
            "--no-password",
            "--group",
            "editors",
        ]));
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // The "server": default options (cache on, 30 s TTL).
        let server = portcullis_store::Store::open(&db.url).await.unwrap();
        let principals = |id: i64| {
            let server = server.clone();
            async move { server.principals_for(id).await.unwrap().map(|p| p.to_vec()) }
        };
        let after_poll = || tokio::time::sleep(Duration::from_millis(400));
        assert_eq!(
            principals(1).await,
            Some(vec!["1".to_owned(), "group:editors".to_owned()])
        );
        assert!(principals(2).await.is_some());
        assert_eq!(server.cached_principals(), 2);

        ok(&db.run(&["member", "remove", "alice", "editors"]));
        after_poll().await;
        assert_eq!(principals(1).await, Some(vec!["1".to_owned()]));

        ok(&db.run(&["user", "block", "alice"]));
        after_poll().await;
        assert_eq!(principals(1).await, None, "blocked by the CLI");

        ok(&db.run(&["user", "delete", "bob"]));
        after_poll().await;
        assert_eq!(principals(2).await, None, "deleted by the CLI");
        server.close().await;
    });
}
