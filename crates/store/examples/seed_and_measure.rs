//! Run with `cargo run --release -p portcullis-store --example seed_and_measure -- [OPTIONS]`.
//!
//! Seeds a store with many users (imported with existing password hashes, as
//! `portcullis import` does), groups and tags, then measures the hot paths and prints
//! p50/p99 latencies:
//!
//! - import of N users with existing hashes (batched transactions), and of the tags;
//! - principal lookup (the groupfinder): cold (database) and cached;
//! - user lookup by username;
//! - tag find over random tags of the seeded distribution (see [`FindKind`]): one leaf
//!   tag, a hierarchical prefix, any-of and all-of of 2 or 3 tags, each as its first
//!   page of 100 ids, a page of 100 after a random id (`after_id`), and (every fifth)
//!   the full result (throughput); plus the first page on freshly opened stores (cold).
//!
//! Options: `--url URL` (default: a fresh SQLite file in a temporary directory),
//! `--users N` (1000000), `--groups N` (10000), `--tags N` (5000000),
//! `--samples N` (2000), `--batch N` (5000), `--finds N` timed finds per kind (500),
//! `--warmup N` untimed finds per kind first (100), `--cold-rounds N` fresh stores for
//! the cold figure (25), `--show-slowest N` (list the N slowest first pages of each
//! kind with their tags, this process's CPU time and run-queue wait and page faults
//! during each, the round trip after it and when it ran), `--full-every N` (fetch the whole result every N finds, 5;
//! 0: never), `--kinds one,prefix,any,all`, `--tag-cache-bytes N` (the finds' chunk
//! cache, default the store's 64 MiB; 0: none), `--reuse` (measure a database an earlier run seeded, with the
//! same `--users` etc.). It is a benchmark, not a test: it is kept out of `cargo test`
//! and prints figures instead of asserting them.

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
    /// Skip seeding: measure a database seeded by an earlier run (`--reuse`).
    reuse: bool,
    /// Timed finds per kind.
    finds: usize,
    /// Untimed finds per kind before timing.
    warmup: usize,
    /// Fresh stores for the cold first-page figure.
    cold_rounds: usize,
    /// How many of the slowest first pages of each kind to list.
    show_slowest: usize,
    /// Fetch the whole result every this many finds (0: never).
    full_every: usize,
    /// Which find kinds to measure (`one,prefix,any,all`).
    kinds: String,
    /// The finds' chunk cache (`None`: the store's default).
    tag_cache_bytes: Option<usize>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        url: None,
        users: 1_000_000,
        groups: 10_000,
        tags: 5_000_000,
        samples: 2_000,
        batch: 5_000,
        reuse: false,
        finds: 500,
        warmup: 100,
        cold_rounds: 25,
        show_slowest: 0,
        full_every: 5,
        kinds: "one,prefix,any,all".to_owned(),
        tag_cache_bytes: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--reuse" {
            a.reuse = true;
            continue;
        }
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
            "--finds" => a.finds = num()?.max(1) as usize,
            "--warmup" => a.warmup = num()? as usize,
            "--cold-rounds" => a.cold_rounds = num()? as usize,
            "--show-slowest" => a.show_slowest = num()? as usize,
            "--full-every" => a.full_every = num()? as usize,
            "--kinds" => a.kinds = value.clone(),
            "--tag-cache-bytes" => a.tag_cache_bytes = Some(num()? as usize),
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
    let mut opts = StoreOptions {
        principals: PrincipalsConfig {
            cache_ttl: None,
            ..PrincipalsConfig::default()
        },
        ..StoreOptions::default()
    };
    if let Some(bytes) = args.tag_cache_bytes {
        opts.tag_cache_bytes = bytes;
    }
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

    if !args.reuse {
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
    }

    let t = Instant::now();
    store.optimize().await?;
    println!("optimize (statistics)              {:.1?}", t.elapsed());

    // 3. Lookups, with their own generator so a `--reuse` run samples the same values.
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
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

    // 4. Tag finds over random tags of the seeded distribution (see `user_tags`).
    let cold = measure_cold_finds(&url, &args, &mut rng).await?;
    report("find, cold first page (new store)", cold);
    for kind in FindKind::ALL {
        if !args.kinds.split(',').any(|k| k == kind.flag()) {
            continue;
        }
        // Warm-up: the same kind of find, untimed (connections, prepared statements).
        for _ in 0..args.warmup {
            let (tags, mode) = kind.sample(&mut rng);
            std::hint::black_box(
                store
                    .find_tagged_page("users", &tags, mode, i64::MIN, Some(PAGE))
                    .await?,
            );
        }
        let mut all = Vec::new();
        let mut first = Vec::new();
        let mut middle = Vec::new();
        let mut hits = 0usize;
        let mut full_time = Duration::ZERO;
        let mut slowest = Vec::new();
        let mut floor = Vec::new();
        let mut with_major = 0usize;
        let (mut slow, mut slow_waiting) = (0usize, 0usize);
        let started = Instant::now();
        for i in 0..args.finds {
            let (tags, mode) = kind.sample(&mut rng);
            let faults_before = faults();
            let sched_before = sched();
            let t = Instant::now();
            let page = store
                .find_tagged_page("users", &tags, mode, i64::MIN, Some(PAGE))
                .await?;
            let took = t.elapsed();
            let faults_after = faults();
            let sched_after = sched();
            let ran = Duration::from_nanos(sched_after.0.saturating_sub(sched_before.0));
            let waited = Duration::from_nanos(sched_after.1.saturating_sub(sched_before.1));
            if took > Duration::from_millis(1) {
                slow += 1;
                if waited * 2 > took {
                    slow_waiting += 1;
                }
            }
            first.push(took);
            // The floor under these figures: one trivial statement (`SELECT 1`), timed
            // right after (on a shared machine its p99 shows the scheduling noise).
            let t = Instant::now();
            store.ping().await?;
            let floor_took = t.elapsed();
            floor.push(floor_took);
            let major = faults_after.1.saturating_sub(faults_before.1);
            if major > 0 {
                with_major += 1;
            }
            slowest.push((
                took,
                tags.iter().map(ToString::to_string).collect::<Vec<_>>(),
                faults_after.0.saturating_sub(faults_before.0),
                major,
                floor_took,
                started.elapsed(),
                ran,
                waited,
            ));
            // A page from a random position of the id space (the cursor of a deep page).
            let after = rng.below(args.users) as i64;
            let t = Instant::now();
            let deep = store
                .find_tagged_page("users", &tags, mode, after, Some(PAGE))
                .await?;
            middle.push(t.elapsed());
            // Every fifth find also fetches the whole result (throughput), and checks the
            // pages against it.
            if args.full_every > 0 && i % args.full_every == 0 {
                let t = Instant::now();
                let found = store.find_tagged("users", &tags, mode).await?;
                let took = t.elapsed();
                all.push(took);
                full_time += took;
                hits += found.len();
                let want: Vec<i64> = found.iter().copied().take(PAGE as usize).collect();
                let want_deep: Vec<i64> = found
                    .iter()
                    .copied()
                    .filter(|&id| id > after)
                    .take(PAGE as usize)
                    .collect();
                if page != want || deep != want_deep {
                    return Err(format!("{tags:?}: a page differs from the full result").into());
                }
            }
        }
        let n = all.len().max(1);
        println!(
            "{}: {} finds ({} full), mean result {} ids, full results {:.0} ids/ms",
            kind.name(),
            first.len(),
            n,
            hits / n,
            hits as f64 / full_time.as_secs_f64().max(1e-9) / 1000.0
        );
        report("  first page of 100 (warm)", first);
        report("  page of 100 after a random id", middle);
        report("  full result", all);
        report("  (floor: one trivial round trip)", floor);
        println!(
            "  first pages over 1 ms: {slow}, of which runnable but waiting for a CPU more than \
             half the time: {slow_waiting}; with major page faults: {with_major}"
        );
        slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
        for (took, tags, minor, major, floor, at, ran, waited) in
            slowest.iter().take(args.show_slowest)
        {
            println!(
                "    slow first page {took:>10.2?} {tags:?} (this process's threads ran \
                 {ran:.2?}, waited for a CPU {waited:.2?}; page faults: {minor} minor, {major} \
                 major; next floor {floor:.2?}; at {at:.2?})"
            );
        }
    }
    // A prefix with more than 64 distinct keys below it (the range query).
    let wide = vec![Tag::new("skill")?];
    let mut pages = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let page = store
            .find_tagged_page("users", &wide, TagMatch::All, i64::MIN, Some(PAGE))
            .await?;
        pages.push(t.elapsed());
        std::hint::black_box(page);
    }
    report("prefix `skill` (200 keys), first page", pages);
    store.close().await;
    Ok(())
}

/// This process's (minor, major) page faults so far (`/proc/self/stat`; zeros elsewhere):
/// a find that faults on the memory-mapped SQLite file waits for the disk.
fn faults() -> (u64, u64) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return (0, 0);
    };
    // Fields after the command name `(...)`: state is the first, minflt the 8th, majflt
    // the 10th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    (
        f.get(7).copied().unwrap_or(0),
        f.get(9).copied().unwrap_or(0),
    )
}

/// This process's threads' CPU time and time spent runnable but waiting for a CPU, in
/// ns, summed (`/proc/self/task/*/schedstat`; zeros elsewhere). Threads that ended
/// meanwhile are missed; the benchmark's threads (tokio's, sqlx's SQLite workers) live on.
fn sched() -> (u64, u64) {
    let mut out = (0, 0);
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for task in tasks.flatten() {
        let Ok(line) = std::fs::read_to_string(task.path().join("schedstat")) else {
            continue;
        };
        let mut f = line
            .split_whitespace()
            .map(|x| x.parse::<u64>().unwrap_or(0));
        out.0 += f.next().unwrap_or(0);
        out.1 += f.next().unwrap_or(0);
    }
    out
}

/// The kinds of tag find measured, each over random tags of the seeded distribution.
#[derive(Clone, Copy)]
enum FindKind {
    /// One leaf tag: a family (team, role, site, skill, project) uniformly, then a
    /// value uniformly (about 1 430, 200 000, 20 000, 5 000 and 200 users).
    One,
    /// One ancestor tag: `deptN` (7 keys, 10 000 users), `skill/N` (10 keys, 50 000),
    /// `role` (5 keys, everyone) or `site` (50 keys, everyone), uniformly.
    Prefix,
    /// Any of 2 or 3 leaf tags of distinct families.
    AnyOf,
    /// All of 2 or 3 leaf tags of distinct families.
    AllOf,
}

impl FindKind {
    const ALL: [FindKind; 4] = [
        FindKind::One,
        FindKind::Prefix,
        FindKind::AnyOf,
        FindKind::AllOf,
    ];

    fn flag(self) -> &'static str {
        match self {
            FindKind::One => "one",
            FindKind::Prefix => "prefix",
            FindKind::AnyOf => "any",
            FindKind::AllOf => "all",
        }
    }

    fn name(self) -> &'static str {
        match self {
            FindKind::One => "find one tag",
            FindKind::Prefix => "find hierarchical prefix",
            FindKind::AnyOf => "find any-of 2-3 tags",
            FindKind::AllOf => "find all-of 2-3 tags",
        }
    }

    fn sample(self, rng: &mut Rng) -> (Vec<Tag>, TagMatch) {
        let leaves = |rng: &mut Rng| {
            let n = 2 + rng.below(2) as usize;
            let mut families: Vec<u64> = Vec::new();
            while families.len() < n {
                let f = rng.below(5);
                if !families.contains(&f) {
                    families.push(f);
                }
            }
            families
                .into_iter()
                .map(|f| leaf_tag(f, rng))
                .collect::<Vec<Tag>>()
        };
        match self {
            FindKind::One => {
                let f = rng.below(5);
                (vec![leaf_tag(f, rng)], TagMatch::All)
            }
            FindKind::Prefix => {
                let path = match rng.below(4) {
                    0 => format!("dept{}", rng.below(100)),
                    1 => format!("skill/{}", rng.below(20)),
                    2 => "role".to_owned(),
                    _ => "site".to_owned(),
                };
                (tag(&path), TagMatch::All)
            }
            FindKind::AnyOf => (leaves(rng), TagMatch::Any),
            FindKind::AllOf => (leaves(rng), TagMatch::All),
        }
    }
}

fn tag(path: &str) -> Vec<Tag> {
    Tag::new(path).into_iter().collect()
}

/// A leaf tag of family `f`, as `user_tags` assigns them.
fn leaf_tag(f: u64, rng: &mut Rng) -> Tag {
    let path = match f {
        0 => format!("dept{}/team{}", rng.below(100), rng.below(7)),
        1 => format!(
            "role/{}",
            ["dev", "ops", "sales", "hr", "exec"][rng.below(5) as usize]
        ),
        2 => format!("site/{}", rng.below(50)),
        3 => format!("skill/{}/{}", rng.below(20), rng.below(10)),
        _ => format!("project/p{}", rng.below(5000)),
    };
    #[allow(clippy::expect_used)] // The paths above are valid tags.
    Tag::new(&path).expect("a valid tag path")
}

/// The first page of a find on a freshly opened store (new pool: new connections, no
/// prepared statements; the operating system's file cache stays warm), once per kind
/// per store, `cold_rounds` stores.
async fn measure_cold_finds(
    url: &str,
    args: &Args,
    rng: &mut Rng,
) -> Result<Vec<Duration>, Box<dyn std::error::Error>> {
    let mut out = Vec::new();
    for _ in 0..args.cold_rounds {
        let store = Store::open(url).await?;
        for kind in FindKind::ALL {
            let (tags, mode) = kind.sample(rng);
            let t = Instant::now();
            let page = store
                .find_tagged_page("users", &tags, mode, i64::MIN, Some(PAGE))
                .await?;
            out.push(t.elapsed());
            std::hint::black_box(page);
        }
        store.close().await;
    }
    Ok(out)
}
