//! Merchant simulator: a stateful stand-in for the upstream Merchant API that speaks the exact RSA
//! envelope with the platform's key pair (docs/product.md §13).
//!
//! * All 27 operations at the configured `[upstream.paths]`, with real state: merchant balances per
//!   currency and a fee ledger (money is conserved per currency), cards, shared groups, cardholders,
//!   orders keyed by `userReqNo` (idempotent), transactions, physical cards, crypto orders.
//! * Operations listed in `async_operations` answer `async: true` and complete after `async_delay_ms`,
//!   then POST `card_operate` (retried until the receiver answers `SUCCESS`).
//! * A control API under `/_sim` and the same powers in-process on [`SimHandle`]: fault injection,
//!   call counters, state inspection, and platform-side events (card transactions, 3DS OTPs,
//!   activation codes, crypto payments), each emitting its webhook.

mod config;
mod control;
mod core;
mod envelope_io;
mod errors;
mod events;
mod faults;
mod handlers;
mod ids;
mod server;
mod simulations;
pub mod state;
mod validate;
mod webhooks;

pub use config::{ASYNC_CAPABLE, SimulatorConfig};
pub use control::{CONTROL_TOKEN_HEADER, OpFault, WebhookUrl};
pub use core::SeenRequest;
pub use errors::{SimError, codes};
pub use faults::{ArmedFaults, Fault, FaultKind, WebhookFault, WebhookFaultKind};
pub use ids::luhn_valid;
pub use server::{SimHandle, spawn};
pub use simulations::{ActivationResultSpec, AmountSpec, AuthorizationSpec, IssuedCode, OtpSpec, PaymentSpec};
pub use state::SimSnapshot;
pub use webhooks::DeliveryRecord;
