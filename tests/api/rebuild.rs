//! Ownership rebuilt from the platform's order history alone (request numbers carry the tenant).

use card_gateway::tenancy::{
    ObjectKind, OwnershipStore, TenantId, memory::MemoryOwnershipStore, rebuild::rebuild_ownership,
};
use serde_json::json;

use crate::common::spawn_app;

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_ownership_store_is_rebuilt_from_the_platforms_order_history() {
    let app = spawn_app().await;
    let (a, b) = (app.admin("tenant-a"), app.admin("tenant-b"));
    let a_card = app.create_card(&a, "3.00").await;
    let a_group = app.create_group(&a, "9.00").await;
    let b_card = app.create_card(&b, "4.00").await;
    let r = app.post(&format!("/v1/cards/{b_card}/recharges"), &b, json!({"amount": "1.00"})).await;
    assert!(r.status.is_success(), "{}", r.text);
    let holder = app.create_cardholder(&a).await;
    let kit = format!("KIT{}", crate::common::rand_digits(6));
    let physical = app
        .post("/v1/physical-cards", &a, json!({"cardholder_id": holder, "kit_number": kit, "currency": "USD"}))
        .await;
    let physical_id = physical.json["id"].as_str().unwrap().to_owned();

    let st = &app.state;
    let fresh = MemoryOwnershipStore::new();
    let dry = rebuild_ownership(&st.upstream, &fresh, &st.req_nos, st.codes(), &st.clock, true).await.unwrap();
    assert_eq!(fresh.owner_of(ObjectKind::Card, &a_card).await.unwrap(), None, "a dry run writes nothing");
    assert!(dry.conflicts.is_empty());

    let report = rebuild_ownership(&st.upstream, &fresh, &st.req_nos, st.codes(), &st.clock, false).await.unwrap();
    let ta = TenantId::parse("tenant-a").unwrap();
    let tb = TenantId::parse("tenant-b").unwrap();
    assert_eq!(fresh.owner_of(ObjectKind::Card, &a_card).await.unwrap(), Some(ta.clone()));
    assert_eq!(fresh.owner_of(ObjectKind::CardGroup, &a_group).await.unwrap(), Some(ta));
    assert_eq!(fresh.owner_of(ObjectKind::Card, &b_card).await.unwrap(), Some(tb));
    assert!(report.conflicts.is_empty(), "{report:?}");
    assert_eq!(report.foreign_orders, 0);
    // Assigned (not ordered) physical cards are reported for an operator, never guessed.
    assert!(report.unexplained_cards.contains(&physical_id), "{report:?}");
    // Running it again changes nothing.
    let again = rebuild_ownership(&st.upstream, &fresh, &st.req_nos, st.codes(), &st.clock, false).await.unwrap();
    assert!(again.conflicts.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_order_numbered_like_ours_without_a_valid_tag_is_reported_never_claimed() {
    let app = spawn_app().await;
    let a = app.admin("tenant-a");
    let genuine = app.create_card(&a, "3.00").await;
    // Another client of the same merchant account sends an order in our format, naming tenant-a.
    let prefix = &app.settings.tenancy.user_req_no_prefix;
    let forged_no = format!("{prefix}_tenant-a_{}", "0123456789abcdef".repeat(2));
    // The platform's own date (its time zone), as every route computes it.
    let today = app.state.clock.today();
    let (start, end) =
        (app.state.clock.format_date(today), app.state.clock.format_date(today + chrono::Days::new(700)));
    let wire: card_gateway::upstream::wire::card::CardApplyRequest = serde_json::from_value(json!({
        "userReqNo": forged_no, "localCurrency": "USD", "startDate": start, "endDate": end,
        "authLimitAmount": 2, "binRangeId": "222929", "channelType": 1, "enableCurrencyCheck": 0, "enableMultiUse": 1
    }))
    .unwrap();
    let reply = app.state.upstream.card_apply(&wire).await.unwrap();
    // Settled at once whether the simulator answered synchronously or not.
    let done = app.sim.complete_now(&forged_no);
    let from_reply = reply.result.as_ref().and_then(|r| r.card_id.clone());
    let forged_card = from_reply.or_else(|| done.as_ref().ok().and_then(|o| o.card_id.clone()));
    let forged_card = forged_card.unwrap_or_else(|| panic!("no card: {:?} / {done:?}", reply.result));

    let st = &app.state;
    let fresh = MemoryOwnershipStore::new();
    let report = rebuild_ownership(&st.upstream, &fresh, &st.req_nos, st.codes(), &st.clock, false).await.unwrap();
    let ta = TenantId::parse("tenant-a").unwrap();
    assert_eq!(fresh.owner_of(ObjectKind::Card, &genuine).await.unwrap(), Some(ta), "{report:?}");
    assert_eq!(fresh.owner_of(ObjectKind::Card, &forged_card).await.unwrap(), None, "{report:?}");
    assert_eq!(report.unverified_orders, 1, "{report:?}");
    assert!(report.unverified.iter().any(|u| u.contains(&forged_no)), "{report:?}");
    assert!(report.unexplained_cards.contains(&forged_card), "{report:?}");
    assert_eq!(report.foreign_orders, 0);
}
