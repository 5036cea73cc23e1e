//! Tokens already verified, keyed by the SHA-256 of the token: a client sends the same token with
//! many requests, and checking its RSA signature (RustCrypto's `rsa`, through `jsonwebtoken`) was
//! the largest single item of the gateway's CPU profile (29 % under load). An entry lives at most
//! `ttl` — so a key withdrawn from the JWKS, or a key set gone stale, stops being honoured within
//! it — and never past the token's own `exp` (plus the leeway every check allows).

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use parking_lot::RwLock;
use sha2::{Digest as _, Sha256};

use super::principal::Principal;

pub struct VerifiedCache {
    ttl: Duration,
    capacity: usize,
    entries: RwLock<HashMap<[u8; 32], (Principal, Instant)>>,
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl VerifiedCache {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self { ttl, capacity: capacity.max(1), entries: RwLock::new(HashMap::new()) }
    }

    /// The principal of `token` if it was verified within the TTL and has not expired by `now_unix`
    /// (Unix seconds, `leeway_s` allowed as in a full check).
    pub fn get(&self, token: &str, now_unix: i64, leeway_s: u64) -> Option<Principal> {
        let key = digest(token);
        let entries = self.entries.read();
        let (principal, until) = entries.get(&key)?;
        let leeway = i64::try_from(leeway_s).unwrap_or(i64::MAX);
        let live = principal.expires_at.is_some_and(|exp| exp.saturating_add(leeway) > now_unix);
        (live && Instant::now() < *until).then(|| principal.clone())
    }

    /// Remembers a token that passed every check.
    pub fn put(&self, token: &str, principal: &Principal) {
        let mut entries = self.entries.write();
        if entries.len() >= self.capacity {
            // Expired entries first; if every entry is live, start over (bounded, refills on use).
            let now = Instant::now();
            entries.retain(|_, (_, until)| *until > now);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(digest(token), (principal.clone(), Instant::now() + self.ttl));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.read().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{policy::ScopeSet, tenancy::TenantId};

    fn principal(exp: i64) -> Principal {
        Principal {
            tenant: TenantId::parse("acme").unwrap(),
            subject: "svc".into(),
            scopes: ScopeSet::default(),
            expires_at: Some(exp),
        }
    }

    #[test]
    fn a_cached_token_is_answered_until_its_exp_plus_leeway_and_never_past_the_ttl() {
        let c = VerifiedCache::new(Duration::from_secs(60), 10);
        c.put("tok", &principal(1_000));
        assert!(c.get("tok", 999, 0).is_some());
        assert!(c.get("tok", 1_000, 0).is_none(), "expired");
        assert!(c.get("tok", 1_020, 30).is_some(), "within the leeway");
        assert!(c.get("other", 999, 0).is_none(), "another token");
        let short = VerifiedCache::new(Duration::from_millis(30), 10);
        short.put("tok", &principal(i64::MAX));
        std::thread::sleep(Duration::from_millis(60));
        assert!(short.get("tok", 0, 0).is_none(), "past the TTL: verified again");
    }

    #[test]
    fn the_cache_stays_within_its_capacity() {
        let c = VerifiedCache::new(Duration::from_secs(60), 5);
        for i in 0..50 {
            c.put(&format!("tok{i}"), &principal(i64::MAX));
        }
        assert!(c.len() <= 5);
        assert!(c.get("tok49", 0, 0).is_some(), "the newest is kept");
    }
}
