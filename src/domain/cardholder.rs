//! Cardholders (KYC'd people cards can be issued to).

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    config::upstream::UpstreamCodes,
    http::validate::{Validate, Violations},
    reference::ReferenceData,
    upstream::{formats::WireClock, wire::cardholder::CardholderInfo},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CardholderStatus {
    /// KYC review in progress.
    Pending,
    Active,
    Disabled,
    Deleted,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BillingAddress {
    /// For the US: the two-letter state code (`GET /v1/reference/us-states`).
    #[schema(example = "AR")]
    pub state: String,
    #[schema(example = "Little Rock")]
    pub city: String,
    #[schema(example = "1 Main St")]
    pub address: String,
    #[schema(example = "72201")]
    pub zip: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Cardholder {
    pub id: String,
    pub status: CardholderStatus,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub last_name: String,
    pub email: String,
    pub mobile_prefix: Option<String>,
    pub mobile: Option<String>,
    pub birth_date: Option<NaiveDate>,
    /// ISO 3166-1 alpha-3.
    pub country: Option<String>,
    pub billing: Option<BillingAddress>,
    pub created_at: Option<DateTime<Utc>>,
    /// Your key–value pairs, kept by the gateway (`{}` when none; set on create).
    #[serde(default)]
    pub metadata: super::metadata::Metadata,
}

pub fn cardholder_from_wire(h: &CardholderInfo, c: &UpstreamCodes, clock: &WireClock, r: &ReferenceData) -> Cardholder {
    let status = match h.status.as_deref() {
        Some(s) if s == c.cardholder_status_enabled => CardholderStatus::Active,
        Some(s) if s == c.cardholder_status_disabled => CardholderStatus::Disabled,
        Some(s) if s == c.cardholder_status_deleted => CardholderStatus::Deleted,
        _ => CardholderStatus::Pending,
    };
    let billing = match (&h.billing_state, &h.billing_city, &h.billing_address, &h.billing_zip_code) {
        (Some(s), Some(ci), Some(a), Some(z)) => {
            Some(BillingAddress { state: s.clone(), city: ci.clone(), address: a.clone(), zip: z.clone() })
        }
        _ => None,
    };
    Cardholder {
        id: h.card_user_id.clone(),
        status,
        first_name: h.first_name.clone(),
        middle_name: h.middle_name.clone(),
        last_name: h.last_name.clone(),
        email: h.email.clone(),
        mobile_prefix: h.mobile_prefix.clone(),
        mobile: h.mobile.clone(),
        birth_date: h.birth_date.as_deref().and_then(|d| clock.parse_date(d)),
        country: h.country_code.as_deref().map(|c| r.country_from_upstream(c)),
        billing,
        created_at: h.create_at.as_deref().and_then(|t| clock.parse_datetime(t)),
        metadata: Default::default(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Male,
    Female,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentType {
    IdCard,
    Passport,
}

/// Identity document (optional vendor fields). Images are base64, at most 4 MB each.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityDocument {
    #[serde(rename = "type")]
    pub doc_type: DocumentType,
    pub number: String,
    #[serde(default)]
    pub front_image_base64: Option<String>,
    #[serde(default)]
    pub back_image_base64: Option<String>,
    #[serde(default)]
    pub selfie_image_base64: Option<String>,
}

/// A billing address as a client sends it (the stated rules apply only here: what the platform
/// returns in [`BillingAddress`] is shown as it is).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBillingAddress {
    /// For the US: the two-letter state code (`GET /v1/reference/us-states`).
    #[schema(example = "AR")]
    pub state: String,
    #[schema(example = "Little Rock")]
    pub city: String,
    #[schema(example = "1 Main St")]
    pub address: String,
    #[schema(example = "72201")]
    pub zip: String,
}

impl From<&NewBillingAddress> for BillingAddress {
    fn from(b: &NewBillingAddress) -> Self {
        Self { state: b.state.clone(), city: b.city.clone(), address: b.address.clone(), zip: b.zip.clone() }
    }
}

/// `POST /v1/cardholders`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com",
    "mobile_prefix": "1", "mobile": "5015550100", "birth_date": "1990-12-10", "country": "USA",
    "billing": {"state": "AR", "city": "Little Rock", "address": "1 Main St", "zip": "72201"}}))]
pub struct CreateCardholder {
    pub first_name: String,
    #[serde(default)]
    pub middle_name: Option<String>,
    pub last_name: String,
    pub email: String,
    /// Digits only, no `+` (`GET /v1/reference/mobile-prefixes`).
    pub mobile_prefix: String,
    pub mobile: String,
    /// The holder must be at least 18.
    pub birth_date: NaiveDate,
    /// ISO 3166-1 alpha-3 (`GET /v1/reference/countries`).
    pub country: String,
    #[serde(deserialize_with = "crate::http::extract::object")]
    pub billing: NewBillingAddress,
    #[serde(default)]
    pub gender: Option<Gender>,
    #[serde(default, deserialize_with = "crate::http::extract::optional_object")]
    pub id_document: Option<IdentityDocument>,
    /// The platform's occupation code.
    #[serde(default)]
    pub occupation: Option<i64>,
    #[serde(default)]
    pub remark: Option<String>,
    #[serde(default)]
    pub metadata: Option<super::metadata::Metadata>,
}

/// `PATCH /v1/cardholders/{id}`: the cardholder's `metadata`, the gateway's alone (the platform offers
/// no cardholder change; no platform call is made).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"metadata": {"crm_id": "C-77", "old_key": ""}}))]
pub struct UpdateCardholder {
    /// Keys to set; `""` removes a key; keys not given stay.
    pub metadata: super::metadata::Metadata,
}

impl Validate for UpdateCardholder {
    fn validate(&self, v: &mut Violations) {
        self.metadata.check(v, "#/metadata");
    }
}

impl CreateCardholder {
    /// Checks that need the reference tables.
    pub fn validate_reference(&self, r: &ReferenceData, today: NaiveDate, v: &mut Violations) {
        v.check(r.upstream_country(&self.country).is_some(), "#/country", "must be an ISO 3166-1 alpha-3 code");
        v.check(
            r.is_mobile_prefix(&self.mobile_prefix),
            "#/mobile_prefix",
            "must be a country calling code without '+'",
        );
        if self.country == "USA" {
            v.check(r.is_us_state(&self.billing.state), "#/billing/state", "must be a two-letter US state code");
        }
        let adult = today.year()
            - self.birth_date.year()
            - i32::from((today.month(), today.day()) < (self.birth_date.month(), self.birth_date.day()));
        v.check(adult >= 18, "#/birth_date", "the cardholder must be at least 18 years old");
        v.check(adult <= 130, "#/birth_date", "is not a plausible birth date");
    }
}

impl Validate for CreateCardholder {
    fn validate(&self, v: &mut Violations) {
        use crate::http::rules::*;
        let b = &self.billing;
        for (p, val, rule) in [
            ("#/first_name", Some(self.first_name.as_str()), &PERSON_NAME),
            ("#/middle_name", self.middle_name.as_deref(), &PERSON_NAME),
            ("#/last_name", Some(self.last_name.as_str()), &PERSON_NAME),
            ("#/email", Some(self.email.as_str()), &EMAIL),
            ("#/billing/state", Some(b.state.as_str()), &BILLING_REGION),
            ("#/billing/city", Some(b.city.as_str()), &BILLING_REGION),
            ("#/billing/address", Some(b.address.as_str()), &BILLING_STREET),
            ("#/billing/zip", Some(b.zip.as_str()), &POSTAL_CODE),
            ("#/remark", self.remark.as_deref(), &DESCRIPTION),
        ] {
            rule.check_text(v, val, p);
        }
        v.date(Some(self.birth_date), "#/birth_date");
        MOBILE_PREFIX.check(v, Some(&self.mobile_prefix), "#/mobile_prefix");
        MOBILE.check(v, Some(&self.mobile), "#/mobile");
        COUNTRY.check(v, Some(&self.country), "#/country");
        if let Some(m) = &self.metadata {
            m.check(v, "#/metadata");
        }
        if let Some(d) = &self.id_document {
            DOCUMENT_NUMBER.check(v, Some(&d.number), "#/id_document/number");
            for (p, img) in [
                ("#/id_document/front_image_base64", &d.front_image_base64),
                ("#/id_document/back_image_base64", &d.back_image_base64),
                ("#/id_document/selfie_image_base64", &d.selfie_image_base64),
            ] {
                IMAGE_BASE64.check(v, img.as_deref(), p);
            }
        }
    }
}
