//! Start-up guards: production refuses what only development may use.

use card_gateway::{
    auth::{Scope, dev_tokens},
    config::Environment,
    startup::Application,
};

use crate::common::test_settings;

#[tokio::test(flavor = "multi_thread")]
async fn production_start_up_refuses_the_simulator_memory_stores_and_development_keys() {
    let mut s = test_settings();
    s.environment = Environment::Production;
    let err = Application::build(s.clone()).await.err().expect("refused").to_string();
    for needle in [
        "upstream.mode = \"simulator\"",
        "tenancy.store = \"memory\"",
        "idempotency.store = \"memory\"",
        "development RSA keys",
        "development JWKS",
    ] {
        assert!(err.contains(needle), "message should name {needle}: {err}");
    }
    // Even with every setting filled in, the committed development keys are recognised by content.
    let mut s = test_settings();
    s.environment = Environment::Production;
    s.upstream.mode = card_gateway::config::upstream::UpstreamMode::Http;
    s.upstream.base_url = "https://upstream.invalid".into();
    s.upstream.merchant_private_key =
        card_gateway::sensitive::SecretString::new(card_gateway::dev_keys::MERCHANT_PRIVATE_PEM);
    s.upstream.platform_public_key = card_gateway::dev_keys::PLATFORM_PUBLIC_PEM.into();
    s.redis.url = card_gateway::sensitive::SecretString::new("redis://127.0.0.1:1/0");
    s.tenancy.store = card_gateway::config::stores::StoreKind::Redis;
    s.tenancy.secret = card_gateway::sensitive::SecretString::new("a-production-secret-of-enough-length");
    s.idempotency.store = card_gateway::config::stores::StoreKind::Redis;
    s.idempotency.fingerprint_secret =
        card_gateway::sensitive::SecretString::new("another-production-secret-of-32-bytes-or-more");
    s.webhooks.event_store = card_gateway::config::stores::StoreKind::Redis;
    s.rate_limit.backend = card_gateway::config::rate_limit::LimiterBackend::Redis;
    s.server.ops_listen = "127.0.0.1:0".into();
    s.auth.jwks_url = "https://idp.invalid/jwks.json".into();
    let err = Application::build(s).await.err().expect("refused").to_string();
    assert!(err.contains("development key"), "{err}");
}

#[test]
fn development_tokens_are_refused_in_production() {
    let mut s = test_settings();
    s.environment = Environment::Production;
    let err = dev_tokens::mint(&s, "demo", &[Scope::CardsRead], 60).unwrap_err().to_string();
    assert!(err.contains("refused in production"), "{err}");
}
