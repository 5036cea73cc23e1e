//! Physical cards: assign a card kit to a cardholder, activate it with the code the platform sends,
//! reset its PIN (the new PIN reaches the cardholder out of band, never through this API).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    http::validate::{Validate, Violations},
    sensitive::Otp,
};

/// `POST /v1/physical-cards`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"cardholder_id": "2611251200000000555", "kit_number": "KIT-000123", "currency": "USD"}))]
pub struct AssignPhysicalCard {
    pub cardholder_id: String,
    /// The reference printed on the card carrier (never the card number).
    pub kit_number: String,
    pub currency: String,
}

impl Validate for AssignPhysicalCard {
    fn validate(&self, v: &mut Violations) {
        v.check(super::list::is_id(&self.cardholder_id), "#/cardholder_id", "must be an id");
        v.check(
            (6..=32).contains(&self.kit_number.len()) && self.kit_number.bytes().all(|b| b.is_ascii_alphanumeric()),
            "#/kit_number",
            "must be 6–32 letters or digits",
        );
        // A kit number is not a PAN: refuse anything that looks like one so card numbers never enter.
        let digits = self.kit_number.bytes().filter(u8::is_ascii_digit).count();
        v.check(digits < 12, "#/kit_number", "must not be a card number");
        v.check(super::is_currency_code(&self.currency), "#/currency", "must be an ISO 4217 code such as USD");
    }
}

/// `POST /v1/physical-cards/{id}/activate`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"activation_code": "483920"}))]
pub struct ActivatePhysicalCard {
    /// The code delivered by the `physical_card.activation_code` event.
    #[schema(value_type = String)]
    pub activation_code: Otp,
}

impl Validate for ActivatePhysicalCard {
    fn validate(&self, v: &mut Violations) {
        use crate::sensitive::Reveal as _;
        let c = self.activation_code.expose();
        v.check(
            (4..=12).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_alphanumeric()),
            "#/activation_code",
            "must be 4–12 letters or digits",
        );
    }
}

/// `POST /v1/physical-cards/{id}/pin-reset` takes an empty object.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct PinReset {}

impl Validate for PinReset {
    fn validate(&self, _: &mut Violations) {}
}

/// A physical card assignment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PhysicalCard {
    /// The card id (use it with `/v1/cards/{id}` too).
    pub id: String,
    /// `pending_activation`, `active`, …
    pub status: String,
    pub cardholder_id: Option<String>,
    pub currency: Option<String>,
}
