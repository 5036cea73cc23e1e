//! The guarded write sequence: card apply → card inquiry → recharge → order inquiry by its number →
//! the same recharge again with the same `userReqNo` → refund (and a second refund when the repeat
//! moved money again) → cancel; then, with `groups`, group apply → group inquiry → group recharge →
//! group refund → freeze → unfreeze → close. The card is cancelled and the group closed at the end
//! whatever failed on the way (both return their balance); whatever could not be returned is listed
//! as money left behind. Every movement of the merchant account is measured with balance reads
//! around it; card data is never printed (only field names are).

use std::time::{Duration, Instant};

use rust_decimal::Decimal;

use super::{
    CheckOptions, Checker, Want, dec, expected,
    report::MoneyMove,
    shape::{Root, Severity},
};
use crate::upstream::{
    Operation as Op,
    facts::Verdict,
    probe::{EnvelopeState, Exchange},
    wire::{
        card::{
            CardApplyRequest, CardApplyResult, CardCancelRequest, CardInfo, CardInfoRequest, RechargeRequest,
            RefundRequest,
        },
        common::{OrderAck, Page},
        group::{GroupApplyRequest, GroupInfo, GroupInfoRequest, GroupUpdateRequest},
        order::OrderRecord,
    },
};

/// Gap between order-inquiry polls while waiting for an order to appear or finish.
const POLL: Duration = Duration::from_millis(100);

pub(super) async fn sequence(c: &mut Checker<'_>, opts: &CheckOptions) {
    let cur = opts.currency.clone();
    let start_balance = c.balance(&cur).await;
    if let Some(card_id) = apply(c, opts).await {
        card_sequence(c, opts, &card_id).await;
    }
    if opts.groups {
        group_sequence(c, opts).await;
    }
    finish_net(c, &cur, start_balance).await;
}

async fn card_sequence(c: &mut Checker<'_>, opts: &CheckOptions, card_id: &str) {
    let cur = opts.currency.clone();
    let card_id = card_id.to_owned();
    let info = card_info(c, &card_id, "card_info (new card)").await;
    // A new card has no transactions: the cardId filter test when other cards have some.
    c.tx_filter_probe(&card_id).await;
    if info.is_some() {
        money_steps(c, opts, &card_id).await;
    }
    // Clean-up, whatever happened above.
    let before = c.balance(&cur).await;
    let r = c.req_no();
    let ex = c.send(Op::CardCancel, &CardCancelRequest { user_req_no: r.clone(), card_id: card_id.clone() }).await;
    let ok = c.record("card_cancel", &ex, Want::Answer(Root::Object(expected::ORDER_ACK), dec::<OrderAck>));
    if ok < Severity::Fail && ex.is_async == Some(true) {
        wait_final(c, &r, opts.order_wait).await;
    }
    let after = c.balance(&cur).await;
    let note = if ok < Severity::Fail {
        "card cancelled; its balance returns to the account"
    } else {
        "CANCEL FAILED: cancel the card by hand"
    };
    moved(c, "card_cancel", &cur, before, after, note);
    if ok == Severity::Fail {
        let left = card_balance(c, &card_id).await;
        c.left_behind.push(format!(
            "card {card_id}: {} {cur} (the cancel failed; cancel it by hand)",
            left.map_or_else(|| "an unknown balance".to_owned(), |b| b.to_string())
        ));
    }
}

async fn finish_net(c: &mut Checker<'_>, cur: &str, start: Option<Decimal>) {
    let end = c.balance(cur).await;
    c.net = match (start, end) {
        (Some(a), Some(b)) => Some(format!("{} {cur} (the platform's fees included)", b - a)),
        _ => None,
    };
}

fn moved(c: &mut Checker<'_>, step: &str, cur: &str, before: Option<Decimal>, after: Option<Decimal>, note: &str) {
    let delta = match (before, after) {
        (Some(a), Some(b)) => Some((b - a).to_string()),
        _ => None,
    };
    c.money.push(MoneyMove { step: step.into(), currency: cur.into(), account_delta: delta, note: note.into() });
}

/// Whether a failed write may still have been applied: only a refusal, or a path the platform does
/// not know, certainly applied nothing.
fn may_have_applied(state: EnvelopeState) -> bool {
    !matches!(state, EnvelopeState::Refused | EnvelopeState::NonStandard)
}

/// A regular (non-shared) BIN in the currency that needs no cardholder, from the BIN probe.
fn pick_bin(c: &Checker<'_>, cur: &str) -> Option<String> {
    let regular = c.settings.upstream.codes.channel_type_regular.to_string();
    c.bins
        .iter()
        .filter(|b| b.local_currency.is_empty() || b.local_currency == cur)
        .filter(|b| b.channel_type.as_deref().is_none_or(|t| t == regular))
        .find(|b| b.card_user_required != Some(true))
        .map(|b| b.card_bin.clone())
}

async fn apply(c: &mut Checker<'_>, opts: &CheckOptions) -> Option<String> {
    let cur = opts.currency.clone();
    let before = c.balance(&cur).await;
    let today = c.clock.today();
    let r = c.req_no();
    let req = CardApplyRequest {
        user_req_no: r.clone(),
        local_currency: cur.clone(),
        start_date: c.clock.format_date(today),
        end_date: c.clock.format_date(today + chrono::Duration::days(365)),
        auth_limit_amount: Some(opts.amount),
        enable_multi_use: None,
        enable_currency_check: Some(1),
        card_alias: Some("upstream-check".into()),
        bin_range_id: pick_bin(c, &cur),
        channel_type: Some(c.settings.upstream.codes.channel_type_regular),
        group_id: None,
        card_user_id: None,
        scene_code: None,
        air_line_code: None,
    };
    let ex = c.send(Op::CardApply, &req).await;
    let status = c.record("card_apply", &ex, Want::Answer(Root::Object(expected::CARD_APPLY), dec::<CardApplyResult>));
    if status == Severity::Fail && !may_have_applied(ex.state) {
        return None;
    }
    // Otherwise the card may exist even if the answer was unusable: find its id (the answer, or order
    // inquiry by the request number) so that it is cancelled, or listed as left behind.
    let mut card_id = ex.decode::<CardApplyResult>().and_then(Result::ok).and_then(|r| r.card_id);
    if ex.is_async == Some(true) || card_id.is_none() {
        card_id = wait_final(c, &r, opts.order_wait).await.and_then(|o| o.card_id).or(card_id);
    }
    let after = c.balance(&cur).await;
    let note = format!("card applied with limit {} {cur} (the account pays limit + issue fee)", opts.amount);
    moved(c, "card_apply", &cur, before, after, &note);
    if card_id.is_none() {
        c.left_behind
            .push(format!("a card applied by {r} with limit {} {cur}, id unknown: cancel it by hand", opts.amount));
        c.steps.push(super::report::Step {
            name: "card_apply (card id)".into(),
            operation: Op::CardApply.name(),
            path: ex.path.clone(),
            status: Severity::Fail,
            http_status: ex.http_status,
            envelope: ex.state,
            code: None,
            latency_ms: 0,
            is_async: ex.is_async,
            summary: "no card id in the answer nor in order inquiry: check for a card to cancel by hand".into(),
            config_key: None,
            findings: Vec::new(),
        });
    }
    card_id
}

async fn card_info(c: &mut Checker<'_>, card_id: &str, name: &str) -> Option<CardInfo> {
    let ex = c.send(Op::CardInfo, &CardInfoRequest { card_id: card_id.to_owned() }).await;
    c.record(name, &ex, Want::Answer(Root::Object(expected::CARD_INFO), dec::<CardInfo>));
    ex.decode::<CardInfo>().and_then(Result::ok)
}

async fn card_balance(c: &mut Checker<'_>, card_id: &str) -> Option<Decimal> {
    let ex = c.send(Op::CardInfo, &CardInfoRequest { card_id: card_id.to_owned() }).await;
    ex.decode::<CardInfo>().and_then(Result::ok).and_then(|i| i.balance_amt)
}

async fn money_steps(c: &mut Checker<'_>, opts: &CheckOptions, card_id: &str) {
    let cur = opts.currency.clone();
    let regular = Some(c.settings.upstream.codes.channel_type_regular);
    let r1 = c.req_no();
    let recharge = RechargeRequest {
        user_req_no: r1.clone(),
        card_id: Some(card_id.to_owned()),
        auth_limit_amount: opts.amount,
        channel_type: regular,
        group_id: None,
    };
    let want = || Want::Answer(Root::Object(expected::ORDER_ACK), dec::<OrderAck>);

    let before = c.balance(&cur).await;
    let ex1 = c.send(Op::CardRecharge, &recharge).await;
    let sent_at = Instant::now();
    if c.record("card_recharge", &ex1, want()) == Severity::Fail {
        return;
    }
    if ex1.is_async == Some(true) {
        wait_final(c, &r1, opts.order_wait).await;
    }
    let after1 = c.balance(&cur).await;
    let card1 = card_balance(c, card_id).await;
    moved(c, "card_recharge", &cur, before, after1, &format!("recharge {} {cur} → card", opts.amount));

    // Order inquiry by the request number: is the filter honoured, and how long until it shows?
    visibility(c, &r1, sent_at, opts.order_wait).await;

    // The same recharge again, same userReqNo.
    let ex2 = c.send(Op::CardRecharge, &recharge).await;
    c.record("card_recharge (repeat, same userReqNo)", &ex2, want());
    if ex2.is_async == Some(true) {
        wait_final(c, &r1, opts.order_wait).await;
    }
    let after2 = c.balance(&cur).await;
    let card2 = card_balance(c, card_id).await;
    let id1 = ex1.decode::<OrderAck>().and_then(Result::ok).and_then(|a| a.order_id);
    let id2 = ex2.decode::<OrderAck>().and_then(Result::ok).and_then(|a| a.order_id);
    let account_moved = match (after1, after2) {
        (Some(a), Some(b)) => Some(a != b),
        _ => None,
    };
    let card_moved = match (card1, card2) {
        (Some(a), Some(b)) => Some(a != b),
        _ => None,
    };
    let refused = ex2.state == EnvelopeState::Refused;
    let moved_again = match (account_moved, card_moved) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false) | None) | (None, Some(false)) => Some(false),
        (None, None) => None,
    };
    let same_id = id1.is_some() && id1 == id2;
    c.dedupe = match (moved_again, same_id, refused) {
        (Some(true), _, _) => Verdict::No,
        (Some(false), _, _) => Verdict::Yes,
        (None, false, false) if id2.is_some() => Verdict::No,
        _ => Verdict::Unknown,
    };
    c.dedupe_detail = format!(
        "repeat {}; money moved again: {}",
        if refused {
            format!("refused with {}", ex2.code.as_deref().unwrap_or("?"))
        } else if same_id {
            "answered the same order id".into()
        } else if id2.is_some() {
            "answered a NEW order id".into()
        } else {
            "answered no order id".into()
        },
        moved_again.map_or("unknown", |m| if m { "YES" } else { "no" })
    );
    let note = if moved_again == Some(true) {
        format!("repeat moved {} {cur} again (not de-duplicated)", opts.amount)
    } else {
        "repeat: no money moved".into()
    };
    moved(c, "card_recharge (repeat)", &cur, after1, after2, &note);

    let before = c.balance(&cur).await;
    let r = c.req_no();
    let refund = RefundRequest {
        user_req_no: r.clone(),
        card_id: Some(card_id.to_owned()),
        refund_amount: opts.amount,
        channel_type: regular,
        group_id: None,
    };
    let ex = c.send(Op::CardRefund, &refund).await;
    if c.record("card_refund", &ex, want()) < Severity::Fail && ex.is_async == Some(true) {
        wait_final(c, &r, opts.order_wait).await;
    }
    let after = c.balance(&cur).await;
    moved(c, "card_refund", &cur, before, after, &format!("refund {} {cur} card → account", opts.amount));
    if moved_again == Some(true) {
        // The repeat was a second order: take its money back too, as its own step.
        let before = c.balance(&cur).await;
        let r = c.req_no();
        let refund = RefundRequest { user_req_no: r.clone(), ..refund };
        let ex = c.send(Op::CardRefund, &refund).await;
        if c.record("card_refund (the repeat's money)", &ex, want()) < Severity::Fail && ex.is_async == Some(true) {
            wait_final(c, &r, opts.order_wait).await;
        }
        let after = c.balance(&cur).await;
        let note = format!("refund {} {cur} card → account (moved by the repeat)", opts.amount);
        moved(c, "card_refund (repeat)", &cur, before, after, &note);
    }
    card_info(c, card_id, "card_info (after refund)").await;
}

/// A shared BIN in the currency, from the BIN probe (the group needs a shared-card product).
fn has_shared_bin(c: &Checker<'_>, cur: &str) -> bool {
    let shared = c.settings.upstream.codes.channel_type_shared.to_string();
    c.bins.iter().any(|b| {
        (b.local_currency.is_empty() || b.local_currency == cur) && b.channel_type.as_deref() == Some(shared.as_str())
    })
}

/// Group apply → inquiry → recharge → refund → freeze → unfreeze, then close whatever happened.
async fn group_sequence(c: &mut Checker<'_>, opts: &CheckOptions) {
    let cur = opts.currency.clone();
    if !c.bins.is_empty() && !has_shared_bin(c, &cur) {
        c.notes.push(format!("group steps skipped: the BIN list offers no shared-card product in {cur}"));
        return;
    }
    let want = || Want::Answer(Root::Object(expected::ORDER_ACK), dec::<OrderAck>);
    let before = c.balance(&cur).await;
    let r = c.req_no();
    let req = GroupApplyRequest {
        user_req_no: r.clone(),
        local_currency: cur.clone(),
        auth_limit_amount: opts.amount,
        group_alias: Some("upstream-check".into()),
    };
    let ex = c.send(Op::GroupApply, &req).await;
    if c.record("group_apply", &ex, want()) == Severity::Fail && !may_have_applied(ex.state) {
        return;
    }
    let mut group_id = ex.decode::<OrderAck>().and_then(Result::ok).and_then(|a| a.group_id);
    if ex.is_async == Some(true) || group_id.is_none() {
        group_id = wait_final(c, &r, opts.order_wait).await.and_then(|o| o.group_id).or(group_id);
    }
    let after = c.balance(&cur).await;
    let note = format!("group opened with {} {cur} (shared balance)", opts.amount);
    moved(c, "group_apply", &cur, before, after, &note);
    let Some(group_id) = group_id else {
        if let Some(step) = c.steps.last_mut() {
            step.status = Severity::Fail;
            let why = if step.summary.is_empty() { String::new() } else { format!("{}; ", step.summary) };
            step.summary =
                format!("{why}no group id in the answer nor in order inquiry: check for a group to close by hand");
        }
        c.left_behind.push(format!("a group opened by {r} with {} {cur}, id unknown: close it by hand", opts.amount));
        return;
    };
    let info = group_info(c, &group_id, "group_info (new group)").await;
    if info.is_some() {
        group_money_steps(c, opts, &group_id).await;
    }
    // Clean-up, whatever happened above: closing returns the shared balance.
    let before = c.balance(&cur).await;
    let closed = c.settings.upstream.codes.group_status_closed.clone();
    let ok = group_update(c, opts, &group_id, &closed, "group_update (close)").await;
    let after = c.balance(&cur).await;
    let note =
        if ok { "group closed; its balance returns to the account" } else { "CLOSE FAILED: close the group by hand" };
    moved(c, "group_close", &cur, before, after, note);
    if !ok {
        let left = group_info(c, &group_id, "group_info (after a failed close)").await.and_then(|g| g.balance_amt);
        c.left_behind.push(format!(
            "group {group_id}: {} {cur} (the close failed; close it by hand)",
            left.map_or_else(|| "an unknown balance".to_owned(), |b| b.to_string())
        ));
    }
}

async fn group_info(c: &mut Checker<'_>, group_id: &str, name: &str) -> Option<GroupInfo> {
    let ex = c.send(Op::GroupInfo, &GroupInfoRequest { group_id: group_id.to_owned() }).await;
    c.record(name, &ex, Want::Answer(Root::Object(expected::GROUP_INFO), dec::<GroupInfo>));
    ex.decode::<GroupInfo>().and_then(Result::ok)
}

/// One status change; false when it failed (or the configured code is not a number).
async fn group_update(c: &mut Checker<'_>, opts: &CheckOptions, group_id: &str, code: &str, name: &str) -> bool {
    let Ok(status) = code.trim().parse::<i64>() else {
        c.notes.push(format!("{name} skipped: upstream.codes.group_status_* must be numeric (is {code:?})"));
        return false;
    };
    let r = c.req_no();
    let req = GroupUpdateRequest { user_req_no: r.clone(), group_id: group_id.to_owned(), status };
    let ex = c.send(Op::GroupUpdate, &req).await;
    let ok = c.record(name, &ex, Want::Answer(Root::Object(expected::ORDER_ACK), dec::<OrderAck>)) < Severity::Fail;
    if ok && ex.is_async == Some(true) {
        wait_final(c, &r, opts.order_wait).await;
    }
    ok
}

async fn group_money_steps(c: &mut Checker<'_>, opts: &CheckOptions, group_id: &str) {
    let cur = opts.currency.clone();
    let shared = Some(c.settings.upstream.codes.channel_type_shared);
    let want = || Want::Answer(Root::Object(expected::ORDER_ACK), dec::<OrderAck>);

    let before = c.balance(&cur).await;
    let r = c.req_no();
    let recharge = RechargeRequest {
        user_req_no: r.clone(),
        card_id: None,
        auth_limit_amount: opts.amount,
        channel_type: shared,
        group_id: Some(group_id.to_owned()),
    };
    let ex = c.send(Op::CardRecharge, &recharge).await;
    let recharged = c.record("group_recharge", &ex, want()) < Severity::Fail;
    if recharged && ex.is_async == Some(true) {
        wait_final(c, &r, opts.order_wait).await;
    }
    let after = c.balance(&cur).await;
    moved(c, "group_recharge", &cur, before, after, &format!("recharge {} {cur} → group", opts.amount));

    if recharged {
        let before = c.balance(&cur).await;
        let r = c.req_no();
        let refund = RefundRequest {
            user_req_no: r.clone(),
            card_id: None,
            refund_amount: opts.amount,
            channel_type: shared,
            group_id: Some(group_id.to_owned()),
        };
        let ex = c.send(Op::CardRefund, &refund).await;
        if c.record("group_refund", &ex, want()) < Severity::Fail && ex.is_async == Some(true) {
            wait_final(c, &r, opts.order_wait).await;
        }
        let after = c.balance(&cur).await;
        moved(c, "group_refund", &cur, before, after, &format!("refund {} {cur} group → account", opts.amount));
    }

    let codes = &c.settings.upstream.codes;
    let (frozen, active) = (codes.group_status_frozen.clone(), codes.group_status_active.clone());
    if group_update(c, opts, group_id, &frozen, "group_update (freeze)").await {
        group_update(c, opts, group_id, &active, "group_update (unfreeze)").await;
    }
    group_info(c, group_id, "group_info (after updates)").await;
}

/// Polls order inquiry by `req_no` until the order shows; records the step, the filter verdict and the
/// visibility delay.
async fn visibility(c: &mut Checker<'_>, req_no: &str, sent_at: Instant, wait: Duration) {
    let deadline = sent_at + wait;
    loop {
        let (ex, page, order) = find_order(c, req_no).await;
        let found = order.is_some();
        if let Some(p) = &page
            && p.list.iter().any(|o| o.user_req_no != req_no)
        {
            c.filter = Verdict::No;
        }
        if found || page.is_none() || Instant::now() >= deadline {
            let want = Want::Answer(Root::Page(expected::ORDER), dec::<Page<OrderRecord>>);
            c.record("order_query (by the recharge's userReqNo)", &ex, want);
            if found {
                let ms = u64::try_from(sent_at.elapsed().as_millis()).unwrap_or(u64::MAX);
                c.visible_after_ms = Some(ms);
                c.visible_detail = format!("{ms} ms");
                if c.filter == Verdict::Unknown {
                    c.filter = Verdict::Yes;
                }
            } else if page.is_some() {
                let ms = wait.as_millis();
                c.visible_detail = format!("not within {ms} ms (wait longer with --order-wait)");
                if let Some(step) = c.steps.last_mut() {
                    step.status = Severity::Fail;
                    step.summary = format!("the order did not appear within {ms} ms");
                }
            }
            return;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Pages read when order inquiry was seen to ignore its filter (as the gateway does).
const UNFILTERED_PAGE_SIZE: i64 = 50;
const UNFILTERED_MAX_PAGES: i64 = 20;

/// Order inquiry by `req_no`: the first page's exchange and page, and the order when found. When the
/// platform was seen to ignore the filter, later pages are read too (up to a bound).
async fn find_order(c: &mut Checker<'_>, req_no: &str) -> (Exchange, Option<Page<OrderRecord>>, Option<OrderRecord>) {
    let unfiltered = c.filter == Verdict::No;
    let size = if unfiltered { UNFILTERED_PAGE_SIZE } else { 10 };
    let ex = c.send(Op::OrderQuery, &super::order_query(Some(req_no.to_owned()), 1, size)).await;
    let first = ex.decode::<Page<OrderRecord>>().and_then(Result::ok);
    let mut order = first.as_ref().and_then(|p| p.list.iter().find(|o| o.user_req_no == req_no).cloned());
    let mut short = first.as_ref().is_none_or(|p| i64::try_from(p.list.len()).is_ok_and(|n| n < size));
    let mut page_no = 1;
    while unfiltered && order.is_none() && !short && page_no < UNFILTERED_MAX_PAGES {
        page_no += 1;
        let more = c.send(Op::OrderQuery, &super::order_query(Some(req_no.to_owned()), page_no, size)).await;
        let Some(p) = more.decode::<Page<OrderRecord>>().and_then(Result::ok) else { break };
        short = i64::try_from(p.list.len()).is_ok_and(|n| n < size);
        order = p.list.into_iter().find(|o| o.user_req_no == req_no);
    }
    (ex, first, order)
}

/// Waits for an order to reach a final status (asynchronous operations); `None` if it never shows.
async fn wait_final(c: &mut Checker<'_>, req_no: &str, wait: Duration) -> Option<OrderRecord> {
    let deadline = Instant::now() + wait;
    let codes = &c.settings.upstream.codes;
    let finals = [codes.order_status_success.clone(), codes.order_status_failed.clone()];
    let mut last = None;
    loop {
        let (_, _, order) = find_order(c, req_no).await;
        if let Some(o) = order {
            if finals.contains(&o.status) {
                return Some(o);
            }
            last = Some(o);
        }
        if Instant::now() >= deadline {
            return last;
        }
        tokio::time::sleep(POLL).await;
    }
}
