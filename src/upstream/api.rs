//! One typed method per operation of the vendor's table of contents (all 27).

use super::{
    client::{MerchantClient, Reply},
    error::UpstreamError,
    ops::Operation as Op,
    wire::{account::*, card::*, cardholder::*, common::*, dpt::*, group::*, order::*, pcc::*},
};

type R<T> = Result<Reply<T>, UpstreamError>;

impl MerchantClient {
    // ── Account ─────────────────────────────────────────────────────────────────────────────
    /// #1 Account Balance: one entry per currency account.
    pub async fn account_balance(&self, req: &BalanceRequest) -> R<ListOrPage<BalanceItem>> {
        self.call(Op::AccountBalance, req).await
    }
    /// #2 Dpt Transfer Card Account.
    pub async fn dpt_transfer(&self, req: &DptTransferRequest) -> R<ConversionResult> {
        self.call(Op::DptTransfer, req).await
    }
    /// #3 Card account exchange.
    pub async fn account_exchange(&self, req: &ExchangeRequest) -> R<ConversionResult> {
        self.call(Op::AccountExchange, req).await
    }
    /// #4 Exchange rate inquiry.
    pub async fn exchange_rate(&self, req: &ExchangeRateRequest) -> R<ExchangeRate> {
        self.call(Op::ExchangeRate, req).await
    }

    // ── VCC ─────────────────────────────────────────────────────────────────────────────────
    /// #5 Scene list query.
    pub async fn scene_list(&self, req: &ReqNoOnly) -> R<ListOrPage<Scene>> {
        self.call(Op::SceneList, req).await
    }
    /// #6 Cardbin query.
    pub async fn card_bin(&self, req: &ReqNoOnly) -> R<ListOrPage<CardBin>> {
        self.call(Op::CardBin, req).await
    }
    /// #7 Apply for a Card Opening.
    pub async fn card_apply(&self, req: &CardApplyRequest) -> R<CardApplyResult> {
        self.call(Op::CardApply, req).await
    }
    /// #8 Cancel Card Application.
    pub async fn card_cancel(&self, req: &CardCancelRequest) -> R<OrderAck> {
        self.call(Op::CardCancel, req).await
    }
    /// #9 Recharge (card, or shared group with `channelType` shared + `groupId`).
    pub async fn card_recharge(&self, req: &RechargeRequest) -> R<OrderAck> {
        self.call(Op::CardRecharge, req).await
    }
    /// #10 Card Inquiry.
    pub async fn card_info(&self, req: &CardInfoRequest) -> R<CardInfo> {
        self.call(Op::CardInfo, req).await
    }
    /// #11 Transaction Inquiry.
    pub async fn transaction_query(&self, req: &TransactionQueryRequest) -> R<Page<TransactionRecord>> {
        self.call(Op::TransactionQuery, req).await
    }
    /// #12 Refund (card or group balance back to the merchant account).
    pub async fn card_refund(&self, req: &RefundRequest) -> R<OrderAck> {
        self.call(Op::CardRefund, req).await
    }
    /// #13 Shared Card Application.
    pub async fn group_apply(&self, req: &GroupApplyRequest) -> R<OrderAck> {
        self.call(Op::GroupApply, req).await
    }
    /// #14 Shared Card Pagination Query.
    pub async fn group_page(&self, req: &GroupPageRequest) -> R<Page<GroupInfo>> {
        self.call(Op::GroupPage, req).await
    }
    /// #15 Shared Card Inquiry.
    pub async fn group_info(&self, req: &GroupInfoRequest) -> R<GroupInfo> {
        self.call(Op::GroupInfo, req).await
    }
    /// #16 Shared Card Status Change.
    pub async fn group_update(&self, req: &GroupUpdateRequest) -> R<OrderAck> {
        self.call(Op::GroupUpdate, req).await
    }
    /// #17 Card Information Modification.
    pub async fn card_modify(&self, req: &CardModifyRequest) -> R<OrderAck> {
        self.call(Op::CardModify, req).await
    }
    /// #18 Cardholder Application.
    pub async fn cardholder_apply(&self, req: &CardholderApplyRequest) -> R<CardholderApplyResult> {
        self.call(Op::CardholderApply, req).await
    }
    /// #19 Cardholder Details Inquiry.
    pub async fn cardholder_info(&self, req: &CardholderRef) -> R<CardholderInfo> {
        self.call(Op::CardholderInfo, req).await
    }
    /// #20 Cardholder Deletion.
    pub async fn cardholder_delete(&self, req: &CardholderRef) -> R<CardholderApplyResult> {
        self.call(Op::CardholderDelete, req).await
    }
    /// #21 Card Operation Order Inquiry.
    pub async fn order_query(&self, req: &OrderQueryRequest) -> R<Page<OrderRecord>> {
        self.call(Op::OrderQuery, req).await
    }
    /// #22 Card Pagination Query.
    pub async fn card_page(&self, req: &CardPageRequest) -> R<Page<CardInfo>> {
        self.call(Op::CardPage, req).await
    }

    // ── PCC ─────────────────────────────────────────────────────────────────────────────────
    /// #23 Card Assign.
    pub async fn card_assign(&self, req: &CardAssignRequest) -> R<CardAssignResult> {
        self.call(Op::CardAssign, req).await
    }
    /// #24 Card Active.
    pub async fn card_active(&self, req: &CardActiveRequest) -> R<PhysicalCardAck> {
        self.call(Op::CardActive, req).await
    }
    /// #25 Card Pin Reset.
    pub async fn pin_reset(&self, req: &PinResetRequest) -> R<PhysicalCardAck> {
        self.call(Op::PinReset, req).await
    }

    // ── DPT ─────────────────────────────────────────────────────────────────────────────────
    /// #26 Digital currency acquiring.
    pub async fn dpt_acquire(&self, req: &DptAcquireRequest) -> R<DptAcquireResult> {
        self.call(Op::DptAcquire, req).await
    }
    /// #27 Digital Withdraw.
    pub async fn dpt_withdraw(&self, req: &DptWithdrawRequest) -> R<DptWithdrawResult> {
        self.call(Op::DptWithdraw, req).await
    }
}
