//! `[simulator]`: the merchant simulator's behaviour, embedded or as the `merchant-sim` binary.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Deserialize;

use crate::sensitive::SecretString;

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
pub enum WebhookShape {
    /// Apifox variant: `opType`, `status`, `cardId`/`groupId`, `cardInfo`, `createAt`.
    #[default]
    A,
    /// doc.sandboxinc.io variant: `transactionType`, `transactionStatus`, `resourceId`, `createTime`.
    B,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulatorSettings {
    /// Listen address of the standalone `merchant-sim` (the embedded one always uses 127.0.0.1:0).
    pub listen: String,
    /// PEM, base64 DER or `file:PATH`; empty = committed development key.
    pub platform_private_key: SecretString,
    /// PEM, base64 DER or `file:PATH`; empty = committed development key.
    pub merchant_public_key: String,
    /// Where `card_operate` and other webhooks are POSTed; empty = nowhere (embedded: the gateway's own).
    pub webhook_url: String,
    pub webhook_shape: WebhookShape,
    /// `true`: `data` is hex ciphertext like `result`; `false`: a plain JSON object.
    pub webhook_encrypt_data: bool,
    /// Delays between webhook delivery attempts until the receiver answers `SUCCESS`.
    pub webhook_retry_ms: Vec<u64>,
    /// Operations answered `async: true` and completed later (names as in `[upstream.paths]`; only
    /// card_apply, card_recharge, card_refund, card_cancel, group_apply and cardholder_apply).
    pub async_operations: Vec<String>,
    pub async_delay_ms: u64,
    /// Merchant account balances at start, per currency.
    pub initial_balances: BTreeMap<String, Decimal>,
    /// Flat fee per card issued, in the card's currency.
    pub card_issue_fee: Decimal,
    /// Fee per recharge as a fraction of the amount (0.01 = 1 %).
    pub recharge_fee_rate: Decimal,
    /// Fee per crypto withdrawal, in the withdrawn currency.
    pub withdraw_fee: Decimal,
    /// FX rates to USD used for exchange, e.g. `EUR = "1.08"` (1 EUR = 1.08 USD).
    pub usd_rates: BTreeMap<String, Decimal>,
    /// BINs offered: `bin → {brand, currency, shared, holder_required}`.
    pub bins: BTreeMap<String, SimBin>,
    /// Scenes offered: code → name.
    pub scenes: BTreeMap<String, String>,
    /// Countries accepted for cardholders (3-letter, incl. the vendor's `CNH`).
    pub countries: Vec<String>,
    /// Token that guards the control API (`X-Sim-Control-Token`); empty = unguarded (development).
    pub control_token: SecretString,
    /// HTTP worker threads of the simulator's server.
    pub workers: usize,
    /// Largest request body accepted, in bytes (cardholder applications carry three ID images).
    pub max_body_bytes: usize,
    /// Synchronous card operations also POST a `card_operate` webhook, as the platform reports every order.
    pub sync_operation_webhooks: bool,
    /// `true`: a repeated `userReqNo`/`serialNumber` answers the first answer (the platform's
    /// de-duplication, INFERRED); `false`: it is a new order that moves money again.
    pub dedupe_requests: bool,
    /// `true`: transaction query ignores its `cardId` filter and answers every card's rows (a platform
    /// the gateway must not trust to filter).
    pub transactions_ignore_card_filter: bool,
    /// Deadline of one webhook POST attempt, in milliseconds.
    pub webhook_timeout_ms: u64,
    /// Fee on cross-border authorisations as a fraction of the amount (`trade_fee` type 97).
    pub cross_border_fee_rate: Decimal,
    /// Fee on crypto deposits as a fraction of the amount paid.
    pub deposit_fee_rate: Decimal,
    /// Digital currencies and the chains each can move on, e.g. `USDT = ["TRON", "ETH"]`.
    pub crypto_chains: BTreeMap<String, Vec<String>>,
    /// `transType` codes written into `card_transaction` (the vendor's values are UNKNOWN).
    pub trans_types: SimTransTypes,
}

/// `transType` codes per simulated transaction kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimTransTypes {
    pub authorization: String,
    pub reversal: String,
    pub refund: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimBin {
    pub brand: String,
    pub currency: String,
    #[serde(default)]
    pub shared: bool,
    #[serde(default)]
    pub holder_required: bool,
}
