//! The fault campaign (issue 8): logical money operations of every kind, each retried with its
//! own Idempotency-Key until it gets a final answer, while the platform, Redis, the client's
//! connections and the gateway process fail under them; then the platform's books are compared
//! with what the clients were told, to the cent. Four set-ups: memory and Redis stores, a platform
//! that de-duplicates request numbers and one that does not, and (in two of them) a platform that
//! accepts card orders and finishes them later, racing its webhook against the order inquiry.
//!
//! Seeded and reproducible as far as timing allows: `CAMPAIGN_SEED=<n>` replays a seed (printed
//! at the start and on failure); `CAMPAIGN_OPS` (logical operations per set-up, default 27) and
//! `CAMPAIGN_FAULT_SECS` (default 6) make a longer run, e.g.
//! `CAMPAIGN_OPS=300 CAMPAIGN_FAULT_SECS=60 cargo test --test idempotency campaign -- --nocapture`
//! (`CAMPAIGN_PARALLEL=1` runs the four set-ups at once, starving the machine on purpose).

mod chaos;
mod client;
mod plan;
mod verdict;
mod world;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use rand::{SeedableRng, rngs::StdRng};

use self::{
    client::{Stats, drive, replay_agrees},
    world::{LEASE_MS, QUIET_S, Store, World},
};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn seed() -> u64 {
    std::env::var("CAMPAIGN_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(rand::random)
}

/// One campaign at a time: each loads the machine on purpose, and the other tests of this binary
/// must not be starved by four at once.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn campaign(store: Store, dedupe: bool, asynchronous: bool) {
    // `CAMPAIGN_PARALLEL=1` runs them all at once: a stress run for a starved machine.
    let _turn = if std::env::var_os("CAMPAIGN_PARALLEL").is_some() { None } else { Some(ONE_AT_A_TIME.lock().await) };
    let Some(world) = World::start(store, dedupe, asynchronous).await else { return };
    let world = Arc::new(world);
    let seed = seed();
    let n = env_u64("CAMPAIGN_OPS", 27) as usize;
    let fault_for = Duration::from_secs(env_u64("CAMPAIGN_FAULT_SECS", 6));
    let name = world.name();
    eprintln!(
        "[campaign {name}] seed {seed} (CAMPAIGN_SEED={seed} replays it), {n} operations, {fault_for:?} of faults"
    );
    let mut rng = StdRng::seed_from_u64(seed);
    let kinds = plan::kinds(&mut rng, n);
    let fx = plan::fixtures(&world, &kinds).await;
    let ops = plan::plan(&mut rng, seed, &kinds, &fx);
    let before = world.sim.state();
    let started = Instant::now();

    let chaos_on = Arc::new(AtomicBool::new(true));
    let chaos = tokio::spawn(chaos::run(world.clone(), seed, chaos_on.clone()));
    let stats = Arc::new(Stats::default());
    // Every key must settle within lease + quiet period once faults stop; the margin covers the
    // client's own back-off and a restarted gateway's first lease.
    let settle_by = fault_for + Duration::from_millis(LEASE_MS * 3) + Duration::from_secs(QUIET_S * 3 + 20);
    let deadline = started + settle_by;
    let spacing = fault_for / (ops.len() as u32 + 1);
    let drivers: Vec<_> = ops
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, op)| {
            let (w, c, s) = (world.clone(), chaos_on.clone(), stats.clone());
            tokio::spawn(async move {
                tokio::time::sleep(spacing * i as u32).await;
                drive(w, op, seed, c, deadline, s).await
            })
        })
        .collect();
    tokio::time::sleep(fault_for).await;
    chaos_on.store(false, Ordering::Relaxed);
    let faults = chaos.await.expect("the fault injector finished");
    let faults_stopped = started.elapsed();
    let mut outcomes = Vec::with_capacity(drivers.len());
    for d in drivers {
        outcomes.push(d.await.expect("a driver finished"));
    }
    let settled = started.elapsed();
    for (op, out) in ops.iter().zip(&outcomes) {
        if let Some(told) = &out.told {
            replay_agrees(&world, op, told, &stats).await;
        }
    }
    let after = world.sim.state();
    let verdict = verdict::judge(&ops, &outcomes, &fx, &before, &after);

    let mut violations = stats.violations.lock().unwrap().clone();
    violations.extend(verdict.violations);
    let attempts: u32 = outcomes.iter().map(|o| o.attempts).sum();
    let mut write_ops: Vec<_> = plan::Kind::ALL.iter().map(|k| k.op()).collect();
    write_ops.sort();
    write_ops.dedup();
    let repeats: u64 = write_ops.iter().map(|op| world.sim.repeats(*op)).sum();
    let calls: u64 = write_ops.iter().map(|op| world.sim.calls(*op)).sum();
    let mut report = format!(
        "[campaign {name}] seed {seed}: {n} logical operations, {attempts} client attempts ({} HTTP requests, {} aborted \
         mid-request, {} duplicate pairs, {} connection errors); faults stopped at {faults_stopped:.1?}, all settled at \
         {settled:.1?}; the platform received {calls} write calls (fixtures included) and {repeats} repeated request \
         numbers\nfaults injected:\n",
        stats.attempts.load(Ordering::Relaxed),
        stats.aborted.load(Ordering::Relaxed),
        stats.duplicated.load(Ordering::Relaxed),
        stats.transport_errors.load(Ordering::Relaxed),
    );
    for (f, c) in &faults {
        report.push_str(&format!("  {f}: {c}\n"));
    }
    report.push_str("answers seen:\n");
    for (s, c) in stats.statuses.lock().unwrap().iter() {
        report.push_str(&format!("  {s}: {c}\n"));
    }
    report.push_str(&verdict.report);
    eprintln!("{report}");
    assert!(
        violations.is_empty(),
        "[campaign {name}] seed {seed} (replay with CAMPAIGN_SEED={seed}): {} violations:\n  {}\n{report}",
        violations.len(),
        violations.join("\n  ")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn under_faults_money_moves_at_most_once_and_clients_are_told_the_truth_memory_store_deduplicating_platform() {
    campaign(Store::Memory, true, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn under_faults_money_moves_at_most_once_and_clients_are_told_the_truth_memory_store_non_deduplicating_platform()
{
    campaign(Store::Memory, false, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn under_faults_money_moves_at_most_once_and_clients_are_told_the_truth_redis_store_deduplicating_asynchronous_platform()
 {
    campaign(Store::Redis, true, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn under_faults_money_moves_at_most_once_and_clients_are_told_the_truth_redis_store_non_deduplicating_platform() {
    campaign(Store::Redis, false, false).await;
}
