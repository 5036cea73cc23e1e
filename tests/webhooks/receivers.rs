//! A capturing HTTP receiver (verifies Standard Webhooks signatures, can fail, answer 410 or be slow)
//! and a Server-Sent Events reader.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use card_gateway::webhooks::signing;
use parking_lot::Mutex;
use serde_json::Value;

use crate::helpers::{TestApp, wait_for};

/// One POST a receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: i64,
    pub signature: String,
    pub body: Vec<u8>,
    pub answered: u16,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    pub fn verifies(&self, secret: &str) -> bool {
        signing::verify(
            secret,
            &self.id,
            self.timestamp,
            &self.body,
            &self.signature,
            chrono::Utc::now().timestamp(),
            300,
        )
    }
}

/// How a receiver answers.
#[derive(Debug, Clone, Copy)]
pub enum Behaviour {
    Ok,
    /// 500 for the first n requests, then 200.
    FailFirst(usize),
    /// Always 410 Gone.
    Gone,
    /// Sleeps this long before answering 200.
    Slow(Duration),
    /// The first n requests sleep this long (the sender gives up), then 200 at once.
    SlowFirst(usize, Duration),
}

struct RxState {
    got: Mutex<Vec<Received>>,
    behaviour: Behaviour,
    seen: Mutex<usize>,
}

/// A capturing HTTP receiver on 127.0.0.1:0.
pub struct Receiver {
    pub url: String,
    state: Arc<RxState>,
    handle: actix_web::dev::ServerHandle,
}

async fn receive(req: HttpRequest, body: web::Bytes, st: web::Data<RxState>) -> HttpResponse {
    let h = |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let n = {
        let mut seen = st.seen.lock();
        *seen += 1;
        *seen
    };
    let answered = match st.behaviour {
        Behaviour::Ok => 200,
        Behaviour::FailFirst(k) if n <= k => 500,
        Behaviour::FailFirst(_) => 200,
        Behaviour::Gone => 410,
        Behaviour::Slow(d) => {
            tokio::time::sleep(d).await;
            200
        }
        Behaviour::SlowFirst(k, d) if n <= k => {
            tokio::time::sleep(d).await;
            200
        }
        Behaviour::SlowFirst(..) => 200,
    };
    st.got.lock().push(Received {
        id: h("webhook-id"),
        timestamp: h("webhook-timestamp").parse().unwrap_or(0),
        signature: h("webhook-signature"),
        body: body.to_vec(),
        answered,
    });
    HttpResponse::build(actix_web::http::StatusCode::from_u16(answered).unwrap()).finish()
}

impl Receiver {
    pub async fn start(behaviour: Behaviour) -> Self {
        let state = Arc::new(RxState { got: Mutex::new(Vec::new()), behaviour, seen: Mutex::new(0) });
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || App::new().app_data(data.clone()).default_service(web::to(receive)))
            .workers(2)
            .bind("127.0.0.1:0")
            .unwrap();
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { url: format!("http://127.0.0.1:{port}/hook"), state, handle }
    }

    /// Requests that arrived (including those still being answered).
    pub fn state_seen(&self) -> usize {
        *self.state.seen.lock()
    }

    pub fn got(&self) -> Vec<Received> {
        self.state.got.lock().clone()
    }

    /// Requests answered 2xx.
    pub fn delivered(&self) -> Vec<Received> {
        self.got().into_iter().filter(|r| (200..300).contains(&r.answered)).collect()
    }

    pub async fn wait_delivered(&self, n: usize) -> Vec<Received> {
        wait_for(Duration::from_secs(15), || async { Some(self.delivered()).filter(|d| d.len() >= n) })
            .await
            .unwrap_or_else(|| panic!("receiver got {} of {n} deliveries", self.delivered().len()))
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

/// Reads Server-Sent Events frames.
pub struct SseReader {
    resp: reqwest::Response,
    buf: String,
}

#[derive(Debug, Clone)]
pub struct Frame {
    pub id: String,
    pub event: String,
    pub data: Value,
}

impl SseReader {
    pub async fn open(app: &TestApp, token: &str, last_event_id: Option<&str>) -> Self {
        let mut rb = app.http.get(format!("{}/v1/events/stream", app.base)).bearer_auth(token);
        if let Some(l) = last_event_id {
            rb = rb.header("Last-Event-ID", l);
        }
        let resp = rb.send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
        Self { resp, buf: String::new() }
    }

    /// The next event frame (comments skipped), within `limit`.
    pub async fn next(&mut self, limit: Duration) -> Option<Frame> {
        let until = Instant::now() + limit;
        loop {
            while let Some(i) = self.buf.find("\n\n") {
                let raw: String = self.buf.drain(..i + 2).collect();
                let (mut id, mut event, mut data) = (String::new(), String::new(), String::new());
                for line in raw.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        id = v.to_owned();
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        event = v.to_owned();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push_str(v);
                    }
                }
                if !data.is_empty() {
                    return Some(Frame { id, event, data: serde_json::from_str(&data).unwrap() });
                }
            }
            let left = until.checked_duration_since(Instant::now())?;
            match tokio::time::timeout(left, self.resp.chunk()).await {
                Ok(Ok(Some(bytes))) => self.buf.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }
}
