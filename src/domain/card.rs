//! Cards: the public card, its sensitive view, and the create / update / amount bodies.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::money::Amount;
use crate::{
    config::upstream::UpstreamCodes,
    http::{
        rules,
        validate::{Validate, Violations},
    },
    sensitive::{Cvv, Pan, expose},
    upstream::{formats::WireClock, wire::card::CardInfo},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CardStatus {
    Pending,
    Active,
    Frozen,
    Cancelled,
}

impl CardStatus {
    pub fn from_code(code: Option<&str>, c: &UpstreamCodes) -> Self {
        match code {
            Some(x) if x == c.card_status_active => Self::Active,
            Some(x) if x == c.card_status_frozen => Self::Frozen,
            Some(x) if x == c.card_status_cancelled => Self::Cancelled,
            _ => Self::Pending,
        }
    }
}

/// A card as every route but `/sensitive` shows it: masked.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "2611251200000001234", "status": "active", "currency": "USD", "bin": "222929", "last4": "1234",
    "masked_number": "222929******1234", "expiry": "2028-12", "alias": "ads-q3", "label": null,
    "limit": "100.00", "balance": "100.00", "group_id": null, "cardholder_id": null,
    "created_at": "2026-11-25T12:00:00Z"
}))]
pub struct Card {
    pub id: String,
    pub status: CardStatus,
    pub currency: String,
    pub bin: String,
    pub last4: String,
    pub masked_number: String,
    /// `YYYY-MM`.
    pub expiry: Option<String>,
    pub alias: Option<String>,
    pub label: Option<String>,
    pub limit: Amount,
    pub balance: Amount,
    pub group_id: Option<String>,
    pub cardholder_id: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
}

/// `GET /v1/cards/{id}/sensitive`: the card plus its full number and CVV.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SensitiveCard {
    #[serde(flatten)]
    pub card: Card,
    /// Full card number (PAN). Returned only here.
    #[serde(serialize_with = "expose")]
    #[schema(value_type = String, example = "2229290000001234")]
    pub number: Pan,
    /// Card verification value. Returned only here.
    #[serde(serialize_with = "expose")]
    #[schema(value_type = String, example = "123")]
    pub cvv: Cvv,
}

/// Builds the public card from the vendor's card inquiry (PAN reduced to bin/last4/mask here).
pub fn card_from_wire(info: &CardInfo, codes: &UpstreamCodes, clock: &WireClock) -> Card {
    let (bin, last4, masked) = match &info.card_no {
        Some(p) => (p.bin(), p.last4(), p.masked()),
        None => (info.card_bin.clone().unwrap_or_default(), String::new(), String::new()),
    };
    Card {
        id: info.card_id.clone(),
        status: CardStatus::from_code(info.card_status.as_deref(), codes),
        currency: info.local_currency.clone().unwrap_or_default(),
        bin,
        last4,
        masked_number: masked,
        expiry: info
            .card_expiry_date
            .as_deref()
            .and_then(|e| clock.parse_expiry(e))
            .map(|(y, m)| format!("{y:04}-{m:02}")),
        alias: info.card_alias.clone().filter(|s| !s.is_empty()),
        label: info.card_label.clone().filter(|s| !s.is_empty()),
        limit: Amount(info.credit_limit_amt.unwrap_or_default()),
        balance: Amount(info.balance_amt.unwrap_or_default()),
        group_id: info.group_id.clone(),
        cardholder_id: info.card_user_info.as_ref().and_then(|u| u.card_user_id.clone()),
        created_at: info.create_time.as_deref().and_then(|t| clock.parse_datetime(t)),
    }
}

/// `POST /v1/cards`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"bin": "222929", "currency": "USD", "limit": "100.00", "alias": "ads-q3",
    "cardholder_id": null, "group_id": null, "multi_use": true, "valid_until": "2028-12-31"}))]
pub struct CreateCard {
    /// A BIN from `GET /v1/card-bins`.
    #[schema(example = "222929")]
    pub bin: String,
    #[schema(example = "USD")]
    pub currency: String,
    /// Card limit, loaded from the merchant account (for a shared sub-card: its spending limit, `0` = unlimited).
    pub limit: Amount,
    #[serde(default)]
    pub alias: Option<String>,
    #[serde(default)]
    pub cardholder_id: Option<String>,
    /// Makes the card a shared sub-card drawing on this group's balance.
    #[serde(default)]
    pub group_id: Option<String>,
    #[serde(default = "yes")]
    pub multi_use: bool,
    /// Last day the card may be used (default: three years from today).
    #[serde(default)]
    pub valid_until: Option<NaiveDate>,
    /// Only allow transactions in the card's currency.
    #[serde(default)]
    pub currency_check: Option<bool>,
    /// Scene code from `GET /v1/scenes`.
    #[serde(default)]
    pub scene_code: Option<String>,
}

fn yes() -> bool {
    true
}

impl Validate for CreateCard {
    fn validate(&self, v: &mut Violations) {
        rules::BIN.check(v, Some(&self.bin), "#/bin");
        rules::CURRENCY.check(v, Some(&self.currency), "#/currency");
        v.text(self.alias.as_deref(), "#/alias", 64);
        rules::SCENE_CODE.check(v, self.scene_code.as_deref(), "#/scene_code");
        rules::ID.check(v, self.cardholder_id.as_deref(), "#/cardholder_id");
        rules::ID.check(v, self.group_id.as_deref(), "#/group_id");
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SettableCardStatus {
    Active,
    Frozen,
}

/// `PATCH /v1/cards/{id}`: any of alias, label, limit (shared sub-cards), status.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"alias": "ads-q4", "status": "frozen"}))]
pub struct UpdateCard {
    #[serde(default)]
    pub alias: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
    /// Spending limit; the platform accepts it for shared sub-cards only.
    #[serde(default)]
    pub limit: Option<Amount>,
    #[serde(default)]
    pub status: Option<SettableCardStatus>,
}

impl Validate for UpdateCard {
    fn validate(&self, v: &mut Violations) {
        v.text(self.alias.as_deref(), "#/alias", 64);
        v.text(self.label.as_deref(), "#/label", 64);
        v.check(
            self.alias.is_some() || self.label.is_some() || self.limit.is_some() || self.status.is_some(),
            "#",
            "at least one of alias, label, limit, status is required",
        );
    }
}

/// `?expand=` of a recharge or refund: the re-read card (or group) as the operation's result, at the
/// cost of a second platform call. Without it the result is the [`FundsMovement`].
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExpandQuery {
    /// `card` on card routes, `card_group` on group routes: the result is the re-read resource (one
    /// more platform call) instead of the movement.
    #[param(pattern = "^(card|card_group)$")]
    pub expand: Option<String>,
}

impl Validate for ExpandQuery {
    fn validate(&self, v: &mut Violations) {
        if let Some(e) = &self.expand {
            v.check(e == "card" || e == "card_group", "query.expand", "must be card or card_group");
        }
    }
}

impl ExpandQuery {
    /// Whether the caller asked for `holder` (`card` or `card_group`).
    pub fn wants(&self, holder: &str) -> bool {
        self.expand.as_deref() == Some(holder)
    }
}

/// The result of a recharge or refund settled from the platform's answer alone: which balance moved,
/// which way, and by how much.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"object": "funds_movement", "holder": "card", "id": "2611251200000001234",
    "direction": "recharge", "amount": "25.00", "currency": "USD"}))]
pub struct FundsMovement {
    /// Always `funds_movement` (a re-read card or group has no `object` member).
    pub object: String,
    /// `card` or `card_group`.
    pub holder: String,
    /// The card's or group's id.
    pub id: String,
    /// `recharge` (merchant account → holder) or `refund` (holder → merchant account).
    pub direction: String,
    /// Decimal string, as sent.
    pub amount: String,
    /// ISO 4217, when the gateway knows the holder's currency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// `POST /v1/cards/{id}/recharges` and `/refunds` (and the group equivalents).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": "25.00"}))]
pub struct AmountBody {
    /// In the card's (or group's) currency.
    pub amount: Amount,
}

impl Validate for AmountBody {
    fn validate(&self, v: &mut Violations) {
        rules::positive_within(v, self.amount.value(), 2, "#/amount");
    }
}

/// `GET /v1/card-bins` item.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = CardBin)]
pub struct CardBinOut {
    #[schema(example = "222929")]
    pub bin: String,
    #[schema(example = "MASTERCARD")]
    pub brand: String,
    #[schema(example = "USD")]
    pub currency: String,
    /// `regular` or `shared` (shared sub-cards need a `group_id`).
    #[schema(example = "regular")]
    pub kind: String,
    /// Cards on this BIN need a `cardholder_id`.
    pub cardholder_required: bool,
}

/// `GET /v1/scenes` item.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Scene)]
pub struct SceneOut {
    #[schema(example = "1004")]
    pub code: String,
    #[schema(example = "Airline and travel")]
    pub name: String,
    pub description: Option<String>,
}
