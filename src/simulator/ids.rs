//! Identifiers the platform hands out: 19-digit ids (`yyMMddHHmm` + sequence), Luhn-valid PANs, CVVs,
//! codes, chain addresses and transaction hashes.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::Utc;
use rand::Rng;

use crate::upstream::formats::WireClock;

/// Hands out unique 19-digit ids: the vendor's wall-clock minute and a 9-digit sequence
/// (the shape seen on sibling platforms, e.g. `2312041349000014743`).
#[derive(Debug)]
pub(crate) struct Ids {
    seq: AtomicU64,
    clock: WireClock,
}

impl Ids {
    pub fn new(clock: WireClock) -> Self {
        Self { seq: AtomicU64::new(1), clock }
    }

    pub fn next(&self) -> String {
        let n = self.seq.fetch_add(1, Ordering::Relaxed) % 1_000_000_000;
        let minute = Utc::now().with_timezone(&self.clock.offset()).format("%y%m%d%H%M");
        format!("{minute}{n:09}")
    }
}

/// The Luhn check digit completing `body` (digits only).
pub(crate) fn luhn_check_digit(body: &str) -> u32 {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b.saturating_sub(b'0'));
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

/// True when `pan` is all digits and passes the Luhn check.
pub fn luhn_valid(pan: &str) -> bool {
    if pan.len() < 2 || !pan.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let (body, check) = pan.split_at(pan.len() - 1);
    check.parse::<u32>().ok() == Some(luhn_check_digit(body))
}

/// `n` random decimal digits.
pub(crate) fn digits(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect()
}

/// A 16-digit Luhn-valid card number starting with `bin`.
pub(crate) fn pan(bin: &str) -> String {
    let body = format!("{bin}{}", digits(15usize.saturating_sub(bin.len())));
    format!("{body}{}", luhn_check_digit(&body))
}

/// 64 lowercase hex characters, like an on-chain transaction hash.
pub(crate) fn tx_hash() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    hex::encode(bytes)
}

/// A plausible deposit address on `chain`: TRON base58 `T…` (34 chars), otherwise EVM `0x` + 40 hex.
pub(crate) fn address(chain: &str) -> String {
    const BASE58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut rng = rand::rng();
    if chain.eq_ignore_ascii_case("TRON") {
        let tail: String = (0..33).map(|_| char::from(BASE58[rng.random_range(0..BASE58.len())])).collect();
        format!("T{tail}")
    } else {
        let mut bytes = [0u8; 20];
        rng.fill(&mut bytes);
        format!("0x{}", hex::encode(bytes))
    }
}

/// Whether `addr` is well-formed for `chain` (the shapes [`address`] produces).
pub(crate) fn address_valid(chain: &str, addr: &str) -> bool {
    if chain.eq_ignore_ascii_case("TRON") {
        addr.len() == 34
            && addr.starts_with('T')
            && addr.bytes().all(|b| b.is_ascii_alphanumeric() && !matches!(b, b'0' | b'O' | b'I' | b'l'))
    } else {
        addr.len() == 42 && addr.starts_with("0x") && addr[2..].bytes().all(|b| b.is_ascii_hexdigit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_pans_start_with_the_bin_and_pass_luhn() {
        for _ in 0..200 {
            let p = pan("222929");
            assert_eq!(p.len(), 16);
            assert!(p.starts_with("222929"));
            assert!(luhn_valid(&p), "{}", crate::sensitive::mask_pan(&p));
        }
        assert!(luhn_valid("4111111111111111"));
        assert!(!luhn_valid("4111111111111112"));
        assert!(!luhn_valid("41111x1111111111"));
    }

    #[test]
    fn ids_are_19_digits_and_unique() {
        let ids = Ids::new(WireClock::new(&crate::config::Settings::defaults().unwrap().upstream.formats).unwrap());
        let a = ids.next();
        let b = ids.next();
        assert_eq!(a.len(), 19);
        assert!(a.bytes().all(|c| c.is_ascii_digit()));
        assert_ne!(a, b);
    }

    #[test]
    fn generated_addresses_are_valid_for_their_chain() {
        assert!(address_valid("TRON", &address("TRON")));
        assert!(address_valid("ETH", &address("ETH")));
        assert!(!address_valid("TRON", &address("ETH")));
        assert!(!address_valid("ETH", "0xZZ"));
    }
}
