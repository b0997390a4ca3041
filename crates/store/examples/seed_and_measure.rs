//! Run with `cargo run --release -p portcullis-store --example seed_and_measure -- [OPTIONS]`.
//!
//! Seeds a store with many users (imported with existing password hashes, as
//! `portcullis import` does), groups and tags, then measures the hot paths and prints
//! p50/p99 latencies:
//!
//! - import of N users with existing hashes (batched transactions), and of the tags;
//! - principal lookup (the groupfinder): cold (database) and cached;
//! - user lookup by username;
//! - tag find: a narrow tag, a broad (ancestor) tag, all-of pairs and an any-of pair,
//!   each as the full result, its first page of 100 ids, and a page from the middle.
//!
//! Options: `--url URL` (default: a fresh SQLite file in a temporary directory),
//! `--users N` (1000000), `--groups N` (10000), `--tags N` (5000000),
//! `--samples N` (2000), `--batch N` (5000). It is a benchmark, not a test: it is kept
//! out of `cargo test` and prints figures instead of asserting them.

use std::time::{Duration, Instant};

use portcullis_store::{ImportUser, PrincipalsConfig, Store, StoreOptions, Tag, TagMatch};

/// The page size of the paged tag finds.
const PAGE: u32 = 100;

struct Args {
    url: Option<String>,
    users: u64,
    groups: u64,
    tags: u64,
    samples: usize,
    batch: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        url: None,
        users: 1_000_000,
        groups: 10_000,
        tags: 5_000_000,
        samples: 2_000,
        batch: 5_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("`{flag}` needs a value"))?;
        let num = || {
            value
                .parse::<u64>()
                .map_err(|e| format!("`{flag} {value}`: {e}"))
        };
        match flag.as_str() {
            "--url" => a.url = Some(value.clone()),
            "--users" => a.users = num()?.max(1),
            "--groups" => a.groups = num()?.max(1),
            "--tags" => a.tags = num()?,
            "--samples" => a.samples = num()?.max(1) as usize,
            "--batch" => a.batch = num()?.max(1) as usize,
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    Ok(a)
}

/// A small deterministic generator (xorshift64*), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort_unstable();
    let pct = |p: f64| {
        let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
        samples.get(i).copied().unwrap_or_default()
    };
    println!(
        "{name:<34} n={:<6} p50={:>10.2?} p99={:>10.2?} max={:>10.2?}",
        samples.len(),
        pct(0.50),
        pct(0.99),
        pct(1.0)
    );
}

/// Tag paths of user `i`: a department, a team below it, a role, a site.
fn user_tags(i: u64, per_user: u64, rng: &mut Rng) -> Vec<Tag> {
    let dept = i % 100;
    let mut out = Vec::with_capacity(per_user as usize);
    let candidates = [
        format!("dept{dept}/team{}", i % 7),
        format!(
            "role/{}",
            ["dev", "ops", "sales", "hr", "exec"][(i % 5) as usize]
        ),
        format!("site/{}", rng.below(50)),
        format!("skill/{}/{}", rng.below(20), rng.below(10)),
        format!("project/p{}", rng.below(5000)),
    ];
    for c in candidates.iter().take(per_user as usize) {
        if let Ok(t) = Tag::new(c) {
            out.push(t);
        }
    }
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let dir = tempfile::tempdir()?;
    let url = args
        .url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.sqlite").display()));
    let opts = StoreOptions {
        principals: PrincipalsConfig {
            cache_ttl: None,
            ..PrincipalsConfig::default()
        },
        ..StoreOptions::default()
    };
    let store = Store::open_with(&url, opts).await?;
    println!(
        "backend {:?}; {} users, {} groups, {} tags",
        store.backend(),
        args.users,
        args.groups,
        args.tags
    );
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    // An argon2id PHC string (not verified here: import stores hashes verbatim).
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Ak1jiPUFP6sUMlvMw+W/3fcGYvUNY4hdO5vVcHf3mPs";

    // 1. Users with groups, through the import path.
    let t = Instant::now();
    let mut batch = Vec::with_capacity(args.batch);
    let mut inserted = 0;
    for i in 0..args.users {
        let g1 = rng.below(args.groups);
        let g2 = rng.below(args.groups);
        batch.push(ImportUser {
            username: format!("user{i:07}"),
            email: Some(format!("user{i}@example.org")),
            password_hash: Some(hash.to_owned()),
            first_name: format!("First{}", i % 1000),
            last_name: format!("Last{}", i % 997),
            groups: vec![format!("group{g1:05}"), format!("group{g2:05}")],
            ..ImportUser::default()
        });
        if batch.len() == args.batch || i + 1 == args.users {
            inserted += store.import_batch(&batch).await?.inserted;
            batch.clear();
        }
    }
    let took = t.elapsed();
    println!(
        "import users                       {inserted} in {took:.1?} ({:.0} users/s)",
        inserted as f64 / took.as_secs_f64()
    );

    // 2. Tags (kind `users`), `tags / users` per user.
    let t = Instant::now();
    let per_user = (args.tags / args.users).clamp(1, 5);
    let mut pairs = Vec::with_capacity(20_000);
    let mut tag_count = 0;
    for i in 1..=args.users {
        for tag in user_tags(i, per_user, &mut rng) {
            pairs.push((i as i64, tag));
        }
        if pairs.len() >= 20_000 || i == args.users {
            tag_count += store.add_tags_bulk("users", &pairs).await?;
            pairs.clear();
        }
    }
    let took = t.elapsed();
    println!(
        "insert tags                        {tag_count} in {took:.1?} ({:.0} tags/s)",
        tag_count as f64 / took.as_secs_f64()
    );

    let t = Instant::now();
    store.optimize().await?;
    println!("optimize (statistics)              {:.1?}", t.elapsed());

    // 3. Lookups.
    let ids: Vec<i64> = (0..args.samples)
        .map(|_| 1 + rng.below(args.users) as i64)
        .collect();
    store.invalidate_all_principals();
    let mut cold = Vec::with_capacity(ids.len());
    for id in &ids {
        let t = Instant::now();
        let p = store.principals_for(*id).await?;
        cold.push(t.elapsed());
        std::hint::black_box(p);
    }
    report("principals_for (cold, database)", cold);
    // Fill the cache, untimed: on PostgreSQL answers are cached only once the change
    // listener (started by the first lookup) listens, so early cold lookups were not kept.
    for id in &ids {
        std::hint::black_box(store.principals_for(*id).await?);
    }
    let mut warm = Vec::with_capacity(ids.len() * 10);
    for _ in 0..10 {
        for id in &ids {
            let t = Instant::now();
            let p = store.principals_for(*id).await?;
            warm.push(t.elapsed());
            std::hint::black_box(p);
        }
    }
    report("principals_for (cached)", warm);

    let mut by_name = Vec::with_capacity(ids.len());
    for id in &ids {
        let name = format!("user{:07}", id - 1);
        let t = Instant::now();
        let u = store.get_user_by_username(&name).await?;
        by_name.push(t.elapsed());
        if u.is_none() {
            return Err(format!("user `{name}` missing").into());
        }
    }
    report("get_user_by_username", by_name);

    let finds: [(&str, Vec<&str>, TagMatch); 5] = [
        (
            "find all-of (team + role)",
            vec!["dept{d}/team3", "role/ops"],
            TagMatch::All,
        ),
        (
            "find narrow (dept/team)",
            vec!["dept{d}/team3"],
            TagMatch::All,
        ),
        ("find broad (dept ancestor)", vec!["dept{d}"], TagMatch::All),
        (
            "find all-of (dept + role)",
            vec!["dept{d}", "role/ops"],
            TagMatch::All,
        ),
        (
            "find any-of (2 teams)",
            vec!["dept{d}/team1", "dept{d}/team2"],
            TagMatch::Any,
        ),
    ];
    // Each query in three forms: every id, the first page of 100 ids, and a page of 100
    // from the middle of the result (cursor: the id before it, `after_id`).
    for (name, tmpl, mode) in finds {
        let mut all = Vec::new();
        let mut first = Vec::new();
        let mut middle = Vec::new();
        let mut hits = 0;
        for _ in 0..(args.samples / 10).max(20) {
            let d = rng.below(100);
            let tags: Vec<Tag> = tmpl
                .iter()
                .filter_map(|t| Tag::new(&t.replace("{d}", &d.to_string())).ok())
                .collect();
            let t = Instant::now();
            let found = store.find_tagged("users", &tags, mode).await?;
            all.push(t.elapsed());
            hits += found.len();
            let t = Instant::now();
            let page = store
                .find_tagged_page("users", &tags, mode, i64::MIN, Some(PAGE))
                .await?;
            first.push(t.elapsed());
            if page[..] != found[..found.len().min(PAGE as usize)] {
                return Err(format!("{name}: first page differs from the full result").into());
            }
            let after = found.get(found.len() / 2).copied().unwrap_or(i64::MIN);
            let t = Instant::now();
            let page = store
                .find_tagged_page("users", &tags, mode, after, Some(PAGE))
                .await?;
            middle.push(t.elapsed());
            std::hint::black_box(page);
        }
        let n = all.len();
        report(&format!("{name} ~{} ids", hits / n.max(1)), all);
        report("  first page of 100", first);
        report("  middle page of 100 (after_id)", middle);
    }
    store.close().await;
    Ok(())
}
