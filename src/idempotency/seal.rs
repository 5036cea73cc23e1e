//! Stored answers are sealed (ChaCha20-Poly1305) before they reach the idempotency store: a replay
//! needs the body for the record's retention, but a Redis dump or backup must not show cardholder
//! data or anything else a response carried.
//!
//! Sealed form: `MAGIC ‖ 12-byte random nonce ‖ ciphertext ‖ 16-byte tag`. The associated data binds
//! the body to its record (tenant, key, status), so a sealed body moved to another tenant's or key's
//! record does not open. The key is derived from `idempotency.fingerprint_secret` (a separate HMAC
//! domain from fingerprints), so no new secret has to be managed; rotating that secret makes
//! earlier stored answers unreadable (their replay is refused, never guessed).

use ring::{
    aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey},
    rand::{SecureRandom, SystemRandom},
};

use super::fingerprint::Fingerprinter;

/// Marks a sealed body. Records written before sealing existed do not start with it.
const MAGIC: &[u8] = b"cgseal1:";
const KEY_DOMAIN: &[u8] = b"card-gateway/idempotency-record-key/v1";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the stored answer does not open with the current key")]
    Unreadable,
    #[error("no randomness for a nonce")]
    Random,
    #[error("the record key was refused by the cipher")]
    Key,
}

/// Seals and opens stored response bodies.
#[derive(Clone)]
pub struct RecordSeal {
    key: std::sync::Arc<LessSafeKey>,
    rng: SystemRandom,
}

impl std::fmt::Debug for RecordSeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecordSeal(<keyed>)")
    }
}

fn aad(tenant: &str, key: &str, status: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(tenant.len() + key.len() + 26);
    for part in [tenant.as_bytes(), key.as_bytes(), &status.to_be_bytes()] {
        out.extend_from_slice(&(part.len() as u64).to_be_bytes());
        out.extend_from_slice(part);
    }
    out
}

impl RecordSeal {
    pub fn new(fingerprinter: &Fingerprinter) -> Result<Self, SealError> {
        let raw = fingerprinter.derive_key(KEY_DOMAIN);
        // A 32-byte key is exactly what ChaCha20-Poly1305 takes; `new` fails only on a wrong length.
        let unbound = UnboundKey::new(&CHACHA20_POLY1305, &raw).map_err(|_| SealError::Key)?;
        Ok(Self { key: std::sync::Arc::new(LessSafeKey::new(unbound)), rng: SystemRandom::new() })
    }

    pub fn seal(&self, tenant: &str, key: &str, status: u16, body: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| SealError::Random)?;
        let mut out = Vec::with_capacity(MAGIC.len() + NONCE_LEN + body.len() + CHACHA20_POLY1305.tag_len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&nonce);
        let mut sealed = body.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(tenant, key, status)),
                &mut sealed,
            )
            .map_err(|_| SealError::Unreadable)?;
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The body of a stored answer. A record without the marker was written before sealing existed
    /// (it expires within one retention of the upgrade) and is returned as stored.
    pub fn open(&self, tenant: &str, key: &str, status: u16, stored: &[u8]) -> Result<Vec<u8>, SealError> {
        let Some(rest) = stored.strip_prefix(MAGIC) else { return Ok(stored.to_vec()) };
        if rest.len() < NONCE_LEN + CHACHA20_POLY1305.tag_len() {
            return Err(SealError::Unreadable);
        }
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Unreadable)?;
        let mut buf = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad(tenant, key, status)), &mut buf)
            .map_err(|_| SealError::Unreadable)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal() -> RecordSeal {
        RecordSeal::new(&Fingerprinter::new(b"test secret")).unwrap()
    }

    #[test]
    fn sealed_bodies_hide_their_text_and_open_to_the_same_bytes() {
        let s = seal();
        let body = br#"{"email":"ada@example.com","secret":"whsec_abc"}"#;
        let sealed = s.seal("acme", "k1", 201, body).unwrap();
        let text = String::from_utf8_lossy(&sealed);
        assert!(!text.contains("ada@example.com") && !text.contains("whsec_"), "{text}");
        assert_eq!(s.open("acme", "k1", 201, &sealed).unwrap(), body);
        assert_ne!(s.seal("acme", "k1", 201, body).unwrap(), sealed, "fresh nonce each time");
    }

    #[test]
    fn a_sealed_body_opens_only_for_its_own_record_and_key() {
        let s = seal();
        let sealed = s.seal("acme", "k1", 201, b"{}").unwrap();
        assert_eq!(s.open("other", "k1", 201, &sealed), Err(SealError::Unreadable));
        assert_eq!(s.open("acme", "k2", 201, &sealed), Err(SealError::Unreadable));
        assert_eq!(s.open("acme", "k1", 200, &sealed), Err(SealError::Unreadable));
        let rotated = RecordSeal::new(&Fingerprinter::new(b"another secret")).unwrap();
        assert_eq!(rotated.open("acme", "k1", 201, &sealed), Err(SealError::Unreadable));
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert_eq!(s.open("acme", "k1", 201, &tampered), Err(SealError::Unreadable));
        assert_eq!(s.open("acme", "k1", 201, b"cgseal1:short"), Err(SealError::Unreadable));
    }

    #[test]
    fn records_from_before_sealing_replay_as_stored() {
        assert_eq!(seal().open("acme", "k1", 201, b"{\"id\":1}").unwrap(), b"{\"id\":1}");
    }
}
