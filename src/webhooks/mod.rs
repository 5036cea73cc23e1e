//! Webhooks: the platform's notifications in, tenants' events out.
//!
//! ```text
//! POST /webhooks/merchant → inbound (allow-list, envelope, userNo) → normalize (typed public event,
//!   stable id, PAN/CVV dropped) → routing (owner of card / group / order, else dead letter) →
//!   event log (per tenant, de-duplicated) → SSE streams + delivery queue → signed POSTs to endpoints
//! ```

pub mod event_store;
pub mod events;
pub mod normalize;
pub mod signing;
