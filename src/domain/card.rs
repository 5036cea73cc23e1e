//! Cards: the public card, its sensitive view, and the create / update / amount bodies.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{list::ListQuery, metadata::Metadata, money::Amount};
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
    "created_at": "2026-11-25T12:00:00Z", "metadata": {"order": "A-1042"}
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
    /// Your key–value pairs, kept by the gateway (`{}` when none).
    #[serde(default)]
    pub metadata: Metadata,
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
        metadata: Metadata::default(),
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
    #[serde(default)]
    pub metadata: Option<Metadata>,
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
        if let Some(m) = &self.metadata {
            m.check(v, "#/metadata");
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SettableCardStatus {
    Active,
    Frozen,
}

/// `PATCH /v1/cards/{id}`: any of alias, label, limit (shared sub-cards), status, metadata. A
/// metadata-only change is the gateway's alone (no platform call); with other fields the metadata is
/// written first, then the platform change is made.
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
    /// Keys to set; `""` removes a key; keys not given stay.
    #[serde(default)]
    pub metadata: Option<Metadata>,
}

impl UpdateCard {
    /// Whether the change needs the platform (anything but metadata).
    pub fn changes_the_platform(&self) -> bool {
        self.alias.is_some() || self.label.is_some() || self.limit.is_some() || self.status.is_some()
    }
}

impl Validate for UpdateCard {
    fn validate(&self, v: &mut Violations) {
        v.text(self.alias.as_deref(), "#/alias", 64);
        v.text(self.label.as_deref(), "#/label", 64);
        if let Some(m) = &self.metadata {
            m.check(v, "#/metadata");
        }
        v.check(
            self.changes_the_platform() || self.metadata.is_some(),
            "#",
            "at least one of alias, label, limit, status, metadata is required",
        );
    }
}

/// A list's creation window, `created[gte]` ≤ created < `created[lt]`, as RFC 3339 date-times (years
/// 1900–2999, like every date a client sends), parsed once the query passed.
pub fn parse_created(
    v: &mut Violations,
    gte: Option<&str>,
    lt: Option<&str>,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let mut one = |s: Option<&str>, pointer: &str| {
        let s = s?;
        if !rules::DATE_YEARS.matches(s) {
            v.add(pointer, &rules::DATE_YEARS.detail);
            return None;
        }
        let parsed = DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc));
        if parsed.is_none() {
            v.add(pointer, "must be an RFC 3339 date-time such as 2026-11-25T12:00:00Z");
        }
        parsed
    };
    let (g, l) = (one(gte, "query.created[gte]"), one(lt, "query.created[lt]"));
    if let (Some(g), Some(l)) = (g, l) {
        v.check(g < l, "query.created[gte]", "must be before `created[lt]`");
    }
    (g, l)
}

/// `GET /v1/cards`: a page, optionally filtered. `group_id`, `cardholder_id` and the `created` window
/// are decided from what the gateway stores, before any platform call; `status` needs each card's
/// platform answer, so with `status` a page may hold fewer than `limit` cards (even none) while
/// `next_cursor` is not null: follow it until it is. Any filter may also end a page early after
/// 1,000 cards were looked at. A cursor continues only the list it came from: the same filters.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CardListQuery {
    /// Page size, 1–100 (default 20). Each card on the page is read from the card platform and
    /// charged as one request of the tenant's `read` rate limit.
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page, with the same filters.
    pub cursor: Option<String>,
    /// Only cards in this status (read from the platform: a page may be short).
    #[param(inline)]
    pub status: Option<CardStatus>,
    /// Only the shared sub-cards of this card group.
    pub group_id: Option<String>,
    /// Only this cardholder's cards.
    pub cardholder_id: Option<String>,
    /// Only cards created at or after this time (RFC 3339).
    #[serde(rename = "created[gte]")]
    #[param(value_type = Option<DateTime<Utc>>)]
    pub created_gte: Option<String>,
    /// Only cards created before this time (RFC 3339); must be after `created[gte]`.
    #[serde(rename = "created[lt]")]
    #[param(value_type = Option<DateTime<Utc>>)]
    pub created_lt: Option<String>,
}

impl CardListQuery {
    pub fn page(&self) -> ListQuery {
        ListQuery { limit: self.limit, cursor: self.cursor.clone() }
    }

    /// The parsed window (the query already passed `validate`).
    pub fn created(&self) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        parse_created(&mut Violations::default(), self.created_gte.as_deref(), self.created_lt.as_deref())
    }

    /// The list the cursor is bound to: `cards`, and each filter given.
    pub fn list_name(&self) -> String {
        let (gte, lt) = self.created();
        let mut name = String::from("cards");
        let status = self.status.and_then(|s| serde_json::to_value(s).ok());
        for (k, v) in [
            ("status", status.as_ref().and_then(|s| s.as_str()).map(str::to_owned)),
            ("group_id", self.group_id.clone()),
            ("cardholder_id", self.cardholder_id.clone()),
            ("created_gte", gte.map(|t| t.timestamp_millis().to_string())),
            ("created_lt", lt.map(|t| t.timestamp_millis().to_string())),
        ] {
            if let Some(v) = v {
                name.push_str(&format!("&{k}={v}"));
            }
        }
        name
    }
}

impl Validate for CardListQuery {
    fn validate(&self, v: &mut Violations) {
        self.page().validate(v);
        rules::ID.check(v, self.group_id.as_deref(), "query.group_id");
        rules::ID.check(v, self.cardholder_id.as_deref(), "query.cardholder_id");
        parse_created(v, self.created_gte.as_deref(), self.created_lt.as_deref());
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
