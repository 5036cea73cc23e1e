//! What the simulator takes from `Settings`, resolved and checked once: keys, paths, codes, formats
//! and behaviour.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, OnceLock},
};

use rust_decimal::Decimal;

use crate::{
    config::{ConfigError, Settings, simulator::SimulatorSettings, upstream::UpstreamCodes},
    dev_keys,
    envelope::{EnvelopeCodec, PrivateKey, PublicKey},
    sensitive::Reveal,
    upstream::{Operation, formats::WireClock},
};

/// Operations the simulator can answer `async: true` and complete later.
pub const ASYNC_CAPABLE: &[Operation] = &[
    Operation::CardApply,
    Operation::CardRecharge,
    Operation::CardRefund,
    Operation::CardCancel,
    Operation::GroupApply,
    Operation::CardholderApply,
];

/// Everything a simulator instance needs. Build it with [`SimulatorConfig::from_settings`].
#[derive(Clone)]
pub struct SimulatorConfig {
    pub(crate) sim: SimulatorSettings,
    pub(crate) merchant_no: String,
    pub(crate) api_version: String,
    pub(crate) codes: UpstreamCodes,
    pub(crate) clock: WireClock,
    pub(crate) routes: HashMap<String, Operation>,
    pub(crate) async_ops: BTreeSet<Operation>,
    pub(crate) status_unknown_code: String,
    pub(crate) codec: EnvelopeCodec,
    merchant_public: PublicKey,
    wrong_codec: Arc<OnceLock<Option<EnvelopeCodec>>>,
}

impl std::fmt::Debug for SimulatorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimulatorConfig")
            .field("merchant_no", &self.merchant_no)
            .field("async_ops", &self.async_ops)
            .finish_non_exhaustive()
    }
}

impl SimulatorConfig {
    /// The `[simulator]` section plus the upstream paths, codes, formats and merchant number; keys from
    /// `simulator.platform_private_key` / `simulator.merchant_public_key` (committed development keys
    /// when empty; refused in production).
    pub fn from_settings(s: &Settings) -> Result<Self, ConfigError> {
        let production = s.is_production();
        let private = dev_keys::load_private(
            s.simulator.platform_private_key.expose(),
            dev_keys::PLATFORM_PRIVATE_PEM,
            production,
            "simulator.platform_private_key",
        )?;
        let public = dev_keys::load_public(
            &s.simulator.merchant_public_key,
            dev_keys::MERCHANT_PUBLIC_PEM,
            production,
            "simulator.merchant_public_key",
        )?;
        Self::with_keys(s, private, public)
    }

    /// Like [`from_settings`](Self::from_settings) with explicit keys.
    pub fn with_keys(
        s: &Settings,
        platform_private: PrivateKey,
        merchant_public: PublicKey,
    ) -> Result<Self, ConfigError> {
        let invalid = |m: String| ConfigError::Invalid(m);
        let sim = s.simulator.clone();
        let mut formats = s.upstream.formats.clone();
        if !sim.dialect.datetime.is_empty() {
            formats.datetime = sim.dialect.datetime.clone();
        }
        let clock = WireClock::new(&formats).map_err(invalid)?;
        for name in sim.dialect.paths.keys() {
            if Operation::from_name(name).is_none() {
                return Err(invalid(format!("simulator.dialect.paths: unknown operation {name:?}")));
            }
        }
        let mut routes = HashMap::new();
        for op in Operation::ALL {
            let path = sim.dialect.paths.get(op.name()).map_or_else(|| s.upstream.path(*op), String::as_str);
            if let Some(other) = routes.insert(path.to_owned(), *op) {
                return Err(invalid(format!("upstream.paths: {other} and {op} share a path")));
            }
        }
        let mut async_ops = BTreeSet::new();
        for name in &sim.async_operations {
            let op = Operation::from_name(name)
                .ok_or_else(|| invalid(format!("simulator.async_operations: unknown operation {name:?}")))?;
            if !ASYNC_CAPABLE.contains(&op) {
                return Err(invalid(format!(
                    "simulator.async_operations: {name} cannot be asynchronous (only {})",
                    ASYNC_CAPABLE.iter().map(|o| o.name()).collect::<Vec<_>>().join(", ")
                )));
            }
            async_ops.insert(op);
        }
        if sim.bins.is_empty() {
            return Err(invalid("simulator.bins must offer at least one BIN".into()));
        }
        for (bin, spec) in &sim.bins {
            if bin.len() < 6 || bin.len() > 8 || !bin.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(format!("simulator.bins: {bin:?} is not a 6–8 digit BIN")));
            }
            if !sim.usd_rates.contains_key(&spec.currency) {
                return Err(invalid(format!("simulator.bins.{bin}: no usd_rates entry for {}", spec.currency)));
            }
        }
        if sim.initial_balances.values().any(|v| *v < Decimal::ZERO) {
            return Err(invalid("simulator.initial_balances must not be negative".into()));
        }
        if sim.usd_rates.values().any(|v| *v <= Decimal::ZERO) {
            return Err(invalid("simulator.usd_rates must be positive".into()));
        }
        for (name, v) in [
            ("card_issue_fee", sim.card_issue_fee),
            ("recharge_fee_rate", sim.recharge_fee_rate),
            ("withdraw_fee", sim.withdraw_fee),
            ("cross_border_fee_rate", sim.cross_border_fee_rate),
            ("deposit_fee_rate", sim.deposit_fee_rate),
        ] {
            if v < Decimal::ZERO {
                return Err(invalid(format!("simulator.{name} must not be negative")));
            }
        }
        let status_unknown_code = s
            .upstream
            .status_unknown_codes
            .first()
            .cloned()
            .unwrap_or_else(|| super::errors::codes::STATUS_UNKNOWN.into());
        Ok(Self {
            merchant_no: s.upstream.merchant_no.clone(),
            api_version: s.upstream.api_version.clone(),
            codes: s.upstream.codes.clone(),
            clock,
            routes,
            async_ops,
            status_unknown_code,
            codec: EnvelopeCodec::new(platform_private, merchant_public.clone()),
            merchant_public,
            wrong_codec: Arc::default(),
            sim,
        })
    }

    pub fn merchant_no(&self) -> &str {
        &self.merchant_no
    }

    /// The key merchants open answers and webhooks with.
    pub fn platform_public_key(&self) -> Option<PublicKey> {
        self.codec.our_public_key()
    }

    pub fn is_async(&self, op: Operation) -> bool {
        self.async_ops.contains(&op)
    }

    /// A codec with a freshly generated platform key the merchant does not know (the `WrongKey` fault).
    pub(crate) fn wrong_codec(&self) -> Option<&EnvelopeCodec> {
        self.wrong_codec
            .get_or_init(|| {
                let rsa = openssl::rsa::Rsa::generate(1024).ok()?;
                let pem = rsa.private_key_to_pem().ok()?;
                let key = PrivateKey::parse(std::str::from_utf8(&pem).ok()?).ok()?;
                Some(EnvelopeCodec::new(key, self.merchant_public.clone()))
            })
            .as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(tweak: impl FnOnce(&mut Settings)) -> Result<SimulatorConfig, ConfigError> {
        let mut s = Settings::defaults().unwrap();
        tweak(&mut s);
        SimulatorConfig::from_settings(&s)
    }

    #[test]
    fn defaults_build_with_the_development_keys() {
        let cfg = with(|_| {}).unwrap();
        assert_eq!(cfg.merchant_no(), "2025000000000000001");
        assert_eq!(cfg.routes.len(), 27);
        assert!(cfg.async_ops.is_empty());
    }

    #[test]
    fn unknown_or_unsupported_async_operations_are_refused() {
        let err = with(|s| s.simulator.async_operations = vec!["card_fly".into()]).unwrap_err();
        assert!(err.to_string().contains("unknown operation"));
        let err = with(|s| s.simulator.async_operations = vec!["card_info".into()]).unwrap_err();
        assert!(err.to_string().contains("cannot be asynchronous"));
        assert!(
            with(|s| s.simulator.async_operations = vec!["card_apply".into()]).unwrap().is_async(Operation::CardApply)
        );
    }

    #[test]
    fn two_operations_on_one_path_are_refused() {
        let err = with(|s| {
            s.upstream.paths.insert("card_info".into(), "/openapi/vcc/card/apply".into());
        })
        .unwrap_err();
        assert!(err.to_string().contains("share a path"));
    }

    #[test]
    fn production_refuses_the_development_keys() {
        let err = with(|s| s.environment = crate::config::Environment::Production).unwrap_err();
        assert!(err.to_string().contains("simulator.platform_private_key"));
    }
}
