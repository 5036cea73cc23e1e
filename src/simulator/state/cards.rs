//! Virtual cards and shared sub-cards: issuing, funding, refunds, cancellation, modification and the
//! inquiry view. Status lifecycle: pending → active ↔ frozen → cancelled.

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use super::{GroupStatus, State};
use crate::{
    sensitive::{Cvv, Otp, Pan, Reveal},
    simulator::{errors::SimError, ids, validate},
    upstream::wire::card::{CardApplyRequest, CardInfo, CardModifyRequest, CardUserInfo},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CardStatus {
    Pending,
    Active,
    Frozen,
    Cancelled,
}

/// A physical card's kit and activation progress.
#[derive(Debug, Clone, Serialize)]
pub struct PhysicalCard {
    pub kit_no: String,
    /// The code sent by `card_activation_code` (masked when serialised).
    pub activation_code: Option<Otp>,
    pub pin_resets: u32,
}

/// A card. `Pan` and `Cvv` serialise masked; in-process tests may `expose()` them.
#[derive(Debug, Clone, Serialize)]
pub struct Card {
    pub card_id: String,
    pub pan: Pan,
    pub cvv: Cvv,
    /// In `formats.expiry_out`.
    pub expiry: String,
    pub bin: String,
    pub currency: String,
    pub status: CardStatus,
    /// Regular card: the limit loaded onto it. Shared sub-card: its own spending cap (0 = unlimited).
    pub limit: Decimal,
    /// Regular cards only; a shared sub-card spends its group's balance.
    pub balance: Decimal,
    pub used: Decimal,
    pub closed_amount: Option<Decimal>,
    pub multi_use: bool,
    pub currency_check: bool,
    pub alias: Option<String>,
    pub label: Option<String>,
    pub group_id: Option<String>,
    pub holder_id: Option<String>,
    pub scene_code: Option<i64>,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub created_at: DateTime<Utc>,
    /// Approved authorisations so far (single-use cards allow one).
    pub approved_auths: u32,
    pub physical: Option<PhysicalCard>,
}

impl Card {
    pub fn is_shared(&self) -> bool {
        self.group_id.is_some()
    }
}

/// A validated card application.
#[derive(Debug, Clone)]
pub(crate) struct ApplyPlan {
    pub bin: String,
    pub currency: String,
    pub limit: Decimal,
    pub fee: Decimal,
    pub group_id: Option<String>,
    pub holder_id: Option<String>,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub multi_use: bool,
    pub currency_check: bool,
    pub alias: Option<String>,
    pub scene_code: Option<i64>,
}

impl ApplyPlan {
    /// What the merchant account pays: the loaded limit (regular cards) and the issuing fee.
    pub fn debit(&self) -> Decimal {
        if self.group_id.is_some() { self.fee } else { self.limit + self.fee }
    }
}

fn flag(field: &str, v: i64) -> Result<bool, SimError> {
    match v {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(SimError::validation(format!("{field} must be 0 or 1"))),
    }
}

impl State {
    pub(crate) fn card(&self, card_id: &str) -> Result<&Card, SimError> {
        self.cards.get(card_id).ok_or_else(|| SimError::not_found("card"))
    }

    pub(crate) fn card_mut(&mut self, card_id: &str) -> Result<&mut Card, SimError> {
        self.cards.get_mut(card_id).ok_or_else(|| SimError::not_found("card"))
    }

    /// #7 checks, including the merchant's funds.
    pub(crate) fn plan_apply(&self, req: &CardApplyRequest) -> Result<ApplyPlan, SimError> {
        let codes = &self.cfg.codes;
        let clock = &self.cfg.clock;
        validate::currency("localCurrency", &req.local_currency)?;
        let bin = req.bin_range_id.as_deref().ok_or_else(|| SimError::validation("binRangeId is required"))?;
        let spec = self.cfg.sim.bins.get(bin).ok_or_else(|| SimError::validation("binRangeId is not offered"))?;
        if spec.currency != req.local_currency {
            return Err(SimError::validation("localCurrency does not match the BIN's currency"));
        }
        let channel = req.channel_type.unwrap_or(codes.channel_type_regular);
        let shared = match channel {
            c if c == codes.channel_type_shared => true,
            c if c == codes.channel_type_regular => false,
            _ => return Err(SimError::validation("channelType is invalid")),
        };
        if shared != spec.shared {
            return Err(SimError::validation(if shared {
                "binRangeId is not a shared-card BIN"
            } else {
                "binRangeId is reserved for shared sub-cards"
            }));
        }
        let start = clock.parse_date(&req.start_date).ok_or_else(|| SimError::validation("startDate is invalid"))?;
        let end = clock.parse_date(&req.end_date).ok_or_else(|| SimError::validation("endDate is invalid"))?;
        let today = clock.today();
        if start < today {
            return Err(SimError::validation("startDate must not be before today"));
        }
        if end < start {
            return Err(SimError::validation("endDate must not be before startDate"));
        }
        if today.checked_add_months(Months::new(120)).is_none_or(|max| end > max) {
            return Err(SimError::validation("endDate is more than 10 years away"));
        }
        // Optional on the platform (docs/platform.md §5.7): absent means multi-use.
        let multi_use = flag("enableMultiUse", req.enable_multi_use.unwrap_or(1))?;
        let (limit, group_id, currency_check) = if shared {
            let gid = req.group_id.as_deref().ok_or_else(|| SimError::validation("groupId is required"))?;
            let group = self.groups.get(gid).ok_or_else(|| SimError::not_found("card group"))?;
            if group.currency != req.local_currency {
                return Err(SimError::validation("localCurrency does not match the group's currency"));
            }
            if group.status != GroupStatus::Active {
                return Err(SimError::status_forbids("card group status does not allow issuing"));
            }
            let limit = validate::non_negative_amount("authLimitAmount", req.auth_limit_amount.unwrap_or_default())?;
            (limit, Some(gid.to_owned()), req.enable_currency_check.map(|v| flag("enableCurrencyCheck", v)))
        } else {
            if req.group_id.is_some() {
                return Err(SimError::validation("groupId only applies to shared sub-cards"));
            }
            let limit = req.auth_limit_amount.ok_or_else(|| SimError::validation("authLimitAmount is required"))?;
            let check =
                req.enable_currency_check.ok_or_else(|| SimError::validation("enableCurrencyCheck is required"))?;
            (validate::amount("authLimitAmount", limit)?, None, Some(flag("enableCurrencyCheck", check)))
        };
        let currency_check = currency_check.transpose()?.unwrap_or(false);
        let holder_id = match req.card_user_id.as_deref() {
            Some(id) => {
                self.usable_holder(id)?;
                Some(id.to_owned())
            }
            None if spec.holder_required => return Err(SimError::holder_required()),
            None => None,
        };
        validate::opt_text("cardAlias", req.card_alias.as_deref(), 64)?;
        if let Some(code) = req.scene_code
            && !self.cfg.sim.scenes.contains_key(&code.to_string())
        {
            return Err(SimError::validation("sceneCode is not offered"));
        }
        if let Some(a) = req.air_line_code.as_deref()
            && !(a.len() == 2 && a.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
        {
            return Err(SimError::validation("airLineCode must be a 2-character IATA code"));
        }
        let plan = ApplyPlan {
            bin: bin.to_owned(),
            currency: req.local_currency.clone(),
            limit,
            fee: self.cfg.sim.card_issue_fee,
            group_id,
            holder_id,
            start,
            end,
            multi_use,
            currency_check,
            alias: req.card_alias.clone(),
            scene_code: req.scene_code,
        };
        self.ledger.ensure(&plan.currency, plan.debit())?;
        Ok(plan)
    }

    fn fresh_pan(&self, bin: &str) -> String {
        loop {
            let pan = ids::pan(bin);
            if !self.cards.values().any(|c| c.pan.expose() == pan) {
                return pan;
            }
        }
    }

    /// Creates a pending, unfunded card (physical cards pass their kit).
    pub(crate) fn new_card(&mut self, plan: &ApplyPlan, physical: Option<PhysicalCard>) -> String {
        let card_id = self.ids.next();
        let card = Card {
            card_id: card_id.clone(),
            pan: Pan::new(self.fresh_pan(&plan.bin)),
            cvv: Cvv::new(ids::digits(3)),
            expiry: self.cfg.clock.format_expiry(plan.end.year(), plan.end.month()),
            bin: plan.bin.clone(),
            currency: plan.currency.clone(),
            status: CardStatus::Pending,
            limit: plan.limit,
            balance: Decimal::ZERO,
            used: Decimal::ZERO,
            closed_amount: None,
            multi_use: plan.multi_use,
            currency_check: plan.currency_check,
            alias: plan.alias.clone(),
            label: None,
            group_id: plan.group_id.clone(),
            holder_id: plan.holder_id.clone(),
            scene_code: plan.scene_code,
            start_date: plan.start,
            end_date: plan.end,
            created_at: Utc::now(),
            approved_auths: 0,
            physical,
        };
        self.cards.insert(card_id.clone(), card);
        card_id
    }

    /// Pays for a card from the merchant account and activates it (plan checked by `plan_apply`).
    pub(crate) fn fund_card(&mut self, card_id: &str, plan: &ApplyPlan) -> Result<(), SimError> {
        let card = self.cards.get_mut(card_id).ok_or_else(|| SimError::not_found("card"))?;
        self.ledger.debit(&plan.currency, plan.debit());
        self.ledger.collect_fee(&plan.currency, plan.fee);
        if plan.group_id.is_none() {
            card.balance = plan.limit;
        }
        card.limit = plan.limit;
        card.status = CardStatus::Active;
        Ok(())
    }

    /// #8 checks: only an active or frozen card can be cancelled.
    pub(crate) fn plan_cancel(&self, card_id: &str) -> Result<(), SimError> {
        match self.card(card_id)?.status {
            CardStatus::Active | CardStatus::Frozen => Ok(()),
            _ => Err(SimError::status_forbids("card status does not allow cancellation")),
        }
    }

    /// Cancels a card and returns its balance to the merchant account; answers the amount returned.
    pub(crate) fn apply_cancel(&mut self, card_id: &str) -> Decimal {
        let Some(card) = self.cards.get_mut(card_id) else { return Decimal::ZERO };
        let returned = card.balance;
        card.balance = Decimal::ZERO;
        card.closed_amount = Some(returned);
        card.status = CardStatus::Cancelled;
        let currency = card.currency.clone();
        self.ledger.credit(&currency, returned);
        returned
    }

    /// #17: alias, label, freeze/enable, and the spending cap of shared sub-cards. All or nothing.
    pub(crate) fn modify_card(&mut self, req: &CardModifyRequest) -> Result<(), SimError> {
        let codes = &self.cfg.codes;
        let (freeze, enable) = (codes.modify_status_freeze, codes.modify_status_enable);
        let card = self.card(&req.card_id)?;
        if matches!(card.status, CardStatus::Pending | CardStatus::Cancelled) {
            return Err(SimError::status_forbids("card status does not allow modification"));
        }
        if req.card_alias.is_none()
            && req.card_label.is_none()
            && req.status.is_none()
            && req.auth_limit_amount.is_none()
        {
            return Err(SimError::validation("nothing to modify"));
        }
        validate::opt_text("cardAlias", req.card_alias.as_deref(), 64)?;
        validate::opt_text("cardLabel", req.card_label.as_deref(), 64)?;
        let status = match req.status {
            None => None,
            Some(s) if s == freeze && card.status == CardStatus::Active => Some(CardStatus::Frozen),
            Some(s) if s == enable && card.status == CardStatus::Frozen => Some(CardStatus::Active),
            Some(s) if s == freeze || s == enable => {
                return Err(SimError::status_forbids("card status does not allow this change"));
            }
            Some(_) => return Err(SimError::validation("status is invalid")),
        };
        if let Some(limit) = req.auth_limit_amount {
            if !card.is_shared() {
                return Err(SimError::validation("authLimitAmount can only be changed on shared sub-cards"));
            }
            validate::non_negative_amount("authLimitAmount", limit)?;
            if !limit.is_zero() && limit < card.used {
                return Err(SimError::limit_below_used());
            }
        }
        let card = self.card_mut(&req.card_id)?;
        if let Some(a) = &req.card_alias {
            card.alias = Some(a.clone());
        }
        if let Some(l) = &req.card_label {
            card.label = Some(l.clone());
        }
        if let Some(s) = status {
            card.status = s;
        }
        if let Some(limit) = req.auth_limit_amount {
            card.limit = limit;
        }
        Ok(())
    }

    /// What the card can spend now: its balance, or its group's balance within its own cap.
    pub(crate) fn spendable(&self, card: &Card) -> Decimal {
        match &card.group_id {
            None => card.balance,
            Some(gid) => {
                let group = self.groups.get(gid).map(|g| g.balance).unwrap_or_default();
                if card.limit.is_zero() { group } else { group.min((card.limit - card.used).max(Decimal::ZERO)) }
            }
        }
    }

    /// The vendor's card view (#10 with `reveal`, #22 masked and without CVV).
    pub(crate) fn card_info(&self, card: &Card, reveal: bool) -> CardInfo {
        let codes = &self.cfg.codes;
        let clock = &self.cfg.clock;
        let status = match card.status {
            CardStatus::Pending => &codes.card_status_pending,
            CardStatus::Active => &codes.card_status_active,
            CardStatus::Frozen => &codes.card_status_frozen,
            CardStatus::Cancelled => &codes.card_status_cancelled,
        };
        let holder = card.holder_id.as_deref().and_then(|id| self.holders.get(id));
        CardInfo {
            card_id: card.card_id.clone(),
            card_no: Some(if reveal { card.pan.clone() } else { Pan::new(card.pan.masked()) }),
            card_verify_no: reveal.then(|| card.cvv.clone()),
            card_expiry_date: Some(card.expiry.clone()),
            card_status: Some(status.clone()),
            card_status_desc: Some(format!("{:?}", card.status).to_lowercase()),
            card_alias: card.alias.clone(),
            card_label: card.label.clone(),
            local_currency: Some(card.currency.clone()),
            start_active_date: Some(clock.format_date(card.start_date)),
            end_close_date: Some(clock.format_date(card.end_date)),
            credit_limit_amt: Some(card.limit),
            balance_amt: Some(self.spendable(card)),
            used_auth_amt: Some(card.used),
            enable_multi_use: Some(i64::from(card.multi_use)),
            enable_currency_check: Some(i64::from(card.currency_check)),
            card_closed_amt: card.closed_amount,
            card_type: Some(if card.is_shared() { &codes.card_type_shared } else { &codes.card_type_regular }.clone()),
            group_id: card.group_id.clone(),
            card_bin: Some(card.bin.clone()),
            create_time: Some(clock.format_datetime(card.created_at)),
            card_user_info: holder.map(|h| CardUserInfo {
                card_user_id: Some(h.card_user_id.clone()),
                first_name: Some(h.first_name.clone()),
                last_name: Some(h.last_name.clone()),
            }),
        }
    }
}
