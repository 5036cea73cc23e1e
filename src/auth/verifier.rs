//! Bearer JWT verification: algorithm allow-list per key, no `none`, no algorithm confusion,
//! `iss`/`aud` required, `exp`/`nbf` with leeway, tenant and scope claims by configured name.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header, errors::ErrorKind};

use super::{
    jwks::{JwksSource, KeyError, KeyStore, parse_algorithm},
    principal::Principal,
    scopes::ScopeSet,
    verified_cache::VerifiedCache,
};
use crate::{
    config::{ConfigError, auth::AuthSettings, resolve_text},
    error::ApiError,
    sensitive::Reveal,
    tenancy::TenantId,
};

/// Why [`JwtVerifier::check`] refused a token.
enum Refusal {
    /// 401; the text is safe to show.
    Invalid(&'static str),
    /// 503: the JWKS keys are older than `auth.jwks_max_stale_s`.
    KeysStale { retry_after_s: u64 },
}

impl From<&'static str> for Refusal {
    fn from(reason: &'static str) -> Self {
        Refusal::Invalid(reason)
    }
}

pub struct JwtVerifier {
    keys: KeyStore,
    hs256: Option<DecodingKey>,
    issuer: String,
    audience: String,
    leeway_s: u64,
    tenant_claim: String,
    scope_claim: String,
    max_token_bytes: usize,
    /// Lower-cased accepted `typ` header values.
    accepted_typ: Vec<String>,
    require_sub: bool,
    max_lifetime_s: u64,
    /// Tokens already verified (None = verify every request).
    verified: Option<VerifiedCache>,
    /// Full checks done (signature included): tests and benchmarks read it.
    full_checks: std::sync::atomic::AtomicU64,
}

impl JwtVerifier {
    pub fn from_settings(s: &AuthSettings, production: bool) -> Result<Self, ConfigError> {
        let source = if !s.jwks_url.is_empty() {
            JwksSource::Url(s.jwks_url.clone())
        } else if let Some(path) =
            s.jwks_file.strip_prefix("file:").or((!s.jwks_file.is_empty()).then_some(&s.jwks_file[..]))
        {
            JwksSource::File(path.to_owned())
        } else if production {
            return Err(ConfigError::Invalid("auth.jwks_url or auth.jwks_file is required in production".into()));
        } else {
            JwksSource::Inline(crate::dev_keys::JWKS_JSON.to_owned())
        };
        let mut allowed = Vec::new();
        for name in &s.algorithms {
            let alg = parse_algorithm(name)
                .ok_or_else(|| ConfigError::Invalid(format!("auth.algorithms: unsupported algorithm {name:?}")))?;
            allowed.push(alg);
        }
        let hs256 = resolve_text(s.hs256_secret.expose())?.map(|secret| DecodingKey::from_secret(secret.as_bytes()));
        let keys = KeyStore::new(
            source,
            allowed,
            Duration::from_secs(s.jwks_cache_s),
            Duration::from_secs(s.jwks_refetch_cooldown_s),
        )
        .with_max_stale(Duration::from_secs(s.jwks_max_stale_s));
        Ok(Self {
            keys: if production { keys.refusing_dev_keys() } else { keys },
            hs256,
            issuer: s.issuer.clone(),
            audience: s.audience.clone(),
            leeway_s: s.leeway_s,
            tenant_claim: s.tenant_claim.clone(),
            scope_claim: s.scope_claim.clone(),
            max_token_bytes: s.max_token_bytes,
            verified: (s.verified_cache_s > 0)
                .then(|| VerifiedCache::new(Duration::from_secs(s.verified_cache_s), s.verified_cache_entries)),
            full_checks: std::sync::atomic::AtomicU64::new(0),
            accepted_typ: s.accepted_typ.iter().map(|t| t.trim().to_ascii_lowercase()).collect(),
            require_sub: s.require_sub,
            max_lifetime_s: s.max_token_lifetime_s,
        })
    }

    /// Loads the JWKS once at startup.
    pub async fn prime(&self) -> Result<usize, String> {
        self.keys.prime().await
    }

    /// Verifies a bearer token: 401 when it is not acceptable (the detail never quotes the token),
    /// 503 `identity_keys_stale` when it needs JWKS keys older than `auth.jwks_max_stale_s`.
    pub async fn verify(&self, token: &str) -> Result<Principal, ApiError> {
        if token.len() > self.max_token_bytes {
            return Err(ApiError::unauthorized("token too large"));
        }
        let now = i64::try_from(jsonwebtoken::get_current_timestamp()).unwrap_or(i64::MAX);
        if let Some(p) = self.verified.as_ref().and_then(|c| c.get(token, now, self.leeway_s)) {
            return Ok(p);
        }
        self.full_checks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match self.check(token).await {
            Ok(p) => {
                if let Some(c) = &self.verified {
                    c.put(token, &p);
                }
                Ok(p)
            }
            Err(Refusal::Invalid(reason)) => Err(ApiError::unauthorized(reason)),
            Err(Refusal::KeysStale { retry_after_s }) => Err(ApiError::unavailable(
                "identity_keys_stale",
                "the identity provider's signing keys could not be refreshed for too long; retry later",
                retry_after_s,
            )),
        }
    }

    /// Full checks (signature included) done so far; a cached token costs none.
    pub fn full_checks(&self) -> u64 {
        self.full_checks.load(std::sync::atomic::Ordering::Relaxed)
    }

    async fn check(&self, token: &str) -> Result<Principal, Refusal> {
        if token.len() > self.max_token_bytes {
            return Err("token too large".into());
        }
        let header = decode_header(token).map_err(|_| "malformed token")?;
        // An ID token or any other JWT kind from the same issuer is not an access token for this API.
        if let Some(typ) = &header.typ
            && !self.accepted_typ.iter().any(|a| a.eq_ignore_ascii_case(typ.trim()))
        {
            return Err("token type not accepted".into());
        }
        let key = if header.alg == Algorithm::HS256 {
            // HS256 only ever verifies against the configured secret, never a JWKS (RSA public) key.
            self.hs256.clone().ok_or("HS256 tokens are not accepted")?
        } else {
            let vk = self.keys.key_for(header.kid.as_deref()).await.map_err(|e| match e {
                KeyError::Unknown => Refusal::Invalid("unknown signing key"),
                KeyError::Stale { retry_after_s } => Refusal::KeysStale { retry_after_s },
            })?;
            if vk.alg != header.alg {
                return Err("algorithm does not match the signing key".into());
            }
            vk.key
        };
        let mut v = Validation::new(header.alg);
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[&self.audience]);
        v.leeway = self.leeway_s;
        v.validate_nbf = true;
        v.set_required_spec_claims(&["exp", "iss", "aud"]);
        let data =
            decode::<serde_json::Map<String, serde_json::Value>>(token, &key, &v).map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => "token expired",
                ErrorKind::ImmatureSignature => "token not yet valid",
                ErrorKind::InvalidIssuer => "wrong issuer",
                ErrorKind::InvalidAudience => "wrong audience",
                ErrorKind::InvalidSignature => "invalid signature",
                ErrorKind::MissingRequiredClaim(_) => "missing required claim",
                ErrorKind::InvalidAlgorithm => "algorithm not allowed",
                _ => "invalid token",
            })?;
        let claims = data.claims;
        self.check_lifetime(&claims)?;
        let tenant = claims
            .get(&self.tenant_claim)
            .and_then(|v| v.as_str())
            .and_then(TenantId::parse)
            .ok_or("missing or invalid tenant claim")?;
        let scopes = claims.get(&self.scope_claim).map(ScopeSet::from_claim).unwrap_or_default();
        let subject: String = claims.get("sub").and_then(|v| v.as_str()).unwrap_or("").chars().take(128).collect();
        if self.require_sub && subject.trim().is_empty() {
            return Err("missing subject".into());
        }
        let expires_at = claims.get("exp").and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)));
        Ok(Principal { tenant, subject, scopes, expires_at })
    }

    /// A token minted for longer than `max_token_lifetime_s` is refused, even when its signature is
    /// good: `exp - iat`, or `exp - now` without an `iat` (a lifetime cannot be dodged by leaving it out).
    fn check_lifetime(&self, claims: &serde_json::Map<String, serde_json::Value>) -> Result<(), &'static str> {
        let number = |v: &serde_json::Value| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64));
        // `exp` was validated as a number by the library.
        let exp = claims.get("exp").and_then(number).ok_or("missing required claim")?;
        let start = match claims.get("iat") {
            None => i64::try_from(jsonwebtoken::get_current_timestamp()).unwrap_or(i64::MAX),
            Some(v) => number(v).ok_or("invalid iat claim")?,
        };
        let max = i64::try_from(self.max_lifetime_s).unwrap_or(i64::MAX);
        if exp.saturating_sub(start) > max {
            return Err("token lifetime exceeds the accepted maximum");
        }
        Ok(())
    }
}
