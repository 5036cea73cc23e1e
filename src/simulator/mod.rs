//! Merchant simulator — placeholder with the embedding API; the real module lands from branch `sim`.

use crate::{
    config::{ConfigError, Settings},
    upstream::Operation,
};

pub struct SimulatorConfig;

impl SimulatorConfig {
    pub fn from_settings(_s: &Settings) -> Result<Self, ConfigError> {
        Ok(Self)
    }
}

#[derive(Clone)]
pub struct SimHandle;

impl SimHandle {
    pub fn base_url(&self) -> String {
        String::new()
    }
    pub fn set_webhook_url(&self, _url: Option<String>) {}
    pub fn calls(&self, _op: Operation) -> u64 {
        0
    }
}

pub async fn spawn(_cfg: SimulatorConfig, _listen: &str) -> std::io::Result<SimHandle> {
    Err(std::io::Error::other("simulator not built yet"))
}
