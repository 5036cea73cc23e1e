//! The development key pairs committed under `config/dev-keys/`, embedded so `cargo run` works from
//! any directory. Production refuses them by fingerprint, however they were supplied.

use crate::{
    config::{ConfigError, resolve_text},
    envelope::{PrivateKey, PublicKey},
};

pub const MERCHANT_PRIVATE_PEM: &str = include_str!("../config/dev-keys/merchant_private.pem");
pub const MERCHANT_PUBLIC_PEM: &str = include_str!("../config/dev-keys/merchant_public.pem");
pub const PLATFORM_PRIVATE_PEM: &str = include_str!("../config/dev-keys/platform_private.pem");
pub const PLATFORM_PUBLIC_PEM: &str = include_str!("../config/dev-keys/platform_public.pem");
pub const JWT_PRIVATE_PEM: &str = include_str!("../config/dev-keys/jwt_private.pem");
pub const JWT_PUBLIC_PEM: &str = include_str!("../config/dev-keys/jwt_public.pem");
pub const JWKS_JSON: &str = include_str!("../config/dev-keys/jwks.json");

/// True when `key` is one of the committed development RSA keys (either side).
pub fn is_dev_public_key(key: &PublicKey) -> bool {
    [MERCHANT_PUBLIC_PEM, PLATFORM_PUBLIC_PEM]
        .iter()
        .filter_map(|pem| PublicKey::parse(pem).ok())
        .any(|dev| &dev == key)
}

/// Loads a private key setting, falling back to `dev_pem` when empty; in production an empty setting
/// or a development key is an error.
pub fn load_private(setting: &str, dev_pem: &str, production: bool, name: &str) -> Result<PrivateKey, ConfigError> {
    let text = match resolve_text(setting)? {
        Some(t) => t,
        None if production => return Err(ConfigError::Invalid(format!("{name} is required in production"))),
        None => dev_pem.to_owned(),
    };
    let key = PrivateKey::parse(&text).map_err(|e| ConfigError::Invalid(format!("{name}: {e}")))?;
    if production {
        let public = key.public_key().map_err(|e| ConfigError::Invalid(format!("{name}: {e}")))?;
        if is_dev_public_key(&public) {
            return Err(ConfigError::Invalid(format!("{name} is a committed development key; refused in production")));
        }
    }
    Ok(key)
}

/// Loads a public key setting, with the same development fallback and production guard.
pub fn load_public(setting: &str, dev_pem: &str, production: bool, name: &str) -> Result<PublicKey, ConfigError> {
    let text = match resolve_text(setting)? {
        Some(t) => t,
        None if production => return Err(ConfigError::Invalid(format!("{name} is required in production"))),
        None => dev_pem.to_owned(),
    };
    let key = PublicKey::parse(&text).map_err(|e| ConfigError::Invalid(format!("{name}: {e}")))?;
    if production && is_dev_public_key(&key) {
        return Err(ConfigError::Invalid(format!("{name} is a committed development key; refused in production")));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_refuses_dev_keys_even_when_passed_explicitly() {
        let err =
            load_public(PLATFORM_PUBLIC_PEM, PLATFORM_PUBLIC_PEM, true, "upstream.platform_public_key").unwrap_err();
        assert!(err.to_string().contains("development key"));
        let err = load_private(MERCHANT_PRIVATE_PEM, MERCHANT_PRIVATE_PEM, true, "upstream.merchant_private_key")
            .unwrap_err();
        assert!(err.to_string().contains("development key"));
        assert!(load_private("", MERCHANT_PRIVATE_PEM, true, "k").is_err());
        assert!(load_private("", MERCHANT_PRIVATE_PEM, false, "k").is_ok());
    }
}
