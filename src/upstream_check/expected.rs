//! The answer shapes our wire types (`upstream::wire`) expect, field by field, for the operations the
//! check calls. Kept next to the wire types' meaning: a required field here is one whose absence
//! makes the wire type fail to decode; aliases are the wire types' serde aliases.

use super::shape::{Codes, Field, Kind, opt, req};

/// `BalanceItem` (#1).
pub const BALANCE: &[Field] = &[
    req("ccy", Kind::Text).aka(&["currency"]),
    req("currentBalance", Kind::Amount),
    req("availableBal", Kind::Amount).aka(&["availableBalance"]),
];

/// `ExchangeRate` (#4).
pub const EXCHANGE_RATE: &[Field] = &[
    req("sourceCurrency", Kind::Text),
    req("targetCurrency", Kind::Text),
    req("rate", Kind::Amount),
    opt("updateTime", Kind::DateTime),
];

/// `Scene` (#5).
pub const SCENE: &[Field] =
    &[req("sceneCode", Kind::Id), opt("sceneName", Kind::Text).aka(&["name"]), opt("description", Kind::Text)];

/// `CardBin` (#6).
pub const CARD_BIN: &[Field] = &[
    req("cardBin", Kind::Id).aka(&["binRangeId", "cardBinId"]),
    opt("cardBrand", Kind::Text).aka(&["brand"]),
    opt("localCurrency", Kind::Text).aka(&["currency"]),
    opt("channelType", Kind::Id),
    opt("cardUserRequired", Kind::Bool),
];

/// `CardApplyResult` (#7).
pub const CARD_APPLY: &[Field] = &[
    opt("orderId", Kind::Id),
    opt("cardId", Kind::Id),
    opt("localCurrency", Kind::Text),
    opt("cardNo", Kind::Text),
    opt("cardVerifyNo", Kind::Text),
    opt("cardExpiryDate", Kind::Expiry),
];

/// `OrderAck` (recharge, refund, cancel, group operations).
pub const ORDER_ACK: &[Field] =
    &[req("orderId", Kind::Id), opt("userReqNo", Kind::Id), opt("cardId", Kind::Id), opt("groupId", Kind::Id)];

const CARD_USER_INFO: &[Field] =
    &[opt("cardUserId", Kind::Id), opt("firstName", Kind::Text), opt("lastName", Kind::Text)];

/// `CardInfo` (#10, and the items of #22).
pub const CARD_INFO: &[Field] = &[
    req("cardId", Kind::Id),
    opt("cardNo", Kind::Text),
    opt("cardVerifyNo", Kind::Text),
    opt("cardExpiryDate", Kind::Expiry),
    opt("cardStatus", Kind::Id).coded(Codes::CardStatus),
    opt("cardStatusDesc", Kind::Text),
    opt("cardAlias", Kind::Text),
    opt("cardLabel", Kind::Text),
    opt("localCurrency", Kind::Text),
    opt("startActiveDate", Kind::Date),
    opt("endCloseDate", Kind::Date),
    opt("creditLimitAmt", Kind::Amount),
    opt("balanceAmt", Kind::Amount),
    opt("usedAuthAmt", Kind::Amount),
    opt("enableMultiUse", Kind::Int),
    opt("enableCurrencyCheck", Kind::Int),
    opt("cardClosedAmt", Kind::Amount),
    opt("cardType", Kind::Id).coded(Codes::CardType),
    opt("groupId", Kind::Id),
    opt("cardBin", Kind::Id),
    opt("createTime", Kind::DateTime),
    opt("cardUserInfo", Kind::Object(CARD_USER_INFO)),
];

/// `GroupInfo` (#14 items).
pub const GROUP_INFO: &[Field] = &[
    req("groupId", Kind::Id),
    opt("localCurrency", Kind::Text),
    opt("groupAlias", Kind::Text),
    opt("balanceAmt", Kind::Amount),
    opt("status", Kind::Id).coded(Codes::GroupStatus),
    opt("cardCount", Kind::Int),
    opt("createTime", Kind::DateTime),
];

/// `TransactionRecord` (#11 items).
pub const TRANSACTION: &[Field] = &[
    req("recordNo", Kind::Id),
    req("cardId", Kind::Id),
    opt("transactionTime", Kind::DateTime).aka(&["occurTime", "transTime"]),
    opt("transCurrency", Kind::Text),
    opt("transCurrencyAmt", Kind::Amount),
    opt("localCurrency", Kind::Text),
    opt("localCurrencyAmt", Kind::Amount),
    opt("approvalCode", Kind::Text),
    opt("merchantName", Kind::Text),
    opt("merchantCategoryCode", Kind::Id),
    opt("crossBoardType", Kind::Id),
    opt("transType", Kind::Id),
    opt("transStatus", Kind::Id).coded(Codes::TransStatus),
    opt("originRecordNo", Kind::Id),
    opt("transCategory", Kind::Int),
    opt("feeType", Kind::Int),
    opt("fundsType", Kind::Int),
    opt("fundsDirection", Kind::Int),
    opt("settleAmount", Kind::Amount),
    opt("settleTime", Kind::DateTime),
    opt("respCode", Kind::Id),
    opt("respCodeDesc", Kind::Text),
];

/// `OrderRecord` (#21 items).
pub const ORDER: &[Field] = &[
    req("orderId", Kind::Id),
    opt("cardId", Kind::Id),
    opt("groupId", Kind::Id),
    opt("cardType", Kind::Id).coded(Codes::CardType),
    req("userReqNo", Kind::Id),
    req("opType", Kind::Id).coded(Codes::OpType),
    req("status", Kind::Id).coded(Codes::OrderStatus),
    opt("statusDesc", Kind::Text),
    opt("amount", Kind::Amount),
    opt("fee", Kind::Amount),
    opt("createAt", Kind::DateTime),
    opt("errorCode", Kind::Id),
    opt("errorMsg", Kind::Text),
];
