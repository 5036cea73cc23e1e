//! `[upstream]`: where the Merchant API is, how to talk to it, and every uncertain wire detail.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::{platform_ops::Operation, sensitive::SecretString};

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum UpstreamMode {
    /// Start the merchant simulator in-process on 127.0.0.1:0 and talk to it (development only).
    Simulator,
    /// Talk to `base_url`.
    Http,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamSettings {
    pub mode: UpstreamMode,
    pub base_url: String,
    pub merchant_no: String,
    pub api_version: String,
    pub data_type: String,
    pub accept_language: String,
    /// PEM, bare base64 DER, or `file:PATH`. Empty = the committed development key (refused in production).
    pub merchant_private_key: SecretString,
    /// PEM, bare base64 DER, or `file:PATH`. Empty = the committed development key (refused in production).
    pub platform_public_key: String,
    pub timeout_ms: u64,
    pub connect_timeout_ms: u64,
    /// Seconds between background platform health probes (one read; never per readiness probe);
    /// 0 = off. The result is the `card_gateway_upstream_up` gauge and information in `/readyz`.
    pub health_probe_s: u64,
    pub read_retries: u32,
    pub retry_backoff_ms: u64,
    pub pool_max_idle_per_host: usize,
    pub pool_idle_timeout_s: u64,
    /// Payloads larger than this many bytes are sealed/opened on the blocking thread pool.
    pub crypto_offload_bytes: usize,
    /// Cache lifetime of card BINs and scenes, in seconds.
    pub reference_cache_s: u64,
    /// Largest upstream answer read, in bytes.
    pub max_response_bytes: usize,
    /// Allow a non-loopback `base_url` while `environment = "development"`.
    pub real_upstream_in_development: bool,
    pub formats: WireFormats,
    pub paths: BTreeMap<String, String>,
    pub codes: UpstreamCodes,
    /// Business error codes that mean "order status unknown — query later".
    pub status_unknown_codes: Vec<String>,
    /// Business error codes meaning "failed, retry later": nothing was applied, and the answer is not
    /// final (the idempotency key is released with `Retry-After`).
    pub retry_later_codes: Vec<String>,
    /// Upstream business error code → our HTTP status and problem `code`.
    pub error_map: BTreeMap<String, ErrorMapping>,
    /// Verdicts written by `card-gateway upstream-check`, read at start-up; empty or missing = unknown.
    pub facts_file: String,
    /// Longest transaction inquiry window (days) the platform accepts; longer windows are refused
    /// before any call. 0 = no cap.
    pub transaction_window_max_days: u32,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ErrorMapping {
    pub status: u16,
    pub code: String,
}

/// Date and time formats on the wire (chrono `strftime` syntax) and the vendor's timezone.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireFormats {
    pub date: String,
    pub datetime: String,
    /// Fixed UTC offset of the vendor's wall-clock times, e.g. `+08:00`.
    pub timezone: String,
    /// Accepted card expiry formats, tried in order (`%Y-%m` = `2028-12`, `%m/%Y` = `12/2028`).
    pub expiry: Vec<String>,
    /// Expiry format the simulator emits.
    pub expiry_out: String,
}

/// Every enum code the vendor uses, configurable because sources conflict (docs/platform.md §7).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamCodes {
    pub card_status_active: String,
    pub card_status_cancelled: String,
    pub card_status_frozen: String,
    pub card_status_pending: String,
    pub op_type_apply: i64,
    pub op_type_recharge: i64,
    pub op_type_refund: i64,
    pub op_type_cancel: i64,
    pub op_type_group_apply: i64,
    pub webhook_status_success: i64,
    pub webhook_status_failure: i64,
    pub order_status_pending: String,
    pub order_status_processing: String,
    pub order_status_success: String,
    pub order_status_failed: String,
    pub modify_status_freeze: i64,
    pub modify_status_enable: i64,
    pub group_status_frozen: String,
    pub group_status_active: String,
    pub group_status_closed: String,
    pub cardholder_status_disabled: String,
    pub cardholder_status_enabled: String,
    pub cardholder_status_deleted: String,
    pub cardholder_status_in_process: String,
    pub channel_type_regular: i64,
    pub channel_type_shared: i64,
    pub card_type_regular: String,
    pub card_type_shared: String,
    pub trans_status_success: String,
    pub trans_status_failure: String,
    pub activation_status_success: i64,
    pub activation_status_failure: i64,
}

impl UpstreamSettings {
    /// The configured path of an operation (defaults come from `Operation::default_path`).
    pub fn path(&self, op: Operation) -> &str {
        self.paths.get(op.name()).map(String::as_str).unwrap_or_else(|| op.default_path())
    }
}
