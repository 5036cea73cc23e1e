//! Every injected fault surfaces as the right typed client error, and commits (or not) as specified.

use std::time::{Duration, Instant};

use card_gateway::{
    envelope::EnvelopeError,
    simulator::{Fault, FaultKind},
    upstream::{Operation, UpstreamError, UpstreamErrorKind as K, wire::common::ReqNoOnly},
};

use crate::support::{Env, dec, req_no, start};

/// Applies a $10 card with `fault` armed; answers the client's result and the request number.
async fn apply_with(env: &Env, fault: FaultKind, timeout_ms: Option<u64>) -> (Result<(), UpstreamError>, String) {
    env.sim.inject(Operation::CardApply, Fault::once(fault));
    let req = env.apply("10");
    let client = match timeout_ms {
        Some(ms) => env.client_with_timeout(ms),
        None => env.client.clone(),
    };
    (client.card_apply(&req).await.map(|_| ()), req.user_req_no)
}

fn committed(env: &Env, req_no: &str) -> bool {
    env.sim.state().order(req_no).is_some()
}

#[tokio::test(flavor = "multi_thread")]
async fn latency_delays_the_answer_but_it_still_succeeds() {
    let env = start().await;
    let started = Instant::now();
    let (r, n) = apply_with(&env, FaultKind::Latency { ms: 150 }, None).await;
    r.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert!(committed(&env, &n));
}

#[tokio::test(flavor = "multi_thread")]
async fn hang_times_out_as_sent_and_commits_nothing() {
    let env = start().await;
    let (r, n) = apply_with(&env, FaultKind::Hang, Some(250)).await;
    assert_eq!(r.unwrap_err().kind, K::Timeout { sent: true });
    assert!(!committed(&env, &n));
    env.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn http_5xx_surfaces_as_http_status_and_commits_nothing() {
    let env = start().await;
    let (r, n) = apply_with(&env, FaultKind::HttpStatus { status: 503 }, None).await;
    assert_eq!(r.unwrap_err().kind, K::HttpStatus(503));
    assert!(!committed(&env, &n));
}

#[tokio::test(flavor = "multi_thread")]
async fn business_fault_surfaces_its_code_and_message() {
    let env = start().await;
    let fault = FaultKind::Business { code: "130001".into(), message: "busy".into() };
    let (r, n) = apply_with(&env, fault, None).await;
    assert_eq!(r.unwrap_err().kind, K::RetryLater { code: "130001".into(), message: "busy".into() });
    assert!(!committed(&env, &n));
}

#[tokio::test(flavor = "multi_thread")]
async fn status_unknown_commits_and_a_resend_returns_the_committed_order() {
    let env = start().await;
    env.sim.inject(Operation::CardApply, Fault::once(FaultKind::StatusUnknown));
    let req = env.apply("10");
    let err = env.client.card_apply(&req).await.unwrap_err();
    assert!(matches!(err.kind, K::StatusUnknown { ref code, .. } if code == "140001"), "{err:?}");
    assert_eq!(err.applied(), card_gateway::upstream::Applied::Unknown);
    let card = env.client.card_apply(&req).await.unwrap().result.unwrap().card_id.unwrap();
    let s = env.sim.state();
    assert_eq!(s.orders_with(&req.user_req_no), 1);
    assert_eq!(s.order(&req.user_req_no).unwrap().card_id.as_deref(), Some(card.as_str()));
}

#[tokio::test(flavor = "multi_thread")]
async fn commit_then_delay_times_out_after_the_upstream_committed() {
    let env = start().await;
    let (r, n) = apply_with(&env, FaultKind::CommitThenDelay { ms: 600 }, Some(200)).await;
    assert_eq!(r.unwrap_err().kind, K::Timeout { sent: true });
    assert!(committed(&env, &n));
}

#[tokio::test(flavor = "multi_thread")]
async fn garbled_result_is_an_envelope_error_after_commit() {
    let env = start().await;
    let (r, n) = apply_with(&env, FaultKind::GarbledResult, None).await;
    assert!(matches!(r.unwrap_err().kind, K::Envelope(EnvelopeError::Padding { .. })));
    assert!(committed(&env, &n));
}

#[tokio::test(flavor = "multi_thread")]
async fn result_sealed_with_the_wrong_key_is_an_envelope_error_after_commit() {
    let env = start().await;
    let (r, n) = apply_with(&env, FaultKind::WrongKey, None).await;
    assert!(matches!(r.unwrap_err().kind, K::Envelope(EnvelopeError::Padding { index: 0 })));
    assert!(committed(&env, &n));
}

#[tokio::test(flavor = "multi_thread")]
async fn non_standard_body_surfaces_as_non_standard() {
    let env = start().await;
    let (r, n) = apply_with(&env, FaultKind::NonStandard, None).await;
    assert_eq!(r.unwrap_err().kind, K::NonStandard { status_code: Some(500) });
    assert!(!committed(&env, &n));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fault_lasts_its_count_and_zero_means_until_cleared() {
    let env = start().await;
    let bins = || async { env.client.card_bin(&ReqNoOnly { user_req_no: req_no() }).await };
    env.sim.inject(Operation::CardBin, Fault::times(FaultKind::HttpStatus { status: 502 }, 2));
    assert!(bins().await.is_err());
    assert!(bins().await.is_err());
    bins().await.unwrap();
    env.sim.inject(Operation::CardBin, Fault::always(FaultKind::NonStandard));
    for _ in 0..3 {
        assert!(bins().await.is_err());
    }
    env.sim.clear_faults();
    bins().await.unwrap();
    assert_eq!(env.sim.calls(Operation::CardBin), 7, "faulted requests are counted too");
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_apply_only_to_their_operation() {
    let env = start().await;
    env.sim.inject(Operation::CardRecharge, Fault::once(FaultKind::NonStandard));
    let card = env.card("1").await;
    assert!(env.recharge(&card, "1").await.is_err());
    env.recharge(&card, "1").await.unwrap();
    assert_eq!(env.sim.state().card(&card).unwrap().balance, dec("2"));
}

#[tokio::test(flavor = "multi_thread")]
async fn fail_async_on_a_synchronous_operation_refuses_like_a_business_error() {
    let env = start().await;
    let fault = FaultKind::FailAsync { code: "110003".into(), message: "fee rules".into() };
    let (r, n) = apply_with(&env, fault, None).await;
    assert_eq!(r.unwrap_err().upstream_code(), Some("110003"));
    assert!(!committed(&env, &n));
}
