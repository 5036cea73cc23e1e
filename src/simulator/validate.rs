//! Input rules of a strict platform: amounts, text lengths, paging.

use rust_decimal::{Decimal, RoundingStrategy};

use super::errors::SimError;
use crate::upstream::wire::common::{Page, PageRequest};

/// Largest single amount accepted; keeps every product and sum far from `Decimal`'s range.
const MAX_AMOUNT: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// Amounts are positive, at most two decimals and bounded.
pub(crate) fn amount(field: &str, v: Decimal) -> Result<Decimal, SimError> {
    if v <= Decimal::ZERO {
        return Err(SimError::validation(format!("{field} must be greater than 0")));
    }
    non_negative_amount(field, v)
}

/// Like [`amount`] but zero is allowed (a shared sub-card limit of 0 means unlimited).
pub(crate) fn non_negative_amount(field: &str, v: Decimal) -> Result<Decimal, SimError> {
    if v < Decimal::ZERO {
        return Err(SimError::validation(format!("{field} must not be negative")));
    }
    if v.normalize().scale() > 2 {
        return Err(SimError::validation(format!("{field} has more than 2 decimals")));
    }
    if v > MAX_AMOUNT {
        return Err(SimError::validation(format!("{field} is too large")));
    }
    Ok(v)
}

/// Money rounded to cents, half away from zero.
pub(crate) fn cents(v: Decimal) -> Decimal {
    v.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// `amount × rate`, rounded to cents.
pub(crate) fn fee(amount: Decimal, rate: Decimal) -> Decimal {
    cents(amount.checked_mul(rate).unwrap_or(Decimal::ZERO))
}

/// A required text field: present, non-blank, at most `max` characters.
pub(crate) fn text(field: &str, v: &str, max: usize) -> Result<(), SimError> {
    if v.trim().is_empty() {
        return Err(SimError::validation(format!("{field} is required")));
    }
    opt_text(field, Some(v), max)
}

/// An optional text field of at most `max` characters.
pub(crate) fn opt_text(field: &str, v: Option<&str>, max: usize) -> Result<(), SimError> {
    match v {
        Some(v) if v.chars().count() > max => Err(SimError::validation(format!("{field} exceeds {max} characters"))),
        _ => Ok(()),
    }
}

/// A request number (`userReqNo` / `serialNumber`): 1–128 characters.
pub(crate) fn req_no(field: &str, v: &str) -> Result<(), SimError> {
    text(field, v, 128)
}

/// A 3-letter uppercase currency code.
pub(crate) fn currency(field: &str, v: &str) -> Result<(), SimError> {
    if v.len() == 3 && v.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(SimError::validation(format!("{field} must be a 3-letter currency code")))
    }
}

/// A currency or digital asset code: 3–8 uppercase letters or digits (`USD`, `USDT`).
pub(crate) fn asset(field: &str, v: &str) -> Result<(), SimError> {
    if (3..=8).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(SimError::validation(format!("{field} must be a currency code")))
    }
}

/// `currentPage` ≥ 1 and 1 ≤ `pageSize` ≤ 50.
pub(crate) fn page_request(p: &PageRequest) -> Result<(), SimError> {
    if p.current_page < 1 {
        return Err(SimError::validation("currentPage must be at least 1"));
    }
    if !(1..=50).contains(&p.page_size) {
        return Err(SimError::validation("pageSize must be between 1 and 50"));
    }
    Ok(())
}

/// One page of `items` in the vendor's paging shape.
pub(crate) fn paginate<T>(items: Vec<T>, p: &PageRequest) -> Page<T> {
    let total = items.len();
    let size = usize::try_from(p.page_size).unwrap_or(1).max(1);
    let skip = usize::try_from(p.current_page.saturating_sub(1)).unwrap_or(0).saturating_mul(size);
    let list: Vec<T> = items.into_iter().skip(skip).take(size).collect();
    Page {
        total_count: Some(i64::try_from(total).unwrap_or(i64::MAX)),
        current_page: Some(p.current_page),
        page_size: Some(p.page_size),
        list,
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn amounts_must_be_positive_with_at_most_two_decimals() {
        assert!(amount("a", d("0.01")).is_ok());
        assert!(amount("a", d("10.50")).is_ok());
        assert!(amount("a", d("10.500")).is_ok(), "trailing zeros are not extra precision");
        assert_eq!(amount("a", d("0")).unwrap_err().code, "110001");
        assert_eq!(amount("a", d("-1")).unwrap_err().code, "110001");
        assert_eq!(amount("a", d("1.001")).unwrap_err().code, "110001");
        assert_eq!(amount("a", d("1000000001")).unwrap_err().code, "110001");
    }

    #[test]
    fn pages_are_bounded_and_sliced() {
        let p = PageRequest { current_page: 2, page_size: 2 };
        assert!(page_request(&p).is_ok());
        assert!(page_request(&PageRequest { current_page: 0, page_size: 2 }).is_err());
        assert!(page_request(&PageRequest { current_page: 1, page_size: 51 }).is_err());
        let page = paginate(vec![1, 2, 3, 4, 5], &p);
        assert_eq!(page.list, vec![3, 4]);
        assert_eq!(page.total_count, Some(5));
    }

    #[test]
    fn fees_round_half_away_from_zero() {
        assert_eq!(fee(d("10.05"), d("0.1")), d("1.01"));
        assert_eq!(fee(d("0.01"), d("0.01")), d("0.00"));
    }
}
