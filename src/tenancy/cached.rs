//! An in-process read-through cache in front of the ownership store.
//!
//! Ownership never changes once claimed (the first tenant wins, forever), so a positive answer can be
//! cached without invalidation; negative answers are never cached (another request may claim the id
//! a moment later). This keeps reads of known objects working while Redis is down, and saves a Redis
//! round trip on every read.

use std::{collections::HashMap, sync::Arc};

use async_trait::async_trait;
use parking_lot::RwLock;

use super::{
    TenantId,
    ownership::{IndexPage, MetadataMerge, ObjectKind, ObjectMeta, OwnershipStore},
};
use crate::storage::StoreError;

type Key = (TenantId, ObjectKind, String);

pub struct CachedOwnership {
    inner: Arc<dyn OwnershipStore>,
    owned: RwLock<HashMap<Key, ObjectMeta>>,
    capacity: usize,
}

impl CachedOwnership {
    pub fn new(inner: Arc<dyn OwnershipStore>, capacity: usize) -> Self {
        Self { inner, owned: RwLock::new(HashMap::new()), capacity: capacity.max(1) }
    }

    fn remember(&self, key: Key, meta: ObjectMeta) {
        let mut g = self.owned.write();
        if g.len() >= self.capacity && !g.contains_key(&key) {
            // Crude but bounded: start over rather than grow; entries refill on use.
            g.clear();
        }
        g.insert(key, meta);
    }
}

#[async_trait]
impl OwnershipStore for CachedOwnership {
    async fn claim(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        id: &str,
        meta: &ObjectMeta,
    ) -> Result<bool, StoreError> {
        let ok = self.inner.claim(tenant, kind, id, meta).await?;
        if ok {
            self.remember((tenant.clone(), kind, id.to_owned()), meta.clone());
        }
        Ok(ok)
    }

    async fn get(&self, tenant: &TenantId, kind: ObjectKind, id: &str) -> Result<Option<ObjectMeta>, StoreError> {
        let key = (tenant.clone(), kind, id.to_owned());
        if let Some(m) = self.owned.read().get(&key) {
            return Ok(Some(m.clone()));
        }
        let found = self.inner.get(tenant, kind, id).await?;
        if let Some(m) = &found {
            self.remember(key, m.clone());
        }
        Ok(found)
    }

    /// Past the cache (another replica may have changed `metadata`); the cached answer when the
    /// store fails, so known objects stay readable.
    async fn get_fresh(&self, tenant: &TenantId, kind: ObjectKind, id: &str) -> Result<Option<ObjectMeta>, StoreError> {
        let key = (tenant.clone(), kind, id.to_owned());
        match self.inner.get_fresh(tenant, kind, id).await {
            Ok(Some(m)) => {
                self.remember(key, m.clone());
                Ok(Some(m))
            }
            Ok(None) => Ok(None),
            Err(e) => self.owned.read().get(&key).cloned().map(Some).ok_or(e),
        }
    }

    /// Lists read the store anyway: metadata comes with them, fresh.
    async fn get_many(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        ids: &[String],
    ) -> Result<Vec<Option<ObjectMeta>>, StoreError> {
        self.inner.get_many(tenant, kind, ids).await
    }

    async fn update(&self, tenant: &TenantId, kind: ObjectKind, id: &str, meta: &ObjectMeta) -> Result<(), StoreError> {
        self.inner.update(tenant, kind, id, meta).await?;
        // Write through (attributes only, as the store does): evicting would make the next read of
        // this object depend on the store again.
        if let Some(m) = self.owned.write().get_mut(&(tenant.clone(), kind, id.to_owned())) {
            m.attrs = meta.attrs.clone();
        }
        Ok(())
    }

    async fn merge_metadata(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        id: &str,
        patch: &std::collections::BTreeMap<String, String>,
        max_keys: usize,
    ) -> Result<MetadataMerge, StoreError> {
        let out = self.inner.merge_metadata(tenant, kind, id, patch, max_keys).await?;
        if let MetadataMerge::Merged(now) = &out
            && let Some(m) = self.owned.write().get_mut(&(tenant.clone(), kind, id.to_owned()))
        {
            m.metadata = now.clone();
        }
        Ok(out)
    }

    async fn unindex(&self, tenant: &TenantId, kind: ObjectKind, id: &str, created_ms: i64) -> Result<(), StoreError> {
        // Ownership itself is unchanged, so the cached answer stays true.
        self.inner.unindex(tenant, kind, id, created_ms).await
    }

    async fn owner_of(&self, kind: ObjectKind, id: &str) -> Result<Option<TenantId>, StoreError> {
        self.inner.owner_of(kind, id).await
    }

    async fn list(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        after: Option<&str>,
        limit: usize,
    ) -> Result<IndexPage, StoreError> {
        self.inner.list(tenant, kind, after, limit).await
    }

    async fn put_doc(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        id: &str,
        doc: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.inner.put_doc(tenant, kind, id, doc).await
    }

    async fn get_doc(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        id: &str,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        self.inner.get_doc(tenant, kind, id).await
    }

    async fn create_doc(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        id: &str,
        doc: &serde_json::Value,
        meta: &ObjectMeta,
        aliases: &[(String, serde_json::Value)],
    ) -> Result<bool, StoreError> {
        let created = self.inner.create_doc(tenant, kind, id, doc, meta, aliases).await?;
        if created {
            self.remember((tenant.clone(), kind, id.to_owned()), meta.clone());
        }
        Ok(created)
    }

    async fn swap_doc(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        id: &str,
        expect: u64,
        doc: &serde_json::Value,
    ) -> Result<bool, StoreError> {
        self.inner.swap_doc(tenant, kind, id, expect, doc).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenancy::memory::MemoryOwnershipStore;

    /// A store that fails every call after `broken` is set, like a Redis that went away.
    struct Flaky {
        inner: MemoryOwnershipStore,
        broken: std::sync::atomic::AtomicBool,
    }

    impl Flaky {
        fn check(&self) -> Result<(), StoreError> {
            if self.broken.load(std::sync::atomic::Ordering::SeqCst) { Err(StoreError::Timeout) } else { Ok(()) }
        }
    }

    #[async_trait]
    impl OwnershipStore for Flaky {
        async fn claim(&self, t: &TenantId, k: ObjectKind, id: &str, m: &ObjectMeta) -> Result<bool, StoreError> {
            self.check()?;
            self.inner.claim(t, k, id, m).await
        }
        async fn get(&self, t: &TenantId, k: ObjectKind, id: &str) -> Result<Option<ObjectMeta>, StoreError> {
            self.check()?;
            self.inner.get(t, k, id).await
        }
        async fn update(&self, t: &TenantId, k: ObjectKind, id: &str, m: &ObjectMeta) -> Result<(), StoreError> {
            self.check()?;
            self.inner.update(t, k, id, m).await
        }
        async fn create_doc(
            &self,
            t: &TenantId,
            k: ObjectKind,
            id: &str,
            d: &serde_json::Value,
            m: &ObjectMeta,
            a: &[(String, serde_json::Value)],
        ) -> Result<bool, StoreError> {
            self.check()?;
            self.inner.create_doc(t, k, id, d, m, a).await
        }
        async fn merge_metadata(
            &self,
            t: &TenantId,
            k: ObjectKind,
            id: &str,
            p: &std::collections::BTreeMap<String, String>,
            max: usize,
        ) -> Result<MetadataMerge, StoreError> {
            self.check()?;
            self.inner.merge_metadata(t, k, id, p, max).await
        }
        async fn unindex(&self, t: &TenantId, k: ObjectKind, id: &str, ms: i64) -> Result<(), StoreError> {
            self.check()?;
            self.inner.unindex(t, k, id, ms).await
        }
        async fn owner_of(&self, k: ObjectKind, id: &str) -> Result<Option<TenantId>, StoreError> {
            self.check()?;
            self.inner.owner_of(k, id).await
        }
        async fn list(&self, t: &TenantId, k: ObjectKind, a: Option<&str>, l: usize) -> Result<IndexPage, StoreError> {
            self.check()?;
            self.inner.list(t, k, a, l).await
        }
        async fn put_doc(
            &self,
            t: &TenantId,
            k: ObjectKind,
            id: &str,
            d: &serde_json::Value,
        ) -> Result<(), StoreError> {
            self.check()?;
            self.inner.put_doc(t, k, id, d).await
        }
        async fn get_doc(
            &self,
            t: &TenantId,
            k: ObjectKind,
            id: &str,
        ) -> Result<Option<serde_json::Value>, StoreError> {
            self.check()?;
            self.inner.get_doc(t, k, id).await
        }
        async fn swap_doc(
            &self,
            t: &TenantId,
            k: ObjectKind,
            id: &str,
            v: u64,
            d: &serde_json::Value,
        ) -> Result<bool, StoreError> {
            self.check()?;
            self.inner.swap_doc(t, k, id, v, d).await
        }
        async fn ping(&self) -> Result<(), StoreError> {
            self.check()
        }
    }

    #[tokio::test]
    async fn known_objects_stay_readable_when_the_store_fails_even_after_an_update() {
        let flaky = Arc::new(Flaky { inner: MemoryOwnershipStore::new(), broken: Default::default() });
        let cached = CachedOwnership::new(flaky.clone(), 10);
        let t = TenantId::parse("a").unwrap();
        let mut meta = ObjectMeta { created_ms: 1, ..Default::default() };
        assert!(cached.claim(&t, ObjectKind::Card, "c1", &meta).await.unwrap());
        meta.attrs.insert("last4".into(), "4242".into());
        cached.update(&t, ObjectKind::Card, "c1", &meta).await.unwrap();
        flaky.broken.store(true, std::sync::atomic::Ordering::SeqCst);
        let got = cached.get(&t, ObjectKind::Card, "c1").await.unwrap().unwrap();
        assert_eq!(got.attrs["last4"], "4242");
        assert_eq!(got.created_ms, 1);
        assert!(cached.get(&t, ObjectKind::Card, "unknown").await.is_err(), "unknown objects still need the store");
        assert!(
            cached.get(&TenantId::parse("b").unwrap(), ObjectKind::Card, "c1").await.is_err(),
            "no cross-tenant hit"
        );
    }

    #[tokio::test]
    async fn a_fresh_read_sees_another_replicas_metadata_and_falls_back_to_the_cache_when_the_store_fails() {
        let flaky = Arc::new(Flaky { inner: MemoryOwnershipStore::new(), broken: Default::default() });
        let (here, there) = (CachedOwnership::new(flaky.clone(), 10), CachedOwnership::new(flaky.clone(), 10));
        let t = TenantId::parse("a").unwrap();
        let mut meta = ObjectMeta { created_ms: 1, ..Default::default() };
        assert!(here.claim(&t, ObjectKind::Card, "c1", &meta).await.unwrap());
        assert!(there.get(&t, ObjectKind::Card, "c1").await.unwrap().is_some(), "cached on the other replica");
        meta.metadata.insert("order".into(), "A-1".into());
        here.merge_metadata(&t, ObjectKind::Card, "c1", &meta.metadata, 50).await.unwrap();
        assert_eq!(there.get_fresh(&t, ObjectKind::Card, "c1").await.unwrap(), Some(meta.clone()));
        let ids = ["c1".to_owned()];
        assert_eq!(there.get_many(&t, ObjectKind::Card, &ids).await.unwrap(), vec![Some(meta.clone())]);
        flaky.broken.store(true, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(there.get_fresh(&t, ObjectKind::Card, "c1").await.unwrap(), Some(meta));
        assert!(there.get_fresh(&t, ObjectKind::Card, "unknown").await.is_err());
    }
}
