//! Known-answer tests: ciphertexts made by the `openssl` CLI (tests/fixtures/make-envelope-fixtures.sh)
//! prove our codec is byte-compatible with an independent implementation in both directions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use card_gateway::envelope::{EnvelopeCodec, PrivateKey, PublicKey};

const MERCHANT_PRIVATE: &str = include_str!("../config/dev-keys/merchant_private.pem");
const MERCHANT_PUBLIC: &str = include_str!("../config/dev-keys/merchant_public.pem");
const PLATFORM_PRIVATE: &str = include_str!("../config/dev-keys/platform_private.pem");
const PLATFORM_PUBLIC: &str = include_str!("../config/dev-keys/platform_public.pem");

fn merchant_side() -> EnvelopeCodec {
    EnvelopeCodec::new(PrivateKey::parse(MERCHANT_PRIVATE).unwrap(), PublicKey::parse(PLATFORM_PUBLIC).unwrap())
}

fn platform_side() -> EnvelopeCodec {
    EnvelopeCodec::new(PrivateKey::parse(PLATFORM_PRIVATE).unwrap(), PublicKey::parse(MERCHANT_PUBLIC).unwrap())
}

#[test]
fn our_seal_is_byte_identical_to_openssl_cli_private_key_encryption() {
    let json = include_bytes!("fixtures/envelope_request.json");
    let expected = include_str!("fixtures/envelope_request.hex").trim();
    assert_eq!(merchant_side().seal_bytes(json).unwrap(), expected);
}

#[test]
fn ciphertext_from_openssl_cli_opens_with_the_platform_public_key() {
    let json = include_bytes!("fixtures/envelope_response.json");
    let hex = include_str!("fixtures/envelope_response.hex");
    assert_eq!(merchant_side().open_bytes(hex).unwrap(), json);
}

#[test]
fn the_simulator_role_opens_cli_requests_and_reproduces_cli_responses() {
    let platform = platform_side();
    let req = include_str!("fixtures/envelope_request.hex");
    assert_eq!(platform.open_bytes(req).unwrap(), include_bytes!("fixtures/envelope_request.json"));
    let resp = platform.seal_bytes(include_bytes!("fixtures/envelope_response.json")).unwrap();
    assert_eq!(resp, include_str!("fixtures/envelope_response.hex").trim());
}

#[test]
fn cli_ciphertext_rejected_with_the_wrong_public_key() {
    // The response was sealed with the platform key; the merchant's own public key must not open it.
    let wrong =
        EnvelopeCodec::new(PrivateKey::parse(MERCHANT_PRIVATE).unwrap(), PublicKey::parse(MERCHANT_PUBLIC).unwrap());
    assert!(wrong.open_bytes(include_str!("fixtures/envelope_response.hex")).is_err());
}
