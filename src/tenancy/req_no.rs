//! Upstream request numbers that carry the tenant: `<prefix>_<tenant>_<16 hex id><16 hex tag>`.
//!
//! For state-changing calls the id is an HMAC of (tenant, Idempotency-Key), so a retried request
//! reuses the same `userReqNo` — the upstream's own de-duplication key — and ownership can be rebuilt
//! from the upstream's order history by reading the tenant back out. `_` never occurs in a tenant id.
//! Operation ids are derived the same way, so a retry finds the same operation.
//!
//! The tag is an HMAC of (prefix, tenant, id): it proves a number was issued by a gateway holding the
//! tenancy secret. Other clients of the same merchant account see our numbers' format and could send
//! orders numbered like ours; without the tag such an order could make a rebuild give its card to one
//! of our tenants. Numbers issued before the tag existed (32 hex of HMAC, no tag) do not verify.

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
        let id = &self.digest("req", tenant, idempotency_key)[..16];
        format!("{}_{}_{id}{}", self.prefix, tenant, self.tag(tenant, id))
    }

    /// 16 hex digits binding `id` to (prefix, tenant).
    fn tag(&self, tenant: &TenantId, id: &str) -> String {
        self.digest(&format!("bind/{}", self.prefix), tenant, id)[..16].to_owned()
    }

    /// The tenant of a request number this gateway issued for a state-changing call: the format
    /// *and* the tag must match. `None` for foreign numbers and for forged ones.
    pub fn verified_tenant_of(&self, user_req_no: &str) -> Option<TenantId> {
        let tenant = self.tenant_of(user_req_no)?;
        let digest = user_req_no.rsplit_once('_')?.1;
        if digest.len() != 32 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let (id, tag) = digest.split_at(16);
        let expected = self.tag(&tenant, id);
        bool::from(subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), tag.as_bytes())).then_some(tenant)
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
    fn only_numbers_issued_with_the_secret_verify() {
        let r = ReqNos::new("cg1", Some("s1"));
        let a = TenantId::parse("acme").unwrap();
        let issued = r.for_key(&a, "k1");
        assert_eq!(r.verified_tenant_of(&issued), Some(a.clone()));
        // Same format, made up by someone without the secret.
        assert_eq!(r.verified_tenant_of(&format!("cg1_acme_{}", "0123456789abcdef".repeat(2))), None);
        assert_eq!(r.tenant_of(&format!("cg1_acme_{}", "0123456789abcdef".repeat(2))), Some(a.clone()));
        // Our own number re-labelled for another tenant.
        assert_eq!(r.verified_tenant_of(&issued.replace("_acme_", "_other_")), None);
        assert_eq!(ReqNos::new("cg1", Some("s2")).verified_tenant_of(&issued), None);
        assert_eq!(r.verified_tenant_of(&r.for_read(&a)), None, "read numbers create no order");
        assert_eq!(r.verified_tenant_of("cg1_acme_"), None);
        assert_eq!(r.verified_tenant_of(&format!("{issued}0")), None);
    }

    #[test]
    fn different_secrets_give_different_numbers() {
        let t = TenantId::parse("acme").unwrap();
        assert_ne!(ReqNos::new("cg1", Some("s1")).for_key(&t, "k"), ReqNos::new("cg1", Some("s2")).for_key(&t, "k"));
    }
}
