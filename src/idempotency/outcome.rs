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

/// The body to store for replays when it must differ from the one answered now (the answer shows
/// something once, e.g. a webhook signing secret). Same status and headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayBody(pub Vec<u8>);

/// Marks a response and gives the body its replays get instead of `res`'s own.
pub fn mark_with_replay(
    res: actix_web::HttpResponse,
    outcome: IdemOutcome,
    replay: &impl serde::Serialize,
) -> actix_web::HttpResponse {
    let mut res = mark(res, outcome);
    // A value that does not serialise (none of ours) is stored as an empty object, never the original.
    let body = serde_json::to_vec(replay).unwrap_or_else(|_| b"{}".to_vec());
    res.extensions_mut().insert(ReplayBody(body));
    res
}

/// The settlement of the operation a `Final` answer reports, left for the idempotency layer to write
/// in the same store step as the answer (`IdempotencyStore::complete_settling`) — only on requests
/// whose `IdempotencyGrant::settles_with_answer` says it will. When that step writes nothing (the
/// document changed first, the lease was lost, the store failed), the layer runs `alone` instead:
/// it settles the operation by itself (compare-and-set, re-reading as needed) and gives the answer
/// to send and store in place of the first one.
pub struct SettleWithAnswer {
    pub swap: super::store::DocSwap,
    pub alone: Box<dyn FnOnce() -> futures_util::future::LocalBoxFuture<'static, actix_web::HttpResponse>>,
}
