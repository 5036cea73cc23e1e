//! In-process ownership store (single replica, development).

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use parking_lot::RwLock;

use super::{
    TenantId,
    ownership::{IndexPage, MetadataMerge, ObjectKind, ObjectMeta, OwnershipStore, merged, position},
};
use crate::storage::StoreError;

#[derive(Default)]
struct Inner {
    owners: HashMap<(ObjectKind, String), TenantId>,
    meta: HashMap<(TenantId, ObjectKind, String), ObjectMeta>,
    index: HashMap<(TenantId, ObjectKind), BTreeMap<String, String>>,
    docs: HashMap<(TenantId, ObjectKind, String), serde_json::Value>,
}

#[derive(Default)]
pub struct MemoryOwnershipStore {
    inner: RwLock<Inner>,
}

impl MemoryOwnershipStore {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl OwnershipStore for MemoryOwnershipStore {
    async fn claim(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        id: &str,
        meta: &ObjectMeta,
    ) -> Result<bool, StoreError> {
        let mut g = self.inner.write();
        match g.owners.get(&(kind, id.to_owned())) {
            Some(owner) if owner != tenant => return Ok(false),
            Some(_) => return Ok(true),
            None => {}
        }
        g.owners.insert((kind, id.to_owned()), tenant.clone());
        g.meta.insert((tenant.clone(), kind, id.to_owned()), meta.clone());
        g.index.entry((tenant.clone(), kind)).or_default().insert(position(meta.created_ms, id), id.to_owned());
        Ok(true)
    }

    async fn get(&self, tenant: &TenantId, kind: ObjectKind, id: &str) -> Result<Option<ObjectMeta>, StoreError> {
        Ok(self.inner.read().meta.get(&(tenant.clone(), kind, id.to_owned())).cloned())
    }

    async fn update(&self, tenant: &TenantId, kind: ObjectKind, id: &str, meta: &ObjectMeta) -> Result<(), StoreError> {
        let mut g = self.inner.write();
        if let Some(m) = g.meta.get_mut(&(tenant.clone(), kind, id.to_owned())) {
            m.attrs = meta.attrs.clone();
        }
        Ok(())
    }

    async fn merge_metadata(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        id: &str,
        patch: &BTreeMap<String, String>,
        max_keys: usize,
    ) -> Result<MetadataMerge, StoreError> {
        let mut g = self.inner.write();
        let Some(m) = g.meta.get_mut(&(tenant.clone(), kind, id.to_owned())) else {
            return Ok(MetadataMerge::NotOwned);
        };
        let after = merged(&m.metadata, patch);
        if after.len() > max_keys {
            return Ok(MetadataMerge::TooManyKeys);
        }
        m.metadata = after.clone();
        Ok(MetadataMerge::Merged(after))
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
        let mut g = self.inner.write();
        let key = (tenant.clone(), kind, id.to_owned());
        if g.docs.contains_key(&key) {
            return Ok(false);
        }
        g.docs.insert(key.clone(), doc.clone());
        g.meta.entry(key).or_insert_with(|| meta.clone());
        g.index.entry((tenant.clone(), kind)).or_default().insert(position(meta.created_ms, id), id.to_owned());
        for (alias, body) in aliases {
            g.docs.insert((tenant.clone(), kind, alias.clone()), body.clone());
        }
        Ok(true)
    }

    async fn unindex(&self, tenant: &TenantId, kind: ObjectKind, id: &str, created_ms: i64) -> Result<(), StoreError> {
        if let Some(idx) = self.inner.write().index.get_mut(&(tenant.clone(), kind)) {
            idx.remove(&position(created_ms, id));
        }
        Ok(())
    }

    async fn owner_of(&self, kind: ObjectKind, id: &str) -> Result<Option<TenantId>, StoreError> {
        Ok(self.inner.read().owners.get(&(kind, id.to_owned())).cloned())
    }

    async fn list(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        after: Option<&str>,
        limit: usize,
    ) -> Result<IndexPage, StoreError> {
        let g = self.inner.read();
        let Some(idx) = g.index.get(&(tenant.clone(), kind)) else {
            return Ok(IndexPage { ids: Vec::new(), positions: Vec::new(), next: None });
        };
        let iter: Box<dyn Iterator<Item = (&String, &String)>> = match after {
            Some(pos) => {
                Box::new(idx.range::<str, _>((std::ops::Bound::Unbounded, std::ops::Bound::Excluded(pos))).rev())
            }
            None => Box::new(idx.iter().rev()),
        };
        let mut taken: Vec<(&String, &String)> = iter.take(limit + 1).collect();
        let more = taken.len() > limit;
        taken.truncate(limit);
        let next = if more { taken.last().map(|(p, _)| (*p).clone()) } else { None };
        let positions = taken.iter().map(|(p, _)| (*p).clone()).collect();
        Ok(IndexPage { ids: taken.into_iter().map(|(_, id)| id.clone()).collect(), positions, next })
    }

    async fn put_doc(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        id: &str,
        doc: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.inner.write().docs.insert((tenant.clone(), kind, id.to_owned()), doc.clone());
        Ok(())
    }

    async fn get_doc(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        id: &str,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        Ok(self.inner.read().docs.get(&(tenant.clone(), kind, id.to_owned())).cloned())
    }

    async fn swap_doc(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        id: &str,
        expect: u64,
        doc: &serde_json::Value,
    ) -> Result<bool, StoreError> {
        let mut inner = self.inner.write();
        let key = (tenant.clone(), kind, id.to_owned());
        let current = inner.docs.get(&key).map_or(0, doc_version);
        if current != expect {
            return Ok(false);
        }
        inner.docs.insert(key, doc.clone());
        Ok(true)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// The `version` of a stored versioned document (0 when it has none).
fn doc_version(doc: &serde_json::Value) -> u64 {
    doc.get("version").and_then(serde_json::Value::as_u64).unwrap_or(0)
}
