//! The merchant simulator driven through the real typed client (`MerchantClient`) over the RSA
//! envelope: every operation, every fault, webhooks, the control API and the simulator's invariants.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod account;
mod cardholders;
mod cards;
mod control;
mod dpt;
mod envelope;
mod faults;
mod groups;
mod invariants;
mod orders;
mod pcc;
mod simulations;
mod support;
mod webhooks;
