//! Starting and stopping a simulator, and the in-process handle tests drive it with.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use actix_web::{App, HttpServer, dev::ServerHandle, web};
use rust_decimal::Decimal;

use super::{
    config::SimulatorConfig,
    control,
    core::Sim,
    envelope_io,
    errors::SimError,
    faults::{ArmedFaults, Fault, WebhookFault},
    simulations::{AmountSpec, AuthorizationSpec, IssuedCode, OtpSpec, PaymentSpec},
    state::{Deposit, Order, SimSnapshot},
};
use crate::upstream::{Operation, wire::card::TransactionRecord};

/// A running simulator. Dropping it stops the server without waiting; prefer [`SimHandle::shutdown`].
pub struct SimHandle {
    sim: Arc<Sim>,
    server: ServerHandle,
    addr: SocketAddr,
    join: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// Starts a simulator on `listen` (`127.0.0.1:0` picks a free port). Must run inside a multi-thread
/// tokio runtime; the HTTP workers get their own threads, background work runs on this runtime.
pub async fn spawn(cfg: SimulatorConfig, listen: &str) -> std::io::Result<SimHandle> {
    let sim = Sim::start(Arc::new(cfg), tokio::runtime::Handle::current());
    let data = web::Data::from(sim.clone());
    let max_body = sim.cfg.sim.max_body_bytes;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(max_body))
            .service(control::scope())
            .default_service(web::to(envelope_io::handle))
    })
    .workers(sim.cfg.sim.workers.max(1))
    .disable_signals()
    .shutdown_timeout(2)
    .bind(listen);
    let server = match server {
        Ok(s) => s,
        Err(e) => {
            sim.stop_background();
            return Err(e);
        }
    };
    let Some(addr) = server.addrs().first().copied() else {
        sim.stop_background();
        return Err(std::io::Error::other("simulator bound no address"));
    };
    let server = server.run();
    let handle = server.handle();
    let join = tokio::spawn(server);
    tracing::info!(listen = %addr, "merchant simulator listening");
    Ok(SimHandle { sim, server: handle, addr, join: Some(join) })
}

impl SimHandle {
    /// `http://IP:PORT`, the base URL for `MerchantClient::new`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn config(&self) -> &SimulatorConfig {
        &self.sim.cfg
    }

    /// Where webhooks go from now on (`None` = nowhere; attempts fail and are retried).
    pub fn set_webhook_url(&self, url: Option<String>) {
        self.sim.webhooks.set_url(url);
    }

    pub fn webhook_url(&self) -> Option<String> {
        self.sim.webhooks.url()
    }

    /// Requests received for `op` (faulted ones included).
    pub fn calls(&self, op: Operation) -> u64 {
        self.sim.calls(op)
    }

    /// The most recent platform requests' origin headers (trace context, request id, User-Agent).
    pub fn seen_requests(&self) -> Vec<super::core::SeenRequest> {
        self.sim.seen()
    }

    /// Requests for `op` that repeated an earlier `userReqNo`/`serialNumber`.
    pub fn repeats(&self, op: Operation) -> u64 {
        self.sim.repeats(op)
    }

    pub fn inject(&self, op: Operation, fault: Fault) {
        self.sim.faults.inject(op, fault);
    }

    pub fn inject_webhook(&self, fault: WebhookFault) {
        self.sim.faults.inject_webhook(fault);
    }

    /// Clears operation and webhook faults.
    pub fn clear_faults(&self) {
        self.sim.faults.clear();
    }

    pub fn armed_faults(&self) -> ArmedFaults {
        self.sim.faults.armed()
    }

    /// A copy of the whole state, including the webhook delivery log.
    pub fn state(&self) -> SimSnapshot {
        self.sim.snapshot()
    }

    /// Polls the state every 10 ms until `check` holds; false after `timeout`.
    pub async fn wait_until(&self, timeout: Duration, check: impl Fn(&SimSnapshot) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if check(&self.state()) {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub fn authorize(&self, card_id: &str, spec: &AuthorizationSpec) -> Result<TransactionRecord, SimError> {
        self.sim.authorize(card_id, spec)
    }

    pub fn settle(&self, record_no: &str, amount: Option<Decimal>) -> Result<TransactionRecord, SimError> {
        self.sim.settle(record_no, &AmountSpec { amount })
    }

    pub fn reverse(&self, record_no: &str) -> Result<TransactionRecord, SimError> {
        self.sim.reverse(record_no)
    }

    pub fn refund_transaction(&self, record_no: &str, amount: Option<Decimal>) -> Result<TransactionRecord, SimError> {
        self.sim.refund_transaction(record_no, &AmountSpec { amount })
    }

    pub fn send_3ds_otp(&self, card_id: &str, spec: &OtpSpec) -> Result<IssuedCode, SimError> {
        self.sim.send_3ds_otp(card_id, spec)
    }

    pub fn issue_activation_code(&self, card_id: &str) -> Result<IssuedCode, SimError> {
        self.sim.issue_activation_code(card_id)
    }

    pub fn set_activation_result(&self, card_id: &str, success: bool) -> Result<(), SimError> {
        self.sim.set_activation_result(card_id, success)
    }

    pub fn pay_deposit(&self, order_no: &str, spec: &PaymentSpec) -> Result<Deposit, SimError> {
        self.sim.pay_deposit(order_no, spec)
    }

    /// The card a transaction (by record number) belongs to, without copying the whole state.
    pub fn transaction_card(&self, record_no: &str) -> Option<String> {
        self.sim.state.lock().transactions.get(record_no).map(|t| t.card_id.clone())
    }

    /// Completes an asynchronous order now instead of after `async_delay_ms`.
    pub fn complete_now(&self, user_req_no: &str) -> Result<Order, SimError> {
        self.sim.complete_now(user_req_no)
    }

    /// Fails an asynchronous order now with the platform error `code`/`message`.
    pub fn fail_now(&self, user_req_no: &str, code: &str, message: &str) -> Result<Order, SimError> {
        self.sim.fail_now(user_req_no, SimError::new(code, message))
    }

    /// Stops the server (in-flight requests get up to 2 s) and all background work.
    pub async fn shutdown(mut self) {
        self.sim.stop_background();
        self.server.stop(true).await;
        if let Some(join) = self.join.take() {
            let _ = join.await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if self.join.is_some() {
            self.sim.stop_background();
            // The stop command is sent eagerly; nobody needs to await it here.
            drop(self.server.stop(false));
        }
    }
}
