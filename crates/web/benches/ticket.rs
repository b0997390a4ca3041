//! W3 'ticket' (see shared/bench/WORKLOADS.md): verifying 1000 Pyramid sha512 auth
//! tickets, cycling, against the raw cost of the double SHA-512 over the same bytes.
//!
//! Run with `PORTCULLIS_BENCH_DATA=/tmp/portcullis-bench/data cargo bench -p portcullis-web --bench ticket`
//! after `python3 shared/bench/gen_workloads.py /tmp/portcullis-bench/data`.
//! Without the data file it prints `skipped: ...` and exits successfully.
//!
//! Each iteration verifies all 1000 tickets once, so divan's "item" figures are per
//! ticket. The ratio `verify_w3 / raw_double_sha512` is the parsing + comparison overhead.

use std::hint::black_box;
use std::sync::OnceLock;

use divan::Bencher;
use divan::counter::ItemsCount;
use portcullis_web::ticket::{
    AuthTktCookie, ClientIp, HashAlg, TicketRequest, TicketSecret, parse_ticket,
};
use sha2::{Digest, Sha512};

struct W3 {
    secret: TicketSecret,
    secret_bytes: Vec<u8>,
    ip: ClientIp,
    tickets: Vec<String>,
    /// The bytes hashed first for each ticket: ip ‖ ts ‖ secret ‖ userid ‖ 0 ‖ tokens ‖ 0 ‖ user_data.
    messages: Vec<Vec<u8>>,
}

fn load() -> Result<W3, String> {
    let dir = std::env::var("PORTCULLIS_BENCH_DATA")
        .map_err(|_| "PORTCULLIS_BENCH_DATA is not set".to_owned())?;
    let path = format!("{dir}/w3.json");
    let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let v: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("{path}: {e}"))?;
    let field = |k: &str| {
        v[k].as_str()
            .map(str::to_owned)
            .ok_or(format!("{path}: no `{k}`"))
    };
    let secret_str = field("secret")?;
    let ip = ClientIp::parse(&field("ip")?).map_err(|e| e.to_string())?;
    let tickets: Vec<String> = v["tickets"]
        .as_array()
        .ok_or("no tickets")?
        .iter()
        .filter_map(|t| t.as_str().map(str::to_owned))
        .collect();
    let userids: Vec<&str> = v["userids"]
        .as_array()
        .ok_or("no userids")?
        .iter()
        .filter_map(|t| t.as_str())
        .collect();
    let secret = TicketSecret::verbatim(secret_str.as_str()).map_err(|e| e.to_string())?;
    // Check every decision before timing anything.
    let mut messages = Vec::new();
    for (t, want) in tickets.iter().zip(&userids) {
        let p = parse_ticket(&secret, t, &ip, HashAlg::Sha512)
            .map_err(|e| format!("ticket for {want} refused: {e}"))?;
        if p.userid() != *want || p.tokens().collect::<Vec<_>>() != ["editors", "staff"] {
            return Err(format!("ticket for {want} parsed wrongly: {p:?}"));
        }
        let ClientIp::V4(octets) = ip else {
            return Err("W3 uses an IPv4 address".into());
        };
        let mut m = Vec::new();
        m.extend_from_slice(&octets);
        m.extend_from_slice(&((p.timestamp() & 0xffff_ffff) as u32).to_be_bytes());
        m.extend_from_slice(secret_str.as_bytes());
        m.extend_from_slice(p.userid().as_bytes());
        m.push(0);
        m.extend_from_slice(p.raw_tokens().as_bytes());
        m.push(0);
        m.extend_from_slice(p.user_data().as_bytes());
        messages.push(m);
    }
    if tickets.len() != userids.len() || tickets.is_empty() {
        return Err("tickets and userids differ in number".into());
    }
    Ok(W3 {
        secret,
        secret_bytes: secret_str.into_bytes(),
        ip,
        tickets,
        messages,
    })
}

static DATA: OnceLock<Result<W3, String>> = OnceLock::new();

fn data() -> Option<&'static W3> {
    DATA.get_or_init(load).as_ref().ok()
}

fn main() {
    match DATA.get_or_init(load) {
        Ok(d) => {
            println!("W3: {} tickets verified before timing", d.tickets.len());
            divan::main();
        }
        Err(reason) => println!("skipped: {reason}"),
    }
}

/// `parse_ticket` over the 1000 tickets (the W3 operation).
#[divan::bench]
fn verify_w3(bencher: Bencher) {
    let Some(d) = data() else { return };
    bencher.counter(ItemsCount::new(d.tickets.len())).bench(|| {
        let mut ok = 0usize;
        for t in &d.tickets {
            if let Ok(p) = parse_ticket(&d.secret, black_box(t), &d.ip, HashAlg::Sha512) {
                ok += p.tokens().count();
            }
        }
        ok
    });
}

/// `AuthTktCookie::identify` (parse + owned identity + timeout/reissue checks).
#[divan::bench]
fn identify_w3(bencher: Bencher) {
    let Some(d) = data() else { return };
    let Ok(policy) = AuthTktCookie::builder(d.secret.clone())
        .timeout(Some(u64::from(u32::MAX)))
        .build()
    else {
        return;
    };
    let req = TicketRequest::new("example.com", d.ip.clone());
    bencher.counter(ItemsCount::new(d.tickets.len())).bench(|| {
        let mut ok = 0usize;
        for t in &d.tickets {
            ok += usize::from(policy.identify(black_box(t), &req, 1_700_000_000).is_ok());
        }
        ok
    });
}

/// The floor: SHA-512, hex, SHA-512 over the same bytes, nothing else.
#[divan::bench]
fn raw_double_sha512(bencher: Bencher) {
    let Some(d) = data() else { return };
    const HEX: &[u8; 16] = b"0123456789abcdef";
    bencher
        .counter(ItemsCount::new(d.messages.len()))
        .bench(|| {
            let mut acc = 0u8;
            for m in &d.messages {
                let first = Sha512::digest(black_box(m));
                let mut hex = [0u8; 128];
                for (b, pair) in first.iter().zip(hex.chunks_exact_mut(2)) {
                    pair[0] = HEX[usize::from(b >> 4)];
                    pair[1] = HEX[usize::from(b & 0x0f)];
                }
                let mut h = Sha512::new();
                h.update(hex);
                h.update(&d.secret_bytes);
                acc ^= h.finalize()[0];
            }
            acc
        });
}
