//! The ownership contract: every object a tenant creates is recorded as that tenant's; every id in a
//! path or body is checked against it; lists read the tenant's own index.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::TenantId;
use crate::storage::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    Card,
    CardGroup,
    Cardholder,
    Operation,
    CryptoOrder,
    WebhookEndpoint,
}

impl ObjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Card => "card",
            ObjectKind::CardGroup => "card_group",
            ObjectKind::Cardholder => "cardholder",
            ObjectKind::Operation => "operation",
            ObjectKind::CryptoOrder => "crypto_order",
            ObjectKind::WebhookEndpoint => "webhook_endpoint",
        }
    }
}

/// What the gateway keeps about an object: when it was created (for ordering), a few non-sensitive
/// attributes (e.g. a card's `group_id`, `cardholder_id`, `last4`) and the caller's own `metadata`
/// (cards, card groups, cardholders; bounded and checked by `http::rules::METADATA_*`, card numbers
/// refused). Never a PAN or CVV.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ObjectMeta {
    pub created_ms: i64,
    #[serde(default)]
    pub attrs: BTreeMap<String, String>,
    /// The caller's string map, stored by the gateway only (the platform never sees it). Absent in
    /// records written before it existed, and not written when empty.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// What [`OwnershipStore::merge_metadata`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataMerge {
    /// Written; the object's metadata now.
    Merged(BTreeMap<String, String>),
    /// The tenant owns no such object: nothing written.
    NotOwned,
    /// More than `max_keys` keys would remain: nothing written.
    TooManyKeys,
}

/// `current` after a metadata patch: given keys set, keys given `""` removed.
pub fn merged(current: &BTreeMap<String, String>, patch: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut out = current.clone();
    for (k, v) in patch {
        if v.is_empty() {
            out.remove(k);
        } else {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// One page of a tenant's index, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexPage {
    pub ids: Vec<String>,
    /// The index position of each id (same order): a list that stops inside a page continues after
    /// the position of the last id it used; a time-range filter compares positions (they start with
    /// `created_ms`).
    pub positions: Vec<String>,
    /// Position after the last id, when more may follow.
    pub next: Option<String>,
}

/// The index position of an object: `<created_ms, zero-padded>|<id>`, ordered lexicographically.
pub fn position(created_ms: i64, id: &str) -> String {
    format!("{:016}|{id}", created_ms.max(0))
}

#[async_trait]
pub trait OwnershipStore: Send + Sync + 'static {
    /// Records `id` as `tenant`'s (idempotent for the same tenant). Returns `false`, writing nothing,
    /// when another tenant already owns it.
    async fn claim(&self, tenant: &TenantId, kind: ObjectKind, id: &str, meta: &ObjectMeta)
    -> Result<bool, StoreError>;

    /// The object's metadata if `tenant` owns it; `None` for a missing object and for another
    /// tenant's object alike.
    async fn get(&self, tenant: &TenantId, kind: ObjectKind, id: &str) -> Result<Option<ObjectMeta>, StoreError>;

    /// The metadata of several objects at once (same order; `None` where `tenant` owns no such
    /// object). Backends override it with one round trip; the default asks one by one.
    async fn get_many(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        ids: &[String],
    ) -> Result<Vec<Option<ObjectMeta>>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.get(tenant, kind, id).await?);
        }
        Ok(out)
    }

    /// [`Self::get`] from the backing store itself, past any in-process cache: what a read that shows
    /// mutable fields (`metadata`) needs when several replicas serve the tenant.
    async fn get_fresh(&self, tenant: &TenantId, kind: ObjectKind, id: &str) -> Result<Option<ObjectMeta>, StoreError> {
        self.get(tenant, kind, id).await
    }

    /// Replaces the attributes of an owned object (no-op when not owned). Its `metadata` stays as it
    /// is, whatever `meta.metadata` holds: only [`Self::merge_metadata`] changes it, so a writer of
    /// attributes holding an old copy (a webhook, another replica's cache) never undoes a change.
    async fn update(&self, tenant: &TenantId, kind: ObjectKind, id: &str, meta: &ObjectMeta) -> Result<(), StoreError>;

    /// Sets the given keys of an owned object's `metadata` and removes those given `""`, in one step
    /// (two concurrent patches of different keys both stay), all or nothing: refused when more than
    /// `max_keys` keys would remain.
    async fn merge_metadata(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        id: &str,
        patch: &BTreeMap<String, String>,
        max_keys: usize,
    ) -> Result<MetadataMerge, StoreError>;

    /// Takes an owned object out of the tenant's index (it was deleted): lists and walks no longer
    /// see it, while the id stays the tenant's, so no one else can ever claim it. `created_ms` is the
    /// one it was claimed with (its position).
    async fn unindex(&self, tenant: &TenantId, kind: ObjectKind, id: &str, created_ms: i64) -> Result<(), StoreError>;

    /// Who owns an object (webhook routing).
    async fn owner_of(&self, kind: ObjectKind, id: &str) -> Result<Option<TenantId>, StoreError>;

    /// The tenant's objects of `kind`, newest first, strictly after `after` (a position).
    async fn list(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        after: Option<&str>,
        limit: usize,
    ) -> Result<IndexPage, StoreError>;

    /// A JSON document owned by the tenant (operations, endpoint configs): put/get by id.
    async fn put_doc(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        id: &str,
        doc: &serde_json::Value,
    ) -> Result<(), StoreError>;
    async fn get_doc(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        id: &str,
    ) -> Result<Option<serde_json::Value>, StoreError>;
    /// Compare-and-set of a versioned document: writes `doc` only if the stored one's `version`
    /// field is `expect` (0 = no document yet). `false`: it was changed first; nothing written.
    async fn swap_doc(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        id: &str,
        expect: u64,
        doc: &serde_json::Value,
    ) -> Result<bool, StoreError>;

    /// Creates a tenant-scoped versioned document together with its index entry (`meta`) and alias
    /// documents (e.g. a lookup by another number), all or nothing: `false`, writing nothing, when the
    /// document exists already. For kinds whose ids are derived from the tenant
    /// (operations): no global owner record is written, since another tenant can never name the id.
    async fn create_doc(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        id: &str,
        doc: &serde_json::Value,
        meta: &ObjectMeta,
        aliases: &[(String, serde_json::Value)],
    ) -> Result<bool, StoreError>;

    /// Liveness of the backing store (readiness probe).
    async fn ping(&self) -> Result<(), StoreError>;
}

/// The contract every backend must meet; run by each backend's tests.
#[cfg(test)]
pub mod contract {
    use super::*;

    fn t(s: &str) -> TenantId {
        TenantId::parse(s).unwrap()
    }

    fn meta(ms: i64) -> ObjectMeta {
        ObjectMeta { created_ms: ms, ..Default::default() }
    }

    pub async fn metadata_is_merged_atomically_kept_by_attribute_updates_and_read_in_bulk_per_tenant(
        s: &dyn OwnershipStore,
    ) {
        let (a, b, k) = (t("md-a"), t("md-b"), ObjectKind::Card);
        let md = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
        };
        let mut m = meta(10);
        m.metadata = md(&[("order", "A-1")]);
        assert!(s.claim(&a, k, "m1", &m).await.unwrap());
        assert!(s.claim(&a, k, "m1", &meta(10)).await.unwrap(), "a re-claim");
        assert!(s.claim(&a, k, "m2", &meta(11)).await.unwrap());
        assert!(s.claim(&b, k, "m3", &meta(12)).await.unwrap());
        assert_eq!(s.get(&a, k, "m1").await.unwrap().unwrap().metadata, md(&[("order", "A-1")]), "a re-claim keeps it");
        assert_eq!(s.get_fresh(&a, k, "m1").await.unwrap(), Some(m.clone()));

        let patch = md(&[("order", ""), ("team", "ads"), ("gone", "")]);
        assert_eq!(
            s.merge_metadata(&a, k, "m1", &patch, 2).await.unwrap(),
            MetadataMerge::Merged(md(&[("team", "ads")]))
        );
        let two = md(&[("x", "1"), ("y", "2")]);
        assert_eq!(s.merge_metadata(&a, k, "m1", &two, 2).await.unwrap(), MetadataMerge::TooManyKeys);
        assert_eq!(s.get(&a, k, "m1").await.unwrap().unwrap().metadata, md(&[("team", "ads")]), "nothing written");
        let swap = md(&[("team", ""), ("x", "1"), ("y", "2")]);
        assert_eq!(
            s.merge_metadata(&a, k, "m1", &swap, 2).await.unwrap(),
            MetadataMerge::Merged(md(&[("x", "1"), ("y", "2")]))
        );
        assert_eq!(s.merge_metadata(&b, k, "m1", &two, 50).await.unwrap(), MetadataMerge::NotOwned, "another tenant's");
        assert_eq!(s.merge_metadata(&a, k, "nope", &two, 50).await.unwrap(), MetadataMerge::NotOwned);
        assert!(s.get(&a, k, "nope").await.unwrap().is_none(), "a refused merge creates nothing");

        // An attribute writer holding an old copy leaves the metadata alone.
        let mut stale = m.clone();
        stale.attrs.insert("last4".into(), "4242".into());
        s.update(&a, k, "m1", &stale).await.unwrap();
        let now = s.get(&a, k, "m1").await.unwrap().unwrap();
        assert_eq!((now.attrs["last4"].as_str(), now.metadata), ("4242", md(&[("x", "1"), ("y", "2")])));

        let ids = ["m2", "m1", "m3", "nope"].map(str::to_owned);
        let many = s.get_many(&a, k, &ids).await.unwrap();
        assert_eq!(many.len(), 4);
        assert_eq!(many[1].as_ref().unwrap().metadata, md(&[("x", "1"), ("y", "2")]));
        assert_eq!(many[1].as_ref().unwrap().attrs["last4"], "4242");
        assert!(many[0].as_ref().unwrap().metadata.is_empty());
        assert_eq!((many[2].clone(), many[3].clone()), (None, None), "another tenant's and a missing id alike");
        assert_eq!(s.get_many(&a, k, &[]).await.unwrap(), Vec::<Option<ObjectMeta>>::new());
        let page = s.list(&a, k, None, 10).await.unwrap();
        assert_eq!(page.ids, vec!["m2".to_owned(), "m1".to_owned()]);
        assert_eq!(page.positions, vec![position(11, "m2"), position(10, "m1")]);
    }

    pub async fn first_claim_wins_and_other_tenants_see_nothing(s: &dyn OwnershipStore) {
        assert!(s.claim(&t("a"), ObjectKind::Card, "c1", &meta(1)).await.unwrap());
        assert!(
            s.claim(&t("a"), ObjectKind::Card, "c1", &meta(1)).await.unwrap(),
            "re-claim by the owner is idempotent"
        );
        assert!(!s.claim(&t("b"), ObjectKind::Card, "c1", &meta(2)).await.unwrap());
        assert!(s.get(&t("a"), ObjectKind::Card, "c1").await.unwrap().is_some());
        assert_eq!(s.get(&t("b"), ObjectKind::Card, "c1").await.unwrap(), None);
        assert_eq!(s.get(&t("a"), ObjectKind::CardGroup, "c1").await.unwrap(), None, "kinds are separate");
        assert_eq!(s.owner_of(ObjectKind::Card, "c1").await.unwrap(), Some(t("a")));
        assert_eq!(s.owner_of(ObjectKind::Card, "nope").await.unwrap(), None);
    }

    pub async fn lists_page_newest_first_without_gaps_or_leaks(s: &dyn OwnershipStore) {
        for i in 0..25 {
            s.claim(&t("a"), ObjectKind::Cardholder, &format!("h{i:02}"), &meta(1000 + i / 2)).await.unwrap();
            s.claim(&t("b"), ObjectKind::Cardholder, &format!("x{i:02}"), &meta(1000 + i)).await.unwrap();
        }
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = s.list(&t("a"), ObjectKind::Cardholder, after.as_deref(), 7).await.unwrap();
            assert!(page.ids.len() <= 7);
            seen.extend(page.ids.clone());
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        assert_eq!(seen.len(), 25);
        assert!(seen.iter().all(|id| id.starts_with('h')), "no other tenant's ids");
        let mut dedup = seen.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(dedup.len(), 25, "no duplicates");
        assert_eq!(seen[0], "h24", "newest first");
    }

    pub async fn versioned_documents_change_only_by_compare_and_set(s: &dyn OwnershipStore) {
        let (a, k) = (t("cas-a"), ObjectKind::Operation);
        let v1 = serde_json::json!({"version": 1, "status": "pending"});
        assert!(s.swap_doc(&a, k, "op1", 0, &v1).await.unwrap(), "created from nothing");
        assert!(!s.swap_doc(&a, k, "op1", 0, &v1).await.unwrap(), "a second create loses");
        let v2 = serde_json::json!({"version": 2, "status": "succeeded"});
        assert!(s.swap_doc(&a, k, "op1", 1, &v2).await.unwrap());
        let stale = serde_json::json!({"version": 2, "status": "pending"});
        assert!(!s.swap_doc(&a, k, "op1", 1, &stale).await.unwrap(), "a stale writer never goes backwards");
        assert_eq!(s.get_doc(&a, k, "op1").await.unwrap(), Some(v2));
        assert!(s.get_doc(&t("cas-b"), k, "op1").await.unwrap().is_none());
    }

    pub async fn a_created_document_is_indexed_with_its_aliases_and_a_second_create_writes_nothing(
        s: &dyn OwnershipStore,
    ) {
        let (a, k) = (t("create-a"), ObjectKind::Operation);
        let v1 = serde_json::json!({"version": 1, "status": "pending"});
        let alias = vec![("by-req:n1".to_owned(), serde_json::json!({"op_id": "op1"}))];
        assert!(s.create_doc(&a, k, "op1", &v1, &meta(7), &alias).await.unwrap());
        assert_eq!(s.get_doc(&a, k, "op1").await.unwrap(), Some(v1.clone()));
        assert_eq!(s.get_doc(&a, k, "by-req:n1").await.unwrap(), Some(alias[0].1.clone()));
        assert_eq!(s.get(&a, k, "op1").await.unwrap(), Some(meta(7)));
        assert_eq!(s.list(&a, k, None, 10).await.unwrap().ids, vec!["op1".to_owned()]);
        let other = serde_json::json!({"version": 1, "status": "other"});
        let other_alias = vec![("by-req:n2".to_owned(), serde_json::json!({"op_id": "op1"}))];
        assert!(!s.create_doc(&a, k, "op1", &other, &meta(8), &other_alias).await.unwrap());
        assert_eq!(s.get_doc(&a, k, "op1").await.unwrap(), Some(v1), "the first create stays");
        assert_eq!(s.get_doc(&a, k, "by-req:n2").await.unwrap(), None, "a losing create writes no alias");
        assert!(!s.swap_doc(&a, k, "op1", 0, &other).await.unwrap(), "a created document has a version");
        assert!(s.get_doc(&t("create-b"), k, "op1").await.unwrap().is_none(), "per tenant");
        assert!(s.create_doc(&t("create-b"), k, "op1", &other, &meta(9), &[]).await.unwrap(), "per tenant");
    }

    pub async fn an_unindexed_object_leaves_the_list_but_stays_owned(s: &dyn OwnershipStore) {
        let (a, k) = (t("unidx-a"), ObjectKind::WebhookEndpoint);
        for (i, id) in ["e1", "e2", "e3"].iter().enumerate() {
            assert!(s.claim(&a, k, id, &meta(100 + i as i64)).await.unwrap());
        }
        s.unindex(&a, k, "e2", 101).await.unwrap();
        assert_eq!(s.list(&a, k, None, 10).await.unwrap().ids, vec!["e3".to_owned(), "e1".to_owned()]);
        assert!(s.get(&a, k, "e2").await.unwrap().is_some(), "still the tenant's object");
        assert!(!s.claim(&t("unidx-b"), k, "e2", &meta(5)).await.unwrap(), "the id stays the tenant's");
        s.unindex(&a, k, "missing", 1).await.unwrap();
    }

    pub async fn documents_are_per_tenant(s: &dyn OwnershipStore) {
        let doc = serde_json::json!({"status": "pending"});
        s.put_doc(&t("a"), ObjectKind::Operation, "op1", &doc).await.unwrap();
        assert_eq!(s.get_doc(&t("a"), ObjectKind::Operation, "op1").await.unwrap(), Some(doc));
        assert_eq!(s.get_doc(&t("b"), ObjectKind::Operation, "op1").await.unwrap(), None);
        let mut m = meta(5);
        s.claim(&t("a"), ObjectKind::Card, "cm", &m).await.unwrap();
        m.attrs.insert("last4".into(), "4242".into());
        s.update(&t("a"), ObjectKind::Card, "cm", &m).await.unwrap();
        assert_eq!(s.get(&t("a"), ObjectKind::Card, "cm").await.unwrap().unwrap().attrs["last4"], "4242");
    }
}

#[cfg(test)]
mod tests {

    use super::contract::*;
    use crate::{
        storage::redis::RedisPool,
        tenancy::{memory::MemoryOwnershipStore, redis::RedisOwnershipStore},
        testing::redis_server::{RedisCluster, RedisServer},
    };

    async fn contract_on(pool: impl Fn(&str) -> RedisPool) {
        first_claim_wins_and_other_tenants_see_nothing(&RedisOwnershipStore::new(pool("t1"))).await;
        lists_page_newest_first_without_gaps_or_leaks(&RedisOwnershipStore::new(pool("t2"))).await;
        documents_are_per_tenant(&RedisOwnershipStore::new(pool("t3"))).await;
        versioned_documents_change_only_by_compare_and_set(&RedisOwnershipStore::new(pool("t4"))).await;
        a_created_document_is_indexed_with_its_aliases_and_a_second_create_writes_nothing(&RedisOwnershipStore::new(
            pool("t5"),
        ))
        .await;
        an_unindexed_object_leaves_the_list_but_stays_owned(&RedisOwnershipStore::new(pool("t6"))).await;
        metadata_is_merged_atomically_kept_by_attribute_updates_and_read_in_bulk_per_tenant(&RedisOwnershipStore::new(
            pool("t7"),
        ))
        .await;
    }

    #[tokio::test]
    async fn redis_cluster_store_meets_the_ownership_contract() {
        let Some(cluster) = RedisCluster::start() else { return };
        contract_on(|p| cluster.pool(p)).await;
    }

    #[tokio::test]
    async fn tls_redis_store_meets_the_ownership_contract() {
        let Some(server) = RedisServer::start_tls() else { return };
        contract_on(|p| server.pool(p)).await;
    }

    #[tokio::test]
    async fn memory_store_meets_the_ownership_contract() {
        first_claim_wins_and_other_tenants_see_nothing(&MemoryOwnershipStore::new()).await;
        lists_page_newest_first_without_gaps_or_leaks(&MemoryOwnershipStore::new()).await;
        documents_are_per_tenant(&MemoryOwnershipStore::new()).await;
        versioned_documents_change_only_by_compare_and_set(&MemoryOwnershipStore::new()).await;
        a_created_document_is_indexed_with_its_aliases_and_a_second_create_writes_nothing(&MemoryOwnershipStore::new())
            .await;
        an_unindexed_object_leaves_the_list_but_stays_owned(&MemoryOwnershipStore::new()).await;
        metadata_is_merged_atomically_kept_by_attribute_updates_and_read_in_bulk_per_tenant(
            &MemoryOwnershipStore::new(),
        )
        .await;
    }

    #[tokio::test]
    async fn redis_store_meets_the_ownership_contract() {
        let Some(server) = RedisServer::start() else { return };
        contract_on(|p| server.pool(p)).await;
    }
}
