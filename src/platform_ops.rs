//! The 27 operations of the vendor's table of contents, with what we know about each.

use serde::{Deserialize, Serialize};

/// How sure we are of an operation's path (docs/platform.md §1 labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Confidence {
    Seen,
    /// In an integrator's client for the target hosts (docs/platform.md §1).
    #[serde(rename = "SEEN-CLIENT")]
    SeenClient,
    Partial,
    Inferred,
    Unknown,
}

macro_rules! operations {
    ($( $variant:ident => $name:literal, $read:literal, $conf:ident, $path:literal; )*) => {
        /// One upstream operation. `name()` is the configuration key under `[upstream.paths]`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Operation { $($variant,)* }

        impl Operation {
            pub const ALL: &'static [Operation] = &[$(Operation::$variant,)*];

            /// Stable snake_case name: config key, span field and simulator counter key.
            pub fn name(self) -> &'static str {
                match self { $(Operation::$variant => $name,)* }
            }

            /// Reads are retried automatically; writes never are (the upstream may have committed).
            pub fn is_read(self) -> bool {
                match self { $(Operation::$variant => $read,)* }
            }

            pub fn confidence(self) -> Confidence {
                match self { $(Operation::$variant => Confidence::$conf,)* }
            }

            /// The default path (overridable in `[upstream.paths]`).
            pub fn default_path(self) -> &'static str {
                match self { $(Operation::$variant => $path,)* }
            }

            pub fn from_name(name: &str) -> Option<Self> {
                match name { $($name => Some(Operation::$variant),)* _ => None }
            }
        }
    };
}

operations! {
    AccountBalance    => "account_balance",    true,  Seen,     "/openapi/account/balance";
    DptTransfer       => "dpt_transfer",       false, Unknown,  "/openapi/account/dptTransfer";
    AccountExchange   => "account_exchange",   false, Unknown,  "/openapi/account/exchange";
    ExchangeRate      => "exchange_rate",      true,  Unknown,  "/openapi/account/exchangeRate";
    SceneList         => "scene_list",         true,  Unknown,  "/openapi/vcc/scene/list";
    CardBin           => "card_bin",           true,  Seen,     "/openapi/vcc/cardBin";
    CardApply         => "card_apply",         false, Seen,     "/openapi/vcc/card/apply";
    CardCancel        => "card_cancel",        false, SeenClient, "/openapi/vcc/card/close";
    CardRecharge      => "card_recharge",      false, SeenClient, "/openapi/vcc/card/recharge";
    CardInfo          => "card_info",          true,  Seen,     "/openapi/vcc/card/info";
    TransactionQuery  => "transaction_query",  true,  SeenClient,  "/openapi/vcc/trans/query";
    CardRefund        => "card_refund",        false, SeenClient, "/openapi/vcc/card/refund";
    GroupApply        => "group_apply",        false, Inferred, "/openapi/vcc/cardGroup/apply";
    GroupPage         => "group_page",         true,  Inferred, "/openapi/vcc/cardGroup/page";
    GroupInfo         => "group_info",         true,  Inferred, "/openapi/vcc/cardGroup/info";
    GroupUpdate       => "group_update",       false, Seen,     "/openapi/vcc/cardGroup/update";
    CardModify        => "card_modify",        false, Inferred, "/openapi/vcc/card/modify";
    CardholderApply   => "cardholder_apply",   false, Seen,     "/openapi/vcc/cardholder/apply";
    CardholderInfo    => "cardholder_info",    true,  Inferred, "/openapi/vcc/cardholder/info";
    CardholderDelete  => "cardholder_delete",  false, Inferred, "/openapi/vcc/cardholder/delete";
    OrderQuery        => "order_query",        true,  Unknown,  "/openapi/vcc/card/queryCardOperate";
    CardPage          => "card_page",          true,  Unknown,  "/openapi/vcc/card/page";
    CardAssign        => "card_assign",        false, Unknown,  "/openapi/vcc/card/assign";
    CardActive        => "card_active",        false, Unknown,  "/openapi/vcc/card/active";
    PinReset          => "pin_reset",          false, Partial,  "/openapi/vcc/card/pinReset";
    DptAcquire        => "dpt_acquire",        false, Unknown,  "/openapi/dpt/payment/bill";
    DptWithdraw       => "dpt_withdraw",       false, Unknown,  "/openapi/dpt/withdraw";
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_27_operations_have_unique_names_and_paths() {
        assert_eq!(Operation::ALL.len(), 27);
        let mut names: Vec<_> = Operation::ALL.iter().map(|o| o.name()).collect();
        let mut paths: Vec<_> = Operation::ALL.iter().map(|o| o.default_path()).collect();
        names.sort_unstable();
        names.dedup();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(names.len(), 27);
        assert_eq!(paths.len(), 27);
        for op in Operation::ALL {
            assert_eq!(Operation::from_name(op.name()), Some(*op));
            assert!(op.default_path().starts_with("/openapi/"));
        }
    }
}
