//! Tenant ids: short, lowercase, and free of the `_` that separates the tenant inside a `userReqNo`.

use std::fmt;

use serde::Serialize;

/// A validated tenant id: 1–40 characters of `[a-z0-9-]`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct TenantId(String);

impl TenantId {
    pub fn parse(s: &str) -> Option<Self> {
        let ok = !s.is_empty()
            && s.len() <= 40
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && s.as_bytes()[0] != b'-';
        ok.then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids_are_restricted() {
        assert!(TenantId::parse("demo").is_some());
        assert!(TenantId::parse("demo-2").is_some());
        for bad in ["", "-x", "Demo", "a_b", "a b", "é", &"a".repeat(41)] {
            assert!(TenantId::parse(bad).is_none(), "{bad}");
        }
    }
}
