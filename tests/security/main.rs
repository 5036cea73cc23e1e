//! Security suites, black-box against the real gateway and the embedded simulator (real RSA
//! envelope): forged and malformed tokens, the scope matrix, cross-tenant object access (BOLA),
//! card-data canaries in responses, headers and logs, the platform's inbound webhook, the OpenAPI
//! contract, and extreme values in every documented field (never a 500 or a panic).
//!
//! Every matrix is driven by `card_gateway::routes::table()`: a route added without a sample request
//! in `support.rs` fails these tests until it is covered.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod support;

mod abuse;
mod attack_tokens;
mod bola;
mod canary;
mod extremes;
mod inbound;
mod jwks_refresh;
mod misconfiguration;
mod one_time_codes;
mod openapi;
mod scope_matrix;
