//! RSA key material in types that never print themselves.

use std::fmt;

use base64::Engine as _;
use openssl::{
    pkey::{Private, Public},
    rsa::Rsa,
    sha::sha256,
};
use thiserror::Error;

/// Why a key could not be loaded. Never echoes the key text.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum KeyError {
    #[error("key is empty")]
    Empty,
    #[error("key is neither PEM nor base64 DER of a supported {0} key")]
    Unparseable(&'static str),
    #[error("RSA key of {bits} bits is too small (minimum 1024)")]
    TooSmall { bits: u32 },
}

/// An RSA private key (PKCS#1 or PKCS#8, PEM or bare base64 DER).
#[derive(Clone)]
pub struct PrivateKey(Rsa<Private>);

/// An RSA public key (SPKI or PKCS#1, PEM or bare base64 DER).
#[derive(Clone)]
pub struct PublicKey(Rsa<Public>);

fn strip_b64(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(compact).ok()
}

fn check_size(bits: u32) -> Result<(), KeyError> {
    if bits < 1024 {
        return Err(KeyError::TooSmall { bits });
    }
    Ok(())
}

impl PrivateKey {
    /// Parses PEM (`RSA PRIVATE KEY` or `PRIVATE KEY`) or bare base64 DER (PKCS#8 or PKCS#1),
    /// the forms vendors hand keys out in.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(KeyError::Empty);
        }
        let rsa = if text.starts_with("-----BEGIN") {
            Rsa::private_key_from_pem(text.as_bytes())
                .ok()
                .or_else(|| openssl::pkey::PKey::private_key_from_pem(text.as_bytes()).ok().and_then(|k| k.rsa().ok()))
        } else {
            strip_b64(text).and_then(|der| {
                openssl::pkey::PKey::private_key_from_pkcs8(&der)
                    .ok()
                    .and_then(|k| k.rsa().ok())
                    .or_else(|| Rsa::private_key_from_der(&der).ok())
            })
        }
        .ok_or(KeyError::Unparseable("private"))?;
        check_size(rsa.size() * 8)?;
        Ok(Self(rsa))
    }

    /// The matching public key.
    pub fn public_key(&self) -> Result<PublicKey, KeyError> {
        let n = self.0.n().to_owned().map_err(|_| KeyError::Unparseable("private"))?;
        let e = self.0.e().to_owned().map_err(|_| KeyError::Unparseable("private"))?;
        Rsa::from_public_components(n, e).map(PublicKey).map_err(|_| KeyError::Unparseable("private"))
    }

    /// Modulus size in bytes (128 for RSA-1024).
    pub fn size(&self) -> usize {
        self.0.size() as usize
    }

    pub(crate) fn rsa(&self) -> &Rsa<Private> {
        &self.0
    }

    /// A short, non-secret fingerprint (SHA-256 of the modulus) for logs and the dev-key guard.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.0.n().to_vec())
    }
}

impl PublicKey {
    /// Parses PEM (`PUBLIC KEY` SPKI or `RSA PUBLIC KEY` PKCS#1) or bare base64 DER.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(KeyError::Empty);
        }
        let rsa = if text.starts_with("-----BEGIN") {
            Rsa::public_key_from_pem(text.as_bytes())
                .ok()
                .or_else(|| Rsa::public_key_from_pem_pkcs1(text.as_bytes()).ok())
        } else {
            strip_b64(text).and_then(|der| {
                Rsa::public_key_from_der(&der).ok().or_else(|| Rsa::public_key_from_der_pkcs1(&der).ok())
            })
        }
        .ok_or(KeyError::Unparseable("public"))?;
        check_size(rsa.size() * 8)?;
        Ok(Self(rsa))
    }

    /// Modulus size in bytes (128 for RSA-1024).
    pub fn size(&self) -> usize {
        self.0.size() as usize
    }

    pub(crate) fn rsa(&self) -> &Rsa<Public> {
        &self.0
    }

    /// A short, non-secret fingerprint (SHA-256 of the modulus).
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.0.n().to_vec())
    }

    /// SPKI PEM, for handing our public key to the other side (e.g. the simulator).
    pub fn to_pem(&self) -> Result<String, KeyError> {
        self.0.public_key_to_pem().ok().and_then(|b| String::from_utf8(b).ok()).ok_or(KeyError::Unparseable("public"))
    }
}

fn fingerprint(modulus: &[u8]) -> String {
    hex::encode(&sha256(modulus)[..8])
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey(rsa-{}, <redacted>)", self.0.size() * 8)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey(rsa-{}, {})", self.0.size() * 8, self.fingerprint())
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.n() == other.0.n() && self.0.e() == other.0.e()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MERCHANT_PKCS1: &str = include_str!("../../config/dev-keys/merchant_private.pem");
    const PLATFORM_PKCS8: &str = include_str!("../../config/dev-keys/platform_private.pem");
    const PLATFORM_SPKI: &str = include_str!("../../config/dev-keys/platform_public.pem");

    fn pem_body(pem: &str) -> String {
        pem.lines().filter(|l| !l.starts_with("-----")).collect()
    }

    #[test]
    fn private_keys_load_from_pkcs1_and_pkcs8_pem_and_bare_der() {
        let a = PrivateKey::parse(MERCHANT_PKCS1).unwrap();
        let b = PrivateKey::parse(&pem_body(MERCHANT_PKCS1)).unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        let c = PrivateKey::parse(PLATFORM_PKCS8).unwrap();
        let d = PrivateKey::parse(&pem_body(PLATFORM_PKCS8)).unwrap();
        assert_eq!(c.fingerprint(), d.fingerprint());
        assert_eq!(a.size(), 128);
    }

    #[test]
    fn public_keys_load_from_spki_pem_and_bare_der_and_match_private() {
        let p = PublicKey::parse(PLATFORM_SPKI).unwrap();
        let q = PublicKey::parse(&pem_body(PLATFORM_SPKI)).unwrap();
        assert_eq!(p, q);
        let derived = PrivateKey::parse(PLATFORM_PKCS8).unwrap().public_key().unwrap();
        assert_eq!(p, derived);
    }

    #[test]
    fn debug_output_never_contains_key_material() {
        let k = PrivateKey::parse(MERCHANT_PKCS1).unwrap();
        let printed = format!("{k:?}");
        assert_eq!(printed, "PrivateKey(rsa-1024, <redacted>)");
        let body = pem_body(MERCHANT_PKCS1);
        assert!(!printed.contains(&body[..16]));
    }

    #[test]
    fn garbage_and_empty_keys_are_rejected_without_panicking() {
        assert_eq!(PrivateKey::parse("").unwrap_err(), KeyError::Empty);
        assert!(PrivateKey::parse("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END").is_err());
        assert!(PublicKey::parse("not base64 !!!").is_err());
        assert!(PublicKey::parse(MERCHANT_PKCS1).is_err());
    }
}
