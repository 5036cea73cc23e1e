//! Operations: the record of every state-changing call, readable at `/v1/operations/{id}`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::Problem;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum OperationKind {
    #[serde(rename = "card.create")]
    CardCreate,
    #[serde(rename = "card.update")]
    CardUpdate,
    #[serde(rename = "card.cancel")]
    CardCancel,
    #[serde(rename = "card.recharge")]
    CardRecharge,
    #[serde(rename = "card.refund")]
    CardRefund,
    #[serde(rename = "card_group.create")]
    CardGroupCreate,
    #[serde(rename = "card_group.update")]
    CardGroupUpdate,
    #[serde(rename = "card_group.recharge")]
    CardGroupRecharge,
    #[serde(rename = "card_group.refund")]
    CardGroupRefund,
    #[serde(rename = "cardholder.create")]
    CardholderCreate,
    #[serde(rename = "cardholder.delete")]
    CardholderDelete,
    #[serde(rename = "physical_card.assign")]
    PhysicalCardAssign,
    #[serde(rename = "physical_card.activate")]
    PhysicalCardActivate,
    #[serde(rename = "physical_card.pin_reset")]
    PhysicalCardPinReset,
    #[serde(rename = "crypto.deposit")]
    CryptoDeposit,
    #[serde(rename = "crypto.withdrawal")]
    CryptoWithdrawal,
    #[serde(rename = "treasury.exchange")]
    TreasuryExchange,
    #[serde(rename = "treasury.crypto_transfer")]
    TreasuryCryptoTransfer,
}

impl OperationKind {
    pub const ALL: [OperationKind; 18] = [
        Self::CardCreate,
        Self::CardUpdate,
        Self::CardCancel,
        Self::CardRecharge,
        Self::CardRefund,
        Self::CardGroupCreate,
        Self::CardGroupUpdate,
        Self::CardGroupRecharge,
        Self::CardGroupRefund,
        Self::CardholderCreate,
        Self::CardholderDelete,
        Self::PhysicalCardAssign,
        Self::PhysicalCardActivate,
        Self::PhysicalCardPinReset,
        Self::CryptoDeposit,
        Self::CryptoWithdrawal,
        Self::TreasuryExchange,
        Self::TreasuryCryptoTransfer,
    ];

    /// The schemas an operation's `result` takes once it succeeded (it is `null` before, after a
    /// failure, and for kinds with no resulting object): what the handlers and `operations::resolve`
    /// put there. The document states it per kind (`Operation` is a `oneOf` keyed by `kind`).
    pub fn result_schemas(self) -> Vec<String> {
        use crate::domain::{
            card::{Card, FundsMovement},
            cardholder::Cardholder,
            crypto::{CryptoDeposit, CryptoWithdrawal},
            group::CardGroup,
            physical::PhysicalCard,
            treasury::Conversion,
        };
        fn names(n: &[std::borrow::Cow<'static, str>]) -> Vec<String> {
            n.iter().map(|c| c.to_string()).collect()
        }
        match self {
            Self::CardCreate | Self::CardUpdate | Self::CardCancel => names(&[Card::name()]),
            // `?expand=card` puts the re-read card there instead of the movement.
            Self::CardRecharge | Self::CardRefund => names(&[FundsMovement::name(), Card::name()]),
            Self::CardGroupCreate | Self::CardGroupUpdate => names(&[CardGroup::name()]),
            Self::CardGroupRecharge | Self::CardGroupRefund => names(&[FundsMovement::name(), CardGroup::name()]),
            Self::CardholderCreate => names(&[Cardholder::name()]),
            Self::PhysicalCardAssign | Self::PhysicalCardActivate => names(&[PhysicalCard::name()]),
            Self::CryptoDeposit => names(&[CryptoDeposit::name()]),
            Self::CryptoWithdrawal => names(&[CryptoWithdrawal::name()]),
            Self::TreasuryExchange | Self::TreasuryCryptoTransfer => names(&[Conversion::name()]),
            Self::CardholderDelete | Self::PhysicalCardPinReset => Vec::new(),
        }
    }

    /// The public name (`card.recharge`), for logs and metric labels.
    pub fn name(self) -> &'static str {
        match self {
            Self::CardCreate => "card.create",
            Self::CardUpdate => "card.update",
            Self::CardCancel => "card.cancel",
            Self::CardRecharge => "card.recharge",
            Self::CardRefund => "card.refund",
            Self::CardGroupCreate => "card_group.create",
            Self::CardGroupUpdate => "card_group.update",
            Self::CardGroupRecharge => "card_group.recharge",
            Self::CardGroupRefund => "card_group.refund",
            Self::CardholderCreate => "cardholder.create",
            Self::CardholderDelete => "cardholder.delete",
            Self::PhysicalCardAssign => "physical_card.assign",
            Self::PhysicalCardActivate => "physical_card.activate",
            Self::PhysicalCardPinReset => "physical_card.pin_reset",
            Self::CryptoDeposit => "crypto.deposit",
            Self::CryptoWithdrawal => "crypto.withdrawal",
            Self::TreasuryExchange => "treasury.exchange",
            Self::TreasuryCryptoTransfer => "treasury.crypto_transfer",
        }
    }

    /// Card operation orders the platform reports by `card_operate` and finds by order inquiry.
    pub fn is_card_order(self) -> bool {
        matches!(
            self,
            Self::CardCreate
                | Self::CardCancel
                | Self::CardRecharge
                | Self::CardRefund
                | Self::CardGroupCreate
                | Self::CardGroupRecharge
                | Self::CardGroupRefund
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OperationStatus {
    /// Accepted; the platform finishes it asynchronously.
    Pending,
    Succeeded,
    Failed,
    /// The platform did not confirm the outcome (timeout, "status unknown"); it is being confirmed.
    /// Reading the operation, or retrying with the same Idempotency-Key, asks the platform.
    Unknown,
}

impl OperationStatus {
    pub fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed)
    }
}

/// What an operation acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OperationTarget {
    /// `card`, `card_group`, `cardholder`, `crypto_order`.
    pub kind: String,
    pub id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "op_3f2a9c0d1e2b3a4f5c6d7e8f", "kind": "card.recharge", "status": "succeeded",
    "user_req_no": "cg1_demo_5f0c2a1b9d8e7f6a5b4c3d2e1f0a9b8c", "upstream_order_id": "2611251200000000042",
    "created_at": "2026-11-25T12:00:00Z", "completed_at": "2026-11-25T12:00:01Z",
    "target": {"kind": "card", "id": "2611251200000001234"},
    "result": {"id": "2611251200000001234", "status": "active", "balance": "125.00"}, "error": null
}))]
pub struct Operation {
    pub id: String,
    pub kind: OperationKind,
    pub status: OperationStatus,
    /// The platform request number (carries the tenant; the platform's de-duplication key).
    pub user_req_no: String,
    pub upstream_order_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub target: Option<OperationTarget>,
    /// The resource once succeeded (e.g. the masked card).
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    /// A problem object once failed.
    pub error: Option<Problem>,
}
