//! Business refusals in the vendor's own codes (docs/platform.md §8). Messages name fields and objects,
//! never values, so no card data can reach an answer or a log line.

use serde::{Deserialize, Serialize};

/// The error codes the simulator answers with.
pub mod codes {
    /// Parameter validation failed.
    pub const VALIDATION: &str = "110001";
    /// Card or group status does not allow the operation.
    pub const STATUS_FORBIDS: &str = "110004";
    /// Insufficient merchant account balance.
    pub const INSUFFICIENT_ACCOUNT: &str = "110005";
    /// Insufficient card or group balance.
    pub const INSUFFICIENT_CARD: &str = "110006";
    /// Cardholder not registered.
    pub const HOLDER_NOT_REGISTERED: &str = "110007";
    /// Limit below the amount already used.
    pub const LIMIT_BELOW_USED: &str = "110008";
    /// Card apply without a cardholder where one is required (SEEN-CLIENT+RESULT).
    pub const HOLDER_REQUIRED: &str = "1200011";
    /// Query result set is empty.
    pub const NOT_FOUND: &str = "120001";
    /// Order status unknown (the configured first `status_unknown_codes` entry is used on the wire).
    pub const STATUS_UNKNOWN: &str = "140001";
    /// "403 forbidden" (SEEN C2), answered for a foreign `userNo`.
    pub const FORBIDDEN: &str = "1200030";
}

/// A business refusal: `success: false` with `errorCode` and `errorMsg`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimError {
    pub code: String,
    pub message: String,
}

impl SimError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { code: code.into(), message: message.into() }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(codes::VALIDATION, message)
    }

    pub fn status_forbids(message: impl Into<String>) -> Self {
        Self::new(codes::STATUS_FORBIDS, message)
    }

    pub fn insufficient_account(currency: &str) -> Self {
        Self::new(codes::INSUFFICIENT_ACCOUNT, format!("insufficient account balance ({currency})"))
    }

    pub fn insufficient_card(what: &str) -> Self {
        Self::new(codes::INSUFFICIENT_CARD, format!("insufficient {what} balance"))
    }

    /// A card apply without `cardUserId` where one is required (docs/platform.md §5.7: 1200011 on production).
    pub fn holder_required() -> Self {
        Self::new(codes::HOLDER_REQUIRED, "cardUserId is required for this card")
    }

    pub fn holder_not_registered() -> Self {
        Self::new(codes::HOLDER_NOT_REGISTERED, "card applicant not registered")
    }

    pub fn limit_below_used() -> Self {
        Self::new(codes::LIMIT_BELOW_USED, "limit cannot be lower than the amount already used")
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(codes::NOT_FOUND, format!("{what} not found"))
    }

    pub fn forbidden() -> Self {
        Self::new(codes::FORBIDDEN, "403 forbidden")
    }
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code, self.message)
    }
}

impl std::error::Error for SimError {}
