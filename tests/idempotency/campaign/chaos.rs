//! The faults: every simulator fault kind, on the money operations and on the reads that settle
//! them (order inquiry, card and group inquiry); Redis frozen and killed; the gateway killed and
//! replaced. Client aborts and concurrent duplicates are the client's part (client.rs).

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use card_gateway::{
    simulator::{Fault, FaultKind, codes},
    upstream::Operation,
};
use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom};

use super::{plan::Kind, world::World};

const SETTLING_READS: [Operation; 3] = [Operation::OrderQuery, Operation::CardInfo, Operation::GroupInfo];

fn fault_kind(rng: &mut StdRng) -> FaultKind {
    match rng.random_range(0..11) {
        0 => FaultKind::Latency { ms: rng.random_range(50..900) },
        1 => FaultKind::Hang,
        2 => FaultKind::HttpStatus { status: *[500u16, 502, 503].choose(rng).unwrap_or(&502) },
        3 => FaultKind::Business { code: "130001".into(), message: "system busy, try again later".into() },
        4 => FaultKind::Business { code: codes::INSUFFICIENT_ACCOUNT.into(), message: "insufficient balance".into() },
        5 => FaultKind::StatusUnknown,
        6 => FaultKind::CommitThenDelay { ms: rng.random_range(300..1_200) },
        7 => FaultKind::GarbledResult,
        8 => FaultKind::WrongKey,
        9 => FaultKind::NonStandard,
        _ => FaultKind::FailAsync { code: codes::STATUS_FORBIDS.into(), message: "card status forbids it".into() },
    }
}

/// Injects faults until `chaos` turns off; returns how many of each it injected.
pub async fn run(world: Arc<World>, seed: u64, chaos: Arc<AtomicBool>) -> BTreeMap<String, u64> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0xC4A0_5EED);
    let mut count: BTreeMap<String, u64> = BTreeMap::new();
    let mut ops: Vec<Operation> = Kind::ALL.iter().map(|k| k.op()).collect();
    ops.dedup();
    let on_redis = world.redis.is_some();
    while chaos.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(rng.random_range(30..200))).await;
        let roll = rng.random_range(0..100);
        if roll < 70 || !on_redis {
            let op = if rng.random_bool(0.3) {
                *SETTLING_READS.choose(&mut rng).unwrap_or(&Operation::OrderQuery)
            } else {
                *ops.choose(&mut rng).unwrap_or(&Operation::CardRecharge)
            };
            let kind = fault_kind(&mut rng);
            *count.entry(format!("sim {} on {}", kind.name(), op.name())).or_default() += 1;
            world.sim.inject(op, Fault::times(kind, rng.random_range(1..=2)));
        } else if roll < 85 {
            let ms = rng.random_range(100..900);
            *count.entry("redis paused".into()).or_default() += 1;
            if let Some(r) = &world.redis {
                r.lock().unwrap().pause();
            }
            tokio::time::sleep(Duration::from_millis(ms)).await;
            if let Some(r) = &world.redis {
                r.lock().unwrap().resume();
            }
        } else if roll < 93 {
            *count.entry("redis killed and restarted".into()).or_default() += 1;
            let w = world.clone();
            let _ = tokio::task::spawn_blocking(move || {
                if let Some(r) = &w.redis {
                    r.lock().unwrap().restart();
                }
            })
            .await;
        } else {
            *count.entry("gateway killed and replaced".into()).or_default() += 1;
            world.restart_gateway().await;
        }
    }
    world.sim.clear_faults();
    if let Some(r) = &world.redis {
        r.lock().unwrap().resume();
    }
    count
}
