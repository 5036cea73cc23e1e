//! Shared card groups: one balance, many sub-cards.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{metadata::Metadata, money::Amount};
use crate::{
    config::upstream::UpstreamCodes,
    http::validate::{Validate, Violations},
    upstream::{formats::WireClock, wire::group::GroupInfo},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupStatus {
    Pending,
    Active,
    Frozen,
    Closed,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "2611251200000000777", "status": "active", "currency": "USD", "alias": "marketing",
    "balance": "500.00", "card_count": 3, "created_at": "2026-11-25T12:00:00Z", "metadata": {"team": "ads"}}))]
pub struct CardGroup {
    pub id: String,
    pub status: GroupStatus,
    pub currency: String,
    pub alias: Option<String>,
    /// Shared balance available to the sub-cards.
    pub balance: Amount,
    pub card_count: Option<i64>,
    pub created_at: Option<DateTime<Utc>>,
    /// Your key–value pairs, kept by the gateway (`{}` when none).
    #[serde(default)]
    pub metadata: Metadata,
}

pub fn group_from_wire(g: &GroupInfo, c: &UpstreamCodes, clock: &WireClock) -> CardGroup {
    let status = match g.status.as_deref() {
        Some(s) if s == c.group_status_active => GroupStatus::Active,
        Some(s) if s == c.group_status_frozen => GroupStatus::Frozen,
        Some(s) if s == c.group_status_closed => GroupStatus::Closed,
        _ => GroupStatus::Pending,
    };
    CardGroup {
        id: g.group_id.clone(),
        status,
        currency: g.local_currency.clone(),
        alias: g.group_alias.clone(),
        balance: Amount(g.balance_amt.unwrap_or_default()),
        card_count: g.card_count,
        created_at: g.create_time.as_deref().and_then(|t| clock.parse_datetime(t)),
        metadata: Metadata::default(),
    }
}

/// `POST /v1/card-groups`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"currency": "USD", "amount": "500.00", "alias": "marketing"}))]
pub struct CreateCardGroup {
    pub currency: String,
    /// Initial shared balance, loaded from the merchant account.
    pub amount: Amount,
    #[serde(default)]
    pub alias: Option<String>,
    #[serde(default)]
    pub metadata: Option<Metadata>,
}

impl Validate for CreateCardGroup {
    fn validate(&self, v: &mut Violations) {
        crate::http::rules::CURRENCY.check(v, Some(&self.currency), "#/currency");
        crate::http::rules::positive_within(v, self.amount.value(), 2, "#/amount");
        v.text(self.alias.as_deref(), "#/alias", 64);
        if let Some(m) = &self.metadata {
            m.check(v, "#/metadata");
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SettableGroupStatus {
    Active,
    Frozen,
    Closed,
}

/// `PATCH /v1/card-groups/{id}`: `status` (Shared Card Status Change) and/or `metadata` (the
/// gateway's alone: a metadata-only change makes no platform call).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "frozen"}))]
pub struct UpdateCardGroup {
    #[serde(default)]
    pub status: Option<SettableGroupStatus>,
    /// Keys to set; `""` removes a key; keys not given stay.
    #[serde(default)]
    pub metadata: Option<Metadata>,
}

impl Validate for UpdateCardGroup {
    fn validate(&self, v: &mut Violations) {
        if let Some(m) = &self.metadata {
            m.check(v, "#/metadata");
        }
        v.check(self.status.is_some() || self.metadata.is_some(), "#", "at least one of status, metadata is required");
    }
}
