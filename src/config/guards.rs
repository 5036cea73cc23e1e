//! Misconfiguration guards beyond the basic cross-field checks (issue 10 items 8–10): secrets are
//! checked by their resolved contents, bounded knobs stay bounded, and a real upstream never runs
//! with development authentication unless an operator explicitly says so.

use super::{Settings, resolve_text, upstream::UpstreamMode};
use crate::sensitive::Reveal;

/// Shortest accepted HMAC secret (bytes, after `file:` resolution).
pub const MIN_SECRET_BYTES: usize = 32;
/// Largest clock-skew leeway on `exp`/`nbf` (seconds).
pub const MAX_LEEWAY_S: u64 = 300;

/// Problems with `s`, each naming the key; empty when none.
pub fn problems(s: &Settings) -> Vec<String> {
    let mut p = Vec::new();
    for (key, value) in [
        ("auth.hs256_secret", s.auth.hs256_secret.expose()),
        ("tenancy.secret", s.tenancy.secret.expose()),
        ("idempotency.fingerprint_secret", s.idempotency.fingerprint_secret.expose()),
    ] {
        match resolve_text(value) {
            Ok(Some(secret)) if secret.trim().len() < MIN_SECRET_BYTES => {
                p.push(format!("{key} must be at least {MIN_SECRET_BYTES} bytes"));
            }
            Ok(_) => {}
            Err(e) => p.push(format!("{key}: {e}")),
        }
    }
    if s.auth.leeway_s > MAX_LEEWAY_S {
        p.push(format!("auth.leeway_s ({}) must be at most {MAX_LEEWAY_S}", s.auth.leeway_s));
    }
    // A renewal is sent every lease/3 and may take the whole Redis deadline: it must land before
    // the lease it renews runs out, or a slow request lets a duplicate through. Production only: the
    // test suites deliberately run leases shorter than a generous Redis deadline.
    let lease = s.idempotency.lease_ms;
    if s.is_production() && lease >= 300 && lease / 3 + s.redis.timeout_ms >= lease {
        p.push(format!(
            "idempotency.lease_ms ({lease}) must exceed lease/3 + redis.timeout_ms ({}) so a renewal lands in time",
            s.redis.timeout_ms
        ));
    }
    if !s.is_production() && real_upstream(s) && !s.upstream.real_upstream_in_development {
        p.push(format!(
            "upstream.base_url {:?} is not a loopback simulator, but environment = \"development\" keeps the \
             development JWKS and all-scope development tokens on: set environment = \"production\" (or \
             upstream.real_upstream_in_development = true for a deliberate test set-up)",
            host_of(&s.upstream.base_url).unwrap_or_default()
        ));
    }
    // Development tokens are refused in production, so there their lifetime does not matter (and an
    // operator lowering max_token_lifetime_s need not touch it).
    match super::auth::parse_ttl(&s.auth.dev_token_ttl) {
        _ if s.is_production() => {}
        None => p.push(format!("auth.dev_token_ttl {:?} must look like 12h, 30m, 45s or 2d", s.auth.dev_token_ttl)),
        // The printed development tokens would be refused by the gateway that printed them.
        Some(ttl) if ttl > s.auth.max_token_lifetime_s => p.push(format!(
            "auth.dev_token_ttl ({ttl} s) must be at most auth.max_token_lifetime_s ({})",
            s.auth.max_token_lifetime_s
        )),
        Some(_) => {}
    }
    // Keys must get a chance to be refreshed (after jwks_cache_s) before they count as stale.
    if s.auth.jwks_max_stale_s <= s.auth.jwks_cache_s {
        p.push(format!(
            "auth.jwks_max_stale_s ({}) must be greater than auth.jwks_cache_s ({})",
            s.auth.jwks_max_stale_s, s.auth.jwks_cache_s
        ));
    }
    if s.auth.max_token_lifetime_s == 0 {
        p.push("auth.max_token_lifetime_s must be at least 1".into());
    }
    if s.is_production() && !s.auth.jwks_url.is_empty() && !s.auth.jwks_url.starts_with("https://") {
        p.push("auth.jwks_url must be https:// in production".into());
    }
    p
}

/// An HTTP upstream whose host is not a loopback address or `localhost`.
fn real_upstream(s: &Settings) -> bool {
    s.upstream.mode == UpstreamMode::Http
        && host_of(&s.upstream.base_url).is_none_or(|h| {
            let h = h.trim_start_matches('[').trim_end_matches(']');
            !(h.eq_ignore_ascii_case("localhost") || h.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()))
        })
}

fn host_of(url: &str) -> Option<String> {
    reqwest::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sensitive::SecretString;

    fn defaults() -> Settings {
        Settings::defaults().unwrap()
    }

    fn err(s: &Settings) -> String {
        s.validate().map(|()| String::new()).unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn a_real_upstream_in_development_is_refused_without_the_explicit_override() {
        let mut s = defaults();
        s.upstream.mode = UpstreamMode::Http;
        s.upstream.base_url = "https://openapi.geo.sh.cn".into();
        assert!(err(&s).contains("real_upstream_in_development"), "{}", err(&s));
        s.upstream.real_upstream_in_development = true;
        assert_eq!(err(&s), "");
        s.upstream.real_upstream_in_development = false;
        for local in ["http://127.0.0.1:9090", "http://localhost:9090", "http://[::1]:9090"] {
            s.upstream.base_url = local.into();
            assert_eq!(err(&s), "", "{local} is a local simulator");
        }
    }

    #[test]
    fn secrets_are_checked_by_their_resolved_contents() {
        let dir = tempfile::tempdir().unwrap();
        let short = dir.path().join("short");
        std::fs::write(&short, "tiny").unwrap();
        let long = dir.path().join("long");
        std::fs::write(&long, "k".repeat(40)).unwrap();
        let mut s = defaults();
        // A long `file:` path naming a 4-byte secret used to pass the length check.
        s.auth.hs256_secret = SecretString::new(format!("file:{}", short.display()));
        s.tenancy.secret = SecretString::new("short");
        s.idempotency.fingerprint_secret = SecretString::new(format!("file:{}", short.display()));
        let e = err(&s);
        for key in ["auth.hs256_secret", "tenancy.secret", "idempotency.fingerprint_secret"] {
            assert!(e.contains(&format!("{key} must be at least 32 bytes")), "{key}: {e}");
        }
        s.auth.hs256_secret = SecretString::new(format!("file:{}", long.display()));
        s.tenancy.secret = SecretString::new("t".repeat(32));
        s.idempotency.fingerprint_secret = SecretString::new(format!("file:{}", long.display()));
        assert_eq!(err(&s), "");
    }

    #[test]
    fn leeway_and_lease_are_bounded() {
        let mut s = defaults();
        s.auth.leeway_s = 3600;
        assert!(err(&s).contains("auth.leeway_s"), "{}", err(&s));
        let mut s = defaults();
        s.idempotency.lease_ms = 400;
        s.redis.timeout_ms = 300;
        assert!(!err(&s).contains("so a renewal lands in time"), "development allows short test leases");
        s.environment = super::super::Environment::Production;
        assert!(err(&s).contains("so a renewal lands in time"), "{}", err(&s));
    }

    #[test]
    fn a_dev_token_ttl_longer_than_the_accepted_token_lifetime_is_refused() {
        let mut s = defaults();
        s.auth.dev_token_ttl = "2d".into();
        assert!(err(&s).contains("auth.dev_token_ttl (172800 s) must be at most auth.max_token_lifetime_s (86400)"));
        s.auth.max_token_lifetime_s = 172_800;
        assert_eq!(err(&s), "");
        s.auth.dev_token_ttl = "forever".into();
        assert!(err(&s).contains("auth.dev_token_ttl \"forever\""), "{}", err(&s));
        s.environment = super::super::Environment::Production;
        assert!(!err(&s).contains("auth.dev_token_ttl"), "production mints no development tokens: {}", err(&s));
    }

    #[test]
    fn jwks_keys_cannot_go_stale_before_they_are_due_for_a_refresh() {
        let mut s = defaults();
        s.auth.jwks_max_stale_s = s.auth.jwks_cache_s;
        assert!(err(&s).contains("auth.jwks_max_stale_s (300) must be greater than auth.jwks_cache_s (300)"));
        s.auth.jwks_max_stale_s = 301;
        assert_eq!(err(&s), "");
    }

    #[test]
    fn production_requires_an_https_jwks_url() {
        let mut s = defaults();
        s.environment = super::super::Environment::Production;
        s.auth.jwks_url = "http://idp.example/jwks".into();
        assert!(err(&s).contains("auth.jwks_url must be https://"), "{}", err(&s));
        s.auth.jwks_url = "https://idp.example/jwks".into();
        assert!(!err(&s).contains("auth.jwks_url"), "{}", err(&s));
    }
}
