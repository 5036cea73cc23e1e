//! The upstream Merchant API: operations, wire types, the typed client and its error model.

pub mod api;
pub mod client;
pub mod error;
pub mod formats;
pub mod ops;
pub mod wire;

pub use client::{MerchantClient, Reply};
pub use error::{Applied, ErrorSource, UpstreamError, UpstreamErrorKind};
pub use ops::Operation;
