//! Lenient decoding for the vendor's inconsistent JSON: ids and codes arrive as numbers or strings,
//! amounts as numbers or numeric strings. Amounts are sent as exact JSON number tokens (never via f64).

use std::{fmt, str::FromStr};

use rust_decimal::Decimal;
use serde::{
    Deserializer, Serializer,
    de::{self, Visitor},
};
use serde_json::value::RawValue;

struct StringVisitor;

impl Visitor<'_> for StringVisitor {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string or a number")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
}

/// A string, or a number rendered as its decimal text (19-digit ids stay exact: they arrive as u64/i64).
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(StringVisitor)
}

/// Optional variant of [`string`]; `null` and absence are `None`, an empty string too.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct OptVisitor;
    impl<'de> Visitor<'de> for OptVisitor {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("null, a string or a number")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            string(d).map(|s| if s.is_empty() { None } else { Some(s) })
        }
    }
    d.deserialize_option(OptVisitor)
}

struct DecimalVisitor;

impl Visitor<'_> for DecimalVisitor {
    type Value = Decimal;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a decimal number or numeric string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        let t = v.trim();
        Decimal::from_str(t).or_else(|_| Decimal::from_scientific(t)).map_err(|_| E::custom("not a decimal number"))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
        // serde_json parsed the token as f64; its shortest round-trip text is the token the vendor
        // sent for any amount with ≤ 15 significant digits, so parse that text, not the binary value.
        if !v.is_finite() {
            return Err(E::custom("not a finite number"));
        }
        self.visit_str(&v.to_string())
    }
}

/// An amount sent as a number or a numeric string.
pub fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    d.deserialize_any(DecimalVisitor)
}

/// Optional variant of [`decimal`]; `null`, absence and `""` are `None`.
pub fn opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    struct OptVisitor;
    impl<'de> Visitor<'de> for OptVisitor {
        type Value = Option<Decimal>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("null, a decimal number or numeric string")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            struct Inner;
            impl Visitor<'_> for Inner {
                type Value = Option<Decimal>;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a decimal")
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                    if v.trim().is_empty() { Ok(None) } else { DecimalVisitor.visit_str(v).map(Some) }
                }
                fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                    Ok(Some(Decimal::from(v)))
                }
                fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                    Ok(Some(Decimal::from(v)))
                }
                fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                    DecimalVisitor.visit_f64(v).map(Some)
                }
            }
            d.deserialize_any(Inner)
        }
    }
    d.deserialize_option(OptVisitor)
}

/// Writes an amount as an exact JSON number token (`12.50`), as the vendor's BigDecimal expects.
pub fn ser_decimal<S: Serializer>(v: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    use serde::Serialize as _;
    let raw = RawValue::from_string(v.to_string()).map_err(serde::ser::Error::custom)?;
    raw.serialize(s)
}

/// Optional variant of [`ser_decimal`] (use with `skip_serializing_if = "Option::is_none"`).
pub fn ser_opt_decimal<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => ser_decimal(v, s),
        None => s.serialize_none(),
    }
}

/// A whole number sent as a number or numeric string (enum codes such as `opType`, `status`).
pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let s = string(d)?;
    s.trim().parse::<i64>().map_err(|_| de::Error::custom("not an integer"))
}

/// Optional variant of [`int`].
pub fn opt_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match opt_string(d)? {
        None => Ok(None),
        Some(s) => s.trim().parse::<i64>().map(Some).map_err(|_| de::Error::custom("not an integer")),
    }
}

/// A boolean that may arrive as `true`, `"true"`, `1` or `"1"`.
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    struct BoolVisitor;
    impl<'de> Visitor<'de> for BoolVisitor {
        type Value = Option<bool>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a boolean")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            let s = string(d)?;
            match s.to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(Some(true)),
                "false" | "0" => Ok(Some(false)),
                _ => Err(de::Error::custom("not a boolean")),
            }
        }
    }
    d.deserialize_option(BoolVisitor)
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros_free::dec;
    use serde::{Deserialize, Serialize};

    use super::*;

    mod rust_decimal_macros_free {
        macro_rules! dec {
            ($s:literal) => {
                <rust_decimal::Decimal as std::str::FromStr>::from_str($s).unwrap()
            };
        }
        pub(crate) use dec;
    }

    #[derive(Deserialize, Serialize, Debug, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        #[serde(deserialize_with = "string")]
        card_id: String,
        #[serde(deserialize_with = "decimal", serialize_with = "ser_decimal")]
        amount: Decimal,
        #[serde(default, deserialize_with = "opt_decimal", serialize_with = "ser_opt_decimal")]
        fee: Option<Decimal>,
        #[serde(deserialize_with = "int")]
        op_type: i64,
    }

    #[test]
    fn ids_amounts_and_codes_accept_numbers_and_strings() {
        let a: Probe =
            serde_json::from_str(r#"{"cardId":2312041349000014743,"amount":12.1,"fee":"0.30","opType":"15"}"#).unwrap();
        let b: Probe =
            serde_json::from_str(r#"{"cardId":"2312041349000014743","amount":"12.10","fee":null,"opType":15}"#)
                .unwrap();
        assert_eq!(a.card_id, "2312041349000014743");
        assert_eq!(a.amount, dec!("12.1"));
        assert_eq!(b.amount, dec!("12.10"));
        assert_eq!(a.fee, Some(dec!("0.30")));
        assert_eq!(b.fee, None);
        assert_eq!(a.op_type, 15);
    }

    #[test]
    fn amounts_are_sent_as_exact_number_tokens() {
        let p = Probe { card_id: "1".into(), amount: dec!("12.50"), fee: Some(dec!("0.1")), op_type: 1 };
        assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"cardId":"1","amount":12.50,"fee":0.1,"opType":1}"#);
    }

    #[test]
    fn garbage_amounts_are_errors_not_panics() {
        assert!(serde_json::from_str::<Probe>(r#"{"cardId":"1","amount":"12,50","opType":1}"#).is_err());
        assert!(serde_json::from_str::<Probe>(r#"{"cardId":"1","amount":[],"opType":1}"#).is_err());
    }

    #[test]
    fn values_parsed_through_serde_json_value_still_work() {
        let v = serde_json::json!({"cardId": 7, "amount": 0.3, "opType": "16"});
        let p: Probe = serde_json::from_value(v).unwrap();
        assert_eq!(p.amount, dec!("0.3"));
    }
}
