//! Programmable failures, per operation and for webhook delivery, each armed for a number of uses.

use std::collections::{BTreeMap, VecDeque};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::upstream::Operation;

/// What goes wrong with one request. Faults marked "commits" let the operation take effect first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Wait `ms` before handling the request normally.
    Latency { ms: u64 },
    /// Never answer (until the simulator shuts down). Nothing is committed.
    Hang,
    /// Answer this HTTP status (e.g. 502) with a plain-text body. Nothing is committed.
    HttpStatus { status: u16 },
    /// Refuse with this business error. Nothing is committed.
    Business { code: String, message: String },
    /// Commits, then answers the "order status unknown" code (140001).
    StatusUnknown,
    /// Commits, then waits `ms` before answering normally (the client times out after the commit).
    CommitThenDelay { ms: u64 },
    /// Commits, then answers `success: true` with a `result` that is not valid ciphertext.
    GarbledResult,
    /// Commits, then seals `result` with a key the merchant does not know.
    WrongKey,
    /// Answers the gateway layer's bare `{"async":false,"statusCode":500}`. Nothing is committed.
    NonStandard,
    /// Accepts an asynchronous operation, then completes the order as failed with this error
    /// (no money moves). On a synchronous operation it refuses like `Business`.
    FailAsync { code: String, message: String },
}

impl FaultKind {
    /// Stable snake_case name (the control API's `kind`), for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Latency { .. } => "latency",
            Self::Hang => "hang",
            Self::HttpStatus { .. } => "http_status",
            Self::Business { .. } => "business",
            Self::StatusUnknown => "status_unknown",
            Self::CommitThenDelay { .. } => "commit_then_delay",
            Self::GarbledResult => "garbled_result",
            Self::WrongKey => "wrong_key",
            Self::NonStandard => "non_standard",
            Self::FailAsync { .. } => "fail_async",
        }
    }

    /// Whether the operation takes effect before the fault shows.
    pub fn commits(&self) -> bool {
        matches!(
            self,
            Self::Latency { .. }
                | Self::StatusUnknown
                | Self::CommitThenDelay { .. }
                | Self::GarbledResult
                | Self::WrongKey
                | Self::FailAsync { .. }
        )
    }
}

fn one() -> u32 {
    1
}

/// A fault armed for `times` requests (0 = until cleared). JSON: `{"kind": "hang", "times": 1}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    #[serde(flatten)]
    pub kind: FaultKind,
    #[serde(default = "one")]
    pub times: u32,
}

impl Fault {
    /// Armed for the next request only.
    pub fn once(kind: FaultKind) -> Self {
        Self { kind, times: 1 }
    }

    /// Armed for the next `n` requests; `n = 0` means until cleared.
    pub fn times(kind: FaultKind, n: u32) -> Self {
        Self { kind, times: n }
    }

    /// Armed until cleared.
    pub fn always(kind: FaultKind) -> Self {
        Self { kind, times: 0 }
    }
}

/// What goes wrong with webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WebhookFaultKind {
    /// Deliver each webhook `copies` times, concurrently (each copy retried on its own).
    Duplicate { copies: u32 },
    /// Hold a webhook back until the next one has been delivered (or `hold_ms` passed), so two
    /// consecutive webhooks arrive swapped.
    OutOfOrder {
        #[serde(default = "default_hold_ms")]
        hold_ms: u64,
    },
}

fn default_hold_ms() -> u64 {
    1000
}

/// A webhook fault armed for `times` webhooks (0 = until cleared).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookFault {
    #[serde(flatten)]
    pub kind: WebhookFaultKind,
    #[serde(default = "one")]
    pub times: u32,
}

/// The armed faults. Several faults on one operation apply one after the other, in arming order.
#[derive(Debug, Default)]
pub(crate) struct FaultTable {
    ops: Mutex<BTreeMap<Operation, VecDeque<Fault>>>,
    webhooks: Mutex<VecDeque<WebhookFault>>,
}

/// A snapshot of the armed faults (control API `GET /_sim/faults`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ArmedFaults {
    pub operations: BTreeMap<Operation, Vec<Fault>>,
    pub webhooks: Vec<WebhookFault>,
}

fn take_from<T: Clone>(queue: &mut VecDeque<T>, times: fn(&mut T) -> &mut u32) -> Option<T> {
    let front = queue.front_mut()?;
    let left = times(front);
    match *left {
        0 => Some(front.clone()),
        1 => queue.pop_front(),
        _ => {
            *left -= 1;
            Some(front.clone())
        }
    }
}

impl FaultTable {
    pub fn inject(&self, op: Operation, fault: Fault) {
        self.ops.lock().entry(op).or_default().push_back(fault);
    }

    pub fn inject_webhook(&self, fault: WebhookFault) {
        self.webhooks.lock().push_back(fault);
    }

    pub fn clear(&self) {
        self.ops.lock().clear();
        self.webhooks.lock().clear();
    }

    /// Uses up one request's worth of the first fault armed on `op`.
    pub fn take(&self, op: Operation) -> Option<FaultKind> {
        let mut ops = self.ops.lock();
        let queue = ops.get_mut(&op)?;
        let fault = take_from(queue, |f| &mut f.times).map(|f| f.kind);
        if queue.is_empty() {
            ops.remove(&op);
        }
        fault
    }

    /// Uses up one webhook's worth of the first armed webhook fault.
    pub fn take_webhook(&self) -> Option<WebhookFaultKind> {
        take_from(&mut self.webhooks.lock(), |f| &mut f.times).map(|f| f.kind)
    }

    pub fn armed(&self) -> ArmedFaults {
        ArmedFaults {
            operations: self.ops.lock().iter().map(|(op, q)| (*op, q.iter().cloned().collect())).collect(),
            webhooks: self.webhooks.lock().iter().cloned().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_used_up_in_order_and_zero_times_lasts_until_cleared() {
        let t = FaultTable::default();
        t.inject(Operation::CardApply, Fault::times(FaultKind::Hang, 2));
        t.inject(Operation::CardApply, Fault::always(FaultKind::NonStandard));
        assert_eq!(t.take(Operation::CardApply), Some(FaultKind::Hang));
        assert_eq!(t.take(Operation::CardApply), Some(FaultKind::Hang));
        for _ in 0..3 {
            assert_eq!(t.take(Operation::CardApply), Some(FaultKind::NonStandard));
        }
        assert_eq!(t.take(Operation::CardInfo), None);
        t.clear();
        assert_eq!(t.take(Operation::CardApply), None);
    }

    #[test]
    fn names_match_the_control_api_kind_tags() {
        let kinds = [
            FaultKind::Latency { ms: 1 },
            FaultKind::Hang,
            FaultKind::HttpStatus { status: 502 },
            FaultKind::Business { code: "1".into(), message: String::new() },
            FaultKind::StatusUnknown,
            FaultKind::CommitThenDelay { ms: 1 },
            FaultKind::GarbledResult,
            FaultKind::WrongKey,
            FaultKind::NonStandard,
            FaultKind::FailAsync { code: "1".into(), message: String::new() },
        ];
        for k in kinds {
            assert_eq!(serde_json::to_value(&k).unwrap()["kind"], k.name());
        }
        assert!(!FaultKind::Hang.commits() && FaultKind::WrongKey.commits());
    }

    #[test]
    fn faults_parse_from_control_json_with_default_times() {
        let f: Fault = serde_json::from_str(r#"{"kind":"business","code":"110005","message":"no money"}"#).unwrap();
        assert_eq!(f.times, 1);
        assert!(matches!(f.kind, FaultKind::Business { ref code, .. } if code == "110005"));
        let f: Fault = serde_json::from_str(r#"{"kind":"latency","ms":50,"times":0}"#).unwrap();
        assert_eq!(f, Fault::always(FaultKind::Latency { ms: 50 }));
        let w: WebhookFault = serde_json::from_str(r#"{"kind":"out_of_order"}"#).unwrap();
        assert_eq!(w.kind, WebhookFaultKind::OutOfOrder { hold_ms: 1000 });
        let w: WebhookFault = serde_json::from_str(r#"{"kind":"duplicate","copies":3,"times":2}"#).unwrap();
        assert_eq!(w.times, 2);
    }
}
