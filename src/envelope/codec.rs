//! Seal and open, block by block, exactly as the vendor's Java sample does.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use base64::Engine as _;
use openssl::rsa::Padding;
use serde::{Serialize, de::DeserializeOwned};

use super::{EnvelopeError, PrivateKey, PublicKey};

/// PKCS#1 v1.5 overhead: a k-byte block carries at most k − 11 bytes of plaintext.
const PKCS1_OVERHEAD: usize = 11;

/// RSA blocks this process has sealed (private-key operations) and opened (public-key operations):
/// the cost floor a benchmark computes per request (`card_gateway_envelope_rsa_blocks_total`).
static SEALED_BLOCKS: AtomicU64 = AtomicU64::new(0);
static OPENED_BLOCKS: AtomicU64 = AtomicU64::new(0);

/// `(sealed, opened)` RSA blocks since the process started.
pub fn rsa_blocks() -> (u64, u64) {
    (SEALED_BLOCKS.load(Ordering::Relaxed), OPENED_BLOCKS.load(Ordering::Relaxed))
}

/// One side of the envelope: our private key seals what we send, the peer's public key opens
/// what we receive. Cheap to clone.
#[derive(Clone, Debug)]
pub struct EnvelopeCodec {
    ours: Arc<PrivateKey>,
    theirs: Arc<PublicKey>,
}

impl EnvelopeCodec {
    pub fn new(ours: PrivateKey, theirs: PublicKey) -> Self {
        Self { ours: Arc::new(ours), theirs: Arc::new(theirs) }
    }

    /// The key that opens what we seal (give it to the peer).
    pub fn our_public_key(&self) -> Option<PublicKey> {
        self.ours.public_key().ok()
    }

    pub fn their_public_key(&self) -> &PublicKey {
        &self.theirs
    }

    /// Seals raw JSON bytes: base64 → blocks → private-key encrypt → lowercase hex.
    pub fn seal_bytes(&self, json: &[u8]) -> Result<String, EnvelopeError> {
        let out = self.seal_blocks(json);
        if let Ok(hex) = &out {
            SEALED_BLOCKS.fetch_add((hex.len() / (self.ours.size() * 2)) as u64, Ordering::Relaxed);
        }
        out
    }

    fn seal_blocks(&self, json: &[u8]) -> Result<String, EnvelopeError> {
        let b64 = base64::engine::general_purpose::STANDARD.encode(json);
        let k = self.ours.size();
        let chunk = k - PKCS1_OVERHEAD;
        let blocks = b64.len().div_ceil(chunk).max(1);
        let mut hex_out = String::with_capacity(blocks * k * 2);
        let mut block = vec![0u8; k];
        for (index, plain) in b64.as_bytes().chunks(chunk).enumerate() {
            let n = self
                .ours
                .rsa()
                .private_encrypt(plain, &mut block, Padding::PKCS1)
                .map_err(|_| EnvelopeError::Seal { index })?;
            hex_out.push_str(&hex::encode(&block[..n]));
        }
        Ok(hex_out)
    }

    /// Seals a serialisable value as JSON.
    pub fn seal<T: Serialize + ?Sized>(&self, value: &T) -> Result<String, EnvelopeError> {
        let json = serde_json::to_vec(value).map_err(|e| EnvelopeError::Json(e.to_string()))?;
        self.seal_bytes(&json)
    }

    /// Opens hex ciphertext into the JSON text it carries (checked UTF-8, not yet parsed).
    pub fn open_bytes(&self, hex_text: &str) -> Result<Vec<u8>, EnvelopeError> {
        let cipher = hex::decode(hex_text.trim()).map_err(|_| EnvelopeError::Hex)?;
        let k = self.theirs.size();
        if cipher.is_empty() || cipher.len() % k != 0 {
            return Err(EnvelopeError::BlockLength { len: cipher.len(), block: k });
        }
        let mut b64 = Vec::with_capacity(cipher.len());
        let mut block = vec![0u8; k];
        OPENED_BLOCKS.fetch_add((cipher.len() / k) as u64, Ordering::Relaxed);
        for (index, c) in cipher.chunks(k).enumerate() {
            let n = self
                .theirs
                .rsa()
                .public_decrypt(c, &mut block, Padding::PKCS1)
                .map_err(|_| EnvelopeError::Padding { index })?;
            b64.extend_from_slice(&block[..n]);
        }
        // Some Java base64 encoders wrap lines; the vendor's own sample strips CR/LF.
        b64.retain(|b| *b != b'\r' && *b != b'\n');
        let json = base64::engine::general_purpose::STANDARD.decode(&b64).map_err(|_| EnvelopeError::Base64)?;
        if std::str::from_utf8(&json).is_err() {
            return Err(EnvelopeError::Utf8);
        }
        Ok(json)
    }

    /// Opens hex ciphertext and parses the JSON it carries.
    pub fn open<T: DeserializeOwned>(&self, hex_text: &str) -> Result<T, EnvelopeError> {
        let json = self.open_bytes(hex_text)?;
        serde_json::from_slice(&json).map_err(|e| EnvelopeError::Json(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn keys() -> (PrivateKey, PrivateKey) {
        (
            PrivateKey::parse(include_str!("../../config/dev-keys/merchant_private.pem")).unwrap(),
            PrivateKey::parse(include_str!("../../config/dev-keys/platform_private.pem")).unwrap(),
        )
    }

    /// (merchant side, platform side)
    fn pair() -> (EnvelopeCodec, EnvelopeCodec) {
        let (m, p) = keys();
        let m_pub = m.public_key().unwrap();
        let p_pub = p.public_key().unwrap();
        (EnvelopeCodec::new(m, p_pub), EnvelopeCodec::new(p, m_pub))
    }

    #[test]
    fn sealed_request_opens_on_the_platform_side() {
        let (merchant, platform) = pair();
        let v = json!({"userReqNo": "r-1", "amount": 12.5, "name": "Zoë"});
        let hex = merchant.seal(&v).unwrap();
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_eq!(hex.len() % 256, 0);
        let back: serde_json::Value = platform.open(&hex).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn blocks_are_117_plaintext_bytes_for_rsa_1024() {
        let (merchant, _) = pair();
        // 117 base64 chars fit one block, 118 need two. base64 of 87 bytes = 116 chars, 88 → 120.
        assert_eq!(merchant.seal_bytes(&[b'a'; 87]).unwrap().len(), 256);
        assert_eq!(merchant.seal_bytes(&[b'a'; 88]).unwrap().len(), 512);
    }

    #[test]
    fn uppercase_hex_and_surrounding_whitespace_are_accepted() {
        let (merchant, platform) = pair();
        let hex = merchant.seal(&json!({"a": 1})).unwrap().to_uppercase();
        let back: serde_json::Value = platform.open(&format!(" {hex}\n")).unwrap();
        assert_eq!(back, json!({"a": 1}));
    }

    #[test]
    fn wrong_key_truncation_and_tampering_are_rejected() {
        let (merchant, platform) = pair();
        let hex = merchant.seal(&json!({"k": "v".repeat(200)})).unwrap();
        // Opening with the wrong public key (merchant's own codec expects the platform key).
        assert!(matches!(merchant.open_bytes(&hex), Err(EnvelopeError::Padding { index: 0 })));
        // Truncated by one block-fragment.
        assert!(matches!(platform.open_bytes(&hex[..hex.len() - 2]), Err(EnvelopeError::BlockLength { .. })));
        // Odd-length / non-hex.
        assert_eq!(platform.open_bytes("abc"), Err(EnvelopeError::Hex));
        assert_eq!(platform.open_bytes("zz"), Err(EnvelopeError::Hex));
        assert!(matches!(platform.open_bytes(""), Err(EnvelopeError::BlockLength { len: 0, .. })));
        // A flipped byte in the second block breaks its padding.
        let mut bytes = hex::decode(&hex).unwrap();
        bytes[130] ^= 0x55;
        assert!(matches!(platform.open_bytes(&hex::encode(bytes)), Err(EnvelopeError::Padding { index: 1 })));
        // Blocks reordered: each opens, the base64 text no longer decodes to the same JSON.
        let (a, b) = hex.split_at(256);
        let swapped = format!("{}{}{}", &b[..256], a, &b[256..]);
        assert!(platform.open::<serde_json::Value>(&swapped).is_err());
    }

    #[test]
    fn non_base64_and_non_json_plaintexts_get_typed_errors() {
        let (merchant, platform) = pair();
        // Seal raw non-base64 bytes by bypassing the base64 step: encrypt "!!!!" directly.
        let mut block = vec![0u8; 128];
        let n = merchant.ours.rsa().private_encrypt(b"!!!!", &mut block, Padding::PKCS1).unwrap();
        assert_eq!(platform.open_bytes(&hex::encode(&block[..n])), Err(EnvelopeError::Base64));
        // base64 of invalid UTF-8.
        let not_utf8 = base64::engine::general_purpose::STANDARD.encode([0xff, 0xfe]);
        let n = merchant.ours.rsa().private_encrypt(not_utf8.as_bytes(), &mut block, Padding::PKCS1).unwrap();
        assert_eq!(platform.open_bytes(&hex::encode(&block[..n])), Err(EnvelopeError::Utf8));
        // Valid UTF-8 that is not JSON.
        let hex = merchant.seal_bytes(b"not json").unwrap();
        assert!(matches!(platform.open::<serde_json::Value>(&hex), Err(EnvelopeError::Json(_))));
    }

    #[test]
    fn line_wrapped_base64_from_java_encoders_is_accepted() {
        let (merchant, platform) = pair();
        let json = br#"{"wrapped":true}"#;
        let b64 = base64::engine::general_purpose::STANDARD.encode(json);
        let wrapped = format!("{}\r\n{}", &b64[..8], &b64[8..]);
        let mut block = vec![0u8; 128];
        let n = merchant.ours.rsa().private_encrypt(wrapped.as_bytes(), &mut block, Padding::PKCS1).unwrap();
        assert_eq!(platform.open_bytes(&hex::encode(&block[..n])).unwrap(), json);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn any_json_string_round_trips(s in any::<String>(), n in any::<i64>()) {
            let (merchant, platform) = pair();
            let v = json!({"s": s, "n": n});
            let back: serde_json::Value = platform.open(&merchant.seal(&v).unwrap()).unwrap();
            prop_assert_eq!(back, v);
        }

        #[test]
        fn hostile_hex_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let (_, platform) = pair();
            let _ = platform.open_bytes(&hex::encode(&bytes));
            let _ = platform.open_bytes(&String::from_utf8_lossy(&bytes));
        }

        /// What passes the hex and block-length checks and reaches RSA and base64: whole blocks of
        /// random bytes (refused: their padding is not PKCS#1), genuine ciphertext of arbitrary
        /// plaintext (a typed error unless it happens to be base64 of UTF-8) and sealed arbitrary
        /// text (opens to exactly it; parsing it is JSON or a `Json` error). Never a panic.
        #[test]
        fn block_aligned_garbage_and_sealed_junk_get_typed_errors_never_a_panic(
            blocks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 128), 1..4),
            plain in proptest::collection::vec(any::<u8>(), 0..117),
            text in any::<String>(),
        ) {
            let (merchant, platform) = pair();
            let garbage = hex::encode(blocks.concat());
            prop_assert!(platform.open_bytes(&garbage).is_err());
            prop_assert!(platform.open::<serde_json::Value>(&garbage).is_err());

            let mut block = vec![0u8; 128];
            if let Ok(n) = merchant.ours.rsa().private_encrypt(&plain, &mut block, Padding::PKCS1) {
                let cipher = hex::encode(&block[..n]);
                match platform.open_bytes(&cipher) {
                    Ok(json) => prop_assert!(std::str::from_utf8(&json).is_ok()),
                    Err(e) => prop_assert!(matches!(e, EnvelopeError::Base64 | EnvelopeError::Utf8), "{e:?}"),
                }
                let _ = platform.open::<serde_json::Value>(&cipher);
            }

            // (Sealing nothing yields no blocks, which nothing opens; every payload is JSON, never empty.)
            let text = if text.is_empty() { "\"\"".to_owned() } else { text };
            let sealed = merchant.seal_bytes(text.as_bytes());
            prop_assert!(sealed.is_ok());
            let sealed = sealed.unwrap_or_default();
            prop_assert_eq!(platform.open_bytes(&sealed), Ok(text.as_bytes().to_vec()));
            match platform.open::<serde_json::Value>(&sealed) {
                Ok(_) | Err(EnvelopeError::Json(_)) => {}
                Err(e) => prop_assert!(false, "{e:?}"),
            }
        }

        /// Key material from configuration or the upstream facts file: any text, bare or wrapped in
        /// PEM armour, parses or is refused, never a panic.
        #[test]
        fn arbitrary_key_text_is_refused_never_a_panic(text in any::<String>(), bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
            for candidate in [
                text.clone(),
                b64.clone(),
                format!("-----BEGIN PUBLIC KEY-----\n{b64}\n-----END PUBLIC KEY-----"),
                format!("-----BEGIN RSA PRIVATE KEY-----\n{text}\n-----END RSA PRIVATE KEY-----"),
            ] {
                prop_assert!(PublicKey::parse(&candidate).is_err());
                prop_assert!(PrivateKey::parse(&candidate).is_err());
            }
        }
    }
}
