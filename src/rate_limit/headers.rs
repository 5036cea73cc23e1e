//! `RateLimit-Policy`, `RateLimit` and `Retry-After`, following
//! draft-ietf-httpapi-ratelimit-headers-11 (May 2026): both fields are Structured Field Lists of
//! Items whose value is the policy name as an SF String.
//!
//! ```text
//! RateLimit-Policy: "write";q=20;w=2
//! RateLimit: "write";r=7;t=2
//! Retry-After: 1                       (denied only)
//! ```
//!
//! How GCRA maps onto the draft's quota/window vocabulary (there is no exact fixed-window
//! equivalent):
//! - `q` = the burst: the most requests admitted at once;
//! - `w` = the time an empty bucket takes to fill again, burst ÷ rate, in whole seconds rounded up
//!   (the draft allows no sub-second precision, and w must be ≥ 1);
//! - `r` = requests that could still be admitted now;
//! - `t` when admitted = seconds until the bucket is full again (rounded up); when denied, `r` is 0
//!   and `t` = `Retry-After`: the draft (§6) says Retry-After SHOULD NOT point earlier than the end
//!   of the effective window, and "no more than 0 requests" holds exactly until the next admission.
//! - `Retry-After` = seconds until the next admission, rounded up, at least 1.

use std::time::Duration;

use super::Decision;

/// Whole seconds, rounded up.
fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// The policy window: seconds for an empty bucket to refill, at least 1.
pub fn window_secs(d: &Decision) -> u64 {
    let (_, quota) = d.policy;
    // In f64 rather than via a Duration, which would carry the ns rounding of 1/rate into the ceil;
    // the epsilon keeps exact quotients (20 / 10.0) from rounding up.
    let secs = (f64::from(quota.burst) / quota.rate_per_s - 1e-9).ceil();
    if secs.is_finite() && secs >= 1.0 { secs as u64 } else { 1 }
}

/// The response headers for `d`: `RateLimit-Policy` and `RateLimit` always, `Retry-After` when denied.
pub fn rate_limit_headers(d: &Decision) -> Vec<(&'static str, String)> {
    let (name, quota) = d.policy;
    let mut out = vec![("RateLimit-Policy", format!("\"{name}\";q={};w={}", quota.burst, window_secs(d)))];
    match d.retry_after.filter(|_| !d.allowed) {
        Some(retry) => {
            let secs = ceil_secs(retry).max(1);
            out.push(("RateLimit", format!("\"{name}\";r=0;t={secs}")));
            out.push(("Retry-After", secs.to_string()));
        }
        None => out.push(("RateLimit", format!("\"{name}\";r={};t={}", d.remaining, ceil_secs(d.reset_after)))),
    }
    out
}

/// The 429 of a refused decision, carrying its `RateLimit*` headers (`Retry-After` comes from the
/// problem itself).
pub fn refusal(decision: &Decision) -> crate::error::ApiError {
    let retry = decision.retry_after.map_or(1, |d| d.as_secs_f64().ceil() as u64);
    let mut e = crate::error::ApiError::too_many_requests(retry);
    e.detail = format!("rate limit exceeded for {} requests; retry after {retry} s", decision.policy.0);
    for (k, v) in rate_limit_headers(decision) {
        if !k.eq_ignore_ascii_case("retry-after") {
            e = e.with_header(k, v);
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::rate_limit::Quota;

    fn decision(allowed: bool, remaining: u32, reset_ms: u64, retry_ms: Option<u64>) -> Decision {
        Decision {
            allowed,
            limit: 20,
            remaining,
            reset_after: Duration::from_millis(reset_ms),
            retry_after: retry_ms.map(Duration::from_millis),
            policy: ("write", Quota { rate_per_s: 10.0, burst: 20 }),
        }
    }

    #[test]
    fn admitted_request_headers() {
        let h = rate_limit_headers(&decision(true, 7, 1_300, None));
        assert_eq!(
            h,
            vec![("RateLimit-Policy", "\"write\";q=20;w=2".to_owned()), ("RateLimit", "\"write\";r=7;t=2".to_owned())]
        );
    }

    #[test]
    fn denied_request_headers_carry_retry_after_rounded_up() {
        let h = rate_limit_headers(&decision(false, 0, 2_050, Some(50)));
        assert_eq!(
            h,
            vec![
                ("RateLimit-Policy", "\"write\";q=20;w=2".to_owned()),
                ("RateLimit", "\"write\";r=0;t=1".to_owned()),
                ("Retry-After", "1".to_owned()),
            ]
        );
        let h = rate_limit_headers(&decision(false, 0, 5_000, Some(2_001)));
        assert_eq!(h[2], ("Retry-After", "3".to_owned()));
        assert_eq!(h[1].1, "\"write\";r=0;t=3");
    }

    #[test]
    fn full_bucket_resets_in_zero_seconds_and_windows_round_up() {
        let h = rate_limit_headers(&decision(true, 19, 0, None));
        assert_eq!(h[1].1, "\"write\";r=19;t=0");
        let slow =
            Decision { policy: ("sensitive", Quota { rate_per_s: 0.3, burst: 5 }), ..decision(true, 4, 0, None) };
        // 5 ÷ 0.3 = 16.67 s → 17
        assert_eq!(rate_limit_headers(&slow)[0].1, "\"sensitive\";q=5;w=17");
        let fast = Decision { policy: ("read", Quota { rate_per_s: 1000.0, burst: 1 }), ..decision(true, 0, 0, None) };
        assert_eq!(rate_limit_headers(&fast)[0].1, "\"read\";q=1;w=1");
    }
}
