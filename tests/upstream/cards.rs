//! #5 scenes, #6 BINs, #7 apply, #8 cancel, #9 recharge, #10 inquiry, #12 refund, #17 modify, #22 paging.

use card_gateway::{
    sensitive::Reveal,
    simulator::{luhn_valid, state::CardStatus},
    upstream::{
        Operation,
        wire::{
            card::{CardCancelRequest, CardInfoRequest, CardModifyRequest, CardPageRequest, RefundRequest},
            common::PageRequest,
        },
    },
};
use chrono::Duration;
use serde_json::json;

use crate::support::{assert_business, dec, req_no, req_no_only, start};

#[tokio::test(flavor = "multi_thread")]
async fn scene_list_offers_the_configured_scenes() {
    let env = start().await;
    let scenes = env.client.scene_list(&req_no_only()).await.unwrap().result.unwrap().into_vec();
    assert!(scenes.iter().any(|s| s.scene_code == "1004"));
}

#[tokio::test(flavor = "multi_thread")]
async fn scene_list_without_user_req_no_is_a_validation_error() {
    let env = start().await;
    assert_business(env.raw(Operation::SceneList, json!({})).await, "110001");
}

#[tokio::test(flavor = "multi_thread")]
async fn card_bin_lists_regular_shared_and_holder_required_bins() {
    let env = start().await;
    let bins = env.client.card_bin(&req_no_only()).await.unwrap().result.unwrap().into_vec();
    let shared = bins.iter().find(|b| b.card_bin == "493193").unwrap();
    assert_eq!(shared.channel_type.as_deref(), Some("2"));
    assert!(bins.iter().any(|b| b.card_bin == "485932" && b.card_user_required == Some(true)));
}

#[tokio::test(flavor = "multi_thread")]
async fn card_bin_with_a_malformed_user_req_no_is_a_validation_error() {
    let env = start().await;
    assert_business(env.raw(Operation::CardBin, json!({"userReqNo": {"nested": true}})).await, "110001");
}

#[tokio::test(flavor = "multi_thread")]
async fn card_apply_issues_an_active_card_with_a_luhn_pan_and_debits_limit_plus_fee() {
    let env = start().await;
    let reply = env.client.card_apply(&env.apply("100.00")).await.unwrap();
    assert!(!reply.is_async);
    let r = reply.result.unwrap();
    let pan = r.card_no.unwrap();
    assert!(pan.expose().starts_with("222929") && luhn_valid(pan.expose()));
    assert_eq!(r.card_verify_no.unwrap().expose().len(), 3);
    let expiry = env.today().checked_add_months(chrono::Months::new(24)).unwrap().format("%Y-%m").to_string();
    assert_eq!(r.card_expiry_date.as_deref(), Some(expiry.as_str()));
    let id = r.card_id.unwrap();
    assert_eq!(id.len(), 19);
    let s = env.sim.state();
    let card = s.card(&id).unwrap();
    assert_eq!((card.status, card.balance), (CardStatus::Active, dec("100.00")));
    assert_eq!(s.balance("USD"), dec("999899.00"));
    assert_eq!(s.ledger.fees["USD"], dec("1.00"));
}

#[tokio::test(flavor = "multi_thread")]
async fn card_apply_refuses_what_a_strict_platform_refuses() {
    let env = start().await;
    let yesterday = env.today() - Duration::days(1);
    let cases = [
        (
            "start date in the past",
            {
                let mut r = env.apply("1");
                r.start_date = env.date(yesterday);
                r
            },
            "110001",
        ),
        (
            "end before start",
            {
                let mut r = env.apply("1");
                r.end_date = env.date(yesterday);
                r
            },
            "110001",
        ),
        (
            "currency differs from BIN",
            {
                let mut r = env.apply("1");
                r.local_currency = "EUR".into();
                r
            },
            "110001",
        ),
        (
            "three decimals",
            {
                let mut r = env.apply("1");
                r.auth_limit_amount = Some(dec("1.005"));
                r
            },
            "110001",
        ),
        (
            "zero limit",
            {
                let mut r = env.apply("0");
                r.auth_limit_amount = Some(dec("0"));
                r
            },
            "110001",
        ),
        (
            "unknown BIN",
            {
                let mut r = env.apply("1");
                r.bin_range_id = Some("999999".into());
                r
            },
            "110001",
        ),
        (
            "shared BIN as regular",
            {
                let mut r = env.apply("1");
                r.bin_range_id = Some("493193".into());
                r
            },
            "110001",
        ),
        (
            "holder required",
            {
                let mut r = env.apply("1");
                r.bin_range_id = Some("485932".into());
                r
            },
            "1200011",
        ),
        ("more than the balance", env.apply("999999.50"), "110005"),
    ];
    for (what, req, code) in cases {
        match env.client.card_apply(&req).await {
            Err(e) => assert_eq!(e.upstream_code(), Some(code), "{what}"),
            Ok(r) => panic!("{what}: accepted {r:?}"),
        }
    }
    assert!(env.sim.state().cards.is_empty(), "refused applications create nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn card_cancel_returns_the_balance_to_the_merchant_account() {
    let env = start().await;
    let id = env.card("50.00").await;
    let before = env.sim.state().balance("USD");
    let ack = env.client.card_cancel(&CardCancelRequest { user_req_no: req_no(), card_id: id.clone() }).await.unwrap();
    assert!(ack.result.unwrap().order_id.is_some());
    let s = env.sim.state();
    assert_eq!(s.balance("USD"), before + dec("50.00"));
    assert_eq!(s.card(&id).unwrap().status, CardStatus::Cancelled);
    assert_eq!(s.card(&id).unwrap().closed_amount, Some(dec("50.00")));
}

#[tokio::test(flavor = "multi_thread")]
async fn card_cancel_twice_is_refused_by_status_and_unknown_cards_are_not_found() {
    let env = start().await;
    let id = env.card("5").await;
    env.client.card_cancel(&CardCancelRequest { user_req_no: req_no(), card_id: id.clone() }).await.unwrap();
    assert_business(env.client.card_cancel(&CardCancelRequest { user_req_no: req_no(), card_id: id }).await, "110004");
    let r = env.client.card_cancel(&CardCancelRequest { user_req_no: req_no(), card_id: "1".repeat(19) }).await;
    assert_business(r, "120001");
}

#[tokio::test(flavor = "multi_thread")]
async fn card_recharge_credits_the_card_and_charges_the_fee_rate() {
    let env = start().await;
    let id = env.card("10.00").await;
    let before = env.sim.state().balance("USD");
    env.recharge(&id, "200.00").await.unwrap();
    let s = env.sim.state();
    assert_eq!(s.card(&id).unwrap().balance, dec("210.00"));
    assert_eq!(s.balance("USD"), before - dec("202.00"));
    assert!(s.invariant_violations().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn card_recharge_of_a_frozen_card_or_beyond_the_balance_is_refused() {
    let env = start().await;
    let id = env.card("10.00").await;
    assert_business(env.recharge(&id, "999980.00").await, "110005");
    let freeze = CardModifyRequest {
        user_req_no: req_no(),
        card_id: id.clone(),
        card_alias: None,
        card_label: None,
        status: Some(0),
        auth_limit_amount: None,
    };
    env.client.card_modify(&freeze).await.unwrap();
    assert_business(env.recharge(&id, "1").await, "110004");
}

#[tokio::test(flavor = "multi_thread")]
async fn card_info_reveals_pan_cvv_status_and_balance() {
    let env = start().await;
    let id = env.card("42.00").await;
    let info = env.client.card_info(&CardInfoRequest { card_id: id.clone() }).await.unwrap().result.unwrap();
    let card = env.sim.state().card(&id).unwrap().clone();
    assert_eq!(info.card_no.unwrap().expose(), card.pan.expose());
    assert_eq!(info.card_verify_no.unwrap().expose(), card.cvv.expose());
    assert_eq!(info.card_status.as_deref(), Some("1"));
    assert_eq!(info.balance_amt, Some(dec("42.00")));
    assert_eq!(info.card_type.as_deref(), Some("1"));
}

#[tokio::test(flavor = "multi_thread")]
async fn card_info_of_an_unknown_card_is_not_found() {
    let env = start().await;
    assert_business(env.client.card_info(&CardInfoRequest { card_id: "42".into() }).await, "120001");
}

#[tokio::test(flavor = "multi_thread")]
async fn card_refund_moves_card_balance_back_to_the_account() {
    let env = start().await;
    let id = env.card("30.00").await;
    let before = env.sim.state().balance("USD");
    let req = RefundRequest {
        user_req_no: req_no(),
        card_id: Some(id.clone()),
        refund_amount: dec("12.50"),
        channel_type: None,
        group_id: None,
    };
    env.client.card_refund(&req).await.unwrap();
    let s = env.sim.state();
    assert_eq!(s.card(&id).unwrap().balance, dec("17.50"));
    assert_eq!(s.balance("USD"), before + dec("12.50"));
}

#[tokio::test(flavor = "multi_thread")]
async fn card_refund_beyond_the_card_balance_is_insufficient_card_balance() {
    let env = start().await;
    let id = env.card("30.00").await;
    let req = RefundRequest {
        user_req_no: req_no(),
        card_id: Some(id),
        refund_amount: dec("30.01"),
        channel_type: None,
        group_id: None,
    };
    assert_business(env.client.card_refund(&req).await, "110006");
}

#[tokio::test(flavor = "multi_thread")]
async fn card_modify_freezes_unfreezes_and_renames() {
    let env = start().await;
    let id = env.card("5").await;
    let modify = |status: Option<i64>, alias: Option<&str>| CardModifyRequest {
        user_req_no: req_no(),
        card_id: id.clone(),
        card_alias: alias.map(str::to_owned),
        card_label: None,
        status,
        auth_limit_amount: None,
    };
    env.client.card_modify(&modify(Some(0), Some("frozen-one"))).await.unwrap();
    let s = env.sim.state();
    assert_eq!(s.card(&id).unwrap().status, CardStatus::Frozen);
    assert_eq!(s.card(&id).unwrap().alias.as_deref(), Some("frozen-one"));
    env.client.card_modify(&modify(Some(1), None)).await.unwrap();
    assert_eq!(env.sim.state().card(&id).unwrap().status, CardStatus::Active);
    assert_business(env.client.card_modify(&modify(Some(1), None)).await, "110004");
}

#[tokio::test(flavor = "multi_thread")]
async fn card_modify_limit_applies_to_sub_cards_only_and_never_below_the_used_amount() {
    let env = start().await;
    let regular = env.card("5").await;
    let limit = |card_id: &str, l: &str| CardModifyRequest {
        user_req_no: req_no(),
        card_id: card_id.into(),
        card_alias: None,
        card_label: None,
        status: None,
        auth_limit_amount: Some(dec(l)),
    };
    assert_business(env.client.card_modify(&limit(&regular, "10")).await, "110001");
    let group = env.group("100").await;
    let sub = env.client.card_apply(&env.sub_apply(&group, "50")).await.unwrap().result.unwrap().card_id.unwrap();
    env.sim
        .authorize(&sub, &card_gateway::simulator::AuthorizationSpec { amount: dec("40"), ..Default::default() })
        .unwrap();
    assert_business(env.client.card_modify(&limit(&sub, "30")).await, "110008");
    env.client.card_modify(&limit(&sub, "45")).await.unwrap();
    assert_eq!(env.sim.state().card(&sub).unwrap().limit, dec("45"));
}

#[tokio::test(flavor = "multi_thread")]
async fn card_page_pages_cards_masked_and_filters_by_status() {
    let env = start().await;
    for _ in 0..3 {
        env.card("1").await;
    }
    let page = |size, status: Option<&str>| CardPageRequest {
        page: PageRequest { current_page: 1, page_size: size },
        card_status: status.map(str::to_owned),
        group_id: None,
    };
    let p = env.client.card_page(&page(2, None)).await.unwrap().result.unwrap();
    assert_eq!((p.total_count, p.list.len()), (Some(3), 2));
    let first = &p.list[0];
    assert!(first.card_no.as_ref().unwrap().expose().contains("******"), "pages show masked numbers");
    assert!(first.card_verify_no.is_none());
    let frozen = env.client.card_page(&page(10, Some("2"))).await.unwrap().result.unwrap();
    assert_eq!(frozen.total_count, Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn card_page_with_an_unknown_status_code_is_a_validation_error() {
    let env = start().await;
    let req = CardPageRequest {
        page: PageRequest { current_page: 1, page_size: 10 },
        card_status: Some("9".into()),
        group_id: None,
    };
    assert_business(env.client.card_page(&req).await, "110001");
}
