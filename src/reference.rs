//! Reference tables (currencies, countries, mobile prefixes, US states, transaction types, response
//! codes), served from the data files in `data/reference/` (embedded at build time) and used for
//! input validation.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

const FILES: [(&str, &str); 6] = [
    ("currencies", include_str!("../data/reference/currencies.json")),
    ("countries", include_str!("../data/reference/countries.json")),
    ("mobile-prefixes", include_str!("../data/reference/mobile-prefixes.json")),
    ("us-states", include_str!("../data/reference/us-states.json")),
    ("transaction-types", include_str!("../data/reference/transaction-types.json")),
    ("response-codes", include_str!("../data/reference/response-codes.json")),
];

#[derive(Deserialize)]
struct Table {
    data: Vec<serde_json::Value>,
}

#[derive(Debug, Default)]
pub struct ReferenceData {
    tables: BTreeMap<String, serde_json::Value>,
    minor_units: HashMap<String, u32>,
    countries: HashMap<String, String>,
    prefixes: Vec<String>,
    us_states: Vec<String>,
}

impl ReferenceData {
    /// Parses the embedded tables; fails only if a committed data file is malformed.
    pub fn load() -> Result<Self, String> {
        let mut r = Self::default();
        for (name, text) in FILES {
            let full: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("{name}: {e}"))?;
            let table: Table = serde_json::from_value(full.clone()).map_err(|e| format!("{name}: {e}"))?;
            let field = |row: &serde_json::Value, k: &str| row.get(k).and_then(|v| v.as_str()).unwrap_or("").to_owned();
            for row in &table.data {
                match name {
                    "currencies" => {
                        let units = row.get("minor_units").and_then(serde_json::Value::as_u64).unwrap_or(2) as u32;
                        r.minor_units.insert(field(row, "code"), units);
                    }
                    "countries" => {
                        r.countries.insert(field(row, "code"), field(row, "upstream_code"));
                    }
                    "mobile-prefixes" => r.prefixes.push(field(row, "prefix")),
                    "us-states" => r.us_states.push(field(row, "code")),
                    _ => {}
                }
            }
            r.tables.insert(name.to_owned(), full);
        }
        Ok(r)
    }

    pub fn table_names() -> Vec<&'static str> {
        FILES.iter().map(|(n, _)| *n).collect()
    }

    pub fn table(&self, name: &str) -> Option<&serde_json::Value> {
        self.tables.get(name)
    }

    /// Decimal places of a currency, if it is a known currency.
    pub fn minor_units(&self, currency: &str) -> Option<u32> {
        self.minor_units.get(currency).copied()
    }

    /// ISO alpha-3 → the platform's country code (CNH for China), if known.
    pub fn upstream_country(&self, alpha3: &str) -> Option<&str> {
        self.countries.get(alpha3).map(String::as_str)
    }

    /// The platform's country code → ISO alpha-3.
    pub fn country_from_upstream(&self, code: &str) -> String {
        self.countries.iter().find(|(_, v)| *v == code).map_or_else(|| code.to_owned(), |(k, _)| k.clone())
    }

    /// Known currency codes with `minor_units` decimal places (all known ones with `None`), sorted.
    pub fn currencies(&self, minor_units: Option<u32>) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .minor_units
            .iter()
            .filter(|(_, u)| minor_units.is_none_or(|m| m == **u))
            .map(|(c, _)| c.as_str())
            .collect();
        v.sort_unstable();
        v
    }

    /// The distinct decimal places of the known currencies, ascending.
    pub fn currency_exponents(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self.minor_units.values().copied().collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// ISO alpha-3 codes of the known countries, sorted.
    pub fn countries(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.countries.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    pub fn mobile_prefixes(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.prefixes.iter().map(String::as_str).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    pub fn us_states(&self) -> Vec<&str> {
        self.us_states.iter().map(String::as_str).collect()
    }

    pub fn is_mobile_prefix(&self, p: &str) -> bool {
        self.prefixes.iter().any(|x| x == p)
    }

    pub fn is_us_state(&self, s: &str) -> bool {
        self.us_states.iter().any(|x| x == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_tables_load_and_answer_lookups() {
        let r = ReferenceData::load().unwrap();
        assert_eq!(r.minor_units("USD"), Some(2));
        assert_eq!(r.minor_units("JPY"), Some(0));
        assert_eq!(r.upstream_country("CHN"), Some("CNH"));
        assert_eq!(r.upstream_country("USA"), Some("USA"));
        assert_eq!(r.country_from_upstream("CNH"), "CHN");
        assert!(r.is_mobile_prefix("86") && r.is_mobile_prefix("1"));
        assert!(r.is_us_state("AR") && !r.is_us_state("XX"));
        for t in ReferenceData::table_names() {
            assert!(r.table(t).is_some(), "{t}");
        }
    }
}
