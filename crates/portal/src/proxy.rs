//! Who is asking: the peer's address, and what a trusted reverse proxy says about the
//! client. Shared by the REST API (throttling, audit) and forward auth.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use http::request::Parts;

/// The TCP peer: `ConnectInfo<SocketAddr>` (axum's `into_make_service_with_connect_info`)
/// or [`portcullis_web::ClientAddr`] (tests, custom servers); `0.0.0.0` when neither is
/// set, which is never a trusted proxy unless configured so. An IPv4-mapped IPv6 address
/// (a dual-stack `[::]` listener) is its IPv4 address, so `127.0.0.1` in
/// `trusted_proxies` matches `::ffff:127.0.0.1`.
pub(crate) fn peer_addr(parts: &Parts) -> IpAddr {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .or_else(|| {
            parts
                .extensions
                .get::<portcullis_web::ClientAddr>()
                .map(|c| c.0)
        })
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    peer.to_canonical()
}

/// The client's address: the peer's, or, when the peer is one of `trusted`, the
/// right-most address of `X-Forwarded-For` (all such headers joined) that is not itself a
/// trusted proxy. An unparsable hop stops the walk at the last good address.
pub(crate) fn client_addr(trusted: &[IpAddr], parts: &Parts) -> IpAddr {
    let peer = peer_addr(parts);
    if !trusted.contains(&peer) {
        return peer;
    }
    let xff = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    let mut client = peer;
    for hop in xff.rsplit(',') {
        match hop.trim().parse::<IpAddr>().map(|ip| ip.to_canonical()) {
            Ok(ip) => {
                client = ip;
                if !trusted.contains(&ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(peer: [u8; 4], xff: &[&str]) -> Parts {
        let mut b = http::Request::builder();
        for v in xff {
            b = b.header("x-forwarded-for", *v);
        }
        let (mut p, ()) = b.body(()).unwrap().into_parts();
        p.extensions
            .insert(ConnectInfo(SocketAddr::from((peer, 1234))));
        p
    }

    #[test]
    fn forwarded_for_only_from_trusted_peers() {
        let proxy = IpAddr::from([10, 0, 0, 1]);
        let p = parts([10, 0, 0, 1], &["198.51.100.7, 10.0.0.1"]);
        assert_eq!(client_addr(&[proxy], &p), IpAddr::from([198, 51, 100, 7]));
        let p = parts([203, 0, 113, 9], &["198.51.100.7"]);
        assert_eq!(client_addr(&[proxy], &p), IpAddr::from([203, 0, 113, 9]));
        let p = parts([10, 0, 0, 1], &["1.2.3.4", "garbage, 198.51.100.8"]);
        assert_eq!(client_addr(&[proxy], &p), IpAddr::from([198, 51, 100, 8]));
        let p = parts([10, 0, 0, 1], &[]);
        assert_eq!(client_addr(&[proxy], &p), proxy);
    }

    #[test]
    fn ipv4_mapped_peers_are_their_ipv4_address() {
        let mut p = parts([0, 0, 0, 0], &["::ffff:198.51.100.7"]);
        let mapped: std::net::Ipv6Addr = "::ffff:10.0.0.1".parse().unwrap();
        p.extensions
            .insert(ConnectInfo(SocketAddr::from((mapped, 1234))));
        let proxy = IpAddr::from([10, 0, 0, 1]);
        assert_eq!(peer_addr(&p), proxy);
        assert_eq!(client_addr(&[proxy], &p), IpAddr::from([198, 51, 100, 7]));
    }
}
