//! #18 application, #19 inquiry, #20 deletion.

use card_gateway::upstream::wire::cardholder::CardholderRef;
use chrono::Datelike;

use crate::support::{assert_business, holder_req, req_no, start, start_with};

#[tokio::test(flavor = "multi_thread")]
async fn cardholder_apply_registers_an_enabled_holder() {
    let env = start().await;
    let r = env.client.cardholder_apply(&holder_req(env.today())).await.unwrap().result.unwrap();
    assert_eq!(r.status.as_deref(), Some("1"));
    // The platform mints short numeric cardholder ids (docs/platform.md §5.18: six digits seen).
    assert_eq!(r.card_user_id.len(), 6, "{}", r.card_user_id);
    assert!(r.card_user_id.bytes().all(|b| b.is_ascii_digit()), "{}", r.card_user_id);
}

#[tokio::test(flavor = "multi_thread")]
async fn cardholder_apply_refuses_minors_duplicates_unknown_countries_and_bad_states() {
    let env = start().await;
    let today = env.today();
    let first = holder_req(today);
    env.client.cardholder_apply(&first).await.unwrap();
    let cases = [
        ("minor", {
            let mut r = holder_req(today);
            r.birth_date = format!("{}-01-01", today.year() - 17);
            r
        }),
        ("duplicate email", {
            let mut r = holder_req(today);
            r.email = first.email.to_uppercase();
            r
        }),
        ("duplicate mobile", {
            let mut r = holder_req(today);
            r.mobile = first.mobile.clone();
            r
        }),
        ("unknown country", {
            let mut r = holder_req(today);
            r.country_code = "XYZ".into();
            r
        }),
        ("US state not two letters", {
            let mut r = holder_req(today);
            r.billing_state = "California".into();
            r
        }),
        ("bad email", {
            let mut r = holder_req(today);
            r.email = "nobody".into();
            r
        }),
        ("missing city", {
            let mut r = holder_req(today);
            r.billing_city = " ".into();
            r
        }),
    ];
    for (what, req) in cases {
        let got = env.client.cardholder_apply(&req).await;
        assert_eq!(got.err().and_then(|e| e.upstream_code().map(str::to_owned)).as_deref(), Some("110001"), "{what}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cardholder_info_returns_the_registration_and_bin_standing() {
    let env = start().await;
    let id = env.holder().await;
    let info = env.client.cardholder_info(&CardholderRef { card_user_id: id, user_req_no: None }).await.unwrap();
    let info = info.result.unwrap();
    assert_eq!(info.country_code.as_deref(), Some("USA"));
    assert!(info.holder_card_bins.iter().any(|b| b.card_bin == "485932"));
}

#[tokio::test(flavor = "multi_thread")]
async fn cardholder_info_of_an_unknown_holder_is_not_found() {
    let env = start().await;
    let r = env.client.cardholder_info(&CardholderRef { card_user_id: "9".into(), user_req_no: None }).await;
    assert_business(r, "120001");
}

#[tokio::test(flavor = "multi_thread")]
async fn cardholder_delete_marks_the_holder_deleted_and_frees_email_and_mobile() {
    let env = start().await;
    let req = holder_req(env.today());
    let id = env.client.cardholder_apply(&req).await.unwrap().result.unwrap().card_user_id;
    let del =
        env.client.cardholder_delete(&CardholderRef { card_user_id: id.clone(), user_req_no: Some(req_no()) }).await;
    assert_eq!(del.unwrap().result.unwrap().status.as_deref(), Some("2"));
    let again = card_gateway::upstream::wire::cardholder::CardholderApplyRequest { user_req_no: req_no(), ..req };
    env.client.cardholder_apply(&again).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn cardholder_delete_with_live_cards_is_refused() {
    let env = start().await;
    let holder = env.holder().await;
    let mut apply = env.apply("5");
    apply.bin_range_id = Some("485932".into());
    apply.card_user_id = Some(holder.clone());
    env.client.card_apply(&apply).await.unwrap();
    let r = env.client.cardholder_delete(&CardholderRef { card_user_id: holder, user_req_no: Some(req_no()) }).await;
    assert_business(r, "110004");
}

#[tokio::test(flavor = "multi_thread")]
async fn asynchronous_cardholder_review_starts_in_process_and_ends_enabled() {
    let env = start_with(|s| s.simulator.async_operations = vec!["cardholder_apply".into()]).await;
    let reply = env.client.cardholder_apply(&holder_req(env.today())).await.unwrap();
    assert!(reply.is_async);
    let r = reply.result.unwrap();
    assert_eq!(r.status.as_deref(), Some("3"));
    let id = r.card_user_id;
    let enabled = env
        .sim
        .wait_until(std::time::Duration::from_secs(2), |s| {
            s.cardholder(&id).is_some_and(|h| h.status == card_gateway::simulator::state::CardholderStatus::Enabled)
        })
        .await;
    assert!(enabled);
}
