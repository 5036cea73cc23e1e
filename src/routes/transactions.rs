//! `GET /v1/cards/{id}/transactions` and `GET /v1/transactions` (Transaction Inquiry).
//!
//! The window (`from`..`to`) is fixed into the cursor on the first page, so new transactions cannot
//! shift later pages. The tenant-wide list scans the platform's pages within the window and keeps only
//! the tenant's cards: a page may be shorter than `limit`, never padded with another tenant's rows.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use chrono::{Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::support::owned;
use crate::http::pagination::{decode_cursor, encode_cursor, page};
use crate::{
    auth::Principal,
    domain::transaction::{Transaction, TransactionQuery, transaction_from_wire},
    error::ApiError,
    http::extract::ValidQuery,
    state::AppState,
    tenancy::{ObjectKind, TenantId},
    upstream::wire::{card::TransactionQueryRequest, common::PageRequest},
};

/// Upstream page size (the vendor's maximum) and how many upstream pages one request may scan.
const UPSTREAM_PAGE: i64 = 50;
const MAX_SCAN_PAGES: i64 = 10;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TxCursor {
    from: NaiveDate,
    to: NaiveDate,
    page: i64,
    offset: usize,
}

/// The first page's window; refused when longer than `upstream.transaction_window_max_days` (the
/// platform caps it; refusing beats answering a silently truncated history).
fn first_cursor(state: &AppState, q: &TransactionQuery) -> Result<TxCursor, ApiError> {
    window(q, i64::from(state.settings.upstream.transaction_window_max_days))
}

/// The window of `q` under a cap of `cap` days (0 = none).
fn window(q: &TransactionQuery, cap: i64) -> Result<TxCursor, ApiError> {
    let today = Utc::now().date_naive();
    let to = q.to.unwrap_or(today);
    // Both days are included (00:00:00 of `from` to 23:59:59 of `to`), so from..to spans
    // (to - from) + 1 days; the default window (to - 30 days) is shortened to fit a smaller cap.
    // Checked arithmetic: `to` is validated to a sane range, but a default must never panic.
    let default_back = if cap > 0 { (cap - 1).min(30) } else { 30 };
    let back = u64::try_from(default_back).unwrap_or(30);
    let from = q.from.or_else(|| to.checked_sub_days(Days::new(back))).unwrap_or(to);
    if cap > 0 && (to - from).num_days() >= cap {
        return Err(ApiError::field("/from", format!("from..to may span at most {cap} days, both included")));
    }
    Ok(TxCursor { from, to, page: 1, offset: 0 })
}

async fn scan(
    state: &AppState,
    tenant: &TenantId,
    card_id: Option<String>,
    mut cur: TxCursor,
    q: &TransactionQuery,
) -> Result<(Vec<Transaction>, Option<TxCursor>), ApiError> {
    let limit = q.limit.unwrap_or(20);
    let begin = cur.from.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    let end = cur.to.and_hms_opt(23, 59, 59).map(|t| t.and_utc());
    let mut owned_cache: HashMap<String, bool> = HashMap::new();
    let mut out = Vec::new();
    for _ in 0..MAX_SCAN_PAGES {
        let req = TransactionQueryRequest {
            page: PageRequest { current_page: cur.page, page_size: UPSTREAM_PAGE },
            card_id: card_id.clone(),
            card_type: None,
            begin_time: begin.map(|t| state.clock.format_datetime(t)),
            end_time: end.map(|t| state.clock.format_datetime(t)),
        };
        let reply = state.upstream.transaction_query(&req).await.map_err(|e| state.up(&e))?;
        let items = reply.result.map(|p| p.list).unwrap_or_default();
        let n = items.len();
        for (i, item) in items.into_iter().enumerate().skip(cur.offset) {
            // The platform's cardId filter is not trusted: a platform that ignored it would hand us
            // every card's rows, other tenants' included.
            let mine = match (&card_id, owned_cache.get(&item.card_id)) {
                (Some(id), _) => *id == item.card_id,
                (None, Some(m)) => *m,
                (None, None) => {
                    let m = state.ownership.get(tenant, ObjectKind::Card, &item.card_id).await?.is_some();
                    owned_cache.insert(item.card_id.clone(), m);
                    m
                }
            };
            let tx = mine.then(|| transaction_from_wire(&item, state.codes(), &state.clock)).filter(|t| q.keeps(t));
            if let Some(tx) = tx {
                out.push(tx);
                if out.len() == limit {
                    let more = i + 1 < n || n as i64 == UPSTREAM_PAGE;
                    let next = more.then(|| TxCursor { offset: i + 1, ..cur.clone() });
                    return Ok((out, next));
                }
            }
        }
        if (n as i64) < UPSTREAM_PAGE {
            return Ok((out, None));
        }
        cur.page += 1;
        cur.offset = 0;
    }
    Ok((out, Some(cur)))
}

/// Transactions of one card, newest platform order; `status` and `type` filter the rows scanned
/// (a page may be shorter than `limit`: follow `next_cursor`).
#[utoipa::path(get, path = "/v1/cards/{id}/transactions", tag = "transactions", operation_id = "list_card_transactions",
    params(("id" = String, Path, description = "Card id"), TransactionQuery),
    responses((status = 200, description = "A page of transactions", body = inline(crate::domain::list::Page<Transaction>))),
    security(("bearer" = ["cards:read"])))]
pub async fn list_card_transactions(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    q: ValidQuery<TransactionQuery>,
) -> Result<HttpResponse, ApiError> {
    owned(&state, &who.tenant, ObjectKind::Card, &id, "card_not_found").await?;
    let list = format!("tx:{}{}", id.as_str(), q.0.filters());
    let cur = decode_cursor(&state.cursors, &who.tenant, &list, q.0.cursor.as_deref())?
        .map_or_else(|| first_cursor(&state, &q.0), Ok)?;
    let (data, next) = scan(&state, &who.tenant, Some(id.to_string()), cur, &q.0).await?;
    Ok(page(data, encode_cursor(&state.cursors, &who.tenant, &list, next)))
}

/// Transactions of all the tenant's cards; `status` and `type` filter the rows scanned (a page may
/// be shorter than `limit`: follow `next_cursor`).
#[utoipa::path(get, path = "/v1/transactions", tag = "transactions", operation_id = "list_transactions",
    params(TransactionQuery),
    responses((status = 200, description = "A page of transactions (possibly shorter than `limit`)", body = inline(crate::domain::list::Page<Transaction>))),
    security(("bearer" = ["cards:read"])))]
pub async fn list_transactions(
    state: web::Data<AppState>,
    who: Principal,
    q: ValidQuery<TransactionQuery>,
) -> Result<HttpResponse, ApiError> {
    let list = format!("tx{}", q.0.filters());
    let cur = decode_cursor(&state.cursors, &who.tenant, &list, q.0.cursor.as_deref())?
        .map_or_else(|| first_cursor(&state, &q.0), Ok)?;
    let (data, next) = scan(&state, &who.tenant, None, cur, &q.0).await?;
    Ok(page(data, encode_cursor(&state.cursors, &who.tenant, &list, next)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::validate::{Validate, Violations};

    /// Every date chrono can represent, at the edges and in between: validation refuses those outside
    /// 1900–2999 without arithmetic that could overflow, and the default window never panics.
    #[test]
    fn extreme_dates_are_refused_by_validation_and_never_panic_the_default_window() {
        let days = [NaiveDate::MIN, NaiveDate::MAX, NaiveDate::from_ymd_opt(1899, 12, 31).unwrap_or(NaiveDate::MIN)];
        for &d in &days {
            for (from, to) in
                [(Some(d), None), (None, Some(d)), (Some(d), Some(d)), (Some(NaiveDate::MIN), Some(NaiveDate::MAX))]
            {
                let q = TransactionQuery { limit: None, cursor: None, from, to, status: None, kind: None };
                let mut v = Violations::default();
                q.validate(&mut v);
                assert!(v.finish().is_err(), "{from:?}..{to:?} must be refused");
                let _ = window(&q, 45);
                let _ = window(&q, 0);
            }
        }
    }
}
