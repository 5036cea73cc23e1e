//! Small helpers the resource routes share: ownership checks that answer 404 exactly like a missing
//! object, bounded fan-out of upstream reads (charged to the tenant), and a tenant's owned list.
//! Cursors and pages are in `http::pagination`.

use actix_web::{HttpResponse, web};
use futures_util::{StreamExt as _, stream};
use serde::Serialize;

use crate::{
    domain::list::{ListQuery, MAX_LIMIT, is_id},
    error::ApiError,
    http::pagination::{decode_cursor, encode_cursor, page},
    rate_limit::RouteClass,
    state::AppState,
    tenancy::{ObjectKind, ObjectMeta, OwnershipStore, TenantId},
    upstream::{Reply, UpstreamError},
};

/// The object's metadata if the tenant owns it; otherwise 404 with `code` — the same answer for a
/// malformed id, a missing object and another tenant's object.
pub async fn owned(
    state: &AppState,
    tenant: &TenantId,
    kind: ObjectKind,
    id: &str,
    code: &str,
) -> Result<ObjectMeta, ApiError> {
    lookup(state, tenant, kind, id, code, false).await
}

/// [`owned`] with the record read from the store itself (past the in-process cache), for reads that
/// show `metadata`, which another replica may have changed.
pub async fn owned_fresh(
    state: &AppState,
    tenant: &TenantId,
    kind: ObjectKind,
    id: &str,
    code: &str,
) -> Result<ObjectMeta, ApiError> {
    lookup(state, tenant, kind, id, code, true).await
}

async fn lookup(
    state: &AppState,
    tenant: &TenantId,
    kind: ObjectKind,
    id: &str,
    code: &str,
    fresh: bool,
) -> Result<ObjectMeta, ApiError> {
    if !is_id(id) {
        return Err(ApiError::not_found(code, kind_name(kind)));
    }
    let found = if fresh {
        state.ownership.get_fresh(tenant, kind, id).await
    } else {
        state.ownership.get(tenant, kind, id).await
    };
    match found {
        Ok(Some(meta)) => Ok(meta),
        Ok(None) => Err(ApiError::not_found(code, kind_name(kind))),
        // Reads keep working on a flaky store only where they need no ownership; here we cannot check.
        Err(e) => Err(ApiError::store(&e, state.settings.idempotency.retry_after_s)),
    }
}

/// A PATCH's `metadata` merged into the stored record (`""` removes a key) in one store step, so
/// concurrent patches of different keys both stay; refused (422 on `#/metadata`) when more than the
/// key bound would remain. The gateway's alone, and idempotent (the same PATCH again gives the same map).
pub async fn set_metadata(
    state: &AppState,
    tenant: &TenantId,
    kind: ObjectKind,
    id: &str,
    code: &str,
    patch: &crate::domain::metadata::Metadata,
) -> Result<std::collections::BTreeMap<String, String>, ApiError> {
    use crate::tenancy::ownership::MetadataMerge;
    let max = crate::http::rules::METADATA_MAX_KEYS;
    match state.ownership.merge_metadata(tenant, kind, id, &patch.0, max).await? {
        MetadataMerge::Merged(now) => Ok(now),
        MetadataMerge::NotOwned => Err(ApiError::not_found(code, kind_name(kind))),
        MetadataMerge::TooManyKeys => {
            Err(ApiError::field("#/metadata", format!("the object would have more than {max} metadata keys")))
        }
    }
}

pub fn kind_name(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Card => "card",
        ObjectKind::CardGroup => "card group",
        ObjectKind::Cardholder => "cardholder",
        ObjectKind::Operation => "operation",
        ObjectKind::CryptoOrder => "crypto order",
        ObjectKind::WebhookEndpoint => "webhook endpoint",
    }
}

/// Runs `f` over `ids` with bounded concurrency, keeping order.
pub async fn fan_out<T, F, Fut>(ids: Vec<String>, concurrency: usize, f: F) -> Vec<T>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    stream::iter(ids).map(f).buffered(concurrency.max(1)).collect().await
}

/// A page that reads `calls` objects from the platform costs the caller that many reads: the
/// request itself paid one in the rate-limit middleware, the rest are charged here, before any
/// platform call, so a list cannot multiply a tenant's share of the platform's throttling by 100.
/// Refused as a whole (429, nothing fetched) when the tenant's read allowance cannot cover it.
pub async fn charge_fan_out(state: &AppState, tenant: &TenantId, calls: usize) -> Result<(), ApiError> {
    crate::rate_limit::charge(
        state.limiter.as_deref(),
        tenant.as_str(),
        RouteClass::Read,
        calls.saturating_sub(1),
        || {
            format!(
                "this page reads {calls} objects from the card platform, each charged as a read, and the read \
             allowance cannot cover it now: retry later or ask for a smaller `limit`"
            )
        },
    )
    .await
}

/// How many index entries one list request may walk past the gateway-side filters before it answers
/// with what it found (possibly nothing) and a `next_cursor` to go on from: a filter that matches
/// rarely costs a bounded amount of store reads per request, never an unbounded scan.
pub const MAX_SCAN: usize = 1000;

/// What a list keeps of a tenant's index, decided from what the gateway stores (no platform call):
/// the creation time window and a predicate on the ownership record (group, cardholder).
pub struct IndexFilter<'a> {
    /// `created[gte]`, `created[lt]` in milliseconds.
    pub created_gte_ms: Option<i64>,
    pub created_lt_ms: Option<i64>,
    pub keep: Box<dyn Fn(&ObjectMeta) -> bool + Send + Sync + 'a>,
    /// Whether `keep` can refuse anything (it then reads the index in larger chunks).
    pub selective: bool,
}

impl Default for IndexFilter<'_> {
    fn default() -> Self {
        Self { created_gte_ms: None, created_lt_ms: None, keep: Box::new(|_| true), selective: false }
    }
}

/// The index position just above every object created before `ms`: positions are
/// `<created_ms, 16 digits>|<id>`, so `<ms>|` sorts after every `<smaller>|…` and before every `<ms>|<id>`.
fn time_bound(ms: i64) -> String {
    format!("{:016}|", ms.max(0))
}

/// Walks the tenant's index newest first from `after` (the cursor's position) and returns up to
/// `limit` objects that pass `filter`, with their ownership records, and the position to continue
/// from (`None`: nothing more can match). Stops early after [`MAX_SCAN`] entries.
pub async fn scan_index(
    store: &dyn OwnershipStore,
    tenant: &TenantId,
    kind: ObjectKind,
    after: Option<String>,
    limit: usize,
    filter: &IndexFilter<'_>,
) -> Result<(Vec<(String, ObjectMeta)>, Option<String>), ApiError> {
    let floor = filter.created_gte_ms.map(time_bound);
    let mut after = match (after, filter.created_lt_ms) {
        (Some(a), _) => Some(a),
        (None, Some(lt)) => Some(time_bound(lt)),
        (None, None) => None,
    };
    let mut out: Vec<(String, ObjectMeta)> = Vec::with_capacity(limit);
    let mut scanned = 0usize;
    while scanned < MAX_SCAN {
        let chunk = if filter.selective || floor.is_some() { MAX_LIMIT } else { limit - out.len() };
        let page = store.list(tenant, kind, after.as_deref(), chunk.max(1)).await?;
        let metas = store.get_many(tenant, kind, &page.ids).await?;
        let n = page.ids.len();
        for (i, ((id, pos), meta)) in page.ids.into_iter().zip(page.positions).zip(metas).enumerate() {
            if floor.as_ref().is_some_and(|f| pos.as_str() < f.as_str()) {
                return Ok((out, None));
            }
            scanned += 1;
            // No record: the index entry of a claim being completed; the next list shows it.
            if let Some(meta) = meta.filter(|m| (filter.keep)(m)) {
                out.push((id, meta));
                if out.len() == limit {
                    let more = i + 1 < n || page.next.is_some();
                    return Ok((out, more.then_some(pos)));
                }
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok((out, None)),
        }
    }
    Ok((out, after))
}

/// One list request's page: which list (the cursor is bound to it, filters included), its size and
/// cursor, and the gateway-side filter.
pub struct ListPage<'a> {
    pub list: String,
    pub limit: usize,
    pub cursor: Option<&'a str>,
    pub filter: IndexFilter<'a>,
}

impl<'a> ListPage<'a> {
    pub fn plain(list: &str, q: &'a ListQuery) -> Self {
        Self { list: list.to_owned(), limit: q.limit(), cursor: q.cursor.as_deref(), filter: IndexFilter::default() }
    }
}

/// A tenant's list, newest first: the objects of its index that pass the gateway-side filter, each
/// read from the platform with bounded concurrency and mapped to its public shape with its ownership
/// record (`None` from `map`: a filter on what only the platform knows refused it, so a page may hold
/// fewer than `limit` objects). Objects the platform no longer returns are skipped; a platform failure
/// fails the page (never a silently partial page).
pub async fn list_owned<W, T, F, Fut>(
    state: &web::Data<AppState>,
    tenant: &TenantId,
    kind: ObjectKind,
    query: ListPage<'_>,
    fetch: F,
    map: impl Fn(&AppState, &W, &ObjectMeta) -> Option<T>,
) -> Result<HttpResponse, ApiError>
where
    F: Fn(web::Data<AppState>, String) -> Fut,
    Fut: std::future::Future<Output = Result<Reply<W>, UpstreamError>>,
    T: Serialize,
{
    let after: Option<String> = decode_cursor(&state.cursors, tenant, &query.list, query.cursor)?;
    let (found, next) = scan_index(state.ownership.as_ref(), tenant, kind, after, query.limit, &query.filter).await?;
    charge_fan_out(state, tenant, found.len()).await?;
    let (ids, metas): (Vec<String>, Vec<ObjectMeta>) = found.into_iter().unzip();
    let replies = fan_out(ids, 8, |id| fetch(state.clone(), id)).await;
    let mut data = Vec::with_capacity(replies.len());
    for (reply, meta) in replies.into_iter().zip(&metas) {
        if let Some(w) = reply.map_err(|e| state.up(&e))?.result
            && let Some(item) = map(state, &w, meta)
        {
            data.push(item);
        }
    }
    Ok(page(data, encode_cursor(&state.cursors, tenant, &query.list, next)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenancy::memory::MemoryOwnershipStore;

    fn t() -> TenantId {
        TenantId::parse("scan").unwrap()
    }

    /// 1,050 cards created at ms 1..=1050, every 100th in group `g`.
    async fn store() -> MemoryOwnershipStore {
        let s = MemoryOwnershipStore::new();
        for i in 1..=1050i64 {
            let mut m = ObjectMeta { created_ms: i, ..Default::default() };
            if i % 100 == 0 {
                m.attrs.insert("group_id".into(), "g".into());
            }
            assert!(s.claim(&t(), ObjectKind::Card, &format!("c{i:04}"), &m).await.unwrap());
        }
        s.claim(&TenantId::parse("other").unwrap(), ObjectKind::Card, "x", &ObjectMeta::default()).await.unwrap();
        s
    }

    fn in_group() -> IndexFilter<'static> {
        IndexFilter {
            keep: Box::new(|m| m.attrs.get("group_id").is_some_and(|g| g == "g")),
            selective: true,
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn a_rare_filter_ends_a_page_after_max_scan_entries_with_a_cursor_that_finds_the_rest() {
        let s = store().await;
        let (first, next) = scan_index(&s, &t(), ObjectKind::Card, None, 20, &in_group()).await.unwrap();
        // Newest first: 1000 entries (1050 down to 51) hold 1000..=100 step 100.
        assert_eq!(first.len(), 10);
        assert_eq!(first[0].0, "c1000");
        let next = next.expect("more may follow after the scan bound");
        let (rest, end) = scan_index(&s, &t(), ObjectKind::Card, Some(next), 20, &in_group()).await.unwrap();
        assert!(rest.is_empty() && end.is_none(), "{rest:?} {end:?}");
    }

    #[tokio::test]
    async fn a_full_page_continues_from_the_last_id_it_used_and_the_window_uses_positions() {
        let s = store().await;
        let (page, next) = scan_index(&s, &t(), ObjectKind::Card, None, 3, &in_group()).await.unwrap();
        assert_eq!(page.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["c1000", "c0900", "c0800"]);
        let (page, _) = scan_index(&s, &t(), ObjectKind::Card, next, 3, &in_group()).await.unwrap();
        assert_eq!(page[0].0, "c0700", "nothing skipped or repeated");

        let window = IndexFilter { created_gte_ms: Some(10), created_lt_ms: Some(13), ..Default::default() };
        let (page, next) = scan_index(&s, &t(), ObjectKind::Card, None, 100, &window).await.unwrap();
        assert_eq!(page.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["c0012", "c0011", "c0010"]);
        assert_eq!(next, None, "the floor ends the list");
        let (page, next) = scan_index(&s, &t(), ObjectKind::Card, None, 2, &window).await.unwrap();
        assert_eq!(page.len(), 2);
        let (page, next) = scan_index(&s, &t(), ObjectKind::Card, next, 2, &window).await.unwrap();
        assert_eq!((page.len(), page[0].0.as_str(), next), (1, "c0010", None));
        let (all, _) = scan_index(&s, &t(), ObjectKind::Card, None, 100, &IndexFilter::default()).await.unwrap();
        assert!(all.iter().all(|(id, _)| id != "x"), "only the tenant's own index");
    }
}
