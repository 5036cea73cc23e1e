//! JWKS refresh (issue 10 item 8), against a local JWKS server the tests can stall, fail and count:
//! a token whose `kid` is cached never waits on the identity provider; tokens with an unknown `kid`
//! share one fetch; keys not refreshed for `auth.jwks_max_stale_s` are refused with 503 instead of
//! trusted forever, until a refetch succeeds.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use card_gateway::{auth::Scope, config::Settings, dev_keys, sensitive::SecretString};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode, get_current_timestamp};
use parking_lot::Mutex;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::{
    common::{TestApp, spawn_with},
    support::{assert_problem, eventually},
};

#[derive(Clone, Copy)]
enum Mode {
    Serve,
    /// Holds every request this long before answering.
    Stall(Duration),
    /// Answers 500.
    Fail,
}

/// A JWKS server on 127.0.0.1:0 that counts the requests it gets.
struct JwksServer {
    url: String,
    hits: Arc<AtomicUsize>,
    /// The most requests it was answering at once.
    max_in_flight: Arc<AtomicUsize>,
    mode: Arc<Mutex<Mode>>,
    body: Arc<Mutex<String>>,
    task: tokio::task::JoinHandle<()>,
}

impl JwksServer {
    async fn start(body: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        let hits = Arc::new(AtomicUsize::new(0));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let mode = Arc::new(Mutex::new(Mode::Serve));
        let body = Arc::new(Mutex::new(body));
        let (h, m, b, mx) = (hits.clone(), mode.clone(), body.clone(), max_in_flight.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let (h, m, b, mx, inf) = (h.clone(), m.clone(), b.clone(), mx.clone(), in_flight.clone());
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    if sock.read(&mut buf).await.unwrap_or(0) == 0 {
                        return;
                    }
                    h.fetch_add(1, Ordering::SeqCst);
                    let now = inf.fetch_add(1, Ordering::SeqCst) + 1;
                    mx.fetch_max(now, Ordering::SeqCst);
                    let mode = *m.lock();
                    let (status, text) = match mode {
                        Mode::Fail => ("500 Internal Server Error", "{\"error\":\"down\"}".to_owned()),
                        Mode::Stall(d) => {
                            tokio::time::sleep(d).await;
                            ("200 OK", b.lock().clone())
                        }
                        Mode::Serve => ("200 OK", b.lock().clone()),
                    };
                    let head = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        text.len()
                    );
                    let _ = sock.write_all(head.as_bytes()).await;
                    let _ = sock.write_all(text.as_bytes()).await;
                    inf.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Self { url, hits, max_in_flight, mode, body, task }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock() = mode;
    }

    fn publish(&self, body: String) {
        *self.body.lock() = body;
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A new RSA signing key and the committed development JWKS with its public half added as `kid`.
fn rotated_key(kid: &str) -> (Vec<u8>, String) {
    let rsa = openssl::rsa::Rsa::generate(2048).unwrap();
    let pem = rsa.private_key_to_pem().unwrap();
    let mut jwks: Value = serde_json::from_str(dev_keys::JWKS_JSON).unwrap();
    jwks["keys"].as_array_mut().unwrap().push(json!({
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
        "n": URL_SAFE_NO_PAD.encode(rsa.n().to_vec()), "e": URL_SAFE_NO_PAD.encode(rsa.e().to_vec()),
    }));
    (pem, jwks.to_string())
}

fn signed(s: &Settings, pem: &[u8], kid: &str, tenant: &str) -> String {
    let now = get_current_timestamp();
    let claims = json!({
        "iss": s.auth.issuer, "aud": s.auth.audience, "sub": format!("svc:{tenant}"),
        s.auth.tenant_claim.clone(): tenant, s.auth.scope_claim.clone(): "cards:read",
        "iat": now, "nbf": now, "exp": now + 600,
    });
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    encode(&header, &claims, &EncodingKey::from_rsa_pem(pem).unwrap()).unwrap()
}

async fn gateway(jwks: &JwksServer, cache_s: u64, cooldown_s: u64, max_stale_s: u64) -> TestApp {
    let url = jwks.url.clone();
    spawn_with(move |s| {
        s.auth.jwks_url = url;
        s.auth.jwks_cache_s = cache_s;
        s.auth.jwks_refetch_cooldown_s = cooldown_s;
        s.auth.jwks_max_stale_s = max_stale_s;
        // These tests are about the key set: every request must reach it, not the verified-token cache.
        s.auth.verified_cache_s = 0;
        s.auth.hs256_secret = SecretString::new("service-to-service-secret-0123456789abcdef");
    })
    .await
}

/// `n` concurrent `GET /v1/cards` with `token`; each answer's status and how long it took.
async fn concurrently(app: &TestApp, token: &str, n: usize) -> Vec<(StatusCode, Duration)> {
    let calls = (0..n).map(|_| async {
        let t0 = Instant::now();
        let r = app.get("/v1/cards", token).await;
        (r.status, t0.elapsed())
    });
    futures_util::future::join_all(calls).await
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_with_a_cached_kid_answer_promptly_while_the_jwks_server_stalls() {
    let jwks = JwksServer::start(dev_keys::JWKS_JSON.to_owned()).await;
    let app = gateway(&jwks, 1, 1, 3600).await;
    assert_eq!(jwks.hits(), 1, "start-up loads the keys once");
    jwks.set(Mode::Stall(Duration::from_secs(30)));
    // The cache is now older than jwks_cache_s: a refresh is due, and the identity provider hangs.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let token = app.token("acme", &[Scope::CardsRead]);
    for round in 0..3 {
        for (status, took) in concurrently(&app, &token, 10).await {
            assert_eq!(status, StatusCode::OK, "round {round}");
            assert!(took < Duration::from_secs(2), "round {round}: a cached kid waited {took:?} for the JWKS");
        }
    }
    // 30 requests with a stale cache started one background refresh, not one each (a second may
    // follow only once the first timed out and the cooldown passed, on a very slow machine).
    assert!((2..=3).contains(&jwks.hits()), "{} JWKS requests for 30 token checks", jwks.hits());
    assert_eq!(jwks.max_in_flight(), 1, "one refresh in flight at most");
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_tokens_with_an_unknown_kid_share_one_jwks_fetch() {
    let jwks = JwksServer::start(dev_keys::JWKS_JSON.to_owned()).await;
    let app = gateway(&jwks, 300, 3, 3600).await;
    assert_eq!(jwks.hits(), 1);
    // The identity provider rotates to a new key; tokens signed with it arrive all at once.
    let (pem, rotated) = rotated_key("rotated-1");
    jwks.publish(rotated);
    jwks.set(Mode::Stall(Duration::from_millis(500)));
    tokio::time::sleep(Duration::from_millis(3100)).await; // past the cooldown of the start-up fetch
    let token = signed(&app.settings, &pem, "rotated-1", "acme");
    for (status, took) in concurrently(&app, &token, 20).await {
        assert_eq!(status, StatusCode::OK, "a token under the new kid, after the shared fetch");
        assert!(took < Duration::from_secs(4), "waited {took:?}");
    }
    assert_eq!(jwks.hits(), 2, "20 requests with the new kid caused one fetch");

    // Junk kids: within the cooldown no fetch at all; after it, one shared fetch for all of them.
    jwks.set(Mode::Serve);
    let junk = signed(&app.settings, &pem, "junk-kid", "acme");
    for (status, _) in concurrently(&app, &junk, 20).await {
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(jwks.hits(), 2, "unknown kids within the cooldown fetch nothing");
    tokio::time::sleep(Duration::from_millis(3100)).await;
    for (status, _) in concurrently(&app, &junk, 20).await {
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(jwks.hits(), 3, "20 unknown kids after the cooldown caused one fetch");
}

#[tokio::test(flavor = "multi_thread")]
async fn jwks_keys_not_refreshed_for_jwks_max_stale_s_are_refused_with_503_until_a_refetch_succeeds() {
    let jwks = JwksServer::start(dev_keys::JWKS_JSON.to_owned()).await;
    let app = gateway(&jwks, 1, 1, 2).await;
    let token = app.token("acme", &[Scope::CardsRead]);
    assert_eq!(app.get("/v1/cards", &token).await.status, StatusCode::OK);
    jwks.set(Mode::Fail);
    // Refreshes fail; within jwks_max_stale_s the last good keys still verify.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(app.get("/v1/cards", &token).await.status, StatusCode::OK, "stale but within jwks_max_stale_s");
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let r = app.get("/v1/cards", &token).await;
    assert_problem(&r, StatusCode::SERVICE_UNAVAILABLE, "identity_keys_stale", "keys older than jwks_max_stale_s");
    let retry: u64 = r.header("retry-after").and_then(|v| v.parse().ok()).expect("Retry-After");
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    // A token that needs no JWKS key (HS256 service token) is unaffected.
    let now = get_current_timestamp();
    let s = &app.settings;
    let claims = json!({
        "iss": s.auth.issuer, "aud": s.auth.audience, "sub": "svc:billing",
        s.auth.tenant_claim.clone(): "acme", s.auth.scope_claim.clone(): "cards:read",
        "iat": now, "exp": now + 600,
    });
    let hs = encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(b"service-to-service-secret-0123456789abcdef"),
    )
    .unwrap();
    assert_eq!(app.get("/v1/cards", &hs).await.status, StatusCode::OK, "HS256 does not depend on the JWKS");
    // The identity provider recovers: the next refetch clears the refusal.
    jwks.set(Mode::Serve);
    eventually("a JWKS token accepted again after a successful refetch", Duration::from_secs(5), || async {
        (app.get("/v1/cards", &token).await.status == StatusCode::OK).then_some(())
    })
    .await;
}
