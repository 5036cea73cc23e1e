//! Cardholders: the platform's KYC records. Email and mobile are unique among live holders; holders
//! must be adults living in an accepted country.

use base64::Engine as _;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::{CardStatus, State};
use crate::{
    simulator::{errors::SimError, validate},
    upstream::wire::cardholder::{CardholderApplyRequest, CardholderInfo, HolderCardBin},
};

/// Largest ID image accepted (decoded), per S10.
const MAX_IMAGE_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CardholderStatus {
    InProcess,
    Enabled,
    Disabled,
    Deleted,
}

/// A cardholder as registered (ID images are checked, not kept).
#[derive(Debug, Clone, Serialize)]
pub struct Cardholder {
    pub card_user_id: String,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub last_name: String,
    pub email: String,
    pub mobile_prefix: String,
    pub mobile: String,
    pub birth_date: NaiveDate,
    pub country_code: String,
    pub billing_state: String,
    pub billing_city: String,
    pub billing_address: String,
    pub billing_zip_code: String,
    pub remark: Option<String>,
    pub status: CardholderStatus,
    pub created_at: DateTime<Utc>,
}

fn digits(field: &str, v: &str, min: usize, max: usize) -> Result<(), SimError> {
    if (min..=max).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(SimError::validation(format!("{field} must be {min}–{max} digits")))
    }
}

fn email_ok(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !e.chars().any(char::is_whitespace)
}

fn image(field: &str, v: Option<&str>) -> Result<(), SimError> {
    let Some(v) = v else { return Ok(()) };
    if v.len() / 4 * 3 > MAX_IMAGE_BYTES + 3 {
        return Err(SimError::validation(format!("{field} exceeds 4 MB")));
    }
    base64::engine::general_purpose::STANDARD
        .decode(v.trim())
        .map(|_| ())
        .map_err(|_| SimError::validation(format!("{field} is not valid base64")))
}

impl State {
    pub(crate) fn holder(&self, id: &str) -> Result<&Cardholder, SimError> {
        self.holders.get(id).ok_or_else(|| SimError::not_found("cardholder"))
    }

    /// A holder that may be named on a card: registered and enabled (else 110007).
    pub(crate) fn usable_holder(&self, id: &str) -> Result<&Cardholder, SimError> {
        match self.holders.get(id) {
            Some(h) if h.status == CardholderStatus::Enabled => Ok(h),
            _ => Err(SimError::holder_not_registered()),
        }
    }

    /// #18: validates and registers a holder (`in_process` when the platform reviews asynchronously).
    pub(crate) fn register_holder(
        &mut self,
        req: &CardholderApplyRequest,
        status: CardholderStatus,
    ) -> Result<String, SimError> {
        validate::text("firstName", &req.first_name, 40)?;
        validate::opt_text("middleName", req.middle_name.as_deref(), 40)?;
        validate::text("lastName", &req.last_name, 40)?;
        validate::text("email", &req.email, 40)?;
        if !email_ok(&req.email) {
            return Err(SimError::validation("email is not a valid address"));
        }
        digits("mobilePrefix", &req.mobile_prefix, 1, 4)?;
        digits("mobile", &req.mobile, 4, 11)?;
        let birth =
            self.cfg.clock.parse_date(&req.birth_date).ok_or_else(|| SimError::validation("birthDate is invalid"))?;
        if self.cfg.clock.today().years_since(birth).is_none_or(|age| age < 18) {
            return Err(SimError::validation("cardholder must be at least 18 years old"));
        }
        if !self.cfg.sim.countries.iter().any(|c| c == &req.country_code) {
            return Err(SimError::validation("countryCode is not supported"));
        }
        validate::text("billingState", &req.billing_state, 50)?;
        if req.country_code == "USA"
            && !(req.billing_state.len() == 2 && req.billing_state.bytes().all(|b| b.is_ascii_uppercase()))
        {
            return Err(SimError::validation("billingState must be a two-letter US state code"));
        }
        validate::text("billingCity", &req.billing_city, 50)?;
        validate::text("billingAddress", &req.billing_address, 100)?;
        validate::text("billingZipCode", &req.billing_zip_code, 10)?;
        validate::opt_text("remark", req.remark.as_deref(), 256)?;
        if req.gender.is_some_and(|g| !matches!(g, 1 | 2)) {
            return Err(SimError::validation("gender must be 1 or 2"));
        }
        if let Some(t) = req.certificate_type {
            if !matches!(t, 1 | 2) {
                return Err(SimError::validation("certificateType must be 1 or 2"));
            }
            validate::text("certificateNo", req.certificate_no.as_deref().unwrap_or(""), 64)?;
        }
        image("certificateFrontImageBase64", req.certificate_front_image_base64.as_deref())?;
        image("certificateBackImageBase64", req.certificate_back_image_base64.as_deref())?;
        image("certificateHoldImageBase64", req.certificate_hold_image_base64.as_deref())?;
        let live = || self.holders.values().filter(|h| h.status != CardholderStatus::Deleted);
        if live().any(|h| h.email.eq_ignore_ascii_case(&req.email)) {
            return Err(SimError::validation("email is already registered"));
        }
        if live().any(|h| h.mobile_prefix == req.mobile_prefix && h.mobile == req.mobile) {
            return Err(SimError::validation("mobile is already registered"));
        }
        // The platform mints short numeric ids (six digits seen, docs/platform.md §5.18); holders are never removed.
        let id = (100_001 + self.holders.len()).to_string();
        self.holders.insert(
            id.clone(),
            Cardholder {
                card_user_id: id.clone(),
                first_name: req.first_name.clone(),
                middle_name: req.middle_name.clone(),
                last_name: req.last_name.clone(),
                email: req.email.clone(),
                mobile_prefix: req.mobile_prefix.clone(),
                mobile: req.mobile.clone(),
                birth_date: birth,
                country_code: req.country_code.clone(),
                billing_state: req.billing_state.clone(),
                billing_city: req.billing_city.clone(),
                billing_address: req.billing_address.clone(),
                billing_zip_code: req.billing_zip_code.clone(),
                remark: req.remark.clone(),
                status,
                created_at: Utc::now(),
            },
        );
        Ok(id)
    }

    /// #20: only a live holder without live cards can be deleted.
    pub(crate) fn delete_holder(&mut self, id: &str) -> Result<(), SimError> {
        if self.holder(id)?.status == CardholderStatus::Deleted {
            return Err(SimError::status_forbids("cardholder is already deleted"));
        }
        if self.cards.values().any(|c| c.holder_id.as_deref() == Some(id) && c.status != CardStatus::Cancelled) {
            return Err(SimError::status_forbids("cardholder still has cards"));
        }
        if let Some(h) = self.holders.get_mut(id) {
            h.status = CardholderStatus::Deleted;
        }
        Ok(())
    }

    pub(crate) fn holder_status_code(&self, s: CardholderStatus) -> String {
        let c = &self.cfg.codes;
        match s {
            CardholderStatus::InProcess => &c.cardholder_status_in_process,
            CardholderStatus::Enabled => &c.cardholder_status_enabled,
            CardholderStatus::Disabled => &c.cardholder_status_disabled,
            CardholderStatus::Deleted => &c.cardholder_status_deleted,
        }
        .clone()
    }

    /// #19 view, with the holder's standing on every BIN that requires a holder.
    pub(crate) fn holder_info(&self, h: &Cardholder) -> CardholderInfo {
        let status = self.holder_status_code(h.status);
        let usable = h.status == CardholderStatus::Enabled;
        CardholderInfo {
            card_user_id: h.card_user_id.clone(),
            first_name: h.first_name.clone(),
            middle_name: h.middle_name.clone(),
            last_name: h.last_name.clone(),
            email: h.email.clone(),
            mobile_prefix: Some(h.mobile_prefix.clone()),
            mobile: Some(h.mobile.clone()),
            birth_date: Some(self.cfg.clock.format_date(h.birth_date)),
            country_code: Some(h.country_code.clone()),
            billing_state: Some(h.billing_state.clone()),
            billing_city: Some(h.billing_city.clone()),
            billing_address: Some(h.billing_address.clone()),
            billing_zip_code: Some(h.billing_zip_code.clone()),
            status: Some(status.clone()),
            create_at: Some(self.cfg.clock.format_datetime(h.created_at)),
            remark: h.remark.clone(),
            holder_card_bins: self
                .cfg
                .sim
                .bins
                .iter()
                .filter(|(_, b)| b.holder_required)
                .map(|(bin, _)| HolderCardBin {
                    card_bin: bin.clone(),
                    holder_status: Some(status.clone()),
                    holder_status_desc: Some(if usable { "enabled" } else { "not usable" }.into()),
                })
                .collect(),
        }
    }
}
