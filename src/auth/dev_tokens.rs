//! Development tokens (`card-gateway token`, and the two printed at `cargo run`): RS256, signed with
//! the committed development key unless `auth.dev_signing_key` names another. Refused in production.

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::json;

use super::scopes::Scope;
use crate::{
    config::{ConfigError, Settings, resolve_text},
    envelope::PrivateKey,
    sensitive::Reveal,
};

/// `kid` of a signing key: `dev-` + the first 16 hex digits of SHA-256 over the RSA modulus
/// (config/dev-keys/jwks.json uses the same rule).
pub fn kid_for(pem: &str) -> Result<String, ConfigError> {
    let key = PrivateKey::parse(pem).map_err(|e| ConfigError::Invalid(format!("auth.dev_signing_key: {e}")))?;
    Ok(format!("dev-{}", key.fingerprint()))
}

/// The TTL syntax belongs to the settings (`auth.dev_token_ttl`); re-exported for the CLI.
pub use crate::config::auth::parse_ttl;

/// Mints a token for `tenant` with `scopes`, valid `ttl_s` seconds.
pub fn mint(settings: &Settings, tenant: &str, scopes: &[Scope], ttl_s: u64) -> Result<String, ConfigError> {
    if settings.is_production() {
        return Err(ConfigError::Invalid("development tokens are refused in production".into()));
    }
    if ttl_s > settings.auth.max_token_lifetime_s {
        return Err(ConfigError::Invalid(format!(
            "a token valid {ttl_s} s would be refused: auth.max_token_lifetime_s is {}",
            settings.auth.max_token_lifetime_s
        )));
    }
    if crate::tenancy::TenantId::parse(tenant).is_none() {
        return Err(ConfigError::Invalid(format!("invalid tenant id {tenant:?}: use 1–40 of [a-z0-9-]")));
    }
    let pem = resolve_text(settings.auth.dev_signing_key.expose())?
        .unwrap_or_else(|| crate::dev_keys::JWT_PRIVATE_PEM.to_owned());
    let key = EncodingKey::from_rsa_pem(pem.as_bytes())
        .map_err(|e| ConfigError::Invalid(format!("auth.dev_signing_key: {e}")))?;
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid_for(&pem)?);
    let now = jsonwebtoken::get_current_timestamp();
    let scope: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    let claims = json!({
        "iss": settings.auth.issuer,
        "aud": settings.auth.audience,
        "sub": format!("dev:{tenant}"),
        settings.auth.tenant_claim.clone(): tenant,
        settings.auth.scope_claim.clone(): scope.join(" "),
        "iat": now,
        "nbf": now,
        "exp": now + ttl_s,
    });
    encode(&header, &claims, &key).map_err(|e| ConfigError::Invalid(format!("cannot sign token: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_jwks_uses_the_same_kid_rule() {
        let kid = kid_for(crate::dev_keys::JWT_PRIVATE_PEM).unwrap();
        assert!(crate::dev_keys::JWKS_JSON.contains(&kid), "{kid}");
    }
}
