use thiserror::Error;

/// Why a ciphertext could not be opened or a plaintext could not be sealed.
///
/// Messages never contain key material or payload bytes.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum EnvelopeError {
    #[error("ciphertext is not valid hex")]
    Hex,
    #[error("ciphertext length {len} bytes is not a positive multiple of the {block}-byte RSA block")]
    BlockLength { len: usize, block: usize },
    #[error("RSA block {index} failed PKCS#1 v1.5 unpadding (wrong key or tampered ciphertext)")]
    Padding { index: usize },
    #[error("decrypted payload is not valid base64")]
    Base64,
    #[error("decoded payload is not valid UTF-8")]
    Utf8,
    #[error("decoded payload is not valid JSON: {0}")]
    Json(String),
    #[error("RSA operation failed while sealing block {index}")]
    Seal { index: usize },
}
