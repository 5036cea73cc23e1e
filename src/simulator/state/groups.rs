//! Shared card groups: one balance that every sub-card of the group spends.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use super::{CardStatus, State};
use crate::{
    simulator::{errors::SimError, validate},
    upstream::wire::group::{GroupApplyRequest, GroupInfo, GroupUpdateRequest},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupStatus {
    Active,
    Frozen,
    Closed,
}

#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub group_id: String,
    pub currency: String,
    pub alias: Option<String>,
    pub balance: Decimal,
    pub status: GroupStatus,
    pub created_at: DateTime<Utc>,
}

/// A validated group application.
#[derive(Debug, Clone)]
pub(crate) struct GroupPlan {
    pub currency: String,
    pub amount: Decimal,
    pub alias: Option<String>,
}

impl State {
    pub(crate) fn group(&self, group_id: &str) -> Result<&Group, SimError> {
        self.groups.get(group_id).ok_or_else(|| SimError::not_found("card group"))
    }

    /// #13 checks: a shared-card product in that currency and the merchant's funds.
    pub(crate) fn plan_group_apply(&self, req: &GroupApplyRequest) -> Result<GroupPlan, SimError> {
        validate::currency("localCurrency", &req.local_currency)?;
        if !self.cfg.sim.bins.values().any(|b| b.shared && b.currency == req.local_currency) {
            return Err(SimError::validation("no shared card product in localCurrency"));
        }
        let amount = validate::amount("authLimitAmount", req.auth_limit_amount)?;
        validate::opt_text("groupAlias", req.group_alias.as_deref(), 64)?;
        self.ledger.ensure(&req.local_currency, amount)?;
        Ok(GroupPlan { currency: req.local_currency.clone(), amount, alias: req.group_alias.clone() })
    }

    pub(crate) fn apply_group_apply(&mut self, group_id: &str, p: &GroupPlan) {
        self.ledger.debit(&p.currency, p.amount);
        self.groups.insert(
            group_id.to_owned(),
            Group {
                group_id: group_id.to_owned(),
                currency: p.currency.clone(),
                alias: p.alias.clone(),
                balance: p.amount,
                status: GroupStatus::Active,
                created_at: Utc::now(),
            },
        );
    }

    /// #16: active ↔ frozen, and → closed (balance back to the merchant, sub-cards cancelled).
    pub(crate) fn update_group(&mut self, req: &GroupUpdateRequest) -> Result<(), SimError> {
        let codes = &self.cfg.codes;
        let parse = |c: &str| c.trim().parse::<i64>().ok();
        let wanted = match Some(req.status) {
            s if s == parse(&codes.group_status_active) => GroupStatus::Active,
            s if s == parse(&codes.group_status_frozen) => GroupStatus::Frozen,
            s if s == parse(&codes.group_status_closed) => GroupStatus::Closed,
            _ => return Err(SimError::validation("status is invalid")),
        };
        let current = self.group(&req.group_id)?.status;
        let allowed = matches!(
            (current, wanted),
            (GroupStatus::Active, GroupStatus::Frozen)
                | (GroupStatus::Frozen, GroupStatus::Active)
                | (GroupStatus::Active | GroupStatus::Frozen, GroupStatus::Closed)
        );
        if !allowed {
            return Err(SimError::status_forbids("card group status does not allow this change"));
        }
        let Some(group) = self.groups.get_mut(&req.group_id) else { return Err(SimError::not_found("card group")) };
        group.status = wanted;
        if wanted == GroupStatus::Closed {
            let returned = std::mem::take(&mut group.balance);
            let currency = group.currency.clone();
            self.ledger.credit(&currency, returned);
            for card in self.cards.values_mut().filter(|c| c.group_id.as_deref() == Some(req.group_id.as_str())) {
                if card.status != CardStatus::Cancelled {
                    card.status = CardStatus::Cancelled;
                    card.closed_amount = Some(Decimal::ZERO);
                }
            }
        }
        Ok(())
    }

    pub(crate) fn group_info(&self, g: &Group) -> GroupInfo {
        let codes = &self.cfg.codes;
        GroupInfo {
            group_id: g.group_id.clone(),
            local_currency: g.currency.clone(),
            group_alias: g.alias.clone(),
            balance_amt: Some(g.balance),
            status: Some(
                match g.status {
                    GroupStatus::Active => &codes.group_status_active,
                    GroupStatus::Frozen => &codes.group_status_frozen,
                    GroupStatus::Closed => &codes.group_status_closed,
                }
                .clone(),
            ),
            card_count: Some(
                i64::try_from(
                    self.cards.values().filter(|c| c.group_id.as_deref() == Some(g.group_id.as_str())).count(),
                )
                .unwrap_or(i64::MAX),
            ),
            create_time: Some(self.cfg.clock.format_datetime(g.created_at)),
        }
    }
}
