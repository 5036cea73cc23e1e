//! #11 Transaction Inquiry, #21 Card Operation Order Inquiry, and idempotency by `userReqNo`.

use card_gateway::{
    simulator::AuthorizationSpec,
    upstream::wire::{
        card::{CardCancelRequest, TransactionQueryRequest},
        common::PageRequest,
        order::OrderQueryRequest,
    },
};

use crate::support::{assert_business, dec, req_no, start};

fn page(size: i64) -> PageRequest {
    PageRequest { current_page: 1, page_size: size }
}

fn order_query(user_req_no: Option<String>) -> OrderQueryRequest {
    OrderQueryRequest::page(1, 50, user_req_no)
}

#[tokio::test(flavor = "multi_thread")]
async fn transaction_query_lists_the_card_transactions_in_order() {
    let env = start().await;
    let card = env.card("100").await;
    let other = env.card("100").await;
    let a = env.sim.authorize(&card, &AuthorizationSpec { amount: dec("10"), ..Default::default() }).unwrap();
    env.sim.authorize(&other, &AuthorizationSpec { amount: dec("1"), ..Default::default() }).unwrap();
    env.sim.reverse(&a.record_no).unwrap();
    let req = TransactionQueryRequest {
        page: page(10),
        card_id: Some(card.clone()),
        card_type: Some("1".into()),
        begin_time: None,
        end_time: None,
    };
    let p = env.client.transaction_query(&req).await.unwrap().result.unwrap();
    assert_eq!(p.total_count, Some(2));
    assert_eq!(p.list[0].record_no, a.record_no);
    assert_eq!(p.list[1].origin_record_no.as_deref(), Some(a.record_no.as_str()));
    assert_eq!(p.list[1].trans_type.as_deref(), Some("2"));
    let tomorrow = env.date(env.today() + chrono::Duration::days(1));
    let later = TransactionQueryRequest { begin_time: Some(tomorrow), card_id: None, card_type: None, ..req };
    assert_eq!(env.client.transaction_query(&later).await.unwrap().result.unwrap().total_count, Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn transaction_query_refuses_big_pages_and_unknown_cards() {
    let env = start().await;
    let mut req =
        TransactionQueryRequest { page: page(51), card_id: None, card_type: None, begin_time: None, end_time: None };
    assert_business(env.client.transaction_query(&req).await, "110001");
    req.page = page(10);
    req.card_id = Some("123".into());
    assert_business(env.client.transaction_query(&req).await, "120001");
}

#[tokio::test(flavor = "multi_thread")]
async fn order_query_finds_an_order_by_user_req_no_with_configured_codes() {
    let env = start().await;
    let apply = env.apply("25");
    let card = env.client.card_apply(&apply).await.unwrap().result.unwrap();
    let p = env.client.order_query(&order_query(Some(apply.user_req_no.clone()))).await.unwrap().result.unwrap();
    assert_eq!(p.list.len(), 1);
    let o = &p.list[0];
    assert_eq!(Some(&o.order_id), card.order_id.as_ref());
    assert_eq!((o.op_type.as_str(), o.status.as_str()), ("15", "2"));
    assert_eq!((o.amount, o.fee), (Some(dec("25")), Some(dec("1.00"))));
    assert_eq!(o.card_id, card.card_id);
}

#[tokio::test(flavor = "multi_thread")]
async fn order_query_for_an_unknown_user_req_no_is_an_empty_page() {
    let env = start().await;
    let p = env.client.order_query(&order_query(Some(req_no()))).await.unwrap().result.unwrap();
    assert_eq!((p.total_count, p.list.len()), (Some(0), 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn order_query_filters_by_card_op_type_status_and_date_and_pages() {
    let env = start().await;
    let card = env.card("10").await;
    env.recharge(&card, "5").await.unwrap();
    env.recharge(&card, "6").await.unwrap();
    env.card("10").await;
    let mut q = order_query(None);
    q.card_id = Some(card.clone());
    q.op_type = Some("16".into());
    q.status = Some("2".into());
    let today = env.date(env.today());
    q.begin_time = Some(today.clone());
    q.end_time = Some(today);
    q.page = PageRequest { current_page: 2, page_size: 1 };
    let p = env.client.order_query(&q).await.unwrap().result.unwrap();
    assert_eq!((p.total_count, p.list.len()), (Some(2), 1));
    assert_eq!(p.list[0].amount, Some(dec("6")));
}

#[tokio::test(flavor = "multi_thread")]
async fn order_query_with_page_size_over_50_is_a_validation_error() {
    let env = start().await;
    let mut q = order_query(None);
    q.page = page(100);
    assert_business(env.client.order_query(&q).await, "110001");
}

#[tokio::test(flavor = "multi_thread")]
async fn repeated_user_req_no_returns_the_first_answer_and_creates_one_order() {
    let env = start().await;
    let apply = env.apply("10");
    let first = env.client.card_apply(&apply).await.unwrap().result.unwrap();
    let second = env.client.card_apply(&apply).await.unwrap().result.unwrap();
    assert_eq!(first, second);
    let s = env.sim.state();
    assert_eq!(s.orders_with(&apply.user_req_no), 1);
    assert_eq!(s.cards.len(), 1);
    assert_eq!(s.balance("USD"), dec("999989.00"), "charged once");
}

#[tokio::test(flavor = "multi_thread")]
async fn repeated_user_req_no_under_another_operation_is_a_validation_error() {
    let env = start().await;
    let apply = env.apply("10");
    let card = env.client.card_apply(&apply).await.unwrap().result.unwrap().card_id.unwrap();
    let cancel = CardCancelRequest { user_req_no: apply.user_req_no, card_id: card };
    assert_business(env.client.card_cancel(&cancel).await, "110001");
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_requests_with_one_user_req_no_create_exactly_one_order() {
    let env = start().await;
    let apply = env.apply("10");
    let answers = futures_util::future::join_all((0..6).map(|_| env.client.card_apply(&apply))).await;
    let ids: std::collections::BTreeSet<_> = answers.into_iter().map(|a| a.unwrap().result.unwrap().card_id).collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(env.sim.state().orders_with(&apply.user_req_no), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repeat_of_a_refused_request_answers_the_same_refusal_and_creates_no_order() {
    let env = start().await;
    let card = env.card("10").await;
    let refund = card_gateway::upstream::wire::card::RefundRequest {
        user_req_no: req_no(),
        card_id: Some(card.clone()),
        refund_amount: dec("20"),
        channel_type: None,
        group_id: None,
    };
    assert_business(env.client.card_refund(&refund).await, "110006");
    env.recharge(&card, "10").await.unwrap();
    // The balance would now allow it, but a repeat answers as the first request was answered.
    assert_business(env.client.card_refund(&refund).await, "110006");
    assert_eq!(env.sim.state().orders_with(&refund.user_req_no), 0);
    assert_eq!(env.sim.repeats(card_gateway::upstream::Operation::CardRefund), 1);
}
