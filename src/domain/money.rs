//! Money on the public API: decimal strings (`"12.50"`), never floats.

use std::{fmt, str::FromStr};

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{ObjectBuilder, RefOr, Schema, Type},
};

/// A non-negative decimal amount, written as a string with at least two decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Amount(pub Decimal);

impl Amount {
    pub fn zero() -> Self {
        Self(Decimal::ZERO)
    }
    pub fn value(self) -> Decimal {
        self.0
    }
    pub fn scale(self) -> u32 {
        self.0.normalize().scale()
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = self.0.normalize();
        if d.scale() < 2 {
            d.rescale(2);
        }
        write!(f, "{d}")
    }
}

impl From<Decimal> for Amount {
    fn from(d: Decimal) -> Self {
        Self(d)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Amount {
    /// Only strings: a JSON number would already have been rounded by a float somewhere upstream of us.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Amount;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a decimal string such as \"12.50\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Amount, E> {
                // The very rule the OpenAPI document states for every amount.
                if !crate::http::rules::AMOUNT.matches(v) {
                    return Err(E::custom("must be a non-negative decimal string such as \"12.50\""));
                }
                Decimal::from_str(v).map(Amount).map_err(|_| E::custom("must be a decimal string such as \"12.50\""))
            }
        }
        d.deserialize_str(V)
    }
}

impl PartialSchema for Amount {
    fn schema() -> RefOr<Schema> {
        let rule = &*crate::http::rules::AMOUNT;
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(rule.pattern.clone()))
            .min_length(rule.min_length)
            .max_length(rule.max_length)
            .description(Some("Decimal amount as a string, in the object's currency"))
            .examples([serde_json::json!("25.00")])
            .into()
    }
}

impl ToSchema for Amount {}

/// An amount with its currency, where the currency is not implied by the object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Money {
    pub amount: Amount,
    #[schema(example = "USD")]
    pub currency: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_round_trip_as_strings_with_two_decimals() {
        let a: Amount = serde_json::from_str("\"12.5\"").unwrap();
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"12.50\"");
        let b: Amount = serde_json::from_str("\"0.001\"").unwrap();
        assert_eq!(b.to_string(), "0.001");
        assert_eq!(Amount(Decimal::from(100)).to_string(), "100.00");
    }

    #[test]
    fn numbers_and_malformed_strings_are_rejected() {
        for bad in ["12.5", "\"-1\"", "\"1e3\"", "\"\"", "\"1.\"", "\".5\"", "\"1,5\"", "\"1.2.3\""] {
            assert!(serde_json::from_str::<Amount>(bad).is_err(), "{bad}");
        }
    }
}
