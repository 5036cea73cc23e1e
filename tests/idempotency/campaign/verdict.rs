//! The invariants, checked against the platform's own books (the simulator's state), not the
//! gateway's: every platform order belongs to an operation a client was told succeeded (or told is
//! unconfirmable), none to one told failed, none twice; every card and group holds exactly what
//! its clients were told; every currency of the merchant account is conserved.

use std::{collections::BTreeMap, fmt::Write as _};

use card_gateway::simulator::{
    SimSnapshot,
    state::{CardStatus, Order, OrderStatus},
};
use rust_decimal::Decimal;

use super::{
    client::{Outcome, Told},
    plan::{CARD_START, Fixtures, GROUP_START, Kind, Logical},
};

pub struct Verdict {
    pub report: String,
    pub violations: Vec<String>,
}

fn told_name(t: &Option<Told>) -> String {
    match t {
        None => "no final answer".into(),
        Some(Told::Succeeded) => "succeeded".into(),
        Some(Told::Unconfirmable) => "unconfirmable".into(),
        Some(Told::Failed { status, code }) => format!("failed {status} {code}"),
    }
}

/// Kinds the platform offers no inquiry for: after an unknown outcome they may end unconfirmable.
fn uninquirable(kind: Kind) -> bool {
    matches!(kind, Kind::CryptoWithdrawal | Kind::Exchange | Kind::CryptoTransfer)
}

/// The platform's orders (any status) that belong to `op`: by its unique amount, or for a cancel by
/// its card.
fn orders_of<'a>(op: &Logical, snap: &'a SimSnapshot) -> Vec<&'a Order> {
    snap.orders
        .iter()
        .filter(|o| o.op == op.kind.op())
        .filter(|o| match op.kind {
            Kind::CardCancel => o.card_id == op.target,
            _ => o.amount == op.amount,
        })
        .collect()
}

pub fn judge(
    plan: &[Logical],
    outcomes: &[Outcome],
    fx: &Fixtures,
    before: &SimSnapshot,
    after: &SimSnapshot,
) -> Verdict {
    let mut v = Vec::new();
    let mut report = String::new();
    let mut by_kind: BTreeMap<(Kind, String), u64> = BTreeMap::new();
    let mut expected: BTreeMap<&str, Decimal> = BTreeMap::new();
    for c in &fx.cards {
        expected.insert(c, CARD_START);
    }
    expected.insert(&fx.group, GROUP_START);
    let (mut moved_told, mut moved_unconfirmed, mut unconfirmable_moved) = (Decimal::ZERO, Decimal::ZERO, 0u32);
    let mut matched = 0usize;
    for (op, out) in plan.iter().zip(outcomes) {
        *by_kind.entry((op.kind, told_name(&out.told))).or_default() += 1;
        let matches = orders_of(op, after);
        matched += matches.len();
        let done = matches.iter().filter(|o| o.status == OrderStatus::Succeeded).count();
        if matches.len() > 1 {
            let nos: Vec<_> = matches
                .iter()
                .map(|o| (o.user_req_no.as_str(), o.created_at.format("%H:%M:%S%.3f").to_string()))
                .collect();
            v.push(format!(
                "{} ({:?}): {} orders upstream for one logical operation: {nos:?}; answers: {}",
                op.key,
                op.kind,
                matches.len(),
                out.trail.join(", ")
            ));
        }
        match &out.told {
            None => v.push(format!("{} ({:?}): no final answer after {} attempts", op.key, op.kind, out.attempts)),
            Some(Told::Succeeded) if done != 1 => {
                v.push(format!("{} ({:?}): told succeeded, {done} succeeded orders upstream", op.key, op.kind))
            }
            Some(Told::Failed { code, .. }) if done != 0 => v.push(format!(
                "{} ({:?}): told failed ({code}), but {done} succeeded orders upstream {:?}; answers: {}",
                op.key,
                op.kind,
                matches
                    .iter()
                    .map(|o| (o.user_req_no.as_str(), o.created_at.format("%H:%M:%S%.3f").to_string()))
                    .collect::<Vec<_>>(),
                out.trail.join(", ")
            )),
            Some(Told::Unconfirmable) if uninquirable(op.kind) && done == 1 => {
                unconfirmable_moved += 1;
                moved_unconfirmed += op.amount;
            }
            Some(Told::Unconfirmable) if uninquirable(op.kind) => {}
            Some(Told::Unconfirmable) => v.push(format!(
                "{} ({:?}): unconfirmable, although the platform can be asked about it",
                op.key, op.kind
            )),
            _ => {}
        }
        if out.told == Some(Told::Succeeded) {
            if op.kind != Kind::CardCancel {
                moved_told += op.amount;
            }
            let target = op.target.as_deref().unwrap_or_default();
            match op.kind {
                Kind::CardRecharge | Kind::GroupRecharge => *expected.entry(target).or_default() += op.amount,
                Kind::CardRefund | Kind::GroupRefund => *expected.entry(target).or_default() -= op.amount,
                _ => {}
            }
        }
        if op.kind == Kind::CardCancel {
            let cancelled = after.card(op.target.as_deref().unwrap_or_default()).map(|c| c.status);
            let is_cancelled = cancelled == Some(CardStatus::Cancelled);
            if is_cancelled != (out.told == Some(Told::Succeeded)) {
                v.push(format!("{}: told {}, card status upstream {cancelled:?}", op.key, told_name(&out.told)));
            }
        }
    }
    // Every succeeded campaign order (amounts 1.01… and cancels of fixture cards) is accounted for above;
    // an order that matches no logical operation would be money nobody asked for.
    let campaign_orders = after.orders.len() - before.orders.len();
    if matched != campaign_orders {
        v.push(format!(
            "{campaign_orders} orders upstream since the campaign began, {matched} belong to its operations"
        ));
    }
    let _ = writeln!(report, "final answers by kind:");
    for ((kind, told), n) in &by_kind {
        let _ = writeln!(report, "  {kind:?}: {told} × {n}");
    }
    let _ = writeln!(report, "money per card and group (platform vs told):");
    for (id, want) in &expected {
        let got = after.card(id).map(|c| c.balance).or_else(|| after.group(id).map(|g| g.balance));
        let _ = writeln!(report, "  {id}: platform {got:?}, told {want}");
        if got != Some(*want) {
            v.push(format!("{id}: platform balance {got:?}, clients were told {want}"));
        }
    }
    let _ = writeln!(
        report,
        "amounts told succeeded: {moved_told}; moved by operations told unconfirmable: {moved_unconfirmed} ({unconfirmable_moved} ops)"
    );
    let _ = writeln!(report, "merchant account per currency (before → after; conserved):");
    let (t0, t1) = (before.totals(), after.totals());
    for (ccy, t) in &t1 {
        let b = t0.get(ccy).map(|t| t.merchant).unwrap_or_default();
        let _ = writeln!(report, "  {ccy}: {b} → {} ; conserved {}", t.merchant, t.conserved());
        if !t.conserved() {
            v.push(format!("{ccy}: the platform's books do not balance: {t:?}"));
        }
    }
    let _ = writeln!(report, "platform orders since the start: {campaign_orders}");
    Verdict { report, violations: v }
}
