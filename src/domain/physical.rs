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
#[schema(example = json!({"cardholder_id": "2611251200000000555", "kit_number": "KIT000123", "currency": "USD"}))]
pub struct AssignPhysicalCard {
    pub cardholder_id: String,
    /// The reference printed on the card carrier (never the card number).
    pub kit_number: String,
    pub currency: String,
}

impl Validate for AssignPhysicalCard {
    fn validate(&self, v: &mut Violations) {
        crate::http::rules::ID.check(v, Some(&self.cardholder_id), "#/cardholder_id");
        // A kit number is not a PAN: the rule refuses 12 digits or more, so card numbers never enter.
        crate::http::rules::KIT_NUMBER.check(v, Some(&self.kit_number), "#/kit_number");
        crate::http::rules::CURRENCY.check(v, Some(&self.currency), "#/currency");
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
        crate::http::rules::ACTIVATION_CODE.check(v, Some(c), "#/activation_code");
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
