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

/// Largest JWKS document read from `auth.jwks_url` (a key set is a few KiB; a larger answer is an
/// identity-provider fault, never buffered whole).
pub const MAX_JWKS_BYTES: usize = 1024 * 1024;

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
    /// Production: a document carrying the committed development JWT key is refused (issue 10 item 9).
    refuse_dev_keys: bool,
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
            refuse_dev_keys: false,
        }
    }

    /// Refuses (at start-up, and on every refetch) a JWKS that publishes the committed development
    /// key, recognised by its modulus whatever its `kid`: anyone with this repository can sign for it.
    pub fn refusing_dev_keys(mut self) -> Self {
        self.refuse_dev_keys = true;
        self
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
                let body = crate::http::capped_body::read_capped(res, MAX_JWKS_BYTES).await.map_err(|e| match e {
                    crate::http::capped_body::CappedError::TooLarge => {
                        format!("JWKS {u}: document larger than {MAX_JWKS_BYTES} bytes")
                    }
                    crate::http::capped_body::CappedError::Transport { .. } => format!("JWKS {u}: body not read"),
                })?;
                String::from_utf8(body).map_err(|_| format!("JWKS {u}: not UTF-8"))?
            }
        };
        if self.refuse_dev_keys && publishes_dev_key(&text) {
            return Err("the JWKS publishes the committed development JWT key (refused in production)".into());
        }
        Ok(parse_jwks(&text, &self.allowed))
    }
}

/// Whether `text` (a JWKS) contains a key of the committed development JWKS (same RSA modulus).
pub fn publishes_dev_key(text: &str) -> bool {
    fn moduli(text: &str) -> Vec<String> {
        serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|v| v.get("keys").and_then(|k| k.as_array()).cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|k| k.get("n").and_then(|n| n.as_str()).map(str::to_owned))
            .collect()
    }
    let dev = moduli(crate::dev_keys::JWKS_JSON);
    moduli(text).iter().any(|n| dev.contains(n))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Serves `body` once per connection as an HTTP/1.1 answer on a loopback port.
    async fn serve(body: Vec<u8>) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let body = body.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = sock.read(&mut buf).await;
                    // No Content-Length: the cap must hold on an undeclared length too.
                    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n";
                    let _ = sock.write_all(head.as_bytes()).await;
                    let _ = sock.write_all(&body).await;
                });
            }
        });
        format!("http://{addr}/jwks.json")
    }

    fn store(url: String) -> KeyStore {
        KeyStore::new(JwksSource::Url(url), vec![Algorithm::RS256], Duration::from_secs(60), Duration::from_secs(1))
    }

    #[tokio::test]
    async fn a_jwks_with_the_committed_development_key_is_refused_when_asked_whatever_its_kid() {
        let renamed = crate::dev_keys::JWKS_JSON.replace("dev-fe316a07197c9dba", "prod-2026");
        let inline = |text: &str| {
            KeyStore::new(JwksSource::Inline(text.to_owned()), vec![Algorithm::RS256], Duration::ZERO, Duration::ZERO)
        };
        let e = inline(&renamed).refusing_dev_keys().prime().await.unwrap_err();
        assert!(e.contains("development JWT key"), "{e}");
        assert!(inline(&renamed).prime().await.is_ok(), "development keeps the development JWKS");
        assert!(!publishes_dev_key(r#"{"keys":[{"kty":"RSA","n":"other","e":"AQAB"}]}"#));
    }

    #[tokio::test]
    async fn a_jwks_document_larger_than_the_cap_is_refused_not_buffered() {
        let url = serve(crate::dev_keys::JWKS_JSON.as_bytes().to_vec()).await;
        assert!(store(url).prime().await.unwrap() >= 1, "control: the development JWKS loads over HTTP");
        let mut huge = br#"{"keys":[],"pad":""#.to_vec();
        huge.resize(MAX_JWKS_BYTES + 10, b'a');
        huge.extend_from_slice(br#""}"#);
        let e = store(serve(huge).await).prime().await.unwrap_err();
        assert!(e.contains("larger than"), "{e}");
    }
}
