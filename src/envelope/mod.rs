//! The vendor's RSA envelope, as a pure codec (no I/O).
//!
//! seal: JSON → base64 → (k−11)-byte blocks → RSA PKCS#1 v1.5 *private-key* encryption → lowercase hex.
//! open: hex → k-byte blocks → *public-key* decryption → strip CR/LF → base64 → JSON.
//! With the vendor's RSA-1024 keys k = 128, so blocks are 117 bytes in and 128 bytes out.
//! The gateway seals with the merchant private key and opens with the platform public key; the
//! simulator uses the same codec with the roles swapped.

mod codec;
mod error;
mod keys;

pub use codec::{EnvelopeCodec, rsa_blocks};
pub use error::EnvelopeError;
pub use keys::{KeyError, PrivateKey, PublicKey};
