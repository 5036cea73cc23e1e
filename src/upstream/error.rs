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
    /// The platform refused for now and asked to be called again later (nothing was applied).
    #[error("retry later ({code})")]
    RetryLater { code: String, message: String },
    #[error("could not seal request: {0}")]
    Seal(EnvelopeError),
}

/// Did the platform act on a state-changing request? Decided here, once, from what the call saw;
/// the write pipeline, the idempotency layer and the money caps all follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Applied {
    /// Certainly not: nothing reached the platform, or it refused the request.
    No,
    /// It did (it answered success, or accepted the order).
    Yes,
    /// It may have: no definitive answer. Settled only by asking the platform.
    Unknown,
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
            Business { .. } | StatusUnknown { .. } | RetryLater { .. } => ErrorSource::Business,
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
            RetryLater { .. } | StatusUnknown { .. } => self.op.is_read(),
            Business { .. } => false,
            Envelope(_) | Decode(_) | Seal(_) => false,
        }
    }

    /// Whether the platform may have acted on this (write) request. Reads never act.
    pub fn applied(&self) -> Applied {
        use UpstreamErrorKind::*;
        if self.op.is_read() {
            return Applied::No;
        }
        match &self.kind {
            // Never left this process, or never reached the platform.
            Connect | Seal(_) | Timeout { sent: false } | Transport { sent: false } => Applied::No,
            // The platform's own refusal, definitive or "retry later".
            Business { .. } | RetryLater { .. } => Applied::No,
            // An HTTP 4xx comes from the edge before any business logic runs (wrong path, auth,
            // throttling); a 5xx may come from a proxy after the platform committed.
            HttpStatus(s) if *s < 500 => Applied::No,
            HttpStatus(_) => Applied::Unknown,
            // Sent, and no definitive answer: an answer lost on the way, the gateway layer's bare
            // `{"statusCode":500}`, a 2xx that is not an envelope, or `success:true` with a result we
            // cannot read (the order exists; we just cannot read it).
            Timeout { sent: true } | Transport { sent: true } | NonStandard { .. } | BadResponse => Applied::Unknown,
            StatusUnknown { .. } | Envelope(_) | Decode(_) => Applied::Unknown,
        }
    }

    /// The platform asked to be called again later: a refusal that is not a final answer.
    pub fn is_retry_later(&self) -> bool {
        matches!(self.kind, UpstreamErrorKind::RetryLater { .. })
    }

    /// The vendor's error code, when it gave one.
    pub fn upstream_code(&self) -> Option<&str> {
        match &self.kind {
            UpstreamErrorKind::Business { code, .. }
            | UpstreamErrorKind::StatusUnknown { code, .. }
            | UpstreamErrorKind::RetryLater { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn upstream_message(&self) -> Option<&str> {
        match &self.kind {
            UpstreamErrorKind::Business { message, .. }
            | UpstreamErrorKind::StatusUnknown { message, .. }
            | UpstreamErrorKind::RetryLater { message, .. } => Some(message),
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
    fn a_write_counts_as_applied_unless_the_platform_certainly_did_not_act() {
        let w = |kind| UpstreamError::new(Operation::CardApply, kind).applied();
        assert_eq!(w(UpstreamErrorKind::Timeout { sent: true }), Applied::Unknown);
        assert_eq!(w(UpstreamErrorKind::Timeout { sent: false }), Applied::No);
        assert_eq!(w(UpstreamErrorKind::Connect), Applied::No);
        assert_eq!(
            w(UpstreamErrorKind::StatusUnknown { code: "140001".into(), message: String::new() }),
            Applied::Unknown
        );
        assert_eq!(w(UpstreamErrorKind::Business { code: "110005".into(), message: String::new() }), Applied::No);
        assert_eq!(w(UpstreamErrorKind::RetryLater { code: "130001".into(), message: String::new() }), Applied::No);
        assert_eq!(w(UpstreamErrorKind::HttpStatus(404)), Applied::No);
        assert_eq!(w(UpstreamErrorKind::HttpStatus(502)), Applied::Unknown);
        assert_eq!(w(UpstreamErrorKind::Decode("x".into())), Applied::Unknown);
        assert_eq!(
            UpstreamError::new(Operation::CardInfo, UpstreamErrorKind::Timeout { sent: true }).applied(),
            Applied::No
        );
    }

    #[test]
    fn a_bare_status_code_answer_or_a_non_envelope_2xx_may_have_been_applied() {
        let w = |kind| UpstreamError::new(Operation::DptWithdraw, kind).applied();
        assert_eq!(w(UpstreamErrorKind::NonStandard { status_code: Some(500) }), Applied::Unknown);
        assert_eq!(w(UpstreamErrorKind::BadResponse), Applied::Unknown);
    }
}
