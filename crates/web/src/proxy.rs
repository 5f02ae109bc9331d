//! Behind a reverse proxy. A request's client is the peer of its connection, unless that peer is
//! a proxy named in the settings (`--trusted-proxies`): then `Forwarded` (RFC 7239) or else
//! `X-Forwarded-For` is read from the right, past every trusted proxy, and the first address
//! that is not one is the client. Headers from any other peer are ignored, whatever they say.
//! A trusted proxy that says the browser came over https (`X-Forwarded-Proto: https` or
//! `proto=https`) has the cookies set in its answer marked Secure.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

use crate::AppState;

/// Who the request is from, as resolved once per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client {
    pub ip: IpAddr,
    /// The browser reached the proxy over https (only a trusted proxy can say so).
    pub https: bool,
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    proxies.iter().any(|n| n.contains(&ip))
}

/// One hop of `Forwarded`'s `for=` or of `X-Forwarded-For`: `1.2.3.4`, `1.2.3.4:5678`,
/// `"[2001:db8::1]:80"`, `2001:db8::1`. None for `unknown`, obfuscated names and garbage.
fn hop(s: &str) -> Option<IpAddr> {
    let s = s.trim().trim_matches('"');
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split(']').next()?.parse::<IpAddr>().ok().map(canonical);
    }
    s.parse::<SocketAddr>().ok().map(|a| canonical(a.ip()))
}

/// The hops a proxy chain reports, nearest last, and whether the first proxy said https.
/// `Forwarded` wins over the X-Forwarded-* headers when present. A hop that cannot be read
/// is kept as None: nothing to its left can be believed.
fn reported(h: &HeaderMap) -> (Vec<Option<IpAddr>>, bool) {
    let all = |name: &str| -> Vec<String> {
        h.get_all(name).iter().filter_map(|v| v.to_str().ok()).map(str::to_string).collect()
    };
    let forwarded = all("forwarded");
    if !forwarded.is_empty() {
        let mut hops = Vec::new();
        let mut https = false;
        for element in forwarded.iter().flat_map(|v| v.split(',')) {
            let mut hop_for = None;
            for pair in element.split(';') {
                match pair.split_once('=') {
                    Some((k, v)) if k.trim().eq_ignore_ascii_case("for") => hop_for = Some(hop(v)),
                    Some((k, v)) if k.trim().eq_ignore_ascii_case("proto") => {
                        https = v.trim().trim_matches('"').eq_ignore_ascii_case("https")
                    }
                    _ => {}
                }
            }
            hops.push(hop_for.flatten());
        }
        return (hops, https);
    }
    let hops = all("x-forwarded-for").iter().flat_map(|v| v.split(',').map(hop).collect::<Vec<_>>()).collect();
    let proto = all("x-forwarded-proto");
    let https =
        proto.last().and_then(|p| p.split(',').next_back()).is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    (hops, https)
}

/// The client of a request whose connection came from `peer`.
pub fn resolve(peer: IpAddr, h: &HeaderMap, proxies: &[IpNet]) -> Client {
    let peer = canonical(peer);
    if !trusted(peer, proxies) {
        return Client { ip: peer, https: false };
    }
    let (hops, https) = reported(h);
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop {
            Some(ip) => {
                client = *ip;
                if !trusted(*ip, proxies) {
                    break;
                }
            }
            // An unreadable hop: the last proxy we trust handed it on; stop at that proxy.
            None => break,
        }
    }
    Client { ip: client, https }
}

/// Resolve the client once per request, for the audit trail and the login throttle
/// (`auth::client_address`), and mark cookies Secure behind an https proxy.
pub async fn resolve_client(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let client = peer.map(|p| resolve(p, req.headers(), &st.config.trusted_proxies));
    if let Some(c) = client {
        req.extensions_mut().insert(c);
    }
    let mut resp = next.run(req).await;
    if client.is_some_and(|c| c.https) && !st.config.secure_cookies {
        let cookies: Vec<HeaderValue> = resp.headers_mut().get_all(header::SET_COOKIE).iter().cloned().collect();
        resp.headers_mut().remove(header::SET_COOKIE);
        for c in cookies {
            let secure = c.to_str().is_ok_and(|s| s.to_ascii_lowercase().contains("; secure"));
            let value = if secure {
                c
            } else {
                let mut bytes = c.as_bytes().to_vec();
                bytes.extend_from_slice(b"; Secure");
                HeaderValue::from_bytes(&bytes).unwrap_or(c)
            };
            resp.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(s: &[&str]) -> Vec<IpNet> {
        s.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_trusted_proxies_are_believed_and_only_past_them() {
        let proxies = nets(&["10.0.0.0/24", "127.0.0.1/32"]);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let forged = headers(&[("x-forwarded-for", "6.6.6.6"), ("x-forwarded-proto", "https")]);
        assert_eq!(resolve(ip("203.0.113.9"), &forged, &proxies), Client { ip: ip("203.0.113.9"), https: false });
        // nginx appends the peer it saw: a client's own forged entry stays to the left.
        let chain = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.0.0.5")]);
        assert_eq!(resolve(ip("127.0.0.1"), &chain, &proxies).ip, ip("198.51.100.7"));
        let rfc = headers(&[("forwarded", r#"for=6.6.6.6, for="[2001:db8::7]:4711";proto=https"#)]);
        assert_eq!(resolve(ip("10.0.0.2"), &rfc, &proxies), Client { ip: ip("2001:db8::7"), https: true });
        let garbage = headers(&[("x-forwarded-for", "6.6.6.6, not-an-address")]);
        assert_eq!(resolve(ip("127.0.0.1"), &garbage, &proxies).ip, ip("127.0.0.1"));
        let mapped = headers(&[("x-forwarded-for", "::ffff:192.0.2.1")]);
        assert_eq!(resolve(ip("::ffff:127.0.0.1"), &mapped, &proxies).ip, ip("192.0.2.1"));
        assert_eq!(resolve(ip("127.0.0.1"), &HeaderMap::new(), &proxies).ip, ip("127.0.0.1"));
    }
}
