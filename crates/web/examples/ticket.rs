//! Run with `cargo run -p portcullis-web --example ticket`.
//!
//! Logs a user in with an auth ticket cookie, reads it back, reissues it, logs out,
//! and shows how to share logins with a Pyramid application.

use portcullis_web::secret::MasterSecret;
use portcullis_web::ticket::{
    AuthTicket, AuthTktCookie, ClientIp, HashAlg, TicketRequest, TicketSecret, UserId,
    cookie_value_from_header, parse_ticket,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. One master secret (from configuration; `generate()` is for development only).
    let master = MasterSecret::generate()?;
    let policy = AuthTktCookie::builder(TicketSecret::derived(&master))
        .timeout(Some(20 * 60))
        .reissue_time(Some(2 * 60))
        .build()?;

    // 2. Login: the web layer sets these Set-Cookie headers.
    let now = 1_700_000_000;
    let req = TicketRequest::new("app.example.com", ClientIp::parse("192.0.2.7")?);
    let set_cookie = policy.remember(&UserId::from("alice"), &["editors", "staff"], &req, now)?;
    println!("login    -> Set-Cookie: {}", set_cookie[0]);

    // 3. Next request: the browser sends `Cookie: auth_tkt=...`.
    let cookie_header = set_cookie[0].split(';').next().unwrap_or_default();
    let value = cookie_value_from_header(cookie_header, policy.cookie_name()).ok_or("no cookie")?;
    let id = policy.identify(&value, &req, now + 30)?;
    println!("identify -> userid {} tokens {:?}", id.userid, id.tokens);

    // 4. Three minutes later the ticket is reissued (sliding expiry).
    let id = policy.identify(&value, &req, now + 180)?;
    if let Some(fresh) = &id.reissue {
        println!("reissue  -> Set-Cookie: {}", fresh[0]);
    }

    // 5. After the timeout it is refused.
    match policy.identify(&value, &req, now + 20 * 60 + 1) {
        Ok(_) => println!("expired? no"),
        Err(reason) => println!("expired  -> {reason}"),
    }

    // 6. Logout.
    println!("logout   -> Set-Cookie: {}", policy.forget(&req)[0]);

    // 7. Sharing logins with a Pyramid app: use its secret verbatim, for tickets only.
    let pyramid_secret = TicketSecret::verbatim("the-pyramid-app-auth-tkt-secret")?;
    let ticket = AuthTicket {
        tokens: &["editors"],
        hashalg: HashAlg::Sha512,
        ..AuthTicket::new(&pyramid_secret, "bob", &ClientIp::UNSPECIFIED, now)
    }
    .cookie_value();
    let parsed = parse_ticket(
        &pyramid_secret,
        &ticket,
        &ClientIp::UNSPECIFIED,
        HashAlg::Sha512,
    )?;
    println!(
        "pyramid  -> {ticket}\n            userid {} issued at {}",
        parsed.userid(),
        parsed.timestamp()
    );
    Ok(())
}
