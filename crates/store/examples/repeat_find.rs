//! Run with `cargo run --release -p portcullis-store --example repeat_find -- URL [TAGS...]`.
//!
//! The same finds over and over on a database that `seed_and_measure` seeded: the
//! first page of 100 `users` with all of the given tags (each argument one find, tags
//! of a find joined by `+`; `any:` before them: any of the tags), 3 000 times each, the
//! first 500 untimed, each followed by one trivial round trip (`Store::ping`, the floor). Prints p50 and p99 in µs. It
//! shows what a find costs when its keys are in the tag cache (nobody wrote them
//! since): the head statement alone, which lists no chunk. A benchmark, not a test.

use std::time::Instant;

use portcullis_store::{Store, Tag, TagMatch};

const ROUNDS: usize = 3_000;
const WARMUP: usize = 500;

fn percentile(sorted: &[u128], p: usize) -> u128 {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .ok_or("usage: repeat_find URL [TAG+TAG...]...")?;
    let mut finds: Vec<String> = args.collect();
    if finds.is_empty() {
        finds = [
            "role/dev",
            "site/1",
            "project/p4554",
            "dept61/team6",
            "role/dev+site/1",
            "any:project/p77+skill/3/4+dept4/team3",
        ]
        .map(String::from)
        .to_vec();
    }
    let store = Store::open(&url).await?;
    for find in &finds {
        let (mode, tags) = match find.strip_prefix("any:") {
            Some(tags) => (TagMatch::Any, tags),
            None => (TagMatch::All, find.as_str()),
        };
        let tags = tags
            .split('+')
            .map(str::parse)
            .collect::<Result<Vec<Tag>, _>>()?;
        let (mut pages, mut floor) = (Vec::new(), Vec::new());
        for i in 0..ROUNDS {
            let t = Instant::now();
            store
                .find_tagged_page("users", &tags, mode, i64::MIN, Some(100))
                .await?;
            let page = t.elapsed().as_micros();
            let t = Instant::now();
            store.ping().await?;
            if i >= WARMUP {
                pages.push(page);
                floor.push(t.elapsed().as_micros());
            }
        }
        pages.sort_unstable();
        floor.sort_unstable();
        println!(
            "{find:<24} page p50 {:>4} p99 {:>4} µs | floor p50 {:>4} p99 {:>4} µs",
            percentile(&pages, 50),
            percentile(&pages, 99),
            percentile(&floor, 50),
            percentile(&floor, 99),
        );
    }
    Ok(())
}
