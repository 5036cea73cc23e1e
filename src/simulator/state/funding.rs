//! Recharges and refunds: money between the merchant account and a card, or a shared group.

use rust_decimal::Decimal;

use super::{CardStatus, GroupStatus, State};
use crate::{
    simulator::{errors::SimError, validate},
    upstream::wire::card::{RechargeRequest, RefundRequest},
};

/// Where a recharge or refund moves money.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    Card(String),
    Group(String),
}

/// A validated recharge or refund.
#[derive(Debug, Clone)]
pub(crate) struct MovePlan {
    pub target: Target,
    pub currency: String,
    pub amount: Decimal,
    pub fee: Decimal,
}

impl State {
    /// The card or group a recharge/refund addresses: a group with `channelType` shared (or only a
    /// `groupId`), else a regular card; shared sub-cards are funded through their group.
    fn target(&self, card_id: Option<&str>, channel: Option<i64>, group_id: Option<&str>) -> Result<Target, SimError> {
        let codes = &self.cfg.codes;
        let shared = match channel {
            Some(c) if c == codes.channel_type_shared => true,
            Some(c) if c == codes.channel_type_regular => false,
            Some(_) => return Err(SimError::validation("channelType is invalid")),
            None => card_id.is_none() && group_id.is_some(),
        };
        if shared {
            let gid = group_id.ok_or_else(|| SimError::validation("groupId is required"))?;
            if card_id.is_some() {
                return Err(SimError::validation("cardId must be empty when funding a group"));
            }
            self.group(gid)?;
            return Ok(Target::Group(gid.to_owned()));
        }
        let cid = card_id.ok_or_else(|| SimError::validation("cardId is required"))?;
        if self.card(cid)?.is_shared() {
            return Err(SimError::validation("shared sub-cards are funded through their group"));
        }
        Ok(Target::Card(cid.to_owned()))
    }

    /// The currency, balance and whether the target's status is one of the allowed ones.
    fn target_state(&self, target: &Target, allow: &[CardStatus]) -> Result<(String, Decimal), SimError> {
        match target {
            Target::Card(id) => {
                let c = self.card(id)?;
                if !allow.contains(&c.status) {
                    return Err(SimError::status_forbids("card status does not allow the operation"));
                }
                Ok((c.currency.clone(), c.balance))
            }
            Target::Group(id) => {
                let g = self.group(id)?;
                let ok = match g.status {
                    GroupStatus::Active => allow.contains(&CardStatus::Active),
                    GroupStatus::Frozen => allow.contains(&CardStatus::Frozen),
                    GroupStatus::Closed => false,
                };
                if !ok {
                    return Err(SimError::status_forbids("card group status does not allow the operation"));
                }
                Ok((g.currency.clone(), g.balance))
            }
        }
    }

    /// #9 checks, including the merchant's funds for amount + fee.
    pub(crate) fn plan_recharge(&self, req: &RechargeRequest) -> Result<MovePlan, SimError> {
        let amount = validate::amount("authLimitAmount", req.auth_limit_amount)?;
        let target = self.target(req.card_id.as_deref(), req.channel_type, req.group_id.as_deref())?;
        let (currency, _) = self.target_state(&target, &[CardStatus::Active])?;
        let fee = validate::fee(amount, self.cfg.sim.recharge_fee_rate);
        self.ledger.ensure(&currency, amount + fee)?;
        Ok(MovePlan { target, currency, amount, fee })
    }

    pub(crate) fn apply_recharge(&mut self, p: &MovePlan) {
        self.ledger.debit(&p.currency, p.amount + p.fee);
        self.ledger.collect_fee(&p.currency, p.fee);
        match &p.target {
            Target::Card(id) => {
                if let Some(c) = self.cards.get_mut(id) {
                    c.balance += p.amount;
                    c.limit += p.amount;
                }
            }
            Target::Group(id) => {
                if let Some(g) = self.groups.get_mut(id) {
                    g.balance += p.amount;
                }
            }
        }
    }

    /// #12 checks: the card or group must hold the amount.
    pub(crate) fn plan_refund(&self, req: &RefundRequest) -> Result<MovePlan, SimError> {
        let amount = validate::amount("refundAmount", req.refund_amount)?;
        let target = self.target(req.card_id.as_deref(), req.channel_type, req.group_id.as_deref())?;
        let (currency, balance) = self.target_state(&target, &[CardStatus::Active, CardStatus::Frozen])?;
        if balance < amount {
            return Err(SimError::insufficient_card(if matches!(target, Target::Card(_)) { "card" } else { "group" }));
        }
        Ok(MovePlan { target, currency, amount, fee: Decimal::ZERO })
    }

    pub(crate) fn apply_refund(&mut self, p: &MovePlan) {
        match &p.target {
            Target::Card(id) => {
                if let Some(c) = self.cards.get_mut(id) {
                    c.balance -= p.amount;
                    c.limit = (c.limit - p.amount).max(Decimal::ZERO);
                }
            }
            Target::Group(id) => {
                if let Some(g) = self.groups.get_mut(id) {
                    g.balance -= p.amount;
                }
            }
        }
        self.ledger.credit(&p.currency, p.amount);
    }
}
