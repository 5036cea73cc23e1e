//! Verification keys: a JWKS document from a file or URL, cached, refetched when stale or when a
//! token names an unknown `kid` (at most once per cooldown, so junk `kid`s cannot hammer the source).

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use jsonwebtoken::{
    Algorithm, DecodingKey,
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm},
};
use parking_lot::RwLock;

/// Where the JWKS comes from.
#[derive(Debug, Clone)]
pub enum JwksSource {
    /// A document held in memory (the committed development JWKS, or tests).
    Inline(String),
    File(String),
    Url(String),
}

#[derive(Clone)]
pub struct VerifyKey {
    pub key: DecodingKey,
    pub alg: Algorithm,
}

struct Cached {
    by_kid: HashMap<String, VerifyKey>,
    /// Keys published without a `kid`: usable only when they are the only key.
    anonymous: Vec<VerifyKey>,
    fetched_at: Option<Instant>,
    last_attempt: Option<Instant>,
}

pub struct KeyStore {
    source: JwksSource,
    allowed: Vec<Algorithm>,
    ttl: Duration,
    cooldown: Duration,
    http: reqwest::Client,
    cache: RwLock<Cached>,
    refresh: tokio::sync::Mutex<()>,
}

impl KeyStore {
    pub fn new(source: JwksSource, allowed: Vec<Algorithm>, ttl: Duration, cooldown: Duration) -> Self {
        Self {
            source,
            allowed,
            ttl,
            cooldown,
            http: reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap_or_default(),
            cache: RwLock::new(Cached {
                by_kid: HashMap::new(),
                anonymous: Vec::new(),
                fetched_at: None,
                last_attempt: None,
            }),
            refresh: tokio::sync::Mutex::new(()),
        }
    }

    /// Loads the keys once (startup fails early on an unreadable source).
    pub async fn prime(&self) -> Result<usize, String> {
        let (by_kid, anonymous) = self.fetch().await?;
        let n = by_kid.len() + anonymous.len();
        let mut c = self.cache.write();
        c.by_kid = by_kid;
        c.anonymous = anonymous;
        c.fetched_at = Some(Instant::now());
        c.last_attempt = Some(Instant::now());
        Ok(n)
    }

    /// The key for a token's `kid`, refetching when stale or unknown (within the cooldown).
    pub async fn key_for(&self, kid: Option<&str>) -> Option<VerifyKey> {
        let stale = self.cache.read().fetched_at.is_none_or(|t| t.elapsed() > self.ttl);
        if stale {
            self.refetch().await;
        }
        if let Some(k) = self.lookup(kid) {
            return Some(k);
        }
        if kid.is_some() && self.refetch().await {
            return self.lookup(kid);
        }
        None
    }

    fn lookup(&self, kid: Option<&str>) -> Option<VerifyKey> {
        let c = self.cache.read();
        match kid {
            Some(kid) => c.by_kid.get(kid).cloned(),
            None if c.by_kid.is_empty() && c.anonymous.len() == 1 => c.anonymous.first().cloned(),
            None if c.anonymous.is_empty() && c.by_kid.len() == 1 => c.by_kid.values().next().cloned(),
            None => None,
        }
    }

    /// Refetches unless another refetch happened within the cooldown. Returns whether it fetched.
    async fn refetch(&self) -> bool {
        let _guard = self.refresh.lock().await;
        if self.cache.read().last_attempt.is_some_and(|t| t.elapsed() < self.cooldown) {
            return false;
        }
        self.cache.write().last_attempt = Some(Instant::now());
        match self.fetch().await {
            Ok((by_kid, anonymous)) => {
                let mut c = self.cache.write();
                c.by_kid = by_kid;
                c.anonymous = anonymous;
                c.fetched_at = Some(Instant::now());
                true
            }
            Err(e) => {
                // Keep serving the last good keys.
                tracing::warn!(error = %e, "JWKS refetch failed");
                false
            }
        }
    }

    async fn fetch(&self) -> Result<(HashMap<String, VerifyKey>, Vec<VerifyKey>), String> {
        let text = match &self.source {
            JwksSource::Inline(s) => s.clone(),
            JwksSource::File(p) => tokio::fs::read_to_string(p).await.map_err(|e| format!("JWKS file {p}: {e}"))?,
            JwksSource::Url(u) => {
                let res = self.http.get(u).send().await.map_err(|e| format!("JWKS {u}: {e}"))?;
                if !res.status().is_success() {
                    return Err(format!("JWKS {u}: HTTP {}", res.status()));
                }
                res.text().await.map_err(|e| format!("JWKS {u}: {e}"))?
            }
        };
        Ok(parse_jwks(&text, &self.allowed))
    }
}

/// Parses each key on its own (one unsupported key must not hide the others) and keeps only keys
/// whose algorithm is allowed. A key's algorithm comes from its `alg`, else from its type/curve.
pub fn parse_jwks(text: &str, allowed: &[Algorithm]) -> (HashMap<String, VerifyKey>, Vec<VerifyKey>) {
    let mut by_kid = HashMap::new();
    let mut anonymous = Vec::new();
    let keys = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("keys").and_then(|k| k.as_array()).cloned())
        .unwrap_or_default();
    for raw in keys {
        let Ok(jwk) = serde_json::from_value::<Jwk>(raw) else { continue };
        let Some(alg) = algorithm_of(&jwk) else { continue };
        if !allowed.contains(&alg) {
            continue;
        }
        let Ok(key) = DecodingKey::from_jwk(&jwk) else { continue };
        let vk = VerifyKey { key, alg };
        match jwk.common.key_id.clone() {
            Some(kid) => {
                by_kid.insert(kid, vk);
            }
            None => anonymous.push(vk),
        }
    }
    (by_kid, anonymous)
}

fn algorithm_of(jwk: &Jwk) -> Option<Algorithm> {
    if let Some(a) = &jwk.common.key_algorithm {
        return match a {
            KeyAlgorithm::RS256 => Some(Algorithm::RS256),
            KeyAlgorithm::RS384 => Some(Algorithm::RS384),
            KeyAlgorithm::RS512 => Some(Algorithm::RS512),
            KeyAlgorithm::PS256 => Some(Algorithm::PS256),
            KeyAlgorithm::ES256 => Some(Algorithm::ES256),
            KeyAlgorithm::ES384 => Some(Algorithm::ES384),
            KeyAlgorithm::EdDSA => Some(Algorithm::EdDSA),
            // Symmetric keys never come from a JWKS here: HS256 is only checked against hs256_secret.
            _ => None,
        };
    }
    match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Some(Algorithm::RS256),
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => Some(Algorithm::ES256),
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P384 => Some(Algorithm::ES384),
        AlgorithmParameters::OctetKeyPair(_) => Some(Algorithm::EdDSA),
        _ => None,
    }
}

pub fn parse_algorithm(name: &str) -> Option<Algorithm> {
    match name {
        "RS256" => Some(Algorithm::RS256),
        "RS384" => Some(Algorithm::RS384),
        "RS512" => Some(Algorithm::RS512),
        "PS256" => Some(Algorithm::PS256),
        "ES256" => Some(Algorithm::ES256),
        "ES384" => Some(Algorithm::ES384),
        "EdDSA" => Some(Algorithm::EdDSA),
        _ => None,
    }
}
