//! The public event: what a tenant reads at `/v1/events`, receives on the SSE stream and at its
//! endpoints. One per platform notification, with a stable id derived from the notification's own
//! identifiers (the platform's retries and duplicates become one event), and the `EventStore` contract
//! of the per-tenant log and the operators' dead-letter list.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{storage::StoreError, tenancy::TenantId};

/// Every public event type.
pub const EVENT_TYPES: [&str; 8] = [
    "card.transaction",
    "card.operation.succeeded",
    "card.operation.failed",
    "card.fee",
    "card.3ds_otp",
    "crypto.payment",
    "physical_card.activation_code",
    "physical_card.activation",
];

/// An event stream position (`Last-Event-ID`, `last_event_id`): `<ms>-<seq>`, the event log's own
/// ids. Nineteen digits always fit the u64 each part is.
pub static POSITION: std::sync::LazyLock<crate::http::rules::Rule> = std::sync::LazyLock::new(|| {
    crate::http::rules::Rule::new(r"^[0-9]{1,19}-[0-9]{1,19}$", "is not an event stream position")
});

/// One event type (`?type=`, endpoint `event_types` items).
pub static EVENT_TYPE: std::sync::LazyLock<crate::http::rules::Rule> = std::sync::LazyLock::new(|| {
    let names = EVENT_TYPES.map(|t| t.replace('.', "\\.")).join("|");
    crate::http::rules::Rule::new(format!("^({names})$"), "is not an event type")
});

/// `?types=`: a comma-separated list of [`EVENT_TYPES`] (spaces around a name allowed).
pub static TYPE_LIST: std::sync::LazyLock<crate::http::rules::Rule> = std::sync::LazyLock::new(|| {
    let one = format!("\\s*({})\\s*", EVENT_TYPES.map(|t| t.replace('.', "\\.")).join("|"));
    crate::http::rules::Rule::new(format!("^{one}(,{one})*$"), "lists an unknown event type").lengths(1, 1024)
});

/// What an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventObject {
    /// `card`, `card_group`, `operation`, `crypto_order`.
    #[schema(example = "card")]
    pub kind: String,
    #[schema(example = "2611251200000001234")]
    pub id: String,
}

/// A public event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "evt_6f1c0a9d2b7e4c3a8f5d1e2b", "type": "card.transaction",
    "created_at": "2026-11-25T12:00:01.123Z", "occurred_at": "2026-11-25T12:00:00Z",
    "object": {"kind": "card", "id": "2611251200000001234"},
    "data": {"card_id": "2611251200000001234", "record_no": "T1", "status": "succeeded",
             "amount": {"amount": "12.50", "currency": "USD"}}
}))]
pub struct Event {
    /// Stable: derived from the type and the platform's identifiers. Also the `webhook-id` of deliveries.
    pub id: String,
    /// One of `card.transaction`, `card.operation.succeeded`, `card.operation.failed`, `card.fee`,
    /// `card.3ds_otp`, `crypto.payment`, `physical_card.activation_code`, `physical_card.activation`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When the gateway recorded it.
    pub created_at: DateTime<Utc>,
    /// When it happened at the platform, when the platform says.
    pub occurred_at: Option<DateTime<Utc>>,
    pub object: EventObject,
    /// Type-specific, snake_case; money as decimal strings.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl Event {
    /// Merges short-lived secret fields (an OTP, an activation code) into `data`.
    pub fn with_secret(mut self, secret: Option<&serde_json::Value>) -> Self {
        if let (Some(serde_json::Value::Object(extra)), serde_json::Value::Object(data)) = (secret, &mut self.data) {
            for (k, v) in extra {
                data.insert(k.clone(), v.clone());
            }
        }
        self
    }
}

/// An event at its position in a tenant's log. Positions (`<ms>-<seq>`) order the log; SSE sends them as
/// `id:` so `Last-Event-ID` resumes after them.
#[derive(Debug, Clone, PartialEq)]
pub struct Logged {
    pub position: String,
    pub event: Event,
    /// Secret fields still readable (within `secret_ttl_s`), merged by [`Logged::public`].
    pub secret: Option<serde_json::Value>,
}

impl Logged {
    /// The event with its one-time codes (outbound deliveries, and readers with `events:secrets`).
    pub fn public(&self) -> Event {
        self.event.clone().with_secret(self.secret.as_ref())
    }

    /// The event as a reader of `/v1/events*` sees it: [`Logged::public`] when it holds
    /// `events:secrets`, else every one-time code field is `null` and `data.redacted` is `true`
    /// (only while the code is retained: after `secret_ttl_s` no reader gets it anyway).
    pub fn for_reader(&self, reveal_secrets: bool) -> Event {
        if reveal_secrets {
            return self.public();
        }
        let mut event = self.event.clone();
        if let (Some(serde_json::Value::Object(secret)), serde_json::Value::Object(data)) =
            (self.secret.as_ref(), &mut event.data)
            && !secret.is_empty()
        {
            for k in secret.keys() {
                data.insert(k.clone(), serde_json::Value::Null);
            }
            data.insert(super::event_data::REDACTED_FIELD.to_owned(), serde_json::Value::Bool(true));
        }
        event
    }
}

/// Outcome of an append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub position: String,
    /// `false` when an event with this id was already in the log (nothing written).
    pub new: bool,
}

/// A page of the log, newest first.
#[derive(Debug, Clone, Default)]
pub struct LogPage {
    pub entries: Vec<Logged>,
    /// Position to continue from (exclusive), when more may follow.
    pub next: Option<String>,
}

/// Filters of `GET /v1/events`.
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    /// Only entries strictly older than this position.
    pub before: Option<String>,
    pub limit: usize,
    pub kind: Option<String>,
    pub object_id: Option<String>,
}

/// An event no tenant could be found for, kept for operators (never routed to a guessed tenant).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeadLetter {
    /// The event id (dead letters are de-duplicated on it too).
    pub id: String,
    /// Why it could not be routed: `unknown_card`, `unknown_order`, `unknown_type`, `unsupported_status`, ...
    pub reason: String,
    /// The platform's notification type (`card_transaction`, ...).
    pub webhook_type: String,
    pub received_at: DateTime<Utc>,
    /// The normalised event, without secrets (OTPs and activation codes are never kept here).
    pub event: Event,
}

/// Retention applied on append.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    pub max_age: Duration,
    pub max_len: usize,
    pub secret_ttl: Duration,
    /// How long an appended event's id is remembered (de-duplication), whether or not the event is
    /// still in the log: at least `max_age`, so a notification replayed after its event left the log
    /// is still a duplicate.
    pub dedupe_for: Duration,
}

/// The per-tenant event log and the dead-letter list. Implementations: memory and Redis streams;
/// one contract suite (`contract_tests`) runs on both.
#[async_trait]
pub trait EventStore: Send + Sync + 'static {
    /// Appends `event` unless the tenant's log already has an event with its id (atomic: concurrent
    /// duplicates produce one entry). `secret` is kept beside it for `retention.secret_ttl` only.
    async fn append(
        &self,
        tenant: &TenantId,
        event: &Event,
        secret: Option<&serde_json::Value>,
        retention: &Retention,
    ) -> Result<Appended, StoreError>;

    /// Newest first, filtered by type and/or object id. A filtered page may be short (the scan is
    /// bounded); `next` then says where to continue.
    async fn list(&self, tenant: &TenantId, query: &LogQuery) -> Result<LogPage, StoreError>;

    /// Oldest first, strictly after `after` (`None` = from the start of the retained log).
    async fn read_after(&self, tenant: &TenantId, after: Option<&str>, limit: usize)
    -> Result<Vec<Logged>, StoreError>;

    /// One event by id.
    async fn get(&self, tenant: &TenantId, event_id: &str) -> Result<Option<Logged>, StoreError>;

    /// The newest position of the tenant's log (SSE streams that start "now").
    async fn head(&self, tenant: &TenantId) -> Result<Option<String>, StoreError>;

    /// Records a dead letter unless one with its id exists; `true` when new.
    async fn dead_letter(&self, letter: &DeadLetter, max_len: usize) -> Result<bool, StoreError>;

    /// Dead letters newest first, strictly before `before`.
    async fn dead_letters(
        &self,
        before: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<(String, DeadLetter)>, Option<String>), StoreError>;
}

/// Entries a filtered list reads at most per request before answering with a short page.
pub const LIST_SCAN_BUDGET: usize = 2000;

/// `<ms>-<seq>` → comparable pair (memory backend and cursor validation).
pub fn parse_position(p: &str) -> Option<(u64, u64)> {
    if !POSITION.matches(p) {
        return None;
    }
    let (ms, seq) = p.split_once('-')?;
    Some((ms.parse().ok()?, seq.parse().ok()?))
}
