//! The optional source-IP allow-list of `POST /webhooks/merchant`: single addresses or CIDR blocks.

use std::net::IpAddr;

#[derive(Debug, Clone, Default)]
pub struct AllowList {
    nets: Vec<(IpAddr, u8)>,
}

impl AllowList {
    /// Parses `["203.0.113.7", "198.51.100.0/24", "2001:db8::/32"]`; empty = everyone.
    pub fn parse(entries: &[String]) -> anyhow::Result<Self> {
        let mut nets = Vec::new();
        for e in entries {
            let (ip, len) = match e.trim().split_once('/') {
                Some((ip, len)) => (ip, Some(len)),
                None => (e.trim(), None),
            };
            let ip: IpAddr = ip.parse().map_err(|_| anyhow::anyhow!("{e:?} is not an IP address or CIDR block"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let len = match len {
                None => max,
                Some(l) => l
                    .parse::<u8>()
                    .ok()
                    .filter(|l| *l <= max)
                    .ok_or_else(|| anyhow::anyhow!("{e:?} has a bad prefix length"))?,
            };
            nets.push((ip, len));
        }
        Ok(Self { nets })
    }

    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    pub fn allows(&self, ip: IpAddr) -> bool {
        self.nets.is_empty() || self.contains(ip)
    }

    /// Whether `ip` is in one of the listed networks (an empty list contains nothing).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.nets.iter().any(|(net, len)| contains(*net, *len, ip))
    }

    /// The client's address: the peer, unless the peer is a trusted proxy (`self`); then the
    /// rightmost `X-Forwarded-For` entry that is not a trusted proxy. Entries left of an untrusted
    /// hop are the client's own claims and are never believed.
    pub fn client_ip(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let Some(chain) = forwarded_for else { return peer };
        let mut client = peer;
        // At most 32 hops are looked at: the header is caller-controlled.
        for hop in chain.rsplit(',').take(32) {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) => {
                    client = ip;
                    if !self.contains(ip) {
                        return ip;
                    }
                }
                Err(_) => return client,
            }
        }
        client
    }
}

fn contains(net: IpAddr, len: u8, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len)) };
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let mask = if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len)) };
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_cidr_blocks_match_and_empty_allows_all() {
        let l = AllowList::parse(&["203.0.113.7".into(), "198.51.100.0/24".into(), "2001:db8::/32".into()]).unwrap();
        assert!(l.allows("203.0.113.7".parse().unwrap()));
        assert!(!l.allows("203.0.113.8".parse().unwrap()));
        assert!(l.allows("198.51.100.200".parse().unwrap()));
        assert!(l.allows("::ffff:198.51.100.1".parse().unwrap()), "IPv4-mapped peers");
        assert!(l.allows("2001:db8::1".parse().unwrap()));
        assert!(!l.allows("127.0.0.1".parse().unwrap()));
        assert!(AllowList::default().allows("127.0.0.1".parse().unwrap()));
        assert!(AllowList::parse(&["10.0.0.0/33".into()]).is_err());
        assert!(AllowList::parse(&["nope".into()]).is_err());
    }

    fn list(e: &[&str]) -> AllowList {
        AllowList::parse(&e.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxies = list(&["10.0.0.0/8"]);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // Direct caller: the header is ignored.
        assert_eq!(proxies.client_ip(ip("203.0.113.9"), Some("198.51.100.1")), ip("203.0.113.9"));
        // Through the ingress: the hop before it.
        assert_eq!(proxies.client_ip(ip("10.1.2.3"), Some("198.51.100.1")), ip("198.51.100.1"));
        // A spoofed left part is never reached: the rightmost untrusted hop wins.
        assert_eq!(proxies.client_ip(ip("10.1.2.3"), Some("1.2.3.4, 198.51.100.1, 10.9.9.9")), ip("198.51.100.1"));
        // Garbage stops the walk at the last good hop.
        assert_eq!(proxies.client_ip(ip("10.1.2.3"), Some("nonsense")), ip("10.1.2.3"));
        // No trusted proxies: always the peer.
        assert_eq!(list(&[]).client_ip(ip("10.1.2.3"), Some("198.51.100.1")), ip("10.1.2.3"));
    }
}
