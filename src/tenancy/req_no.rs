//! Upstream request numbers that carry the tenant: `<prefix>_<tenant>_<32 hex>`.
//!
//! For state-changing calls the digest is an HMAC of (tenant, Idempotency-Key), so a retried request
//! reuses the same `userReqNo` — the upstream's own de-duplication key — and ownership can be rebuilt
//! from the upstream's order history by reading the tenant back out. `_` never occurs in a tenant id.
//! Operation ids are derived the same way, so a retry finds the same operation.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::TenantId;

#[derive(Clone)]
pub struct ReqNos {
    prefix: String,
    secret: Vec<u8>,
}

impl std::fmt::Debug for ReqNos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReqNos").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

/// Development secret used when `tenancy.secret` is empty (refused in production).
const DEV_SECRET: &[u8] = b"card-gateway development tenancy secret";

impl ReqNos {
    pub fn new(prefix: &str, secret: Option<&str>) -> Self {
        Self {
            prefix: prefix.to_owned(),
            secret: secret.map_or_else(|| DEV_SECRET.to_vec(), |s| s.as_bytes().to_vec()),
        }
    }

    fn digest(&self, domain: &str, tenant: &TenantId, key: &str) -> String {
        // Infallible for HMAC: any key length is accepted.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).unwrap_or_else(|_| unreachable_mac());
        for part in [domain.as_bytes(), tenant.as_str().as_bytes(), key.as_bytes()] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// The `userReqNo` of a state-changing call, deterministic in (tenant, idempotency key).
    pub fn for_key(&self, tenant: &TenantId, idempotency_key: &str) -> String {
        format!("{}_{}_{}", self.prefix, tenant, self.digest("req", tenant, idempotency_key))
    }

    /// Our operation id for (tenant, idempotency key).
    pub fn operation_id(&self, tenant: &TenantId, idempotency_key: &str) -> String {
        format!("op_{}", &self.digest("op", tenant, idempotency_key)[..24])
    }

    /// A fresh request number for a read (reads create no order; the vendor's clients send one anyway).
    pub fn for_read(&self, tenant: &TenantId) -> String {
        format!("{}_{}_r{}", self.prefix, tenant, uuid::Uuid::new_v4().simple())
    }

    /// The tenant a request number was issued for, if it is one of ours.
    pub fn tenant_of(&self, user_req_no: &str) -> Option<TenantId> {
        let rest = user_req_no.strip_prefix(&self.prefix)?.strip_prefix('_')?;
        let (tenant, digest) = rest.split_once('_')?;
        (!digest.is_empty()).then_some(())?;
        TenantId::parse(tenant)
    }
}

fn unreachable_mac() -> Hmac<Sha256> {
    // HMAC accepts keys of every length; this branch cannot be taken. Use a fixed key rather than panic.
    <Hmac<Sha256> as Mac>::new_from_slice(b"x").unwrap_or_else(|_| unreachable_mac())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_numbers_are_deterministic_per_tenant_and_key_and_carry_the_tenant() {
        let r = ReqNos::new("cg1", None);
        let a = TenantId::parse("acme").unwrap();
        let b = TenantId::parse("acme-2").unwrap();
        assert_eq!(r.for_key(&a, "k1"), r.for_key(&a, "k1"));
        assert_ne!(r.for_key(&a, "k1"), r.for_key(&a, "k2"));
        assert_ne!(r.for_key(&a, "k1"), r.for_key(&b, "k1"));
        assert_eq!(r.tenant_of(&r.for_key(&b, "k1")), Some(b.clone()));
        assert_eq!(r.tenant_of(&r.for_read(&a)), Some(a.clone()));
        assert_eq!(r.tenant_of("other_acme_x"), None);
        let long_tenant = TenantId::parse(&"a".repeat(40)).unwrap();
        assert!(r.for_key(&long_tenant, &"k".repeat(255)).len() <= 128);
    }

    #[test]
    fn different_secrets_give_different_numbers() {
        let t = TenantId::parse("acme").unwrap();
        assert_ne!(ReqNos::new("cg1", Some("s1")).for_key(&t, "k"), ReqNos::new("cg1", Some("s2")).for_key(&t, "k"));
    }
}
