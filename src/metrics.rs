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

/// Latency buckets (seconds), including the SLO edges: 2 ms (replay p99), 40 ms (write p99 at c64).
const BUCKETS: [f64; 15] = [0.001, 0.002, 0.0025, 0.005, 0.01, 0.025, 0.04, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; 15],
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
                let _ = writeln!(out, "# HELP {name} {}", help(name));
                let _ = writeln!(out, "# TYPE {name} counter");
                last = name;
            }
            let _ = writeln!(out, "{name}{} {}", fmt_labels(labels, None), v.load(Ordering::Relaxed));
        }
        last = "";
        for ((name, labels), h) in self.histograms.read().iter() {
            if *name != last {
                let _ = writeln!(out, "# HELP {name} {}", help(name));
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
            let _ = writeln!(out, "# HELP {name} {}", help(name));
            let _ = writeln!(out, "# TYPE {name} gauge");
            let _ = writeln!(out, "{name} {}", g.load(Ordering::Relaxed));
        }
        // The webhook pipeline's counters: one family, the stage as a label.
        if !extra.is_empty() {
            let name = "card_gateway_webhooks_total";
            let _ = writeln!(out, "# HELP {name} {}", help(name));
            let _ = writeln!(out, "# TYPE {name} counter");
            for (event, v) in extra {
                let _ = writeln!(out, "{name}{{event=\"{event}\"}} {v}");
            }
        }
        let (sealed, opened) = crate::envelope::rsa_blocks();
        let name = "card_gateway_envelope_rsa_blocks_total";
        let _ = writeln!(out, "# HELP {name} {}", help(name));
        let _ = writeln!(out, "# TYPE {name} counter");
        let _ = writeln!(out, "{name}{{key=\"private\"}} {sealed}");
        let _ = writeln!(out, "{name}{{key=\"public\"}} {opened}");
        let name = "card_gateway_redis_round_trips_total";
        let _ = writeln!(out, "# HELP {name} {}", help(name));
        let _ = writeln!(out, "# TYPE {name} counter");
        let _ = writeln!(out, "{name} {}", crate::storage::redis::round_trips());
        let _ = writeln!(out, "# HELP card_gateway_build_info {}", help("card_gateway_build_info"));
        let _ = writeln!(out, "# TYPE card_gateway_build_info gauge");
        let _ = writeln!(out, "card_gateway_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"));
        process_metrics(&mut out);
        out
    }
}

/// `# HELP` text of every family the gateway exports.
fn help(name: &str) -> &'static str {
    match name {
        "card_gateway_http_requests_total" => "HTTP requests by method, route template and status.",
        "card_gateway_http_request_duration_seconds" => "HTTP request latency by route template.",
        "card_gateway_upstream_calls_total" => "Merchant API calls by operation and outcome class.",
        "card_gateway_upstream_call_duration_seconds" => "Merchant API call latency by operation.",
        "card_gateway_upstream_resends_total" => {
            "State-changing requests sent to the platform again (same userReqNo), by operation and reason."
        }
        "card_gateway_operations_unconfirmable_total" => {
            "Operations settled as unconfirmable (no inquiry, unknown outcome): reconcile with the platform."
        }
        "card_gateway_upstream_up" => "1 when the last background platform probe got an answer, else 0.",
        "card_gateway_webhooks_total" => "Webhook pipeline events (inbound, event log, deliveries) by stage.",
        "card_gateway_build_info" => "Build information; the value is always 1.",
        "card_gateway_redis_round_trips_total" => "Requests (commands or pipelines) this process sent to Redis.",
        "card_gateway_envelope_rsa_blocks_total" => {
            "RSA-1024 blocks of the Merchant API envelope: key=private (sealing), key=public (opening)."
        }
        _ => "card-gateway metric.",
    }
}

/// Standard process metrics from `/proc/self` (Linux); nothing elsewhere.
fn process_metrics(out: &mut String) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return };
    // Fields after the command name, which is in parentheses and may contain spaces.
    let Some(rest) = stat.rsplit_once(") ").map(|(_, r)| r) else { return };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = 100.0; // USER_HZ: 100 on every Linux this runs on.
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok());
    if let (Some(utime), Some(stime)) = (num(11), num(12)) {
        let _ = writeln!(out, "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.");
        let _ = writeln!(out, "# TYPE process_cpu_seconds_total counter");
        let _ = writeln!(out, "process_cpu_seconds_total {}", (utime + stime) / ticks);
    }
    if let Some(rss_pages) = num(21) {
        let _ = writeln!(out, "# HELP process_resident_memory_bytes Resident memory size in bytes.");
        let _ = writeln!(out, "# TYPE process_resident_memory_bytes gauge");
        let _ = writeln!(out, "process_resident_memory_bytes {}", rss_pages * 4096.0);
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        let _ = writeln!(out, "# HELP process_open_fds Number of open file descriptors.");
        let _ = writeln!(out, "# TYPE process_open_fds gauge");
        let _ = writeln!(out, "process_open_fds {}", fds.count());
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
        assert!(text.contains("card_gateway_webhooks_total{event=\"inbound_received\"} 4"), "{text}");
    }

    #[test]
    fn every_family_has_help_and_build_info_and_process_metrics_are_exported() {
        let r = Registry::default();
        r.inc("card_gateway_http_requests_total", vec![("route", "/healthz".into())]);
        r.observe("card_gateway_http_request_duration_seconds", vec![], Duration::from_millis(30));
        r.set_gauge("card_gateway_upstream_up", 1);
        let text = r.render(&BTreeMap::from([("inbound_received", 1)]));
        for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
            let name = line.split_whitespace().nth(2).unwrap_or_default();
            assert!(text.contains(&format!("# HELP {name} ")), "{name} has no HELP: {text}");
        }
        assert!(text.contains("card_gateway_build_info{version=\""), "{text}");
        assert!(
            text.contains("card_gateway_http_request_duration_seconds_bucket{le=\"0.04\"} 1"),
            "SLO edge bucket: {text}"
        );
        if cfg!(target_os = "linux") {
            assert!(text.contains("process_resident_memory_bytes "), "{text}");
            assert!(text.contains("process_cpu_seconds_total "), "{text}");
        }
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
