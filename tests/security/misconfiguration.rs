//! Misconfiguration (issue 10): start-up refuses settings that would open the gateway, naming each
//! problem — checked through `Application::build`, exactly as the binary starts.

use card_gateway::{
    auth::JwtVerifier,
    config::{Environment, Settings, upstream::UpstreamMode},
    sensitive::SecretString,
    startup::Application,
};

use crate::common::test_settings;

async fn refusal(s: Settings) -> String {
    match Application::build(s).await {
        Ok(_) => String::new(),
        Err(e) => format!("{e:#}"),
    }
}

#[tokio::test]
async fn a_real_upstream_in_development_is_refused_unless_explicitly_allowed() {
    let mut s = test_settings();
    s.upstream.mode = UpstreamMode::Http;
    s.upstream.base_url = "https://openapi.geo.sh.cn".into();
    let e = refusal(s.clone()).await;
    assert!(e.contains("upstream.real_upstream_in_development"), "{e}");
    assert!(e.contains("openapi.geo.sh.cn"), "the message names the upstream: {e}");
    // A loopback upstream is a local simulator and needs no override.
    s.upstream.base_url = "http://127.0.0.1:1".into();
    let e = refusal(s).await;
    assert!(!e.contains("real_upstream_in_development"), "{e}");
}

#[tokio::test]
async fn secrets_shorter_than_32_bytes_are_refused_after_file_resolution() {
    let dir = tempfile::tempdir().unwrap();
    let short = dir.path().join("short.key");
    std::fs::write(&short, "tiny").unwrap();
    let mut s = test_settings();
    // The path is long; the secret it names is 4 bytes.
    s.auth.hs256_secret = SecretString::new(format!("file:{}", short.display()));
    s.idempotency.fingerprint_secret = SecretString::new(format!("file:{}", short.display()));
    s.tenancy.secret = SecretString::new("short-tenancy-secret");
    let e = refusal(s).await;
    for key in ["auth.hs256_secret", "idempotency.fingerprint_secret", "tenancy.secret"] {
        assert!(e.contains(&format!("{key} must be at least 32 bytes")), "{key}: {e}");
    }
    let mut s = test_settings();
    s.idempotency.fingerprint_secret = SecretString::new("file:/nonexistent/fingerprint.key");
    let e = refusal(s).await;
    assert!(e.contains("idempotency.fingerprint_secret") && e.contains("cannot read"), "{e}");
}

#[tokio::test]
async fn an_unbounded_jwt_leeway_and_a_lease_a_renewal_cannot_keep_are_refused() {
    let mut s = test_settings();
    s.auth.leeway_s = 86_400;
    let e = refusal(s).await;
    assert!(e.contains("auth.leeway_s (86400) must be at most 300"), "{e}");
    // The lease rule is a production guard (the suites run short leases on purpose).
    let mut s = test_settings();
    s.environment = Environment::Production;
    s.idempotency.lease_ms = 400;
    s.redis.timeout_ms = 300;
    let e = refusal(s).await;
    assert!(e.contains("idempotency.lease_ms (400)"), "{e}");
}

#[tokio::test]
async fn a_dev_token_ttl_beyond_the_accepted_token_lifetime_is_refused_at_startup() {
    let mut s = test_settings();
    s.auth.dev_token_ttl = "2d".into();
    let e = refusal(s.clone()).await;
    assert!(e.contains("auth.dev_token_ttl (172800 s) must be at most auth.max_token_lifetime_s (86400)"), "{e}");
    // Nor does `card-gateway token` mint a token its own gateway would refuse.
    let e = card_gateway::auth::dev_tokens::mint(&s, "acme", &[], 172_800).unwrap_err().to_string();
    assert!(e.contains("auth.max_token_lifetime_s"), "{e}");
    s.auth.dev_token_ttl = "24h".into();
    let e = refusal(s).await;
    assert!(!e.contains("dev_token_ttl"), "{e}");
}

#[tokio::test]
async fn production_refuses_a_plain_http_jwks_url() {
    let mut s = test_settings();
    s.environment = Environment::Production;
    s.auth.jwks_url = "http://idp.internal/jwks.json".into();
    let e = refusal(s).await;
    assert!(e.contains("auth.jwks_url must be https:// in production"), "{e}");
}

#[tokio::test]
async fn production_refuses_a_jwks_publishing_the_committed_development_key_under_any_kid() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jwks.json");
    std::fs::write(&path, card_gateway::dev_keys::JWKS_JSON.replace("dev-fe316a07197c9dba", "prod-key-1")).unwrap();
    let mut auth = test_settings().auth;
    auth.jwks_file = path.display().to_string();
    let verifier = JwtVerifier::from_settings(&auth, true).unwrap();
    let e = verifier.prime().await.unwrap_err();
    assert!(e.contains("development JWT key"), "{e}");
    // Outside production the same file loads (development set-ups use it on purpose).
    assert!(JwtVerifier::from_settings(&auth, false).unwrap().prime().await.is_ok());
}
