//! Physical cards: a kit assigned to a holder is pending until activated with the code the platform
//! sends by `card_activation_code`; active cards can have their PIN reset.

use chrono::Months;

use super::{ApplyPlan, CardStatus, PhysicalCard, State};
use crate::{
    sensitive::{Otp, Reveal},
    simulator::{errors::SimError, ids, validate},
    upstream::wire::pcc::CardAssignRequest,
};

/// Physical cards are issued for three years.
const PHYSICAL_VALIDITY_MONTHS: u32 = 36;

impl State {
    /// #23: binds a kit to a holder; the card is pending and holds no money.
    pub(crate) fn assign_kit(&mut self, req: &CardAssignRequest) -> Result<String, SimError> {
        let kit = req.kit_no.trim();
        if !(6..=32).contains(&kit.len()) || !kit.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(SimError::validation("kitNo must be 6–32 letters or digits"));
        }
        validate::currency("localCurrency", &req.local_currency)?;
        if self.cards.values().any(|c| c.physical.as_ref().is_some_and(|p| p.kit_no == kit)) {
            return Err(SimError::status_forbids("kit is already assigned"));
        }
        self.usable_holder(&req.card_user_id)?;
        let bin = self
            .cfg
            .sim
            .bins
            .iter()
            .find(|(_, b)| !b.shared && b.currency == req.local_currency)
            .map(|(bin, _)| bin.clone())
            .ok_or_else(|| SimError::validation("no card product in localCurrency"))?;
        let today = self.cfg.clock.today();
        let end = today.checked_add_months(Months::new(PHYSICAL_VALIDITY_MONTHS)).unwrap_or(today);
        let plan = ApplyPlan {
            bin,
            currency: req.local_currency.clone(),
            limit: rust_decimal::Decimal::ZERO,
            fee: rust_decimal::Decimal::ZERO,
            group_id: None,
            holder_id: Some(req.card_user_id.clone()),
            start: today,
            end,
            multi_use: true,
            currency_check: false,
            alias: None,
            scene_code: None,
        };
        let physical = PhysicalCard { kit_no: kit.to_owned(), activation_code: None, pin_resets: 0 };
        Ok(self.new_card(&plan, Some(physical)))
    }

    fn pending_physical(&mut self, card_id: &str) -> Result<&mut PhysicalCard, SimError> {
        let card = self.card_mut(card_id)?;
        if card.status != CardStatus::Pending {
            return Err(SimError::status_forbids("card is not awaiting activation"));
        }
        card.physical.as_mut().ok_or_else(|| SimError::validation("not a physical card"))
    }

    /// Generates the code `card_activation_code` delivers.
    pub(crate) fn issue_activation_code(&mut self, card_id: &str) -> Result<Otp, SimError> {
        let code = Otp::new(ids::digits(6));
        self.pending_physical(card_id)?.activation_code = Some(code.clone());
        Ok(code)
    }

    /// #24: the code must match the one sent. `Ok(false)` = wrong code (the card stays pending).
    pub(crate) fn activate_with_code(&mut self, card_id: &str, code: &Otp) -> Result<bool, SimError> {
        let physical = self.pending_physical(card_id)?;
        let Some(expected) = &physical.activation_code else {
            return Err(SimError::status_forbids("no activation code has been issued"));
        };
        if expected.expose() != code.expose() {
            return Ok(false);
        }
        self.set_activation(card_id, true)?;
        Ok(true)
    }

    /// The platform's activation result (also what the control API forces).
    pub(crate) fn set_activation(&mut self, card_id: &str, success: bool) -> Result<(), SimError> {
        self.pending_physical(card_id)?;
        if success {
            self.card_mut(card_id)?.status = CardStatus::Active;
        }
        Ok(())
    }

    /// #25: only active physical cards.
    pub(crate) fn reset_pin(&mut self, card_id: &str) -> Result<(), SimError> {
        let card = self.card_mut(card_id)?;
        let active = card.status == CardStatus::Active;
        let physical = card.physical.as_mut().ok_or_else(|| SimError::validation("not a physical card"))?;
        if !active {
            return Err(SimError::status_forbids("card status does not allow a PIN reset"));
        }
        physical.pin_resets += 1;
        Ok(())
    }
}
