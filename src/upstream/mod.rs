//! The upstream Merchant API: operations, wire types, the typed client and its error model.

pub mod api;
pub mod client;
pub mod error;
pub mod facts;
pub mod formats;
/// The operation list is a leaf below `config` (which keys `[upstream.paths]` by it).
pub use crate::platform_ops as ops;
pub mod probe;
pub mod wire;

pub use client::{MerchantClient, Reply};
pub use error::{Applied, ErrorSource, UpstreamError, UpstreamErrorKind};
pub use ops::Operation;
