//! Per-tenant daily money caps around the routes that load money: issuing a regular card (its
//! limit), opening a group (its balance), card and group recharges, and crypto withdrawals (money
//! leaving the merchant's account). The reservation is taken before
//! the platform is called, kept on the operation while money may have moved, and given back once the
//! platform certainly did not move it.

use actix_web::http::StatusCode;
use rust_decimal::Decimal;

use super::record::{StoredOperation, transition};
use crate::{
    error::ApiError,
    rate_limit::money::{CapDecision, Reservation},
    state::AppState,
    tenancy::{ObjectMeta, TenantId},
    upstream::{
        Applied,
        wire::{card::CardInfoRequest, group::GroupInfoRequest},
    },
};

/// Reserves `amount` against the tenant's cap for `currency` today; 422 `daily_money_cap_exceeded` once over.
pub async fn reserve(
    state: &AppState,
    tenant: &TenantId,
    currency: &str,
    amount: Decimal,
) -> Result<Option<Reservation>, ApiError> {
    match state.caps.reserve(tenant.as_str(), currency, amount).await {
        Ok(CapDecision::Uncapped) => Ok(None),
        Ok(CapDecision::Reserved(r)) => Ok(Some(r)),
        Ok(CapDecision::Exceeded { cap, remaining }) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "daily_money_cap_exceeded",
            format!("this would exceed the tenant's daily cap of {cap} {currency} (remaining today: {remaining})"),
        )),
        Ok(CapDecision::Invalid(why)) => Err(ApiError::field("#/amount", why)),
        Err(e) => Err(ApiError::store(&e, state.settings.idempotency.retry_after_s)),
    }
}

/// Hands a reservation back (the money certainly did not move).
pub async fn give_back(state: &AppState, reservation: Option<Reservation>) {
    if let Some(r) = reservation
        && let Err(e) = state.caps.release(&r).await
    {
        tracing::warn!(error = %e, "could not release a money-cap reservation");
    }
}

/// Gives the operation's reservation back once the platform certainly applied nothing, and records
/// that it no longer holds one.
pub async fn release(state: &AppState, op: &mut StoredOperation) {
    if op.applied != Applied::No || op.cap.is_none() {
        return;
    }
    let held = op.cap.clone();
    let cleared = transition(state, op, |op| {
        if op.applied != Applied::No || op.cap.is_none() {
            return false;
        }
        op.cap = None;
        true
    })
    .await;
    match cleared {
        Ok(()) if op.cap.is_none() => give_back(state, held).await,
        Ok(()) => {}
        Err(e) => {
            tracing::warn!(code = %e.code, "could not record a released money-cap reservation; kept (conservative)")
        }
    }
}

/// A card's currency: recorded when the card was claimed, else asked of the platform.
pub async fn card_currency(state: &AppState, meta: &ObjectMeta, card_id: &str) -> Result<String, ApiError> {
    if let Some(c) = meta.attrs.get("currency") {
        return Ok(c.clone());
    }
    let info =
        state.upstream.card_info(&CardInfoRequest { card_id: card_id.to_owned() }).await.map_err(|e| state.up(&e))?;
    info.result.and_then(|i| i.local_currency).ok_or_else(|| no_currency("card"))
}

/// A group's currency: recorded when the group was claimed, else asked of the platform (groups
/// recovered by `rebuild-ownership` have none recorded — they must not escape the cap).
pub async fn group_currency(state: &AppState, meta: &ObjectMeta, group_id: &str) -> Result<String, ApiError> {
    if let Some(c) = meta.attrs.get("currency") {
        return Ok(c.clone());
    }
    let info = state
        .upstream
        .group_info(&GroupInfoRequest { group_id: group_id.to_owned() })
        .await
        .map_err(|e| state.up(&e))?;
    info.result.map(|g| g.local_currency).filter(|c| !c.is_empty()).ok_or_else(|| no_currency("card group"))
}

fn no_currency(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_GATEWAY,
        "upstream_bad_response",
        format!("the card platform sent no {what} currency"),
    )
}
