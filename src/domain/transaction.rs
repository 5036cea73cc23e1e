//! Card transactions (Transaction Inquiry, and the `card_transaction` webhook).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::money::{Amount, Money};
use crate::{
    config::upstream::UpstreamCodes,
    http::validate::{Validate, Violations},
    upstream::{formats::WireClock, wire::card::TransactionRecord},
};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TransactionMerchant {
    pub name: String,
    pub category_code: Option<String>,
}

/// Whether the platform approved the transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransactionStatus {
    Succeeded,
    Failed,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Transaction {
    pub id: String,
    pub card_id: String,
    /// The platform's transaction type code (`GET /v1/reference/transaction-types`).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub status: TransactionStatus,
    /// `authorization` (unsettled) or `settled`.
    pub category: Option<String>,
    /// Amount in the transaction currency.
    pub amount: Option<Money>,
    /// Amount in the card's currency.
    pub card_amount: Option<Money>,
    pub merchant: TransactionMerchant,
    pub approval_code: Option<String>,
    pub cross_border: Option<bool>,
    /// `debit` (money out) or `credit` (money in).
    pub direction: Option<String>,
    pub original_transaction_id: Option<String>,
    pub settled_amount: Option<Amount>,
    pub settled_at: Option<DateTime<Utc>>,
    /// `GET /v1/reference/response-codes`.
    pub response_code: Option<String>,
    pub response_description: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
}

pub fn transaction_from_wire(t: &TransactionRecord, c: &UpstreamCodes, clock: &WireClock) -> Transaction {
    let money = |amt: Option<rust_decimal::Decimal>, ccy: Option<&str>| {
        amt.zip(ccy).map(|(a, c)| Money { amount: Amount(a), currency: c.to_owned() })
    };
    Transaction {
        id: t.record_no.clone(),
        card_id: t.card_id.clone(),
        kind: t.trans_type.clone(),
        status: if t.trans_status.as_deref() == Some(c.trans_status_success.as_str()) {
            TransactionStatus::Succeeded
        } else {
            TransactionStatus::Failed
        },
        category: t.trans_category.map(|k| if k == 2 { "settled" } else { "authorization" }.to_owned()),
        amount: money(t.trans_currency_amt, t.trans_currency.as_deref()),
        card_amount: money(t.local_currency_amt, Some(t.local_currency.as_str()).filter(|s| !s.is_empty())),
        merchant: TransactionMerchant {
            name: t.merchant_name.clone(),
            category_code: t.merchant_category_code.clone(),
        },
        approval_code: t.approval_code.clone(),
        cross_border: t.cross_board_type.as_deref().map(|x| x == "1"),
        direction: t.funds_direction.map(|d| if d == 1 { "credit" } else { "debit" }.to_owned()),
        original_transaction_id: t.origin_record_no.clone(),
        settled_amount: t.settle_amount.map(Amount),
        settled_at: t.settle_time.as_deref().and_then(|s| clock.parse_datetime(s)),
        response_code: t.resp_code.clone(),
        response_description: t.resp_code_desc.clone(),
        occurred_at: clock.parse_datetime(&t.transaction_time),
    }
}

/// `GET /v1/transactions` and `GET /v1/cards/{id}/transactions` query.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TransactionQuery {
    /// Page size, 1–100 (default 20).
    pub limit: Option<usize>,
    pub cursor: Option<String>,
    /// First day (UTC) included; default 30 days ago.
    pub from: Option<NaiveDate>,
    /// Last day (UTC) included; default today.
    pub to: Option<NaiveDate>,
    /// Only transactions with this outcome. Applied to the platform's rows as they are scanned, so a
    /// page may hold fewer than `limit` (even none) while `next_cursor` is not null: follow it.
    #[param(inline)]
    #[serde(default)]
    pub status: Option<TransactionStatus>,
    /// Only transactions of this platform type code (`GET /v1/reference/transaction-types`), applied
    /// like `status`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

impl TransactionQuery {
    /// The filters a cursor is bound to (`""` without any): a cursor continues only the same list.
    pub fn filters(&self) -> String {
        let status = self.status.and_then(|s| serde_json::to_value(s).ok());
        let mut out = String::new();
        if let Some(s) = status.as_ref().and_then(|s| s.as_str()) {
            out.push_str("&status=");
            out.push_str(s);
        }
        if let Some(k) = &self.kind {
            out.push_str("&type=");
            out.push_str(k);
        }
        out
    }

    /// Whether a transaction passes the filters.
    pub fn keeps(&self, t: &Transaction) -> bool {
        self.status.is_none_or(|s| s == t.status) && self.kind.as_ref().is_none_or(|k| t.kind.as_ref() == Some(k))
    }
}

impl Validate for TransactionQuery {
    fn validate(&self, v: &mut Violations) {
        if let Some(l) = self.limit {
            v.check((1..=100).contains(&l), "query.limit", "must be between 1 and 100");
        }
        crate::http::rules::TRANSACTION_TYPE.check(v, self.kind.as_deref(), "query.type");
        v.date(self.from, "query.from");
        v.date(self.to, "query.to");
        if let (Some(f), Some(t)) = (self.from, self.to) {
            v.check(f <= t, "query.from", "must not be after `to`");
            v.check((t - f).num_days() <= 366, "query.to", "the window may span at most 366 days");
        }
    }
}
