//! #13 shared card application, #14 paging, #15 inquiry, #16 status change; sub-cards spend the group.

use card_gateway::{
    simulator::{AuthorizationSpec, state::CardStatus},
    upstream::wire::{
        card::{RechargeRequest, RefundRequest},
        common::PageRequest,
        group::{GroupApplyRequest, GroupInfoRequest, GroupPageRequest, GroupUpdateRequest},
    },
};

use crate::support::{assert_business, dec, req_no, start};

#[tokio::test(flavor = "multi_thread")]
async fn group_apply_loads_the_shared_balance_from_the_account() {
    let env = start().await;
    let before = env.sim.state().balance("USD");
    let gid = env.group("300.00").await;
    let s = env.sim.state();
    assert_eq!(s.group(&gid).unwrap().balance, dec("300.00"));
    assert_eq!(s.balance("USD"), before - dec("300.00"));
}

#[tokio::test(flavor = "multi_thread")]
async fn group_apply_in_a_currency_without_shared_product_is_refused() {
    let env = start().await;
    let req = GroupApplyRequest {
        user_req_no: req_no(),
        local_currency: "EUR".into(),
        auth_limit_amount: dec("1"),
        group_alias: None,
    };
    assert_business(env.client.group_apply(&req).await, "110001");
}

#[tokio::test(flavor = "multi_thread")]
async fn sub_cards_spend_the_group_balance_within_their_own_cap() {
    let env = start().await;
    let gid = env.group("100.00").await;
    let a = env.client.card_apply(&env.sub_apply(&gid, "0")).await.unwrap().result.unwrap().card_id.unwrap();
    let b = env.client.card_apply(&env.sub_apply(&gid, "20")).await.unwrap().result.unwrap().card_id.unwrap();
    let spend = |amount: &str| AuthorizationSpec { amount: dec(amount), ..Default::default() };
    assert_eq!(env.sim.authorize(&a, &spend("70")).unwrap().resp_code.as_deref(), Some("000000"));
    let capped = env.sim.authorize(&b, &spend("25")).unwrap();
    assert_eq!(capped.resp_code.as_deref(), Some("200007"), "over the sub-card cap");
    let short = env.sim.authorize(&a, &spend("31")).unwrap();
    assert_eq!(short.resp_code.as_deref(), Some("200002"), "over the group balance");
    let s = env.sim.state();
    assert_eq!(s.group(&gid).unwrap().balance, dec("30.00"));
    assert_eq!(s.card(&a).unwrap().balance, dec("0"), "sub-cards hold no money of their own");
    assert!(s.invariant_violations().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn group_recharge_and_refund_move_money_between_account_and_group() {
    let env = start().await;
    let gid = env.group("100.00").await;
    let recharge = RechargeRequest {
        user_req_no: req_no(),
        card_id: None,
        auth_limit_amount: dec("50"),
        channel_type: Some(2),
        group_id: Some(gid.clone()),
    };
    env.client.card_recharge(&recharge).await.unwrap();
    let refund = RefundRequest {
        user_req_no: req_no(),
        card_id: None,
        refund_amount: dec("20"),
        channel_type: Some(2),
        group_id: Some(gid.clone()),
    };
    env.client.card_refund(&refund).await.unwrap();
    assert_eq!(env.sim.state().group(&gid).unwrap().balance, dec("130.00"));
    let too_much = RefundRequest { user_req_no: req_no(), refund_amount: dec("130.01"), ..refund };
    assert_business(env.client.card_refund(&too_much).await, "110006");
}

#[tokio::test(flavor = "multi_thread")]
async fn group_page_lists_groups_with_their_balances() {
    let env = start().await;
    env.group("1").await;
    env.group("2").await;
    let req = GroupPageRequest { page: PageRequest { current_page: 1, page_size: 50 }, status: Some("1".into()) };
    let page = env.client.group_page(&req).await.unwrap().result.unwrap();
    assert_eq!(page.total_count, Some(2));
    assert_eq!(page.list[1].balance_amt, Some(dec("2")));
}

#[tokio::test(flavor = "multi_thread")]
async fn group_page_with_page_size_zero_is_a_validation_error() {
    let env = start().await;
    let req = GroupPageRequest { page: PageRequest { current_page: 1, page_size: 0 }, status: None };
    assert_business(env.client.group_page(&req).await, "110001");
}

#[tokio::test(flavor = "multi_thread")]
async fn group_info_shows_status_balance_and_card_count() {
    let env = start().await;
    let gid = env.group("10").await;
    env.client.card_apply(&env.sub_apply(&gid, "0")).await.unwrap();
    let info = env.client.group_info(&GroupInfoRequest { group_id: gid }).await.unwrap().result.unwrap();
    assert_eq!((info.card_count, info.status.as_deref()), (Some(1), Some("1")));
}

#[tokio::test(flavor = "multi_thread")]
async fn group_info_of_an_unknown_group_is_not_found() {
    let env = start().await;
    assert_business(env.client.group_info(&GroupInfoRequest { group_id: "7".into() }).await, "120001");
}

#[tokio::test(flavor = "multi_thread")]
async fn group_update_freezes_then_closes_returning_the_balance_and_cancelling_sub_cards() {
    let env = start().await;
    let gid = env.group("80").await;
    let sub = env.client.card_apply(&env.sub_apply(&gid, "0")).await.unwrap().result.unwrap().card_id.unwrap();
    let update = |status| GroupUpdateRequest { user_req_no: req_no(), group_id: gid.clone(), status };
    env.client.group_update(&update(0)).await.unwrap();
    let frozen = env.sim.authorize(&sub, &AuthorizationSpec { amount: dec("1"), ..Default::default() }).unwrap();
    assert_eq!(frozen.trans_status.as_deref(), Some("2"), "a frozen group declines");
    let before = env.sim.state().balance("USD");
    env.client.group_update(&update(2)).await.unwrap();
    let s = env.sim.state();
    assert_eq!(s.balance("USD"), before + dec("80"));
    assert_eq!(s.card(&sub).unwrap().status, CardStatus::Cancelled);
}

#[tokio::test(flavor = "multi_thread")]
async fn group_update_to_its_current_status_is_refused() {
    let env = start().await;
    let gid = env.group("1").await;
    let r = env.client.group_update(&GroupUpdateRequest { user_req_no: req_no(), group_id: gid, status: 1 }).await;
    assert_business(r, "110004");
}
