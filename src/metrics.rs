//! Prometheus metrics (text exposition format 0.0.4) at `GET /metrics`: HTTP requests by route
//! template and status, request latency, upstream calls by operation and outcome, upstream latency,
//! plus the webhook pipeline's counters. Labels are route templates, operation names and status
//! codes only — never ids, tenants or payloads.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    sync::{
        OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use parking_lot::RwLock;

/// Latency buckets (seconds).
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; 12],
    count: AtomicU64,
    /// Sum in microseconds.
    sum_us: AtomicU64,
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(d.as_micros() as u64, Ordering::Relaxed);
    }
}

type Labels = Vec<(&'static str, String)>;

/// Most label sets (series) one metric may have; further new ones are counted in a single
/// `overflow="true"` series, so nothing a caller sends can grow `/metrics` without bound.
pub const MAX_SERIES_PER_METRIC: usize = 500;

fn overflow_labels() -> Labels {
    vec![("overflow", "true".to_owned())]
}

/// The key under which a new observation is recorded: its own, or the overflow series once `name`
/// has [`MAX_SERIES_PER_METRIC`] label sets.
fn admitted<V>(
    map: &BTreeMap<(&'static str, Labels), V>,
    name: &'static str,
    labels: Labels,
) -> (&'static str, Labels) {
    let series = map.range((name, Vec::new())..).take_while(|((n, _), _)| *n == name).count();
    if series >= MAX_SERIES_PER_METRIC { (name, overflow_labels()) } else { (name, labels) }
}

/// The process-wide registry.
#[derive(Default)]
pub struct Registry {
    counters: RwLock<BTreeMap<(&'static str, Labels), AtomicU64>>,
    histograms: RwLock<BTreeMap<(&'static str, Labels), Histogram>>,
    gauges: RwLock<BTreeMap<&'static str, std::sync::atomic::AtomicI64>>,
}

pub fn global() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::default)
}

impl Registry {
    pub fn inc(&self, name: &'static str, labels: Labels) {
        if let Some(c) = self.counters.read().get(&(name, labels.clone())) {
            c.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let mut map = self.counters.write();
        let key = if map.contains_key(&(name, labels.clone())) { (name, labels) } else { admitted(&map, name, labels) };
        map.entry(key).or_default().fetch_add(1, Ordering::Relaxed);
    }

    pub fn observe(&self, name: &'static str, labels: Labels, d: Duration) {
        if let Some(h) = self.histograms.read().get(&(name, labels.clone())) {
            h.observe(d);
            return;
        }
        let mut map = self.histograms.write();
        let key = if map.contains_key(&(name, labels.clone())) { (name, labels) } else { admitted(&map, name, labels) };
        map.entry(key).or_default().observe(d);
    }

    /// Sets a gauge without labels (e.g. whether the platform answered the last health probe).
    pub fn set_gauge(&self, name: &'static str, v: i64) {
        if let Some(g) = self.gauges.read().get(name) {
            g.store(v, Ordering::Relaxed);
            return;
        }
        self.gauges.write().entry(name).or_default().store(v, Ordering::Relaxed);
    }

    /// Text exposition, with `extra` counters (name → value) appended.
    pub fn render(&self, extra: &BTreeMap<&'static str, u64>) -> String {
        let mut out = String::new();
        let mut last = "";
        for ((name, labels), v) in self.counters.read().iter() {
            if *name != last {
                let _ = writeln!(out, "# TYPE {name} counter");
                last = name;
            }
            let _ = writeln!(out, "{name}{} {}", fmt_labels(labels, None), v.load(Ordering::Relaxed));
        }
        last = "";
        for ((name, labels), h) in self.histograms.read().iter() {
            if *name != last {
                let _ = writeln!(out, "# TYPE {name} histogram");
                last = name;
            }
            for (i, b) in BUCKETS.iter().enumerate() {
                let le = format!("{b}");
                let _ = writeln!(
                    out,
                    "{name}_bucket{} {}",
                    fmt_labels(labels, Some(&le)),
                    h.buckets[i].load(Ordering::Relaxed)
                );
            }
            let count = h.count.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{} {count}", fmt_labels(labels, Some("+Inf")));
            let _ = writeln!(
                out,
                "{name}_sum{} {}",
                fmt_labels(labels, None),
                h.sum_us.load(Ordering::Relaxed) as f64 / 1e6
            );
            let _ = writeln!(out, "{name}_count{} {count}", fmt_labels(labels, None));
        }
        for (name, g) in self.gauges.read().iter() {
            let _ = writeln!(out, "# TYPE {name} gauge");
            let _ = writeln!(out, "{name} {}", g.load(Ordering::Relaxed));
        }
        for (name, v) in extra {
            let _ = writeln!(out, "# TYPE card_gateway_webhooks_{name}_total counter");
            let _ = writeln!(out, "card_gateway_webhooks_{name}_total {v}");
        }
        out
    }
}

fn fmt_labels(labels: &Labels, le: Option<&str>) -> String {
    let mut parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', " ")))
        .collect();
    if let Some(le) = le {
        parts.push(format!("le=\"{le}\""));
    }
    if parts.is_empty() { String::new() } else { format!("{{{}}}", parts.join(",")) }
}

/// One HTTP request (route template, never the raw path; a standard method or `OTHER`).
pub fn http_request(method: &'static str, route: &str, status: u16, d: Duration) {
    let r = global();
    r.inc(
        "card_gateway_http_requests_total",
        vec![("method", method.to_owned()), ("route", route.to_owned()), ("status", status.to_string())],
    );
    r.observe("card_gateway_http_request_duration_seconds", vec![("route", route.to_owned())], d);
}

/// One upstream call (operation name and outcome class).
pub fn upstream_call(op: &'static str, outcome: &str, d: Duration) {
    let r = global();
    r.inc("card_gateway_upstream_calls_total", vec![("operation", op.to_owned()), ("outcome", outcome.to_owned())]);
    r.observe("card_gateway_upstream_call_duration_seconds", vec![("operation", op.to_owned())], d);
}

/// A state-changing request sent to the platform again (same `userReqNo`), and why.
pub fn upstream_resend(op: &'static str, reason: &'static str) {
    global()
        .inc("card_gateway_upstream_resends_total", vec![("operation", op.to_owned()), ("reason", reason.to_owned())]);
}

/// A settled operation whose outcome the platform cannot confirm (needs reconciliation).
pub fn operation_unconfirmable(kind: &'static str) {
    global().inc("card_gateway_operations_unconfirmable_total", vec![("kind", kind.to_owned())]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms_in_exposition_format() {
        let r = Registry::default();
        r.inc("x_total", vec![("route", "/v1/cards/{id}".into())]);
        r.inc("x_total", vec![("route", "/v1/cards/{id}".into())]);
        r.observe("y_seconds", vec![], Duration::from_millis(3));
        let text = r.render(&BTreeMap::from([("inbound_received", 4)]));
        assert!(text.contains("# TYPE x_total counter\nx_total{route=\"/v1/cards/{id}\"} 2"), "{text}");
        assert!(text.contains("y_seconds_bucket{le=\"0.005\"} 1"), "{text}");
        assert!(text.contains("y_seconds_bucket{le=\"0.0025\"} 0"), "{text}");
        assert!(text.contains("y_seconds_count 1"), "{text}");
        assert!(text.contains("card_gateway_webhooks_inbound_received_total 4"), "{text}");
    }

    #[test]
    fn label_sets_beyond_the_cap_fold_into_one_overflow_series() {
        let r = Registry::default();
        for i in 0..MAX_SERIES_PER_METRIC * 3 {
            r.inc("x_total", vec![("route", format!("/r{i}"))]);
            r.observe("y_seconds", vec![("route", format!("/r{i}"))], Duration::from_millis(1));
        }
        r.inc("x_total", vec![("route", "/r0".into())]);
        let text = r.render(&BTreeMap::new());
        let series = |prefix: &str| text.lines().filter(|l| l.starts_with(prefix)).count();
        assert_eq!(series("x_total{"), MAX_SERIES_PER_METRIC + 1, "the cap plus the overflow series");
        assert_eq!(series("y_seconds_count{"), MAX_SERIES_PER_METRIC + 1);
        assert!(text.contains(&format!("x_total{{overflow=\"true\"}} {}", MAX_SERIES_PER_METRIC * 2)), "{text}");
        assert!(text.contains("x_total{route=\"/r0\"} 2"), "existing series keep counting");
    }
}
