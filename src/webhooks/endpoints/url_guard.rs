//! Endpoint URLs must not turn the gateway into a proxy into its own network (SSRF): https only, no
//! credentials in the URL, and no private, loopback, link-local or otherwise non-public targets —
//! checked on the URL when it is saved and again on every address DNS returns at delivery time
//! (a public name may resolve to a private address). `webhooks.allow_private_targets` (development,
//! tests) lifts both checks.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use reqwest::{
    Url,
    dns::{Addrs, Name, Resolve, Resolving},
};

const MAX_URL_LEN: usize = 2048;

/// Checks an endpoint URL; the error says what is wrong (never echoing the URL).
pub fn check_url(raw: &str, allow_private: bool) -> Result<Url, &'static str> {
    let url = check_target(raw, allow_private)?;
    // Last, so the specific refusals above keep their messages: the shape the OpenAPI document states
    // (a host name, no userinfo, visible characters), checked with the document's own pattern; in
    // development the looser shape (IPv4 literals, `http://`).
    use crate::http::rules::{ENDPOINT_URL, ENDPOINT_URL_PRIVATE};
    if allow_private {
        let shape = raw.strip_prefix("http://").map_or_else(|| raw.to_owned(), |rest| format!("https://{rest}"));
        if !ENDPOINT_URL_PRIVATE.matches(&shape) {
            return Err("must be an http(s) URL with a host name or IPv4 address, an optional port and path");
        }
    } else if !ENDPOINT_URL.matches(raw) {
        return Err("must be an https URL with a public host name (not an IP address), an optional port and path");
    }
    Ok(url)
}

fn check_target(raw: &str, allow_private: bool) -> Result<Url, &'static str> {
    if raw.len() > MAX_URL_LEN {
        return Err("must be at most 2048 characters");
    }
    let url = Url::parse(raw.trim()).map_err(|_| "must be an absolute URL")?;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        _ => return Err("must use https"),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials");
    }
    if url.fragment().is_some() {
        return Err("must not contain a fragment");
    }
    let Some(host) = url.host_str().filter(|h| !h.is_empty()) else { return Err("must name a host") };
    if allow_private {
        return Ok(url);
    }
    match host_ip(host) {
        Some(ip) if forbidden(ip) => Err("must not target a private, loopback or link-local address"),
        Some(_) => Ok(url),
        // A public address literal is refused by the documented shape (`check_url`): no certificate.
        None if internal_name(host) => Err("must not target a local or internal host name"),
        None => Ok(url),
    }
}

/// The address of an IP-literal host (`[::1]` included).
fn host_ip(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[').trim_end_matches(']').parse().ok()
}

fn internal_name(d: &str) -> bool {
    let d = d.trim_end_matches('.').to_ascii_lowercase();
    d == "localhost"
        || crate::http::rules::INTERNAL_TLDS.iter().any(|tld| d.rsplit('.').next() == Some(tld))
        || !d.contains('.')
}

/// Addresses a tenant's endpoint may never reach.
pub fn forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated, still routed internally)
                || s[0] == 0x2002 // 6to4 2002::/16: embeds an IPv4 address, which may be private
                || (s[0] == 0x2001 && s[1] == 0x0000) // Teredo 2001::/32: tunnels to an embedded IPv4
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64: could reach anything
                || s[0] == 0 // IPv4-compatible and other reserved low ranges
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // shared address space 100.64/10
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking 198.18/15
        || o[0] >= 240 // reserved
}

/// A DNS resolver for outbound deliveries that drops forbidden addresses (and fails when none is left).
#[derive(Debug, Clone, Copy)]
pub struct PublicOnlyResolver;

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = addrs.into_iter().filter(|a| !forbidden(a.ip())).collect();
            if public.is_empty() {
                return Err("the endpoint's host resolves only to non-public addresses".into());
            }
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

/// For IP-literal URLs, which bypass the resolver.
pub fn url_target_allowed(url: &Url, allow_private: bool) -> bool {
    if allow_private {
        return true;
    }
    match url.host_str() {
        Some(h) => host_ip(h).is_none_or(|ip| !forbidden(ip)),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_https_urls_pass_in_production_mode() {
        assert!(check_url("https://hooks.example.com/cg", false).is_ok());
        for (bad, why) in [
            ("http://hooks.example.com/", "must use https"),
            ("ftp://hooks.example.com/", "must use https"),
            ("https://user:pw@hooks.example.com/", "must not contain credentials"),
            ("https://127.0.0.1/x", "must not target a private, loopback or link-local address"),
            ("https://10.1.2.3/", "must not target a private, loopback or link-local address"),
            ("https://169.254.169.254/latest/meta-data", "must not target a private, loopback or link-local address"),
            ("https://[::1]/", "must not target a private, loopback or link-local address"),
            ("https://[fe80::1]/", "must not target a private, loopback or link-local address"),
            ("https://[::ffff:192.168.0.1]/", "must not target a private, loopback or link-local address"),
            ("https://100.64.0.1/", "must not target a private, loopback or link-local address"),
            ("https://localhost/", "must not target a local or internal host name"),
            ("https://metadata.google.internal/", "must not target a local or internal host name"),
            ("https://intranet/", "must not target a local or internal host name"),
            ("not a url", "must be an absolute URL"),
        ] {
            assert_eq!(check_url(bad, false).err(), Some(why), "{bad}");
        }
    }

    #[test]
    fn six_to_four_teredo_and_site_local_addresses_are_refused() {
        for bad in ["2002:7f00:1::1", "2002:a00:1::", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "fec0::1", "feff::1"] {
            assert!(forbidden(bad.parse().unwrap()), "{bad}");
            assert!(check_url(&format!("https://[{bad}]/hook"), false).is_err(), "{bad}");
        }
        // Neighbours of those ranges stay public.
        for ok in ["2001:4860:4860::8888", "2003::1", "2606:4700::1111"] {
            assert!(!forbidden(ok.parse().unwrap()), "{ok}");
        }
    }

    #[test]
    fn development_mode_allows_http_and_loopback() {
        assert!(check_url("http://127.0.0.1:9999/hook", true).is_ok());
        assert!(check_url("https://hooks.example.com/a?b=c", false).is_ok());
        assert!(check_url("http://127.0.0.1:65535/hook", true).is_ok());
        assert!(check_url("http://127.0.0.1:65536/hook", true).is_err());
        assert!(check_url("https://[2606:4700::1]/hook", false).is_err(), "the documented shape names no IPv6 literal");
        assert!(check_url("https://user:pw@127.0.0.1/", true).is_err(), "credentials never");
    }

    #[tokio::test]
    async fn the_delivery_resolver_refuses_names_that_resolve_to_loopback() {
        let name: Name = "localhost".parse().unwrap();
        assert!(PublicOnlyResolver.resolve(name).await.is_err());
    }

    /// Runs `check` on URLs generated from `rule`'s pattern (anchors off), so pattern and guard cannot drift.
    fn every_url_of(rule: &crate::http::rules::Rule, allow_private: bool) {
        use proptest::{strategy::Strategy as _, test_runner::TestRunner};
        let p = &rule.pattern;
        let shape = proptest::string::string_regex(&p[1..p.len() - 1]).unwrap();
        let strategy = shape.prop_filter("the documented length", |s| (8..=2048).contains(&s.len()));
        TestRunner::default()
            .run(&strategy, |s| {
                let checked = check_url(&s, allow_private);
                proptest::prop_assert!(checked.is_ok(), "{:?}: {:?}", s, checked.err());
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn every_url_of_the_documented_shape_is_accepted_in_production() {
        every_url_of(&crate::http::rules::ENDPOINT_URL, false);
    }

    #[test]
    fn every_url_of_the_development_shape_is_accepted_in_development() {
        every_url_of(&crate::http::rules::ENDPOINT_URL_PRIVATE, true);
        every_url_of(&crate::http::rules::ENDPOINT_URL, true);
    }

    #[test]
    fn production_refuses_public_ip_literals_and_internal_top_level_labels() {
        for (bad, why) in [
            (
                "https://93.184.216.34/hook",
                "must be an https URL with a public host name (not an IP address), an optional port and path",
            ),
            ("https://printer.lan/", "must not target a local or internal host name"),
            ("https://router.home.arpa/", "must not target a local or internal host name"),
            ("https://1.in-addr.arpa/", "must not target a local or internal host name"),
            (
                "https://hooks.example.c0m/",
                "must be an https URL with a public host name (not an IP address), an optional port and path",
            ),
        ] {
            assert_eq!(check_url(bad, false).err(), Some(why), "{bad}");
        }
        assert!(check_url("https://93.184.216.34/hook", true).is_ok(), "development takes address literals");
    }
}
