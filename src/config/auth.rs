//! `[auth]`: JWT verification (docs/product.md §5).

use serde::Deserialize;

use crate::sensitive::SecretString;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub issuer: String,
    pub audience: String,
    pub leeway_s: u64,
    pub tenant_claim: String,
    pub scope_claim: String,
    /// JWKS document on disk; empty with an empty `jwks_url` = the committed development JWKS.
    pub jwks_file: String,
    /// JWKS document over HTTP(S); refetched after `jwks_cache_s` and on an unknown `kid`.
    pub jwks_url: String,
    pub jwks_cache_s: u64,
    pub jwks_refetch_cooldown_s: u64,
    /// `jwks_url` keys whose last successful fetch is older than this are refused (503
    /// `identity_keys_stale`) instead of trusted forever. File and inline sources never go stale.
    pub jwks_max_stale_s: u64,
    /// Algorithms accepted for JWKS keys; a key's own `alg` must also be in this list.
    pub algorithms: Vec<String>,
    /// Optional HS256 secret for service tokens (≥ 32 bytes); empty = HS256 disabled.
    pub hs256_secret: SecretString,
    /// RS256 private key (PEM or `file:PATH`) used by `card-gateway token`; empty = committed dev key.
    pub dev_signing_key: SecretString,
    /// Lifetime of printed development tokens, e.g. `12h`, `30m`.
    pub dev_token_ttl: String,
    /// Longer bearer tokens are rejected before any parsing.
    pub max_token_bytes: usize,
    /// Accepted JOSE header `typ` values (compared case-insensitively); a token without `typ` is
    /// accepted, any other value (an ID token's `id+jwt`, a logout token…) is refused.
    pub accepted_typ: Vec<String>,
    /// Refuse tokens without a non-empty string `sub`.
    pub require_sub: bool,
    /// Longest accepted token lifetime: `exp - iat`, or `exp - now` when `iat` is absent.
    pub max_token_lifetime_s: u64,
    /// A verified token is answered from memory this long (never past its `exp`); 0 = verify every time.
    pub verified_cache_s: u64,
    /// Most verified tokens remembered.
    pub verified_cache_entries: usize,
}

/// Parses `12h`, `30m`, `45s`, `2d` or plain seconds.
pub fn parse_ttl(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, unit) = s.find(|c: char| !c.is_ascii_digit()).map_or((s, "s"), |i| s.split_at(i));
    let n: u64 = num.parse().ok()?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return None,
    };
    n.checked_mul(mult).filter(|v| *v > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_parse() {
        assert_eq!(parse_ttl("12h"), Some(43200));
        assert_eq!(parse_ttl("30m"), Some(1800));
        assert_eq!(parse_ttl("90"), Some(90));
        assert_eq!(parse_ttl("1w"), None);
        assert_eq!(parse_ttl("0s"), None);
    }
}
