//! `metadata`: the caller's own string map on cards, card groups and cardholders, kept by the
//! gateway in the ownership record (`tenancy::ObjectMeta::metadata`), never sent to the platform.
//! Bounds are `http::rules::METADATA_*` (Stripe's: 50 keys, keys ≤ 40, values ≤ 500 characters),
//! stated on the `Metadata` schema by `openapi::constraints`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    http::{rules, validate::Violations},
    sensitive::contains_card_number,
};

/// Your own key–value pairs (at most 50 keys of 1–40 characters of `[A-Za-z0-9_.:-]`; string values of
/// at most 500 characters, no control characters, never a card number). Stored by the gateway, never
/// sent to the card platform, returned on every read and list. On `PATCH`, the keys given are set
/// and a key given `""` is removed; keys not given are kept. On create, `""` sets nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(example = json!({"order": "A-1042", "team": "ads"}))]
pub struct Metadata(pub BTreeMap<String, String>);

impl Metadata {
    /// The map's rules, violations at `pointer` (`#/metadata`) or below it (a value's key, once the
    /// key itself is known to be safe to echo).
    pub fn check(&self, v: &mut Violations, pointer: &str) {
        v.check(
            self.0.len() <= rules::METADATA_MAX_KEYS,
            pointer,
            &format!("must have at most {} keys", rules::METADATA_MAX_KEYS),
        );
        for (k, val) in &self.0 {
            // A key is echoed in the pointer only when it passed its rule and is no card number.
            let key_ok = rules::METADATA_KEY.matches(k) && !contains_card_number(k);
            if !key_ok {
                v.add(pointer, &rules::METADATA_KEY.detail);
                continue;
            }
            let at = format!("{pointer}/{k}");
            rules::METADATA_VALUE.check(v, Some(val), &at);
            v.check(!contains_card_number(val), &at, "must not contain a card number");
        }
    }

    /// What a create stores: the pairs with a value (`""` sets nothing).
    pub fn to_stored(&self) -> BTreeMap<String, String> {
        self.0.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

/// The stored map as the API shows it.
pub fn shown(stored: &BTreeMap<String, String>) -> Metadata {
    Metadata(stored.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(pairs: &[(&str, &str)]) -> Metadata {
        Metadata(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    fn errors(m: &Metadata) -> Vec<(String, String)> {
        let mut v = Violations::default();
        m.check(&mut v, "#/metadata");
        match v.finish() {
            Ok(()) => Vec::new(),
            Err(e) => e.errors.iter().map(|f| (f.pointer.clone(), f.detail.clone())).collect(),
        }
    }

    #[test]
    fn metadata_within_the_bounds_passes_and_each_bound_is_refused_at_its_pointer() {
        assert!(errors(&md(&[("order", "A-1"), ("a.b:c-d_e", ""), (&"k".repeat(40), &"v".repeat(500))])).is_empty());
        let many = Metadata((0..51).map(|i| (format!("k{i}"), "v".to_owned())).collect());
        assert_eq!(errors(&many)[0].0, "#/metadata");
        assert_eq!(errors(&md(&[(&"k".repeat(41), "v")]))[0].0, "#/metadata");
        assert_eq!(errors(&md(&[("a b", "v")]))[0].0, "#/metadata");
        assert_eq!(errors(&md(&[("", "v")]))[0].0, "#/metadata");
        assert_eq!(errors(&md(&[("k", &"v".repeat(501))]))[0].0, "#/metadata/k");
        assert_eq!(errors(&md(&[("k", "a\u{7}b")]))[0].0, "#/metadata/k");
        assert_eq!(errors(&md(&[("k", "a\u{85}b")]))[0].0, "#/metadata/k");
    }

    #[test]
    fn a_card_number_is_refused_as_a_value_and_as_a_key_without_being_echoed() {
        let e = errors(&md(&[("pan", "4111 1111 1111 1111")]));
        assert_eq!(e, vec![("#/metadata/pan".to_owned(), "must not contain a card number".to_owned())]);
        let e = errors(&md(&[("4111111111111111", "x")]));
        assert_eq!(e.len(), 1);
        assert!(!format!("{e:?}").contains("4111111111111111"), "{e:?}");
    }

    #[test]
    fn a_patch_sets_given_keys_removes_empty_ones_and_keeps_the_rest() {
        let current = md(&[("a", "1"), ("b", "2")]).0;
        let patch = md(&[("b", ""), ("c", "3")]).0;
        assert_eq!(crate::tenancy::ownership::merged(&current, &patch), md(&[("a", "1"), ("c", "3")]).0);
        assert_eq!(md(&[("a", "1"), ("x", "")]).to_stored(), md(&[("a", "1")]).0);
    }
}
