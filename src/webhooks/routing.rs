//! Which tenant an event belongs to — from the ownership store or from our own request numbers, never
//! guessed. An event nobody owns becomes a dead letter for operators.

use crate::{
    operations::{StoredOperation, record::load_by_user_req_no},
    state::AppState,
    storage::StoreError,
    tenancy::{ObjectKind, TenantId},
    webhooks::normalize::Route,
};

/// Where an event goes.
#[derive(Debug)]
pub enum Destination {
    /// The tenant, and for order results the operation they finish.
    Tenant {
        tenant: TenantId,
        operation: Option<Box<StoredOperation>>,
    },
    DeadLetter(&'static str),
}

fn owned(tenant: Option<TenantId>) -> Option<Destination> {
    tenant.map(|tenant| Destination::Tenant { tenant, operation: None })
}

pub async fn route(state: &AppState, route: &Route) -> Result<Destination, StoreError> {
    let own = &state.ownership;
    Ok(match route {
        Route::DeadLetter(reason) => Destination::DeadLetter(reason),
        Route::Card(card_id) => {
            owned(own.owner_of(ObjectKind::Card, card_id).await?).unwrap_or(Destination::DeadLetter("unknown_card"))
        }
        Route::Order { user_req_no, card_id, group_id } => {
            // Our request numbers carry the tenant, but only an operation we recorded proves the order is ours.
            if let Some(op) = load_by_user_req_no(state, user_req_no).await?
                && let Some(tenant) = op.tenant_id()
            {
                return Ok(Destination::Tenant { tenant, operation: Some(Box::new(op)) });
            }
            // An order placed outside the gateway (e.g. in the platform's portal) on an object a tenant owns.
            let by_card = match card_id {
                Some(c) => own.owner_of(ObjectKind::Card, c).await?,
                None => None,
            };
            let by_group = match (by_card.is_none(), group_id) {
                (true, Some(g)) => own.owner_of(ObjectKind::CardGroup, g).await?,
                _ => None,
            };
            owned(by_card.or(by_group)).unwrap_or(Destination::DeadLetter("unknown_order"))
        }
        Route::CryptoOrder { order_no, serial_number } => {
            if let Some(d) = owned(own.owner_of(ObjectKind::CryptoOrder, order_no).await?) {
                return Ok(d);
            }
            // The serial number is the request number of the acquiring call.
            match load_by_user_req_no(state, serial_number).await?.and_then(|op| op.tenant_id()) {
                Some(tenant) => Destination::Tenant { tenant, operation: None },
                None => Destination::DeadLetter("unknown_crypto_order"),
            }
        }
    })
}
