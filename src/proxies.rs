//! The client's address behind reverse proxies (`http.trusted_proxies`). Rate limits, anonymous view counting and
//! IP-bound playback grants key on the client's address; behind nginx, a CDN or a load
//! balancer the TCP peer is the proxy, so every viewer would share one address. When the peer
//! is one of `http.trusted_proxies`, the address is read from `X-Forwarded-For` instead: walking
//! from the right (the hop nearest Kino), past every trusted proxy, the first address that is
//! not one is the client (the de facto header that RFC 7239 §5.2's `for=` standardises; the
//! rightmost-untrusted rule means a client cannot choose its address by sending the header).
//! Without trusted proxies (the default) the header is ignored.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The networks whose `X-Forwarded-For` is believed (`http.trusted_proxies`).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses addresses (`10.0.0.7`, `::1`) and networks (`10.0.0.0/8`).
    ///
    /// Errors: an entry that is neither, named in the message.
    pub fn parse(entries: &[String]) -> anyhow::Result<TrustedProxies> {
        entries
            .iter()
            .map(|e| {
                e.parse::<IpNet>()
                    .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| anyhow::anyhow!("http.trusted_proxies: {e:?} is not an IP address or network"))
            })
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    /// True when `ip` is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address for a request from `peer` with `headers` (see the module docs).
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            // An entry that is not an address ends the walk: what lies left of it was written
            // by someone we cannot vouch for, so the last trusted hop is the answer.
            let Some(ip) = parse_hop(hop) else { break };
            client = ip;
            if !self.contains(ip) {
                break;
            }
        }
        canonical(client)
    }
}

/// One `X-Forwarded-For` entry: `203.0.113.5`, `2001:db8::1`, or with a port as some proxies
/// write them (`203.0.113.5:4711`, `[2001:db8::1]:4711`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) as plain IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xff(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", v.parse().unwrap());
        h
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let p = TrustedProxies::parse(&["127.0.0.1".into(), "10.0.0.0/8".into()]).unwrap();
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        // A client-sent (spoofed) first entry is not believed: the nearest untrusted hop wins.
        assert_eq!(
            p.client_ip(proxy, &xff("6.6.6.6, 203.0.113.5, 10.1.2.3")),
            "203.0.113.5".parse::<IpAddr>().unwrap()
        );
        // No header: the proxy itself.
        assert_eq!(p.client_ip(proxy, &HeaderMap::new()), proxy);
        // An unparseable entry ends the walk at the last trusted hop: nothing left of it is
        // believed.
        assert_eq!(
            p.client_ip(proxy, &xff("nonsense, 198.51.100.7")),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(p.client_ip(proxy, &xff("6.6.6.6, garbage")), proxy);
        assert_eq!(
            p.client_ip(proxy, &xff("6.6.6.6, garbage, 10.0.0.9")),
            "10.0.0.9".parse::<IpAddr>().unwrap()
        );
        // Entries with ports.
        assert_eq!(
            p.client_ip(proxy, &xff("203.0.113.5:4711")),
            "203.0.113.5".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            p.client_ip(proxy, &xff("[2001:db8::1]:4711")),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
        // Not from a trusted proxy: the header is ignored.
        let stranger: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(p.client_ip(stranger, &xff("203.0.113.5")), stranger);
        // IPv4-mapped peers count as their IPv4 address.
        assert!(p.contains("::ffff:127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn bad_entries_are_named() {
        let e = TrustedProxies::parse(&["10.0.0.0/33".into()]).unwrap_err();
        assert!(e.to_string().contains("10.0.0.0/33"), "{e}");
        assert!(TrustedProxies::parse(&[]).unwrap().0.is_empty());
    }
}
