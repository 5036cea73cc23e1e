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
    ownership::{IndexPage, ObjectKind, ObjectMeta, OwnershipStore},
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

    async fn update(&self, tenant: &TenantId, kind: ObjectKind, id: &str, meta: &ObjectMeta) -> Result<(), StoreError> {
        self.inner.update(tenant, kind, id, meta).await?;
        self.owned.write().remove(&(tenant.clone(), kind, id.to_owned()));
        Ok(())
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

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
}
