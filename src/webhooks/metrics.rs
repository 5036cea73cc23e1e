//! Counters of the webhook pipeline (inbound outcomes, dead letters, deliveries), for logs, tests and
//! a future `/metrics` exporter.

use std::{
    collections::BTreeMap,
    sync::atomic::{AtomicU64, Ordering},
};

macro_rules! counters {
    ($($name:ident),* $(,)?) => {
        #[derive(Debug, Default)]
        pub struct Metrics { $(pub $name: AtomicU64,)* }

        impl Metrics {
            /// Every counter by name.
            pub fn snapshot(&self) -> BTreeMap<&'static str, u64> {
                BTreeMap::from([$((stringify!($name), self.$name.load(Ordering::Relaxed)),)*])
            }
        }
    };
}

counters!(
    inbound_received,
    inbound_recorded,
    inbound_duplicates,
    inbound_rejected_source_ip,
    inbound_rejected_malformed,
    inbound_rejected_undecryptable,
    inbound_rejected_foreign,
    inbound_rejected_plain_data,
    inbound_rejected_stale,
    inbound_store_failures,
    inbound_dead_lettered,
    inbound_conflicting,
    deliveries_succeeded,
    deliveries_failed,
    delivery_attempts_failed,
);

/// Adds one.
pub fn inc(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}
