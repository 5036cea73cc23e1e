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
