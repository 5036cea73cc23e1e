//! Heavy requests: a body larger than `server.max_body_bytes` (only `POST /v1/cardholders` accepts
//! one: up to three 4 MB ID images) costs seconds of RSA to seal. At most `server.heavy_concurrency`
//! run at once in the process (503 `heavy_requests_busy` beyond, so they cannot occupy every core),
//! and each is charged to the tenant's `heavy` rate class besides its route's. Their sealing already
//! runs off the async workers (`upstream.crypto_offload_bytes`).

use std::sync::Arc;

use actix_web::{dev::ServiceRequest, http::header};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{error::ApiError, http::extract::BodyLimits};

/// Registered as app data.
#[derive(Debug, Clone)]
pub struct HeavyGate {
    permits: Arc<Semaphore>,
    /// Bodies above this many bytes are heavy.
    threshold: usize,
}

impl HeavyGate {
    pub fn new(concurrency: usize, threshold: usize) -> Self {
        Self { permits: Arc::new(Semaphore::new(concurrency.max(1))), threshold }
    }

    /// Whether the request may carry a heavy body: it declares more than the threshold, or declares
    /// no length on a route that accepts more (a chunked upload is judged by what it may become).
    pub fn is_heavy(&self, req: &ServiceRequest, route: &str) -> bool {
        let route_limit = req.app_data::<BodyLimits>().map_or(self.threshold, |l| l.for_pattern(Some(route)));
        if route_limit <= self.threshold {
            // The route refuses such a body anyway (413) before reading it.
            return false;
        }
        match req.headers().get(header::CONTENT_LENGTH).map(|v| v.to_str().ok().and_then(|s| s.parse::<u64>().ok())) {
            Some(Some(len)) => len > self.threshold as u64,
            // Unparsable length: the framework refuses it; count it as heavy meanwhile.
            Some(None) => true,
            None => req.headers().contains_key(header::TRANSFER_ENCODING),
        }
    }

    /// A slot for one heavy request, held until its response is built.
    pub fn admit(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        Arc::clone(&self.permits).try_acquire_owned().map_err(|_| {
            ApiError::unavailable(
                "heavy_requests_busy",
                "too many large requests (bodies over server.max_body_bytes) are being processed; retry shortly",
                1,
            )
        })
    }
}
