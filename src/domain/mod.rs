//! The public API's shapes (snake_case, decimal-string money, RFC 3339 times, masked card data) and
//! their mapping from the vendor's wire types. Wire types never leave `upstream::wire`.

pub mod card;
pub mod cardholder;
pub mod crypto;
pub mod group;
pub mod list;
pub mod metadata;
pub mod money;
pub mod operation;
pub mod physical;
pub mod transaction;
pub mod treasury;

/// Checks an amount's decimals against the currency's minor units.
pub fn check_amount(
    v: &mut crate::http::validate::Violations,
    pointer: &str,
    amount: money::Amount,
    minor_units: Option<u32>,
    allow_zero: bool,
) {
    if !allow_zero && amount.value().is_zero() {
        v.add(pointer, "must be greater than zero");
    }
    if let Some(units) = minor_units
        && amount.value().normalize().scale() > units
    {
        v.add(pointer, format!("must have at most {units} decimal places for this currency"));
    }
}

/// Currency codes: three (or four, USDT) upper-case letters.
pub fn is_currency_code(s: &str) -> bool {
    crate::http::rules::CURRENCY.matches(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{rules, validate::Violations};

    proptest::proptest! {
        /// The document states `check_amount`'s per-currency places as `rules::amount_within`.
        #[test]
        fn the_per_currency_places_pattern_agrees_with_check_amount(s in "0{0,2}[0-9]{0,3}(\\.[0-9]{0,7})?", units in 0u32..7) {
            let parsed = rules::AMOUNT.matches(&s).then(|| s.parse::<rust_decimal::Decimal>().ok()).flatten();
            let by_check = parsed.is_some_and(|d| {
                let mut v = Violations::default();
                check_amount(&mut v, "#", money::Amount::from(d), Some(units), true);
                v.finish().is_ok()
            });
            proptest::prop_assert_eq!(rules::AMOUNT.matches(&s) && rules::amount_within(units).matches(&s), by_check, "{:?} at {}", s, units);
        }
    }
}
