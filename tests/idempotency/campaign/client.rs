//! A client that does what a careful integrator does: sends a logical operation with its
//! Idempotency-Key, and on anything not final (a dropped connection, 409 in flight, 429, 502–504,
//! 202 unknown) waits as told and sends it again — until it gets a final answer.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use rand::{Rng, SeedableRng, rngs::StdRng};
use reqwest::StatusCode;
use serde_json::Value;

use super::{plan::Logical, world::World};

/// A final answer, as the client understands it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Told {
    Succeeded,
    Failed {
        status: u16,
        code: String,
    },
    /// 202 `unknown` with `upstream_outcome_unconfirmable`: final, for reconciliation.
    Unconfirmable,
}

enum Answer {
    Final(Told),
    Again {
        wait: Duration,
    },
    /// 202 pending: accepted, the platform finishes it later — poll the operation.
    Poll(String),
}

#[derive(Debug, Default)]
pub struct Stats {
    pub attempts: AtomicU64,
    pub aborted: AtomicU64,
    pub duplicated: AtomicU64,
    pub transport_errors: AtomicU64,
    pub statuses: Mutex<BTreeMap<String, u64>>,
    pub violations: Mutex<Vec<String>>,
}

impl Stats {
    fn saw(&self, what: String) {
        *self.statuses.lock().unwrap().entry(what).or_default() += 1;
    }
    pub fn violation(&self, v: String) {
        self.violations.lock().unwrap().push(v);
    }
}

/// The outcome of one logical operation.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub told: Option<Told>,
    pub attempts: u32,
    /// What each attempt was answered, with the time (for a violation's story).
    pub trail: Vec<String>,
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Duration {
    let s = headers.get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    // Honour the server, capped so a test run stays short (the quiet period here is 1 s).
    Duration::from_millis(s.map_or(100, |s| (s * 1000).min(1_000)))
}

fn classify(
    op: &Logical,
    status: StatusCode,
    headers: &reqwest::header::HeaderMap,
    body: &Value,
) -> Result<Answer, String> {
    let code = body["code"].as_str().unwrap_or("").to_owned();
    let again = Answer::Again { wait: retry_after(headers) };
    Ok(match status.as_u16() {
        200 | 201 => match body["status"].as_str() {
            // An operation resource carries `kind`; a created resource (the card) does not.
            _ if body.get("kind").is_none() => Answer::Final(Told::Succeeded),
            Some("succeeded") => Answer::Final(Told::Succeeded),
            other => return Err(format!("{} answered {status} with operation status {other:?}", op.key)),
        },
        202 => match (body["status"].as_str(), body["error"]["code"].as_str()) {
            (Some("unknown"), Some("upstream_outcome_unconfirmable")) => Answer::Final(Told::Unconfirmable),
            (Some("pending"), _) if body["id"].is_string() => {
                Answer::Poll(body["id"].as_str().unwrap_or("").to_owned())
            }
            (Some("unknown"), _) => again,
            other => return Err(format!("{} answered 202 with {other:?}", op.key)),
        },
        409 if code == "idempotency_key_in_flight" => again,
        // 408: the server gave up reading the request (a starved machine); nothing was done.
        408 | 429 | 502 | 503 | 504 => again,
        500 => return Err(format!("{} answered 500: {body}", op.key)),
        s @ 400..=499 => {
            if code == "idempotency_key_reused" || code.ends_with("_not_found") || s == 400 {
                return Err(format!("{} answered {s} {code}: the gateway refused or forgot its own request", op.key));
            }
            Answer::Final(Told::Failed { status: s, code })
        }
        s => return Err(format!("{} answered unexpected status {s}: {body}", op.key)),
    })
}

/// One HTTP attempt; `abort_after` drops the request mid-flight, as a client that gives up.
async fn attempt(world: &World, op: &Logical, stats: &Stats, abort_after: Option<Duration>) -> (Answer, String) {
    let at = chrono::Utc::now().format("%H:%M:%S%.3f").to_string();
    stats.attempts.fetch_add(1, Ordering::Relaxed);
    let app = world.gateway().await;
    let send = app
        .client
        .post(format!("{}{}", app.base, op.path))
        .bearer_auth(&world.token)
        .header("Idempotency-Key", &op.key)
        .header("content-type", "application/json")
        .body(op.body.to_string())
        .send();
    let result = match abort_after {
        Some(after) => match tokio::time::timeout(after, send).await {
            Ok(r) => r,
            Err(_) => {
                stats.aborted.fetch_add(1, Ordering::Relaxed);
                stats.saw("client abort".into());
                return (Answer::Again { wait: Duration::from_millis(20) }, format!("{at} abort"));
            }
        },
        None => send.await,
    };
    let resp = match result {
        Ok(r) => r,
        Err(_) => {
            stats.transport_errors.fetch_add(1, Ordering::Relaxed);
            stats.saw("connection error".into());
            return (Answer::Again { wait: Duration::from_millis(50) }, format!("{at} connection error"));
        }
    };
    let status = resp.status();
    let headers = resp.headers().clone();
    let body: Value = match resp.text().await {
        Ok(b) => serde_json::from_str(&b).unwrap_or(Value::Null),
        Err(_) => {
            stats.saw("body cut".into());
            return (Answer::Again { wait: Duration::from_millis(50) }, format!("{at} body cut"));
        }
    };
    let label = format!("{} {}", status.as_u16(), body["code"].as_str().or(body["status"].as_str()).unwrap_or(""));
    stats.saw(label.clone());
    let label = format!("{at} {label} {}", body["error"]["code"].as_str().unwrap_or(""));
    match classify(op, status, &headers, &body) {
        Ok(a) => (a, label),
        Err(v) => {
            stats.violation(v);
            (Answer::Again { wait: Duration::from_millis(100) }, label)
        }
    }
}

/// Drives `op` to a final answer: chaotic attempts (aborts, concurrent duplicates) while `chaos`
/// is on, plain retries after; gives up at `deadline` (a violation: every key must settle).
pub async fn drive(
    world: Arc<World>,
    op: Logical,
    seed: u64,
    chaos: Arc<AtomicBool>,
    deadline: Instant,
    stats: Arc<Stats>,
) -> Outcome {
    let mut rng = StdRng::seed_from_u64(seed ^ (op.n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut attempts = 0;
    let mut trail = Vec::new();
    while Instant::now() < deadline {
        attempts += 1;
        let answer = if chaos.load(Ordering::Relaxed) && rng.random_bool(0.15) {
            let (a, l) = attempt(&world, &op, &stats, Some(Duration::from_millis(rng.random_range(1..300)))).await;
            trail.push(l);
            a
        } else if chaos.load(Ordering::Relaxed) && rng.random_bool(0.15) {
            // Two copies of the same request at once: at most one may act, both must agree.
            stats.duplicated.fetch_add(1, Ordering::Relaxed);
            let ((a, la), (b, lb)) =
                tokio::join!(attempt(&world, &op, &stats, None), attempt(&world, &op, &stats, None));
            trail.push(format!("[{la} | {lb}]"));
            match (a, b) {
                (Answer::Final(x), Answer::Final(y)) if x != y => {
                    stats.violation(format!("{}: concurrent duplicates were told {x:?} and {y:?}", op.key));
                    Answer::Final(x)
                }
                (Answer::Final(x), _) | (_, Answer::Final(x)) => Answer::Final(x),
                (Answer::Poll(id), _) | (_, Answer::Poll(id)) => Answer::Poll(id),
                (again, _) => again,
            }
        } else {
            let (a, l) = attempt(&world, &op, &stats, None).await;
            trail.push(l);
            a
        };
        match answer {
            Answer::Final(told) => return Outcome { told: Some(told), attempts, trail },
            Answer::Again { wait } => tokio::time::sleep(wait).await,
            Answer::Poll(id) => {
                if let Some(told) = poll(&world, &id, deadline, &mut trail).await {
                    return Outcome { told: Some(told), attempts, trail };
                }
            }
        }
    }
    Outcome { told: None, attempts, trail }
}

/// Polls an accepted operation until it is final (each read asks the platform when needed).
async fn poll(world: &World, id: &str, deadline: Instant, trail: &mut Vec<String>) -> Option<Told> {
    while Instant::now() < deadline {
        let app = world.gateway().await;
        let r = app.client.get(format!("{}/v1/operations/{id}", app.base)).bearer_auth(&world.token).send().await;
        if let Ok(r) = r {
            let status = r.status();
            let body: Value = r.text().await.ok().and_then(|b| serde_json::from_str(&b).ok()).unwrap_or(Value::Null);
            if status == StatusCode::OK {
                match body["status"].as_str() {
                    Some("succeeded") => {
                        trail.push(format!("poll {id}: succeeded"));
                        return Some(Told::Succeeded);
                    }
                    Some("failed") => {
                        let code = body["error"]["code"].as_str().unwrap_or("").to_owned();
                        trail.push(format!("poll {id}: failed {code}"));
                        return Some(Told::Failed {
                            status: body["error"]["status"].as_u64().unwrap_or(0) as u16,
                            code,
                        });
                    }
                    _ => {}
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    None
}

/// After everything settled: the same request once more must replay the same final answer.
pub async fn replay_agrees(world: &World, op: &Logical, told: &Told, stats: &Stats) {
    match attempt(world, op, stats, None).await.0 {
        Answer::Final(again) if &again == told => {}
        // An accepted operation replays its 202; what it became is read from the operation.
        Answer::Poll(id) => {
            let mut trail = Vec::new();
            let now = poll(world, &id, Instant::now() + Duration::from_secs(5), &mut trail).await;
            if now.as_ref() != Some(told) {
                stats.violation(format!("{}: told {told:?}, the operation now says {now:?}", op.key));
            }
        }
        Answer::Final(again) => stats.violation(format!("{}: told {told:?}, then replayed {again:?}", op.key)),
        Answer::Again { .. } => stats.violation(format!("{}: told {told:?}, then the replay was not final", op.key)),
    }
}
