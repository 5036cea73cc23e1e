//! What went wrong talking to the upstream, where, and whether trying again is safe
//! (after pingora's `ErrorSource` / `RetryType`).

use thiserror::Error;

use super::ops::Operation;
use crate::envelope::EnvelopeError;

/// Where a failure came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorSource {
    /// Connecting, sending or receiving bytes.
    Transport,
    /// No answer within the deadline.
    Timeout,
    /// An answer we could not open or understand (bad envelope, bad JSON, non-standard body, HTTP error).
    Envelope,
    /// The upstream understood and refused (`success: false`).
    Business,
    /// Our own side (sealing the request).
    Internal,
}

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum UpstreamErrorKind {
    #[error("could not connect")]
    Connect,
    #[error("no answer within the deadline")]
    Timeout { sent: bool },
    #[error("transport failure")]
    Transport { sent: bool },
    #[error("HTTP status {0}")]
    HttpStatus(u16),
    #[error("non-standard error body (statusCode {status_code:?})")]
    NonStandard { status_code: Option<i64> },
    #[error("answer is not a response envelope")]
    BadResponse,
    #[error("could not open result: {0}")]
    Envelope(EnvelopeError),
    #[error("result does not have the expected shape: {0}")]
    Decode(String),
    #[error("business refusal {code}")]
    Business { code: String, message: String },
    #[error("order status unknown ({code})")]
    StatusUnknown { code: String, message: String },
    #[error("could not seal request: {0}")]
    Seal(EnvelopeError),
}

/// A failed upstream call.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("upstream {op}: {kind}")]
pub struct UpstreamError {
    pub op: Operation,
    pub kind: UpstreamErrorKind,
}

impl UpstreamError {
    pub fn new(op: Operation, kind: UpstreamErrorKind) -> Self {
        Self { op, kind }
    }

    pub fn source_kind(&self) -> ErrorSource {
        use UpstreamErrorKind::*;
        match self.kind {
            Connect | Transport { .. } => ErrorSource::Transport,
            Timeout { .. } => ErrorSource::Timeout,
            HttpStatus(_) | NonStandard { .. } | BadResponse | Envelope(_) | Decode(_) => ErrorSource::Envelope,
            Business { .. } | StatusUnknown { .. } => ErrorSource::Business,
            Seal(_) => ErrorSource::Internal,
        }
    }

    /// Sending the same request again cannot cause a second effect: nothing reached the upstream,
    /// or the operation is a read. Writes are never retried on anything else.
    pub fn retry_safe(&self) -> bool {
        use UpstreamErrorKind::*;
        match &self.kind {
            Connect => true,
            Timeout { .. } | Transport { .. } | HttpStatus(_) | NonStandard { .. } | BadResponse => self.op.is_read(),
            Business { code, .. } => self.op.is_read() && code == "130001",
            StatusUnknown { .. } => self.op.is_read(),
            Envelope(_) | Decode(_) | Seal(_) => false,
        }
    }

    /// A write may have committed upstream although we have no definitive answer: the idempotency
    /// layer must ask (order inquiry by `userReqNo`) before it may send again.
    pub fn outcome_unknown(&self) -> bool {
        use UpstreamErrorKind::*;
        if self.op.is_read() {
            return false;
        }
        match &self.kind {
            Timeout { sent } | Transport { sent } => *sent,
            // A 5xx may come from a proxy after the platform committed; we cannot tell.
            HttpStatus(s) => *s >= 500,
            StatusUnknown { .. } => true,
            // success:true but an unreadable result: the order exists, we just cannot read it.
            Envelope(_) | Decode(_) => true,
            Connect | NonStandard { .. } | BadResponse | Business { .. } | Seal(_) => false,
        }
    }

    /// The vendor's error code, when it gave one.
    pub fn upstream_code(&self) -> Option<&str> {
        match &self.kind {
            UpstreamErrorKind::Business { code, .. } | UpstreamErrorKind::StatusUnknown { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn upstream_message(&self) -> Option<&str> {
        match &self.kind {
            UpstreamErrorKind::Business { message, .. } | UpstreamErrorKind::StatusUnknown { message, .. } => {
                Some(message)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_only_retry_safe_when_nothing_was_sent() {
        let w = |kind| UpstreamError::new(Operation::CardRecharge, kind);
        assert!(w(UpstreamErrorKind::Connect).retry_safe());
        assert!(!w(UpstreamErrorKind::Timeout { sent: true }).retry_safe());
        assert!(!w(UpstreamErrorKind::HttpStatus(503)).retry_safe());
        let r = |kind| UpstreamError::new(Operation::CardInfo, kind);
        assert!(r(UpstreamErrorKind::Timeout { sent: true }).retry_safe());
        assert!(r(UpstreamErrorKind::HttpStatus(503)).retry_safe());
        assert!(!r(UpstreamErrorKind::Business { code: "110001".into(), message: String::new() }).retry_safe());
    }

    #[test]
    fn unknown_outcomes_are_flagged_for_writes_only() {
        let w = |kind| UpstreamError::new(Operation::CardApply, kind);
        assert!(w(UpstreamErrorKind::Timeout { sent: true }).outcome_unknown());
        assert!(!w(UpstreamErrorKind::Timeout { sent: false }).outcome_unknown());
        assert!(
            w(UpstreamErrorKind::StatusUnknown { code: "140001".into(), message: String::new() }).outcome_unknown()
        );
        assert!(!w(UpstreamErrorKind::Business { code: "110005".into(), message: String::new() }).outcome_unknown());
        assert!(!UpstreamError::new(Operation::CardInfo, UpstreamErrorKind::Timeout { sent: true }).outcome_unknown());
    }
}
