//! The REST API, black-box: the real gateway on 127.0.0.1:0 against the embedded simulator, which
//! speaks the real RSA envelope.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod cardholders;
mod cards;
mod cors;
mod deployment;
mod errors;
mod groups;
mod list_filters;
mod locations;
mod operations;
mod physical_and_crypto;
mod rebuild;
mod reference;
mod startup;
mod test_helpers;
mod tracing;
mod transaction_window;
mod treasury;
