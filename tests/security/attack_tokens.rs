//! Forged, confused, stale and malformed bearer tokens: every one answers 401 with
//! `WWW-Authenticate: Bearer …` and a problem body — on a read, on a state-changing route and on the
//! event stream — and none reaches the platform or leaves an idempotency record.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use card_gateway::{auth::dev_tokens, config::Settings, dev_keys, sensitive::SecretString};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode, get_current_timestamp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    common::{Resp, TestApp, spawn_app, spawn_with},
    support::{HEADERS_TIMEOUT, assert_problem, is_event_stream, upstream_calls},
};

const HS256_SECRET: &str = "service-to-service-secret-0123456789abcdef";
fn card_body() -> Value {
    json!({"bin": "222929", "currency": "USD", "limit": "1.00"})
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn b64_json(v: &Value) -> String {
    b64(v.to_string().as_bytes())
}

/// Claims a genuine token for `tenant` would carry (every scope, valid for ten minutes).
fn claims(s: &Settings, tenant: &str) -> Value {
    let now = get_current_timestamp();
    let scope: Vec<&str> = card_gateway::auth::Scope::ALL.iter().map(|s| s.as_str()).collect();
    json!({
        "iss": s.auth.issuer, "aud": s.auth.audience, "sub": format!("svc:{tenant}"),
        s.auth.tenant_claim.clone(): tenant, s.auth.scope_claim.clone(): scope.join(" "),
        "iat": now, "nbf": now, "exp": now + 600,
    })
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

fn dev_kid() -> String {
    dev_tokens::kid_for(dev_keys::JWT_PRIVATE_PEM).unwrap()
}

/// Signed with the committed development RSA key (the one the gateway trusts), under its `kid`.
fn rs256(claims: &Value) -> String {
    signed_rsa(Algorithm::RS256, dev_keys::JWT_PRIVATE_PEM.as_bytes(), Some(dev_kid()), claims)
}

fn signed_rsa(alg: Algorithm, pem: &[u8], kid: Option<String>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid;
    encode(&header, claims, &EncodingKey::from_rsa_pem(pem).unwrap()).unwrap()
}

/// Signed like [`rs256`], with the header's `typ` set to `typ` (`None`: no `typ` at all).
fn rs256_typ(typ: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(dev_kid());
    header.typ = typ.map(str::to_owned);
    encode(&header, claims, &EncodingKey::from_rsa_pem(dev_keys::JWT_PRIVATE_PEM.as_bytes()).unwrap()).unwrap()
}

fn hs256(secret: &[u8], kid: Option<String>, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = kid;
    encode(&header, claims, &EncodingKey::from_secret(secret)).unwrap()
}

/// An unsigned token, assembled by hand (the library refuses to make one).
fn unsigned(header: Value, claims: &Value, signature: &str) -> String {
    format!("{}.{}.{signature}", b64_json(&header), b64_json(claims))
}

struct Attack {
    name: &'static str,
    /// The whole `Authorization` header value.
    authorization: String,
}

fn bearer(name: &'static str, token: String) -> Attack {
    Attack { name, authorization: format!("Bearer {token}") }
}

/// Every attack, valid whatever the HS256 configuration.
fn attacks(s: &Settings) -> Vec<Attack> {
    let good = claims(s, "acme");
    let now = get_current_timestamp();
    let leeway = s.auth.leeway_s;
    let genuine = rs256(&good);
    let parts: Vec<&str> = genuine.split('.').collect();
    let foreign_pem = openssl::rsa::Rsa::generate(2048).unwrap().private_key_to_pem().unwrap();
    let huge = with(good.clone(), "pad", json!("x".repeat(64 * 1024)));

    vec![
        bearer("alg none, empty signature", unsigned(json!({"alg": "none", "typ": "JWT"}), &good, "")),
        bearer("alg none with the dev kid", unsigned(json!({"alg": "none", "kid": dev_kid()}), &good, "")),
        bearer("alg None (capitalised), genuine signature kept", unsigned(json!({"alg": "None"}), &good, parts[2])),
        bearer(
            "HS256 signed with the RSA public key PEM as the HMAC secret (dev kid)",
            hs256(dev_keys::JWT_PUBLIC_PEM.as_bytes(), Some(dev_kid()), &good),
        ),
        bearer(
            "HS256 signed with the RSA public key PEM as the HMAC secret (no kid)",
            hs256(dev_keys::JWT_PUBLIC_PEM.as_bytes(), None, &good),
        ),
        bearer(
            "HS256 signed with the JWKS document as the HMAC secret",
            hs256(dev_keys::JWKS_JSON.as_bytes(), Some(dev_kid()), &good),
        ),
        bearer(
            "RS384 under the RS256-only key",
            signed_rsa(Algorithm::RS384, dev_keys::JWT_PRIVATE_PEM.as_bytes(), Some(dev_kid()), &good),
        ),
        bearer(
            "PS256 under the RS256-only key",
            signed_rsa(Algorithm::PS256, dev_keys::JWT_PRIVATE_PEM.as_bytes(), Some(dev_kid()), &good),
        ),
        bearer(
            "unknown kid",
            signed_rsa(Algorithm::RS256, dev_keys::JWT_PRIVATE_PEM.as_bytes(), Some("attacker-key-1".into()), &good),
        ),
        bearer(
            "foreign RSA key under the trusted kid",
            signed_rsa(Algorithm::RS256, &foreign_pem, Some(dev_kid()), &good),
        ),
        bearer("foreign RSA key without a kid", signed_rsa(Algorithm::RS256, &foreign_pem, None, &good)),
        bearer(
            "expired beyond the leeway",
            rs256(&with(
                with(with(good.clone(), "exp", json!(now - leeway - 60)), "nbf", json!(now - 900)),
                "iat",
                json!(now - 900),
            )),
        ),
        bearer("not yet valid beyond the leeway", rs256(&with(good.clone(), "nbf", json!(now + leeway + 60)))),
        bearer("wrong issuer", rs256(&with(good.clone(), "iss", json!("https://evil.example")))),
        bearer("no issuer", rs256(&without(good.clone(), "iss"))),
        bearer("wrong audience", rs256(&with(good.clone(), "aud", json!("some-other-api")))),
        bearer("no audience", rs256(&without(good.clone(), "aud"))),
        bearer("no expiry", rs256(&without(good.clone(), "exp"))),
        bearer("exp is a string", rs256(&with(good.clone(), "exp", json!((now + 600).to_string())))),
        bearer("no tenant claim", rs256(&without(good.clone(), &s.auth.tenant_claim))),
        bearer("an ID token (typ id+jwt)", rs256_typ(Some("id+jwt"), &good)),
        bearer("a logout token (typ logout+jwt)", rs256_typ(Some("logout+jwt"), &good)),
        bearer("typ empty", rs256_typ(Some(""), &good)),
        bearer("no subject", rs256(&without(good.clone(), "sub"))),
        bearer("subject empty", rs256(&with(good.clone(), "sub", json!("")))),
        bearer("subject a number", rs256(&with(good.clone(), "sub", json!(42)))),
        bearer(
            "lifetime (exp - iat) beyond max_token_lifetime_s",
            rs256(&with(good.clone(), "iat", json!(now - s.auth.max_token_lifetime_s))),
        ),
        bearer(
            "no iat and exp beyond max_token_lifetime_s from now",
            rs256(&with(without(good.clone(), "iat"), "exp", json!(now + s.auth.max_token_lifetime_s + 600))),
        ),
        bearer("iat is a string", rs256(&with(good.clone(), "iat", json!(now.to_string())))),
        bearer(
            "tenant claim not a valid tenant id",
            rs256(&with(good.clone(), &s.auth.tenant_claim, json!("Acme_Corp"))),
        ),
        bearer("tenant claim a path", rs256(&with(good.clone(), &s.auth.tenant_claim, json!("../acme")))),
        bearer("tenant claim a number", rs256(&with(good.clone(), &s.auth.tenant_claim, json!(42)))),
        bearer("tenant claim empty", rs256(&with(good.clone(), &s.auth.tenant_claim, json!("")))),
        bearer(
            "tampered payload (tenant swapped, signature kept)",
            format!(
                "{}.{}.{}",
                parts[0],
                b64_json(&with(good.clone(), &s.auth.tenant_claim, json!("victim"))),
                parts[2]
            ),
        ),
        bearer("truncated signature", genuine[..genuine.len() - 12].to_owned()),
        bearer("truncated in the payload", genuine[..parts[0].len() + 1 + parts[1].len() / 2].to_owned()),
        bearer("two segments only", format!("{}.{}", parts[0], parts[1])),
        bearer("not base64", "%%%.@@@.!!!".to_owned()),
        bearer("64 KiB token (correctly signed)", rs256(&huge)),
        bearer("64 KiB of garbage", "a".repeat(64 * 1024)),
        Attack { name: "Basic scheme", authorization: "Basic YWNtZTpodW50ZXIy".into() },
        Attack { name: "token without a scheme", authorization: genuine.clone() },
        Attack { name: "empty bearer", authorization: "Bearer ".into() },
        Attack { name: "bare Bearer", authorization: "Bearer".into() },
        Attack { name: "Bearer with only spaces", authorization: "Bearer      ".into() },
    ]
}

/// Attacks that only make sense with an HS256 secret configured.
fn hs256_attacks(s: &Settings) -> Vec<Attack> {
    let good = claims(s, "acme");
    let now = get_current_timestamp();
    vec![
        bearer("HS256 with the wrong secret", hs256(b"not-the-configured-secret-0123456789abcdef", None, &good)),
        bearer(
            "HS256 with the right secret but expired",
            hs256(HS256_SECRET.as_bytes(), None, &with(good.clone(), "exp", json!(now - s.auth.leeway_s - 60))),
        ),
        bearer(
            "HS256 with the right secret but the wrong audience",
            hs256(HS256_SECRET.as_bytes(), None, &with(good.clone(), "aud", json!("some-other-api"))),
        ),
        bearer(
            "HS256 with the right secret but no tenant",
            hs256(HS256_SECRET.as_bytes(), None, &without(good.clone(), &s.auth.tenant_claim)),
        ),
    ]
}

async fn request(app: &TestApp, method: Method, path: &str, authorization: &str, body: Option<Value>) -> Resp {
    let mut req = app.client.request(method, format!("{}{path}", app.base)).header("authorization", authorization);
    if let Some(b) = body {
        req = req
            .header("Idempotency-Key", "attack-key-1")
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let res = tokio::time::timeout(HEADERS_TIMEOUT, req.send())
        .await
        .unwrap_or_else(|_| panic!("{path}: no answer within {HEADERS_TIMEOUT:?}"))
        .unwrap_or_else(|e| panic!("{path}: request failed: {e}"));
    let status = res.status();
    let headers = res.headers().clone();
    // An accepted stream never ends: its status and headers are the answer (and a failure).
    let text = if is_event_stream(&headers) { String::new() } else { res.text().await.unwrap_or_default() };
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp { status, headers, text, json }
}

fn assert_401(r: &Resp, attack: &Attack, route: &str) {
    let ctx = format!("{} on {route}", attack.name);
    assert!(!r.status.is_success() && !r.status.is_server_error(), "{ctx}: {} {}", r.status, r.text);
    assert_problem(r, StatusCode::UNAUTHORIZED, "unauthenticated", &ctx);
    let challenge = r.header("www-authenticate").unwrap_or_else(|| panic!("{ctx}: no WWW-Authenticate header"));
    assert!(challenge.starts_with("Bearer ") && challenge.contains("realm="), "{ctx}: WWW-Authenticate {challenge:?}");
    // Nothing of the token is reflected back.
    let reflected = attack.authorization.rsplit(' ').next().unwrap_or("");
    for piece in reflected.split('.').filter(|p| p.len() >= 16) {
        assert!(!r.text.contains(piece), "{ctx}: the response echoes part of the token");
        assert!(!challenge.contains(piece), "{ctx}: WWW-Authenticate echoes part of the token");
    }
    assert!(r.text.len() < 2048, "{ctx}: oversized problem body ({} bytes)", r.text.len());
}

/// Runs every attack against a read and a state-changing route; then proves the shared
/// Idempotency-Key was never recorded.
async fn assert_all_refused(app: &TestApp, attacks: &[Attack]) {
    let before = upstream_calls(app);
    for attack in attacks {
        let read = request(app, Method::GET, "/v1/cards", &attack.authorization, None).await;
        assert_401(&read, attack, "GET /v1/cards");
        let write = request(app, Method::POST, "/v1/cards", &attack.authorization, Some(card_body())).await;
        assert_401(&write, attack, "POST /v1/cards");
        let stream = request(app, Method::GET, "/v1/events/stream", &attack.authorization, None).await;
        assert_401(&stream, attack, "GET /v1/events/stream");
        assert_eq!(upstream_calls(app), before, "{}: a request reached the platform", attack.name);
    }
    // The key the attacks used is still fresh for the tenant they claimed.
    let legit = app.post_key("/v1/cards", &app.admin("acme"), "attack-key-1", card_body()).await;
    assert_eq!(legit.status, StatusCode::CREATED, "{}", legit.text);
    assert!(legit.header("idempotent-replayed").is_none(), "a 401 left an idempotency record");
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_stale_and_malformed_tokens_get_401_and_reach_nothing_when_hs256_is_disabled() {
    let app = spawn_app().await;
    assert!(app.settings.auth.hs256_secret.is_empty(), "this test needs HS256 disabled");
    assert_all_refused(&app, &attacks(&app.settings)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_stale_and_malformed_tokens_get_401_and_reach_nothing_with_an_hs256_secret_configured() {
    let app = spawn_with(|s| s.auth.hs256_secret = SecretString::new(HS256_SECRET)).await;
    let mut all = attacks(&app.settings);
    all.extend(hs256_attacks(&app.settings));
    assert_all_refused(&app, &all).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_without_credentials_gets_a_bare_bearer_challenge() {
    let app = spawn_app().await;
    for (method, body) in [(Method::GET, None), (Method::POST, Some(card_body()))] {
        let r = app.send(method.clone(), "/v1/cards", None, Some("no-token-key"), body).await;
        assert_problem(&r, StatusCode::UNAUTHORIZED, "unauthenticated", &format!("{method} /v1/cards without a token"));
        let challenge = r.header("www-authenticate").unwrap_or_default();
        assert!(challenge.starts_with("Bearer "), "{challenge:?}");
        assert!(!challenge.contains("error="), "RFC 6750 §3.1: no error code without credentials: {challenge:?}");
    }
    assert_eq!(upstream_calls(&app), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_valid_rs256_development_token_is_accepted() {
    let app = spawn_app().await;
    let token = rs256(&claims(&app.settings, "acme"));
    let read = request(&app, Method::GET, "/v1/cards", &format!("Bearer {token}"), None).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    let write = request(&app, Method::POST, "/v1/cards", &format!("bearer {token}"), Some(card_body())).await;
    assert_eq!(write.status, StatusCode::CREATED, "scheme is case-insensitive: {}", write.text);
    let stream = request(&app, Method::GET, "/v1/events/stream", &format!("Bearer {token}"), None).await;
    assert_eq!(stream.status, StatusCode::OK, "{}", stream.text);
    assert!(is_event_stream(&stream.headers), "{:?}", stream.headers);
    // The library-minted token (what `card-gateway token` prints) works the same.
    assert_eq!(app.get("/v1/cards", &app.admin("acme")).await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn access_tokens_without_typ_or_with_an_accepted_typ_in_any_case_and_without_iat_are_accepted() {
    let app = spawn_app().await;
    let s = &app.settings;
    let now = get_current_timestamp();
    let good = claims(s, "acme");
    let max = s.auth.max_token_lifetime_s;
    let cases = [
        ("no typ", rs256_typ(None, &good)),
        ("typ JWT", rs256_typ(Some("JWT"), &good)),
        ("typ at+jwt", rs256_typ(Some("at+jwt"), &good)),
        ("typ AT+JWT (case-insensitive)", rs256_typ(Some("AT+JWT"), &good)),
        ("typ jwt", rs256_typ(Some("jwt"), &good)),
        ("lifetime exactly max_token_lifetime_s", rs256(&with(good.clone(), "exp", json!(now + max)))),
        ("no iat, exp within max_token_lifetime_s", rs256(&without(good.clone(), "iat"))),
    ];
    for (name, token) in cases {
        let r = request(&app, Method::GET, "/v1/cards", &format!("Bearer {token}"), None).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.text);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_subject_rule_and_the_lifetime_cap_follow_their_configuration() {
    let app = spawn_with(|s| {
        s.auth.require_sub = false;
        s.auth.max_token_lifetime_s = 7 * 86_400;
        s.auth.accepted_typ = vec!["JWT".into(), "at+jwt".into(), "application/at+jwt".into()];
    })
    .await;
    let now = get_current_timestamp();
    let good = claims(&app.settings, "acme");
    let cases = [
        ("no subject, require_sub = false", rs256(&without(good.clone(), "sub"))),
        ("a two-day token under a seven-day cap", rs256(&with(good.clone(), "iat", json!(now - 2 * 86_400)))),
        ("typ added to accepted_typ", rs256_typ(Some("application/at+jwt"), &good)),
    ];
    for (name, token) in cases {
        let r = request(&app, Method::GET, "/v1/cards", &format!("Bearer {token}"), None).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.text);
    }
    let id_token = rs256_typ(Some("id+jwt"), &good);
    let r = request(&app, Method::GET, "/v1/cards", &format!("Bearer {id_token}"), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_valid_hs256_service_token_is_accepted_when_a_secret_is_configured() {
    let app = spawn_with(|s| s.auth.hs256_secret = SecretString::new(HS256_SECRET)).await;
    let token = hs256(HS256_SECRET.as_bytes(), None, &claims(&app.settings, "billing-svc"));
    let read = request(&app, Method::GET, "/v1/cards", &format!("Bearer {token}"), None).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    let write = request(&app, Method::POST, "/v1/cards", &format!("Bearer {token}"), Some(card_body())).await;
    assert_eq!(write.status, StatusCode::CREATED, "{}", write.text);
    // Within the leeway is still fine.
    let now = get_current_timestamp();
    let late = hs256(HS256_SECRET.as_bytes(), None, &with(claims(&app.settings, "billing-svc"), "exp", json!(now - 5)));
    let r = request(&app, Method::GET, "/v1/cards", &format!("Bearer {late}"), None).await;
    assert_eq!(r.status, StatusCode::OK, "expired 5 s ago, leeway {} s: {}", app.settings.auth.leeway_s, r.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_is_fully_checked_once_then_answered_from_the_verified_cache_until_it_expires() {
    let app = crate::support::spawn_configured(|s| s.auth.leeway_s = 0).await;
    let token = app.token("cache", &[card_gateway::auth::Scope::CardsRead]);
    let before = app.verifier.full_checks();
    for _ in 0..20 {
        assert_eq!(app.get("/v1/cards", &token).await.status, reqwest::StatusCode::OK);
    }
    assert_eq!(app.verifier.full_checks() - before, 1, "twenty requests, one signature check");
    // A forged token is never answered from the cache, however similar.
    let mut forged = token.clone();
    forged.pop();
    forged.push(if token.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(app.get("/v1/cards", &forged).await.status, reqwest::StatusCode::UNAUTHORIZED);
    // An expired token is refused even though it was cached.
    let short =
        card_gateway::auth::dev_tokens::mint(&app.settings, "cache", &[card_gateway::auth::Scope::CardsRead], 1)
            .unwrap();
    assert_eq!(app.get("/v1/cards", &short).await.status, reqwest::StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    assert_eq!(app.get("/v1/cards", &short).await.status, reqwest::StatusCode::UNAUTHORIZED, "expired");
}
