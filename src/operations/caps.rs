//! Per-tenant daily money caps around the routes that load money onto cards: issuing a regular card
//! (its limit), opening a group (its balance) and recharges. The reservation is taken before the
//! platform is called and given back when the platform definitely did not move the money.

use actix_web::{HttpResponse, http::StatusCode};
use rust_decimal::Decimal;

use super::outcome::IdemOutcome;
use crate::{
    error::ApiError,
    rate_limit::money::{CapDecision, Reservation},
    state::AppState,
    tenancy::{ObjectMeta, TenantId},
    upstream::wire::card::CardInfoRequest,
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
        )
        .with_outcome(IdemOutcome::NotApplied)),
        Ok(CapDecision::Invalid(why)) => Err(ApiError::field("#/amount", why)),
        Err(e) => Err(ApiError::store(&e, state.settings.idempotency.retry_after_s)),
    }
}

/// Gives the reservation back unless the money may have moved (success, pending or unknown).
pub async fn settle(state: &AppState, reservation: Option<Reservation>, res: &HttpResponse) {
    let Some(r) = reservation else { return };
    let outcome = res.extensions().get::<IdemOutcome>().copied();
    let moved = match outcome {
        Some(IdemOutcome::Unknown) => true,
        Some(IdemOutcome::Final) => res.status().is_success(),
        Some(IdemOutcome::NotApplied) | None => false,
    };
    if !moved && let Err(e) = state.caps.release(&r).await {
        tracing::warn!(error = %e, "could not release a money-cap reservation");
    }
}

/// A card's currency: recorded when the card was claimed, else asked of the platform.
pub async fn card_currency(state: &AppState, meta: &ObjectMeta, card_id: &str) -> Result<String, ApiError> {
    if let Some(c) = meta.attrs.get("currency") {
        return Ok(c.clone());
    }
    let info =
        state.upstream.card_info(&CardInfoRequest { card_id: card_id.to_owned() }).await.map_err(|e| state.up(&e))?;
    info.result.and_then(|i| i.local_currency).ok_or_else(|| {
        ApiError::new(StatusCode::BAD_GATEWAY, "upstream_bad_response", "the card platform sent no card currency")
    })
}
