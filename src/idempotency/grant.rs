//! What the idempotency layer hands the handler once it holds a request's key: the parsed key and
//! the request's fingerprint, and the answers for a missing or malformed key.

use crate::error::ApiError;

/// Set in request extensions by the idempotency middleware once the key is parsed and the request
/// fingerprinted (and, with the store enabled, its lease held).
#[derive(Debug, Clone)]
pub struct IdempotencyGrant {
    pub key: String,
    /// Hex HMAC fingerprint of the request.
    pub fingerprint: String,
    /// An earlier attempt with this key ended with an unknown outcome (logged; the operation's own
    /// record says what to do).
    pub recovering: bool,
    /// The idempotency layer stores this request's `Final` answer together with the settlement of its
    /// operation when the response carries a `SettleWithAnswer` (one store step for both). Set only
    /// when the store makes that one round trip (`IdempotencyStore::settles_in_one_step`).
    pub settles_with_answer: bool,
}

pub fn missing_key() -> ApiError {
    ApiError::bad_request("idempotency_key_missing", "state-changing requests need an Idempotency-Key header")
        .with_field("header.Idempotency-Key", "is required")
}

pub fn bad_key(why: &str) -> ApiError {
    ApiError::bad_request("idempotency_key_invalid", format!("the Idempotency-Key header is invalid: {why}"))
        .with_field("header.Idempotency-Key", why)
}
