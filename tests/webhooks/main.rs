//! Black-box tests of the webhooks subsystem: a real gateway on 127.0.0.1:0, platform notifications
//! sealed with the platform key (or emitted by the embedded simulator), capturing receivers that verify
//! Standard Webhooks signatures, SSE readers, memory and Redis stores.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod delivery;
mod e2e;
mod endpoints;
mod helpers;
mod inbound;
mod isolation;
mod receivers;
mod redis_durability;
mod sensitive;
mod stream;
