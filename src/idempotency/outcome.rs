//! How a state-changing response must be treated by the idempotency layer. Handlers attach one to
//! the response's extensions; a response without one is not stored (the key is released).

/// Attached to responses of state-changing routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdemOutcome {
    /// A definitive answer (success, accepted-and-pending, or a business refusal): store and replay it.
    Final,
    /// The platform may or may not have acted: remember the key as `unknown`; the next attempt asks
    /// the platform before sending again.
    Unknown,
    /// Nothing reached the platform (validation failure, connection refused): release the key.
    NotApplied,
}

/// Marks a response.
pub fn mark(mut res: actix_web::HttpResponse, outcome: IdemOutcome) -> actix_web::HttpResponse {
    res.extensions_mut().insert(outcome);
    res
}
