//! LocalLimiter on governor's fake clock: exact and fast, no real time passes.

use governor::clock::FakeRelativeClock;

use super::*;
use crate::config::{Settings, rate_limit::TenantOverride};

fn settings(read: Quota, write: Quota, cap: usize) -> RateLimitSettings {
    let mut s = Settings::defaults().unwrap().rate_limit;
    s.classes.read = read;
    s.classes.write = write;
    s.max_tracked_keys = cap;
    s
}

fn limiter(read: Quota, write: Quota, cap: usize) -> (LocalLimiter<FakeRelativeClock>, FakeRelativeClock) {
    let clock = FakeRelativeClock::default();
    (LocalLimiter::with_clock(&settings(read, write, cap), clock.clone()).unwrap(), clock)
}

const Q20: Quota = Quota { rate_per_s: 20.0, burst: 10 };

/// Offers `per_ms` requests every millisecond for `total`; returns how many were admitted.
fn drive(l: &LocalLimiter<FakeRelativeClock>, clock: &FakeRelativeClock, total: Duration, per_ms: u32) -> u64 {
    let mut admitted = 0;
    for _ in 0..=total.as_millis() {
        for _ in 0..per_ms {
            admitted += u64::from(l.check_now("acme", RouteClass::Write).allowed);
        }
        clock.advance(Duration::from_millis(1));
    }
    admitted
}

#[test]
fn admits_burst_plus_rate_times_t() {
    for per_ms in [1, 3] {
        let (l, clock) = limiter(Q20, Q20, 1000);
        let t = Duration::from_secs(3);
        let admitted = drive(&l, &clock, t, per_ms) as f64;
        let bound = f64::from(Q20.burst) + Q20.rate_per_s * t.as_secs_f64();
        assert!(admitted <= bound, "admitted {admitted} > {bound}");
        assert!(admitted >= 0.95 * bound, "admitted {admitted} < 95% of {bound}");
    }
}

#[test]
fn slow_rates_and_fractional_intervals_stay_within_the_bound() {
    let q = Quota { rate_per_s: 3.0, burst: 2 };
    let (l, clock) = limiter(q, q, 1000);
    let t = Duration::from_secs(20);
    let admitted = drive(&l, &clock, t, 1) as f64;
    let bound = 2.0 + 3.0 * 20.0;
    assert!(admitted <= bound && admitted >= 0.95 * bound, "{admitted} vs {bound}");
}

#[test]
fn decision_fields_follow_the_bucket() {
    let (l, clock) = limiter(Q20, Q20, 1000);
    let d = l.check_now("acme", RouteClass::Write);
    assert!(d.allowed);
    assert_eq!((d.limit, d.remaining, d.retry_after), (10, 9, None));
    assert_eq!(d.reset_after, Duration::from_millis(50));
    assert_eq!(d.policy, ("write", Q20));
    for i in (0..9).rev() {
        let d = l.check_now("acme", RouteClass::Write);
        assert!(d.allowed);
        assert_eq!(d.remaining, i);
    }
    let d = l.check_now("acme", RouteClass::Write);
    assert!(!d.allowed);
    assert_eq!(d.remaining, 0);
    assert_eq!(d.retry_after, Some(Duration::from_millis(50)));
    assert_eq!(d.reset_after, Duration::from_millis(500));
    clock.advance(Duration::from_millis(20));
    assert_eq!(l.check_now("acme", RouteClass::Write).retry_after, Some(Duration::from_millis(30)));
    clock.advance(Duration::from_millis(30));
    let d = l.check_now("acme", RouteClass::Write);
    assert!(d.allowed);
    assert_eq!(d.remaining, 0);
    clock.advance(Duration::from_secs(1));
    assert_eq!(l.check_now("acme", RouteClass::Write).remaining, 9);
}

#[test]
fn tenants_and_classes_are_independent() {
    let (l, _clock) = limiter(Quota { rate_per_s: 1.0, burst: 3 }, Quota { rate_per_s: 1.0, burst: 2 }, 1000);
    assert!(l.check_now("a", RouteClass::Write).allowed);
    assert!(l.check_now("a", RouteClass::Write).allowed);
    assert!(!l.check_now("a", RouteClass::Write).allowed);
    // Other class, same tenant; same class, other tenant: untouched.
    for _ in 0..3 {
        assert!(l.check_now("a", RouteClass::Read).allowed);
    }
    assert!(!l.check_now("a", RouteClass::Read).allowed);
    assert!(l.check_now("b", RouteClass::Write).allowed);
    assert!(l.check_now("a", RouteClass::Sensitive).allowed);
}

#[test]
fn tenant_overrides_apply_to_their_class_only() {
    let mut s = settings(Q20, Quota { rate_per_s: 1.0, burst: 1 }, 1000);
    let big = Quota { rate_per_s: 1.0, burst: 5 };
    s.tenants.insert("big".into(), TenantOverride { write: Some(big), ..Default::default() });
    let l = LocalLimiter::with_clock(&s, FakeRelativeClock::default()).unwrap();
    let admitted = (0..10).filter(|_| l.check_now("big", RouteClass::Write).allowed).count();
    assert_eq!(admitted, 5);
    assert_eq!(l.check_now("big", RouteClass::Write).policy, ("write", big));
    let admitted = (0..10).filter(|_| l.check_now("small", RouteClass::Write).allowed).count();
    assert_eq!(admitted, 1);
    assert_eq!(l.check_now("big", RouteClass::Read).policy, ("read", Q20));
}

#[test]
fn idle_keys_are_swept_periodically() {
    let (l, clock) = limiter(Q20, Q20, 100_000);
    for i in 0..10_000 {
        l.check_now(&format!("tenant-{i}"), RouteClass::Read);
        clock.advance(Duration::from_millis(100));
    }
    // Each key is full again 50 ms after its request: only those since the last sweep remain.
    assert!(l.tracked_keys() <= SWEEP_EVERY_OPS as usize, "{}", l.tracked_keys());
    clock.advance(Duration::from_secs(1));
    l.sweep();
    assert_eq!(l.tracked_keys(), 0);
}

#[test]
fn the_hard_cap_holds_and_new_tenants_share_an_overflow_bucket() {
    let one = Quota { rate_per_s: 1.0, burst: 1 };
    let (l, clock) = limiter(one, one, 10);
    for i in 0..10 {
        assert!(l.check_now(&format!("t{i}"), RouteClass::Read).allowed);
    }
    assert_eq!(l.tracked_keys(), 10);
    // All ten are busy (their buckets are not full again): new tenants share one bucket.
    assert!(l.check_now("new-1", RouteClass::Read).allowed);
    assert!(!l.check_now("new-2", RouteClass::Read).allowed);
    assert!(!l.check_now("new-1", RouteClass::Read).allowed);
    assert_eq!(l.tracked_keys(), 10);
    // Tracked tenants keep their own buckets.
    assert!(!l.check_now("t3", RouteClass::Read).allowed);
    // Once the old keys are idle, sweeping makes room again.
    clock.advance(Duration::from_secs(5));
    l.sweep();
    assert_eq!(l.tracked_keys(), 0);
    assert!(l.check_now("new-2", RouteClass::Read).allowed);
    assert_eq!(l.tracked_keys(), 1);
}

#[test]
fn the_cap_is_swept_automatically_when_reached() {
    let one = Quota { rate_per_s: 1.0, burst: 1 };
    let (l, clock) = limiter(one, one, 10);
    for i in 0..10 {
        l.check_now(&format!("t{i}"), RouteClass::Read);
    }
    clock.advance(Duration::from_secs(5));
    // At the cap with only idle keys: the next check sweeps first, so the new tenant is tracked.
    let d = l.check_now("fresh", RouteClass::Read);
    assert!(d.allowed);
    assert_eq!(l.tracked_keys(), 1);
}

#[test]
fn under_concurrency_the_cap_is_never_exceeded() {
    let one = Quota { rate_per_s: 1.0, burst: 1 };
    let (l, _clock) = limiter(one, one, 50);
    let l = Arc::new(l);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let l = Arc::clone(&l);
            std::thread::spawn(move || {
                for i in 0..500 {
                    l.check_now(&format!("t{t}-{i}"), RouteClass::Write);
                    assert!(l.tracked_keys() <= 50);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(l.tracked_keys(), 50);
}

#[test]
fn a_charge_of_n_takes_n_requests_at_once_or_none_and_is_capped_at_the_burst() {
    let (l, clock) = limiter(Q20, Q20, 1000);
    let d = l.check_n_now("acme", RouteClass::Read, 7);
    assert!(d.allowed);
    assert_eq!(d.remaining, 3);
    assert!(!l.check_n_now("acme", RouteClass::Read, 4).allowed, "4 do not fit in the 3 left");
    assert!(l.check_n_now("acme", RouteClass::Read, 3).allowed, "a refused charge took nothing");
    assert!(!l.check_now("acme", RouteClass::Read).allowed);
    clock.advance(Duration::from_secs(1));
    // Full again: a charge above the burst is charged as the burst.
    assert!(l.check_n_now("acme", RouteClass::Read, 1000).allowed);
    assert!(!l.check_now("acme", RouteClass::Read).allowed);
}
