//! Properties over random sequences of money operations, through the real envelope: balances never go
//! negative, money is conserved per currency, and a repeated `userReqNo` is exactly one order (or,
//! with `simulator.dedupe_requests = false`, a new order that still conserves money).
//!
//! In CI (`CI=true`) the seed is fixed so a red run is reproducible and no other change goes red at
//! random; locally it is random. Failing seeds are persisted in `tests/proptest-regressions/` and
//! replayed first on every run.

use card_gateway::{
    simulator::AuthorizationSpec,
    upstream::wire::{
        card::{CardCancelRequest, RechargeRequest, RefundRequest},
        group::GroupApplyRequest,
    },
};
use proptest::{
    prelude::*,
    test_runner::{FileFailurePersistence, RngSeed},
};
use rust_decimal::Decimal;

use crate::support::{Env, dec, req_no, start_with};

#[derive(Debug, Clone)]
enum Step {
    Apply(u32),
    SubApply(usize, u32),
    Recharge(usize, u32),
    Refund(usize, u32),
    Cancel(usize),
    GroupApply(u32),
    GroupRecharge(usize, u32),
    GroupRefund(usize, u32),
    Spend(usize, u32),
    /// Send the request of an earlier step again, same `userReqNo`.
    Repeat(usize),
}

/// Amounts in cents up to 400.00, against a small balance so refusals happen too.
fn cents() -> impl Strategy<Value = u32> {
    1u32..40_000
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        cents().prop_map(Step::Apply),
        (any::<usize>(), 0u32..5_000).prop_map(|(g, l)| Step::SubApply(g, l)),
        (any::<usize>(), cents()).prop_map(|(c, a)| Step::Recharge(c, a)),
        (any::<usize>(), cents()).prop_map(|(c, a)| Step::Refund(c, a)),
        any::<usize>().prop_map(Step::Cancel),
        cents().prop_map(Step::GroupApply),
        (any::<usize>(), cents()).prop_map(|(g, a)| Step::GroupRecharge(g, a)),
        (any::<usize>(), cents()).prop_map(|(g, a)| Step::GroupRefund(g, a)),
        (any::<usize>(), cents()).prop_map(|(c, a)| Step::Spend(c, a)),
        any::<usize>().prop_map(Step::Repeat),
    ]
}

fn money(c: u32) -> Decimal {
    Decimal::new(i64::from(c), 2)
}

/// A request already sent, to repeat.
#[derive(Clone)]
enum Sent {
    Apply(card_gateway::upstream::wire::card::CardApplyRequest),
    Recharge(RechargeRequest),
    Refund(RefundRequest),
    Cancel(CardCancelRequest),
    Group(GroupApplyRequest),
}

fn pick(ids: &[String], i: usize) -> Option<String> {
    (!ids.is_empty()).then(|| ids[i % ids.len()].clone())
}

async fn send(env: &Env, s: &Sent) -> Option<String> {
    let c = &env.client;
    match s {
        Sent::Apply(r) => c.card_apply(r).await.ok().and_then(|r| r.result).and_then(|r| r.order_id),
        Sent::Recharge(r) => c.card_recharge(r).await.ok().and_then(|r| r.result).and_then(|r| r.order_id),
        Sent::Refund(r) => c.card_refund(r).await.ok().and_then(|r| r.result).and_then(|r| r.order_id),
        Sent::Cancel(r) => c.card_cancel(r).await.ok().and_then(|r| r.result).and_then(|r| r.order_id),
        Sent::Group(r) => c.group_apply(r).await.ok().and_then(|r| r.result).and_then(|r| r.order_id),
    }
}

fn req_of(s: &Sent) -> &str {
    match s {
        Sent::Apply(r) => &r.user_req_no,
        Sent::Recharge(r) => &r.user_req_no,
        Sent::Refund(r) => &r.user_req_no,
        Sent::Cancel(r) => &r.user_req_no,
        Sent::Group(r) => &r.user_req_no,
    }
}

async fn run(steps: Vec<Step>, async_ops: bool) -> Result<(), TestCaseError> {
    run_with(steps, async_ops, true).await
}

async fn run_with(steps: Vec<Step>, async_ops: bool, dedupe: bool) -> Result<(), TestCaseError> {
    let env = start_with(|s| {
        s.simulator.dedupe_requests = dedupe;
        s.simulator.initial_balances = [("USD".to_owned(), dec("1000.00"))].into();
        s.simulator.webhook_retry_ms = vec![];
        s.simulator.sync_operation_webhooks = false;
        if async_ops {
            s.simulator.async_operations = vec!["card_recharge".into(), "card_refund".into(), "card_cancel".into()];
            s.simulator.async_delay_ms = 1;
        }
    })
    .await;
    let (mut cards, mut groups) = (Vec::<String>::new(), Vec::<String>::new());
    // Every request sent with the order id it got (None = refused), for repeats.
    let mut sent: Vec<(Sent, Option<String>)> = Vec::new();
    for step in steps {
        let request = match step {
            Step::Apply(l) => Some(Sent::Apply(env.apply(&money(l).to_string()))),
            Step::SubApply(g, l) => pick(&groups, g).map(|g| Sent::Apply(env.sub_apply(&g, &money(l).to_string()))),
            Step::Recharge(c, a) => pick(&cards, c).map(|c| {
                Sent::Recharge(RechargeRequest {
                    user_req_no: req_no(),
                    card_id: Some(c),
                    auth_limit_amount: money(a),
                    channel_type: None,
                    group_id: None,
                })
            }),
            Step::Refund(c, a) => pick(&cards, c).map(|c| {
                Sent::Refund(RefundRequest {
                    user_req_no: req_no(),
                    card_id: Some(c),
                    refund_amount: money(a),
                    channel_type: None,
                    group_id: None,
                })
            }),
            Step::Cancel(c) => {
                pick(&cards, c).map(|c| Sent::Cancel(CardCancelRequest { user_req_no: req_no(), card_id: c }))
            }
            Step::GroupApply(a) => Some(Sent::Group(GroupApplyRequest {
                user_req_no: req_no(),
                local_currency: "USD".into(),
                auth_limit_amount: money(a),
                group_alias: None,
            })),
            Step::GroupRecharge(g, a) => pick(&groups, g).map(|g| {
                Sent::Recharge(RechargeRequest {
                    user_req_no: req_no(),
                    card_id: None,
                    auth_limit_amount: money(a),
                    channel_type: Some(2),
                    group_id: Some(g),
                })
            }),
            Step::GroupRefund(g, a) => pick(&groups, g).map(|g| {
                Sent::Refund(RefundRequest {
                    user_req_no: req_no(),
                    card_id: None,
                    refund_amount: money(a),
                    channel_type: Some(2),
                    group_id: Some(g),
                })
            }),
            Step::Spend(c, a) => {
                if let Some(c) = pick(&cards, c) {
                    env.sim.authorize(&c, &AuthorizationSpec { amount: money(a), ..Default::default() }).unwrap();
                }
                None
            }
            Step::Repeat(i) => {
                if let Some((req, first)) = (!sent.is_empty()).then(|| sent[i % sent.len()].clone()) {
                    let orders_before = env.sim.state().orders_with(req_of(&req));
                    let again = send(&env, &req).await;
                    if dedupe {
                        prop_assert_eq!(&again, &first, "a repeat answers like the first request");
                        prop_assert!(env.sim.state().orders_with(req_of(&req)) <= 1);
                    } else if again.is_some() {
                        prop_assert_ne!(&again, &first, "without de-duplication a repeat is a new order");
                        prop_assert_eq!(env.sim.state().orders_with(req_of(&req)), orders_before + 1);
                    }
                }
                None
            }
        };
        if let Some(req) = request {
            let order = send(&env, &req).await;
            if let (Sent::Apply(_), Some(_)) = (&req, &order) {
                cards.push(env.sim.state().orders.last().unwrap().card_id.clone().unwrap());
            }
            if let (Sent::Group(_), Some(_)) = (&req, &order) {
                groups.push(env.sim.state().orders.last().unwrap().group_id.clone().unwrap());
            }
            sent.push((req, order));
        }
        let s = env.sim.state();
        prop_assert!(s.invariant_violations().is_empty(), "{:?}", s.invariant_violations());
    }
    if async_ops {
        let settled = env.sim.wait_until(std::time::Duration::from_secs(2), |s| {
            s.orders.iter().all(|o| o.status != card_gateway::simulator::state::OrderStatus::Processing)
        });
        prop_assert!(settled.await);
    }
    let s = env.sim.state();
    prop_assert!(s.invariant_violations().is_empty(), "{:?}", s.invariant_violations());
    if dedupe {
        for (req, _) in &sent {
            prop_assert!(s.orders_with(req_of(req)) <= 1);
        }
    }
    Ok(())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// Fixed seed under `CI=true` (reproducible), random locally; failures persisted and replayed.
fn config(cases: u32) -> ProptestConfig {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    ProptestConfig {
        cases,
        max_shrink_iters: 50,
        rng_seed: if ci { RngSeed::Fixed(0x0c0f_fee5_eed5) } else { RngSeed::Random },
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/proptest-regressions/upstream-invariants.txt",
        ))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(12))]

    #[test]
    fn random_money_operations_conserve_money_and_never_go_negative(steps in proptest::collection::vec(step(), 1..25)) {
        runtime().block_on(run(steps, false))?;
    }

    #[test]
    fn asynchronous_money_operations_conserve_money_through_completion(steps in proptest::collection::vec(step(), 1..20)) {
        runtime().block_on(run(steps, true))?;
    }

    #[test]
    fn without_deduplication_repeats_are_new_orders_that_still_conserve_money(steps in proptest::collection::vec(step(), 1..25)) {
        runtime().block_on(run_with(steps, false, false))?;
    }
}

/// The minimal case proptest found on the first version (issue 8): the third group application is
/// refused for want of funds; after two refunds bring money back, repeating it must still answer the
/// refusal, not open the group.
#[test]
fn a_repeat_of_a_refused_request_answers_the_refusal_after_the_balance_came_back() {
    use Step::*;
    let steps = vec![
        GroupApply(4992),
        GroupApply(39690),
        Apply(25540),
        SubApply(638746473895286477, 4574),
        GroupApply(29579),
        Refund(12629513945385878773, 11093),
        Refund(8797960067632168800, 24394),
        GroupRefund(7560774935656160266, 10372),
        GroupRefund(10305353218731840627, 15302),
        Repeat(9785227186102723960),
    ];
    if let Err(e) = runtime().block_on(run(steps, false)) {
        panic!("{e}");
    }
}
