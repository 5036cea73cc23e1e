//! Platform notification → public event. Pure: no I/O, no clock other than the `now` passed in.
//!
//! * The event id is an HMAC (keyed with the tenancy secret, so an id never lets anyone brute-force an
//!   OTP it was derived from) over the notification type and the platform's own identifiers: the
//!   platform's retries and duplicates map to the same id.
//! * PAN and CVV in `cardInfo` are dropped here, before anything is stored or forwarded; the card keeps
//!   its last four digits and expiry.
//! * OTPs and activation codes go to `secret`, which the log keeps for a short TTL only.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sha2::Sha256;

use super::{
    event_data::{
        ACTIVATION_CODE_FIELD, ActivationCodeData, ActivationData, CardFeeData, CardOperationData, CardSummary,
        CryptoPaymentData, EventAmount, OTP_FIELD, ThreeDsOtpData,
    },
    events::{Event, EventObject},
};
use crate::{
    config::upstream::UpstreamCodes,
    domain::{money::Amount, transaction::transaction_from_wire},
    sensitive::Reveal as _,
    upstream::{
        formats::WireClock,
        wire::{
            card::TransactionRecord,
            webhook::{Card3dsOtp, CardActivationCode, CardActivationStatus, CardOperate, DptPaymentBill, TradeFee},
        },
    },
};

/// Derives stable event ids.
#[derive(Clone)]
pub struct EventIds {
    key: Vec<u8>,
}

impl std::fmt::Debug for EventIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventIds(<redacted>)")
    }
}

impl EventIds {
    pub fn new(secret: &[u8]) -> Self {
        Self { key: secret.to_vec() }
    }

    /// `evt_` + 24 hex digits of HMAC-SHA256(type, parts…), each part length-prefixed.
    pub fn id(&self, webhook_type: &str, parts: &[&str]) -> String {
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(&self.key) else { return String::new() };
        for p in std::iter::once(webhook_type).chain(parts.iter().copied()) {
            mac.update(&(p.len() as u64).to_be_bytes());
            mac.update(p.as_bytes());
        }
        format!("evt_{}", &hex::encode(mac.finalize().into_bytes())[..24])
    }
}

/// How the event finds its tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// The owner of this card.
    Card(String),
    /// `card_operate`: the tenant carried by our request number, else the owner of the card or group.
    Order { user_req_no: String, card_id: Option<String>, group_id: Option<String> },
    /// `dpt_payment_bill`: the owner of the crypto order, else the tenant carried by the serial number.
    CryptoOrder { order_no: String, serial_number: String },
    /// Nobody: straight to the dead letters, for this reason.
    DeadLetter(&'static str),
}

/// A notification, normalised.
#[derive(Debug, Clone)]
pub struct Normalized {
    /// The platform's type, as sent.
    pub webhook_type: String,
    pub event: Event,
    /// Short-lived secret fields (`otp`, `activation_code`), merged into `data` on delivery.
    pub secret: Option<Value>,
    pub route: Route,
    /// The order result, for finishing the matching operation.
    pub operate: Option<CardOperate>,
}

/// Why a decrypted notification could not be read. Never carries payload values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{webhook_type} payload is not readable: {reason}")]
pub struct NormalizeError {
    pub webhook_type: String,
    pub reason: String,
}

/// Everything normalisation needs besides the payload.
pub struct Normalizer<'a> {
    pub codes: &'a UpstreamCodes,
    pub clock: &'a WireClock,
    pub ids: &'a EventIds,
}

fn decode<T: DeserializeOwned>(kind: &str, data: &Value) -> Result<T, NormalizeError> {
    serde_path_to_error::deserialize(data).map_err(|e| NormalizeError {
        webhook_type: kind.to_owned(),
        // Only the location: serde's message could quote the value (a PAN in the wrong field).
        reason: format!("field `{}` is missing or invalid", e.path()),
    })
}

fn money(amount: Decimal, currency: Option<&str>) -> EventAmount {
    EventAmount { amount: Amount(amount), currency: currency.map(str::to_owned) }
}

/// An event's `data` from its type (see `event_data`).
fn data_of<T: serde::Serialize>(data: &T) -> Value {
    serde_json::to_value(data).unwrap_or_default()
}

fn obj(kind: &str, id: &str) -> EventObject {
    EventObject { kind: kind.to_owned(), id: id.to_owned() }
}

impl Normalizer<'_> {
    /// Normalises one decrypted notification. Unknown types become dead letters, not errors (the platform
    /// would otherwise retry them for days).
    pub fn normalize(
        &self,
        webhook_type: &str,
        data: &Value,
        now: DateTime<Utc>,
    ) -> Result<Normalized, NormalizeError> {
        let kind = webhook_type.strip_prefix("type_").unwrap_or(webhook_type);
        let mut n = match kind {
            "card_operate" => self.card_operate(data)?,
            "card_transaction" => self.card_transaction(data)?,
            "trade_fee" => self.trade_fee(data)?,
            "card_3ds_otp" => self.three_ds(data)?,
            "dpt_payment_bill" => self.dpt(data)?,
            "card_activation_code" => self.activation_code(data)?,
            "card_activation_status" => self.activation_status(data)?,
            _ => Normalized {
                webhook_type: String::new(),
                // Nothing from an unknown payload is kept: it could hold anything.
                event: self.event(kind, &[&data.to_string()], "platform.unknown", obj("unknown", "-"), json!({}), None),
                secret: None,
                route: Route::DeadLetter("unknown_type"),
                operate: None,
            },
        };
        n.webhook_type = webhook_type.to_owned();
        n.event.created_at = now;
        Ok(n)
    }

    fn event(
        &self,
        wire: &str,
        parts: &[&str],
        kind: &str,
        object: EventObject,
        data: Value,
        at: Option<&str>,
    ) -> Event {
        Event {
            id: self.ids.id(wire, parts),
            kind: kind.to_owned(),
            created_at: Utc::now(),
            occurred_at: at.and_then(|s| self.clock.parse_datetime(s)),
            object,
            data,
        }
    }

    fn plain(event: Event, route: Route) -> Normalized {
        Normalized { webhook_type: String::new(), event, secret: None, route, operate: None }
    }

    fn card_operate(&self, data: &Value) -> Result<Normalized, NormalizeError> {
        let w: CardOperate = decode("card_operate", data)?;
        let c = self.codes;
        let (kind, outcome) = if w.status == c.webhook_status_success {
            ("card.operation.succeeded", "succeeded")
        } else if w.status == c.webhook_status_failure {
            ("card.operation.failed", "failed")
        } else {
            ("card.operation.unknown", "unknown")
        };
        let is_group = w.op_type == c.op_type_group_apply;
        let card_id = w.card_id.clone().or_else(|| (!is_group).then(|| w.resource_id.clone()).flatten());
        let group_id = w.group_id.clone().or_else(|| is_group.then(|| w.resource_id.clone()).flatten());
        let operation = match w.op_type {
            t if t == c.op_type_apply => "card.create",
            t if t == c.op_type_recharge => "card.recharge",
            t if t == c.op_type_refund => "card.refund",
            t if t == c.op_type_cancel => "card.cancel",
            t if t == c.op_type_group_apply => "card_group.create",
            _ => "unknown",
        };
        // cardInfo: PAN and CVV stop here; last4 and expiry go on.
        let card = w.card_info.as_ref().map(|i| CardSummary {
            last4: i.card_no.as_ref().map(|p| p.last4()).filter(|l| l.len() == 4),
            expiry: i
                .card_expiry_date
                .as_deref()
                .and_then(|e| self.clock.parse_expiry(e))
                .map(|(y, m)| format!("{y:04}-{m:02}")),
            currency: i.local_currency.clone(),
            alias: i.card_alias.clone(),
            label: i.card_label.clone(),
        });
        let object = match (&card_id, &group_id) {
            (Some(id), _) => obj("card", id),
            (None, Some(g)) => obj("card_group", g),
            (None, None) => obj("order", &w.order_id),
        };
        let body = data_of(&CardOperationData {
            operation_id: None,
            operation_kind: operation.to_owned(),
            status: outcome.to_owned(),
            upstream_order_id: w.order_id.clone(),
            card_id: card_id.clone(),
            group_id: group_id.clone(),
            amount: w.amount.map(Amount),
            fee: w.fee.map(Amount),
            card,
        });
        let status = w.status.to_string();
        let event = self.event("card_operate", &[&w.order_id, &status], kind, object, body, w.create_at.as_deref());
        let route = if outcome == "unknown" {
            Route::DeadLetter("unsupported_status")
        } else {
            Route::Order { user_req_no: w.user_req_no.clone(), card_id, group_id }
        };
        let mut n = Self::plain(event, route);
        n.operate = Some(w);
        Ok(n)
    }

    fn card_transaction(&self, data: &Value) -> Result<Normalized, NormalizeError> {
        let w: TransactionRecord = decode("card_transaction", data)?;
        let t = transaction_from_wire(&w, self.codes, self.clock);
        let body = serde_json::to_value(&t).unwrap_or_default();
        let status = w.trans_status.clone().unwrap_or_default();
        let category = w.trans_category.map(|c| c.to_string()).unwrap_or_default();
        let event = self.event(
            "card_transaction",
            &[&w.record_no, &status, &category],
            "card.transaction",
            obj("card", &w.card_id),
            body,
            Some(&w.transaction_time),
        );
        Ok(Self::plain(event, Route::Card(w.card_id)))
    }

    fn trade_fee(&self, data: &Value) -> Result<Normalized, NormalizeError> {
        let w: TradeFee = decode("trade_fee", data)?;
        let fee_type = match w.op_type {
            91 => "reversal_processing",
            92 => "merchant_force_settlement",
            93 => "exception_settlement",
            94 => "after_reversal_settlement",
            95 => "settlement_fx_difference",
            96 => "small_amount_transaction",
            97 => "cross_border",
            98 => "transaction_refund",
            99 => "transaction_processing",
            _ => "other",
        };
        let body = data_of(&CardFeeData {
            card_id: w.card_id.clone(),
            receipt_no: w.receipt_no.clone(),
            transaction_id: w.record_no.clone(),
            fee_type: fee_type.to_owned(),
            fee_type_code: w.op_type,
            amount: money(w.real_fee, Some(&w.real_ccy)),
        });
        let at = Some(w.create_at.as_str()).filter(|s| !s.is_empty());
        let event = self.event("trade_fee", &[&w.receipt_no], "card.fee", obj("card", &w.card_id), body, at);
        Ok(Self::plain(event, Route::Card(w.card_id)))
    }

    fn three_ds(&self, data: &Value) -> Result<Normalized, NormalizeError> {
        let w: Card3dsOtp = decode("card_3ds_otp", data)?;
        let amount = w.transaction_amount.map(|a| Amount(a).to_string()).unwrap_or_default();
        // The OTP enters the id only through the keyed HMAC.
        let id_parts = [w.card_id.as_str(), w.otp.expose(), amount.as_str()];
        let body = data_of(&ThreeDsOtpData {
            card_id: w.card_id.clone(),
            masked_number: w.card_no.as_deref().map(crate::sensitive::mask_pan),
            amount: w.transaction_amount.map(|a| money(a, w.transaction_currency.as_deref())),
            merchant_name: w.merchant_name.clone(),
            otp_expires_with_event: true,
        });
        let event = self.event("card_3ds_otp", &id_parts, "card.3ds_otp", obj("card", &w.card_id), body, None);
        let mut n = Self::plain(event, Route::Card(w.card_id.clone()));
        n.secret = Some(json!({ OTP_FIELD: w.otp.expose() }));
        Ok(n)
    }

    fn dpt(&self, data: &Value) -> Result<Normalized, NormalizeError> {
        let w: DptPaymentBill = decode("dpt_payment_bill", data)?;
        let body = data_of(&CryptoPaymentData {
            order_id: w.order_no.clone(),
            serial_number: w.serial_number.clone(),
            tx_id: w.tx_id.clone(),
            from_address: w.from_address.clone(),
            to_address: w.to_address.clone(),
            paid_amount: Amount(w.payment_amount),
            credited_amount: Amount(w.fact_amount),
            fee: Amount(w.fee),
        });
        let event = self.event(
            "dpt_payment_bill",
            &[&w.order_no, &w.tx_id],
            "crypto.payment",
            obj("crypto_order", &w.order_no),
            body,
            Some(&w.transaction_time),
        );
        Ok(Self::plain(event, Route::CryptoOrder { order_no: w.order_no, serial_number: w.serial_number }))
    }

    fn activation_code(&self, data: &Value) -> Result<Normalized, NormalizeError> {
        let w: CardActivationCode = decode("card_activation_code", data)?;
        let code_hash = hex::encode(<Sha256 as sha2::Digest>::digest(w.active_code.expose().as_bytes()));
        let body = data_of(&ActivationCodeData { card_id: w.card_id.clone(), code_expires_with_event: true });
        let event = self.event(
            "card_activation_code",
            &[&w.card_id, &code_hash],
            "physical_card.activation_code",
            obj("card", &w.card_id),
            body,
            None,
        );
        let mut n = Self::plain(event, Route::Card(w.card_id.clone()));
        n.secret = Some(json!({ ACTIVATION_CODE_FIELD: w.active_code.expose() }));
        Ok(n)
    }

    fn activation_status(&self, data: &Value) -> Result<Normalized, NormalizeError> {
        let w: CardActivationStatus = decode("card_activation_status", data)?;
        let c = self.codes;
        let status = if w.staus == c.activation_status_success {
            "succeeded"
        } else if w.staus == c.activation_status_failure {
            "failed"
        } else {
            "unknown"
        };
        let body = data_of(&ActivationData { card_id: w.card_id.clone(), status: status.to_owned() });
        let event = self.event(
            "card_activation_status",
            &[&w.card_id, &w.staus.to_string()],
            "physical_card.activation",
            obj("card", &w.card_id),
            body,
            None,
        );
        Ok(Self::plain(event, Route::Card(w.card_id)))
    }
}

#[cfg(test)]
#[path = "normalize_tests.rs"]
mod tests;
