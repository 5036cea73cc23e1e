//! Verification keys: a JWKS document from a file or URL, cached and refreshed without ever making a
//! request with a known `kid` wait on the identity provider.
//!
//! * Known `kid`: answered from the cache at once. When the cache is older than `ttl`, one refresh is
//!   started in the background (single flight; after a failed attempt, the next waits `cooldown`).
//! * Unknown `kid`: one fetch per `cooldown` at most, shared by every request that needs it (they
//!   await it, bounded by the fetch timeout) — never one fetch per request, so junk `kid`s cannot
//!   hammer the source.
//! * URL sources go stale: when the last successful fetch is older than `max_stale`, keys are refused
//!   (the caller answers 503) instead of trusted forever; the next successful fetch clears it. File and
//!   inline sources are reloaded on the same rules but never go stale (the operator owns the file; an
//!   unreadable file keeps its last good keys).

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
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

/// Deadline of one JWKS fetch over HTTP; requests waiting for an unknown `kid` wait at most this (plus
/// a little).
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

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

/// Why no key was returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    /// No key for this `kid` (after a refetch, when one was allowed).
    Unknown,
    /// The keys are older than `max_stale`: refuse rather than trust them; retry after this many seconds.
    Stale { retry_after_s: u64 },
}

struct Cached {
    by_kid: HashMap<String, VerifyKey>,
    /// Keys published without a `kid`: usable only when they are the only key.
    anonymous: Vec<VerifyKey>,
    /// Last successful fetch.
    fetched_at: Option<Instant>,
    /// Last fetch started (successful or not): the cooldown counts from here.
    last_attempt: Option<Instant>,
}

#[derive(Clone)]
struct Options {
    allowed: Vec<Algorithm>,
    ttl: Duration,
    cooldown: Duration,
    /// `None`: never stale (file and inline sources).
    max_stale: Option<Duration>,
    /// Production: a document carrying the committed development JWT key is refused (issue 10 item 9).
    refuse_dev_keys: bool,
}

struct Inner {
    source: JwksSource,
    opts: Options,
    http: reqwest::Client,
    cache: RwLock<Cached>,
    /// A fetch is running (single flight).
    fetching: AtomicBool,
    /// Bumped when a fetch ends (whatever its outcome): waiters for an unknown `kid` watch it.
    done: tokio::sync::watch::Sender<u64>,
}

pub struct KeyStore {
    inner: Arc<Inner>,
}

/// Ends a fetch even if its task is cancelled or panics: clears the flag and wakes the waiters.
struct FetchGuard(Arc<Inner>);

impl Drop for FetchGuard {
    fn drop(&mut self) {
        self.0.fetching.store(false, Ordering::Release);
        self.0.done.send_modify(|n| *n = n.wrapping_add(1));
    }
}

impl KeyStore {
    pub fn new(source: JwksSource, allowed: Vec<Algorithm>, ttl: Duration, cooldown: Duration) -> Self {
        let max_stale = None;
        Self::build(source, Options { allowed, ttl, cooldown, max_stale, refuse_dev_keys: false })
    }

    fn build(source: JwksSource, opts: Options) -> Self {
        let http = reqwest::Client::builder().timeout(FETCH_TIMEOUT).build().unwrap_or_default();
        let cache =
            RwLock::new(Cached { by_kid: HashMap::new(), anonymous: Vec::new(), fetched_at: None, last_attempt: None });
        let (done, _) = tokio::sync::watch::channel(0);
        Self { inner: Arc::new(Inner { source, opts, http, cache, fetching: AtomicBool::new(false), done }) }
    }

    /// Refuses (at start-up, and on every refetch) a JWKS that publishes the committed development
    /// key, recognised by its modulus whatever its `kid`: anyone with this repository can sign for it.
    pub fn refusing_dev_keys(self) -> Self {
        let opts = Options { refuse_dev_keys: true, ..self.inner.opts.clone() };
        Self::build(self.inner.source.clone(), opts)
    }

    /// Keys from a URL older than `max_stale` (since their last successful fetch) are refused. File
    /// and inline sources never go stale.
    pub fn with_max_stale(self, max_stale: Duration) -> Self {
        let max_stale = matches!(self.inner.source, JwksSource::Url(_)).then_some(max_stale);
        let opts = Options { max_stale, ..self.inner.opts.clone() };
        Self::build(self.inner.source.clone(), opts)
    }

    /// Loads the keys once (startup fails early on an unreadable source).
    pub async fn prime(&self) -> Result<usize, String> {
        self.inner.cache.write().last_attempt = Some(Instant::now());
        let (by_kid, anonymous) = self.inner.fetch().await?;
        let n = by_kid.len() + anonymous.len();
        self.inner.store(by_kid, anonymous);
        Ok(n)
    }

    /// The key for a token's `kid`. Never waits for a fetch when the `kid` is cached; an unknown `kid`
    /// waits for the one shared fetch, if a fetch is allowed (or already running).
    pub async fn key_for(&self, kid: Option<&str>) -> Result<VerifyKey, KeyError> {
        let inner = &self.inner;
        let (age, since_attempt) = {
            let c = inner.cache.read();
            (c.fetched_at.map(|t| t.elapsed()), c.last_attempt.map(|t| t.elapsed()))
        };
        let cooling = since_attempt.is_some_and(|d| d < inner.opts.cooldown);
        if age.is_none_or(|a| a > inner.opts.ttl) && !cooling {
            Inner::start_fetch(inner);
        }
        if let Some(max) = inner.opts.max_stale
            && age.is_none_or(|a| a > max)
        {
            let left = inner.opts.cooldown.saturating_sub(since_attempt.unwrap_or(Duration::ZERO));
            return Err(KeyError::Stale { retry_after_s: left.as_secs().max(1) });
        }
        if let Some(k) = inner.lookup(kid) {
            return Ok(k);
        }
        if kid.is_none() {
            return Err(KeyError::Unknown);
        }
        // An unknown kid (a rotation at the identity provider): share one fetch.
        let mut done = inner.done.subscribe();
        let running = inner.fetching.load(Ordering::Acquire);
        if !running {
            let cooling = inner.cache.read().last_attempt.is_some_and(|t| t.elapsed() < inner.opts.cooldown);
            if cooling {
                // A fetch may just have finished: its keys are in the cache.
                return inner.lookup(kid).ok_or(KeyError::Unknown);
            }
            Inner::start_fetch(inner);
        }
        // Bounded: the fetch itself is bounded by FETCH_TIMEOUT (a file read is quick).
        let _ = tokio::time::timeout(FETCH_TIMEOUT + Duration::from_secs(1), done.changed()).await;
        inner.lookup(kid).ok_or(KeyError::Unknown)
    }
}

impl Inner {
    fn lookup(&self, kid: Option<&str>) -> Option<VerifyKey> {
        let c = self.cache.read();
        match kid {
            Some(kid) => c.by_kid.get(kid).cloned(),
            None if c.by_kid.is_empty() && c.anonymous.len() == 1 => c.anonymous.first().cloned(),
            None if c.anonymous.is_empty() && c.by_kid.len() == 1 => c.by_kid.values().next().cloned(),
            None => None,
        }
    }

    fn store(&self, by_kid: HashMap<String, VerifyKey>, anonymous: Vec<VerifyKey>) {
        let mut c = self.cache.write();
        c.by_kid = by_kid;
        c.anonymous = anonymous;
        c.fetched_at = Some(Instant::now());
    }

    /// Starts a fetch in the background unless one is running. The task owns the fetch, so a client
    /// that goes away does not cancel it for the others waiting.
    fn start_fetch(this: &Arc<Self>) {
        if this.fetching.swap(true, Ordering::AcqRel) {
            return;
        }
        this.cache.write().last_attempt = Some(Instant::now());
        let guard = FetchGuard(this.clone());
        tokio::spawn(async move {
            let inner = &guard.0;
            match inner.fetch().await {
                Ok((by_kid, anonymous)) => inner.store(by_kid, anonymous),
                // Keep serving the last good keys (until they are older than max_stale).
                Err(e) => tracing::warn!(error = %e, "JWKS refetch failed"),
            }
            drop(guard);
        });
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
                let body = crate::capped_body::read_capped(res, MAX_JWKS_BYTES).await.map_err(|e| match e {
                    crate::capped_body::CappedError::TooLarge => {
                        format!("JWKS {u}: document larger than {MAX_JWKS_BYTES} bytes")
                    }
                    crate::capped_body::CappedError::Transport { .. } => format!("JWKS {u}: body not read"),
                })?;
                String::from_utf8(body).map_err(|_| format!("JWKS {u}: not UTF-8"))?
            }
        };
        if self.opts.refuse_dev_keys && publishes_dev_key(&text) {
            return Err("the JWKS publishes the committed development JWT key (refused in production)".into());
        }
        // An error page answered with 200 must not replace the keys with none.
        let is_jwks = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .is_some_and(|v| v.get("keys").is_some_and(serde_json::Value::is_array));
        if !is_jwks {
            return Err("the JWKS source answered something that is not a JWKS document".into());
        }
        Ok(parse_jwks(&text, &self.opts.allowed))
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
    async fn an_answer_that_is_not_a_jwks_document_is_a_failed_fetch_not_an_empty_key_set() {
        for body in [&b"<html>maintenance</html>"[..], br#"{"error":"down"}"#] {
            let e = store(serve(body.to_vec()).await).prime().await.unwrap_err();
            assert!(e.contains("not a JWKS document"), "{e}");
        }
        assert_eq!(store(serve(br#"{"keys":[]}"#.to_vec()).await).prime().await, Ok(0));
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
