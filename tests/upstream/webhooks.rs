//! Asynchronous orders and `card_operate` webhooks: completion, retries until `SUCCESS`, shapes,
//! encryption, duplicates and out-of-order delivery.

use std::time::Duration;

use card_gateway::{
    config::simulator::WebhookShape,
    sensitive::Reveal,
    simulator::{
        Fault, FaultKind, WebhookFault, WebhookFaultKind,
        state::{CardStatus, OrderStatus},
    },
    upstream::{Operation, wire::webhook::CardOperate},
};

use crate::support::{Receiver, dec, start, start_with};

fn card_operate(hook: &crate::support::Hook) -> CardOperate {
    serde_json::from_value(hook.data.clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn async_apply_answers_at_once_then_completes_and_posts_card_operate_with_card_info() {
    let rx = Receiver::start(&[]).await;
    let env = start_with(|s| s.simulator.async_operations = vec!["card_apply".into()]).await;
    env.sim.set_webhook_url(Some(rx.url.clone()));
    let apply = env.apply("75.00");
    let reply = env.client.card_apply(&apply).await.unwrap();
    assert!(reply.is_async);
    let accepted = reply.result.unwrap();
    assert!(accepted.card_no.is_none(), "card elements follow later");
    let card_id = accepted.card_id.unwrap();
    let s = env.sim.state();
    assert_eq!(s.card(&card_id).unwrap().status, CardStatus::Pending);
    assert_eq!(s.order(&apply.user_req_no).unwrap().status, OrderStatus::Processing);
    assert_eq!(s.balance("USD"), dec("1000000.00"), "money moves on completion");

    let hooks = rx.wait_for("card_operate", 1).await;
    assert!(hooks[0].encrypted);
    assert_eq!(hooks[0].user_no, env.settings.upstream.merchant_no);
    let op = card_operate(&hooks[0]);
    assert_eq!((op.op_type, op.status, op.amount), (15, 1, Some(dec("75.00"))));
    assert_eq!(op.user_req_no, apply.user_req_no);
    assert_eq!(Some(op.order_id), accepted.order_id);
    let s = env.sim.state();
    let card = s.card(&card_id).unwrap();
    assert_eq!(card.status, CardStatus::Active);
    assert_eq!(op.card_info.unwrap().card_no.unwrap().expose(), card.pan.expose());
    assert_eq!(s.balance("USD"), dec("999924.00"));
    assert!(env.sim.wait_until(Duration::from_secs(1), |s| s.webhooks.iter().all(|w| w.delivered())).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn webhooks_are_retried_until_the_receiver_answers_success() {
    let rx = Receiver::start(&["FAIL", "busy"]).await;
    let env = start().await;
    env.sim.set_webhook_url(Some(rx.url.clone()));
    env.card("1").await;
    let hooks = rx.wait_for("card_operate", 3).await;
    assert_eq!(card_operate(&hooks[0]).order_id, card_operate(&hooks[2]).order_id);
    let delivered =
        env.sim.wait_until(Duration::from_secs(2), |s| s.webhooks.first().is_some_and(|w| w.delivered())).await;
    assert!(delivered);
    let log = &env.sim.state().webhooks[0];
    assert_eq!((log.attempts, log.acknowledged, log.gave_up), (3, 1, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn delivery_gives_up_after_the_schedule_and_three_more_final_delays() {
    let rx = Receiver::start(&["NO"; 20]).await;
    let env = start_with(|s| s.simulator.webhook_retry_ms = vec![5, 10]).await;
    env.sim.set_webhook_url(Some(rx.url.clone()));
    env.card("1").await;
    let gave_up =
        env.sim.wait_until(Duration::from_secs(3), |s| s.webhooks.first().is_some_and(|w| w.gave_up == 1)).await;
    assert!(gave_up);
    assert_eq!(env.sim.state().webhooks[0].attempts, 1 + 2 + 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn async_failure_completes_the_order_as_failed_and_moves_no_money() {
    let rx = Receiver::start(&[]).await;
    let env = start_with(|s| s.simulator.async_operations = vec!["card_recharge".into()]).await;
    env.sim.set_webhook_url(Some(rx.url.clone()));
    let card = env.card("10").await;
    let before = env.sim.state();
    env.sim.inject(
        Operation::CardRecharge,
        Fault::once(FaultKind::FailAsync { code: "130001".into(), message: "later".into() }),
    );
    env.recharge(&card, "5").await.unwrap();
    let hooks = rx.wait_for("card_operate", 2).await;
    let op = card_operate(&hooks[1]);
    assert_eq!((op.op_type, op.status), (16, 2));
    let after = env.sim.state();
    assert_eq!(after.balance("USD"), before.balance("USD"));
    assert_eq!(after.card(&card).unwrap().balance, dec("10"));
    let order = after.orders.last().unwrap();
    assert_eq!(order.status, OrderStatus::Failed);
    assert_eq!(order.error.as_ref().unwrap().code, "130001");
}

#[tokio::test(flavor = "multi_thread")]
async fn async_recharge_is_checked_again_at_completion() {
    let env = start_with(|s| {
        s.simulator.async_operations = vec!["card_recharge".into()];
        s.simulator.async_delay_ms = 5000;
        s.simulator.initial_balances.insert("USD".into(), dec("100"));
    })
    .await;
    let card = env.card("10").await;
    env.recharge(&card, "80").await.unwrap();
    let n = env.sim.state().orders.last().unwrap().user_req_no.clone();
    env.recharge(&card, "80").await.unwrap();
    let first = env.sim.complete_now(&n).unwrap();
    assert_eq!(first.status, OrderStatus::Succeeded);
    let second = env.sim.state().orders.last().unwrap().user_req_no.clone();
    let second = env.sim.complete_now(&second).unwrap();
    assert_eq!((second.status, second.error.map(|e| e.code)), (OrderStatus::Failed, Some("110005".into())));
    assert!(env.sim.state().invariant_violations().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn shape_b_and_plain_data_are_configurable() {
    let rx = Receiver::start(&[]).await;
    let env = start_with(|s| {
        s.simulator.webhook_shape = WebhookShape::B;
        s.simulator.webhook_encrypt_data = false;
    })
    .await;
    env.sim.set_webhook_url(Some(rx.url.clone()));
    let gid = env.group("10").await;
    let hook = &rx.wait_for("card_operate", 1).await[0];
    assert!(!hook.encrypted);
    assert_eq!(hook.data["resourceId"], serde_json::json!(gid));
    assert_eq!(hook.data["transactionType"], serde_json::json!(26));
    assert!(hook.data.get("opType").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn synchronous_operation_webhooks_can_be_turned_off() {
    let rx = Receiver::start(&[]).await;
    let env = start_with(|s| s.simulator.sync_operation_webhooks = false).await;
    env.sim.set_webhook_url(Some(rx.url.clone()));
    env.card("1").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(rx.hooks().is_empty());
    assert!(env.sim.state().webhooks.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicate_fault_delivers_each_webhook_several_times() {
    let rx = Receiver::start(&[]).await;
    let env = start().await;
    env.sim.set_webhook_url(Some(rx.url.clone()));
    env.sim.inject_webhook(WebhookFault { kind: WebhookFaultKind::Duplicate { copies: 3 }, times: 1 });
    env.card("1").await;
    env.card("1").await;
    rx.wait_for("card_operate", 4).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let hooks = rx.hooks();
    assert_eq!(hooks.len(), 4, "the fault was armed for one webhook");
    let first = card_operate(&hooks[0]).order_id;
    assert_eq!(hooks.iter().filter(|h| card_operate(h).order_id == first).count(), 3);
    let log = env.sim.state().webhooks;
    assert_eq!((log[0].copies, log[0].acknowledged), (3, 3));
}

#[tokio::test(flavor = "multi_thread")]
async fn out_of_order_fault_swaps_two_consecutive_webhooks() {
    let rx = Receiver::start(&[]).await;
    let env = start().await;
    env.sim.set_webhook_url(Some(rx.url.clone()));
    env.sim.inject_webhook(WebhookFault { kind: WebhookFaultKind::OutOfOrder { hold_ms: 2000 }, times: 1 });
    let first = env.apply("1");
    env.client.card_apply(&first).await.unwrap();
    let second = env.apply("1");
    env.client.card_apply(&second).await.unwrap();
    let hooks = rx.wait_for("card_operate", 2).await;
    assert_eq!(card_operate(&hooks[0]).user_req_no, second.user_req_no);
    assert_eq!(card_operate(&hooks[1]).user_req_no, first.user_req_no);
}

#[tokio::test(flavor = "multi_thread")]
async fn webhooks_without_a_url_are_retried_until_one_is_set() {
    let rx = Receiver::start(&[]).await;
    let env = start_with(|s| s.simulator.webhook_retry_ms = vec![50, 100]).await;
    env.card("1").await;
    let tried = env
        .sim
        .wait_until(Duration::from_secs(2), |s| {
            s.webhooks.first().is_some_and(|w| w.last_error.as_deref() == Some("no webhook url configured"))
        })
        .await;
    assert!(tried);
    env.sim.set_webhook_url(Some(rx.url.clone()));
    rx.wait_for("card_operate", 1).await;
}
