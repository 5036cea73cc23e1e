//! The scope vocabulary of docs/product.md §5.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
pub enum Scope {
    #[serde(rename = "cards:read")]
    CardsRead,
    #[serde(rename = "cards:write")]
    CardsWrite,
    #[serde(rename = "cards:reveal")]
    CardsReveal,
    #[serde(rename = "funds:write")]
    FundsWrite,
    #[serde(rename = "cardholders:read")]
    CardholdersRead,
    #[serde(rename = "cardholders:write")]
    CardholdersWrite,
    #[serde(rename = "crypto:write")]
    CryptoWrite,
    #[serde(rename = "events:read")]
    EventsRead,
    #[serde(rename = "events:manage")]
    EventsManage,
    /// Read the one-time codes (3DS OTPs, physical-card activation codes) in events; without it
    /// they are redacted (`null`, with `data.redacted = true`) on `/v1/events*`.
    #[serde(rename = "events:secrets")]
    EventsSecrets,
    #[serde(rename = "treasury:read")]
    TreasuryRead,
    #[serde(rename = "treasury:write")]
    TreasuryWrite,
}

impl Scope {
    pub const ALL: [Scope; 12] = [
        Scope::CardsRead,
        Scope::CardsWrite,
        Scope::CardsReveal,
        Scope::FundsWrite,
        Scope::CardholdersRead,
        Scope::CardholdersWrite,
        Scope::CryptoWrite,
        Scope::EventsRead,
        Scope::EventsManage,
        Scope::EventsSecrets,
        Scope::TreasuryRead,
        Scope::TreasuryWrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::CardsRead => "cards:read",
            Scope::CardsWrite => "cards:write",
            Scope::CardsReveal => "cards:reveal",
            Scope::FundsWrite => "funds:write",
            Scope::CardholdersRead => "cardholders:read",
            Scope::CardholdersWrite => "cardholders:write",
            Scope::CryptoWrite => "crypto:write",
            Scope::EventsRead => "events:read",
            Scope::EventsManage => "events:manage",
            Scope::EventsSecrets => "events:secrets",
            Scope::TreasuryRead => "treasury:read",
            Scope::TreasuryWrite => "treasury:write",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Everything except the merchant-wide treasury scopes: what an ordinary tenant token carries.
    pub fn tenant_scopes() -> Vec<Scope> {
        Self::ALL.into_iter().filter(|s| !matches!(s, Scope::TreasuryRead | Scope::TreasuryWrite)).collect()
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The scopes a token grants (unknown scope strings are ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(Vec<Scope>);

impl ScopeSet {
    pub fn from_claim(value: &serde_json::Value) -> Self {
        let mut out: Vec<Scope> = match value {
            serde_json::Value::String(s) => s.split_ascii_whitespace().filter_map(Scope::parse).collect(),
            serde_json::Value::Array(a) => a.iter().filter_map(|v| v.as_str()).filter_map(Scope::parse).collect(),
            _ => Vec::new(),
        };
        out.sort_unstable();
        out.dedup();
        Self(out)
    }

    pub fn new(mut scopes: Vec<Scope>) -> Self {
        scopes.sort_unstable();
        scopes.dedup();
        Self(scopes)
    }

    pub fn contains(&self, s: Scope) -> bool {
        self.0.contains(&s)
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_claims_parse_from_strings_and_arrays() {
        let s = ScopeSet::from_claim(&serde_json::json!("cards:read  funds:write bogus"));
        assert!(s.contains(Scope::CardsRead) && s.contains(Scope::FundsWrite));
        assert!(!s.contains(Scope::CardsWrite));
        let a = ScopeSet::from_claim(&serde_json::json!(["treasury:read"]));
        assert!(a.contains(Scope::TreasuryRead));
        assert_eq!(ScopeSet::from_claim(&serde_json::json!(7)), ScopeSet::default());
    }

    #[test]
    fn every_scope_round_trips_through_its_name_and_serde() {
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(s.as_str()));
        }
        assert!(Scope::tenant_scopes().contains(&Scope::EventsSecrets));
    }
}
