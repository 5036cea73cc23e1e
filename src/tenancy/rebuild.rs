//! Rebuilding ownership from the platform's own history (docs/product.md §6): every order's `userReqNo`
//! carries the tenant that sent it, so if the gateway's store is lost, the Card Operation Order
//! Inquiry (#21) says which tenant created — or moved money on — every card and group. The card and
//! shared-card pagination queries (#22, #14) then list what the platform holds, so anything no order
//! explains (e.g. physical cards, which are assigned rather than ordered) is reported, never guessed.
//! Idempotent: claims are first-wins and re-claims by the same tenant are no-ops. Only request numbers
//! whose tag verifies (see `req_no`) are believed: others in our format are counted and listed.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{ObjectKind, ObjectMeta, OwnershipStore, ReqNos};
use crate::{
    config::upstream::UpstreamCodes,
    storage::StoreError,
    upstream::{
        MerchantClient, UpstreamError,
        formats::WireClock,
        wire::{card::CardPageRequest, common::PageRequest, group::GroupPageRequest, order::OrderQueryRequest},
    },
};

/// The vendor's largest page.
const PAGE: i64 = 50;
/// A bound on pages per listing, so a misbehaving upstream cannot loop us forever.
const MAX_PAGES: i64 = 100_000;
/// A bound on the ids listed per report entry (the count stays exact).
const MAX_LISTED: usize = 10_000;

#[derive(Debug, Default, Serialize)]
pub struct RebuildReport {
    pub orders_seen: u64,
    /// Orders whose request number is not one of ours (another client of the same merchant account).
    pub foreign_orders: u64,
    /// Orders numbered in our format whose tag does not verify (forged by another client of the
    /// merchant account, or issued before tags existed): never claimed, listed for an operator.
    pub unverified_orders: u64,
    /// `order <orderId> (userReqNo <userReqNo>)` of each unverified order.
    pub unverified: Vec<String>,
    /// Objects recorded (or confirmed) per kind.
    pub claimed: BTreeMap<&'static str, u64>,
    /// Objects two tenants' orders point at: left with their first owner and listed for an operator.
    pub conflicts: Vec<String>,
    /// Cards and groups the platform lists that no order of ours explains.
    pub unexplained_cards: Vec<String>,
    pub unexplained_groups: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Walks the platform's order history and records ownership. With `dry_run`, only reports.
pub async fn rebuild_ownership(
    client: &MerchantClient,
    store: &dyn OwnershipStore,
    req_nos: &ReqNos,
    codes: &UpstreamCodes,
    clock: &WireClock,
    dry_run: bool,
) -> Result<RebuildReport, RebuildError> {
    let mut report = RebuildReport::default();
    let apply = codes.op_type_apply.to_string();
    let group_apply = codes.op_type_group_apply.to_string();
    for page in 1..=MAX_PAGES {
        let req = OrderQueryRequest::page(page, PAGE, None);
        let orders = client.order_query(&req).await?.result.map(|p| p.list).unwrap_or_default();
        let n = orders.len();
        for order in orders {
            report.orders_seen += 1;
            if req_nos.tenant_of(&order.user_req_no).is_none() {
                report.foreign_orders += 1;
                continue;
            }
            let Some(tenant) = req_nos.verified_tenant_of(&order.user_req_no) else {
                report.unverified_orders += 1;
                if report.unverified.len() < MAX_LISTED {
                    report.unverified.push(format!("order {} (userReqNo {})", order.order_id, order.user_req_no));
                }
                continue;
            };
            let created_ms =
                order.create_at.as_deref().and_then(|t| clock.parse_datetime(t)).map_or(0, |t| t.timestamp_millis());
            let mut targets = Vec::new();
            if order.op_type == group_apply {
                targets.extend(order.group_id.clone().map(|g| (ObjectKind::CardGroup, g)));
            } else {
                targets.extend(order.card_id.clone().map(|c| (ObjectKind::Card, c)));
                // Money moved on a group by a tenant means the group is that tenant's.
                if order.card_id.is_none() {
                    targets.extend(order.group_id.clone().map(|g| (ObjectKind::CardGroup, g)));
                }
            }
            for (kind, id) in targets {
                let mut meta = ObjectMeta { created_ms, ..Default::default() };
                if order.op_type == apply
                    && let Some(g) = &order.group_id
                {
                    meta.attrs.insert("group_id".into(), g.clone());
                }
                let ok = if dry_run {
                    store.owner_of(kind, &id).await?.is_none_or(|owner| owner == tenant)
                } else {
                    store.claim(&tenant, kind, &id, &meta).await?
                };
                if ok {
                    *report.claimed.entry(kind.as_str()).or_default() += 1;
                } else {
                    report.conflicts.push(format!("{} {id} (order {})", kind.as_str(), order.order_id));
                }
            }
        }
        if (n as i64) < PAGE {
            break;
        }
    }
    for page in 1..=MAX_PAGES {
        let req = CardPageRequest {
            page: PageRequest { current_page: page, page_size: PAGE },
            card_status: None,
            group_id: None,
        };
        let cards = client.card_page(&req).await?.result.map(|p| p.list).unwrap_or_default();
        let n = cards.len();
        for c in cards {
            if store.owner_of(ObjectKind::Card, &c.card_id).await?.is_none() {
                report.unexplained_cards.push(c.card_id);
            }
        }
        if (n as i64) < PAGE {
            break;
        }
    }
    for page in 1..=MAX_PAGES {
        let req = GroupPageRequest { page: PageRequest { current_page: page, page_size: PAGE }, status: None };
        let groups = client.group_page(&req).await?.result.map(|p| p.list).unwrap_or_default();
        let n = groups.len();
        for g in groups {
            if store.owner_of(ObjectKind::CardGroup, &g.group_id).await?.is_none() {
                report.unexplained_groups.push(g.group_id);
            }
        }
        if (n as i64) < PAGE {
            break;
        }
    }
    Ok(report)
}
