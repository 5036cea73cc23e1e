//! The stored operation: the public `Operation` plus what settling it needs (did the platform act,
//! when was it last sent, the money-cap reservation it holds), saved with a version so that the
//! answer path and the webhook path change it by compare-and-set, never overwriting each other.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    domain::operation::{Operation, OperationKind, OperationStatus, OperationTarget},
    error::{ApiError, Problem},
    rate_limit::money::Reservation,
    state::AppState,
    storage::StoreError,
    tenancy::{ObjectKind, ObjectMeta, OwnershipStore, TenantId},
    upstream::Applied,
};

/// Non-sensitive facts about the request, used to finish the operation later (e.g. which group a new
/// card joins). Never a PAN, CVV, PIN or activation code.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
pub struct OpContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cardholder_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The caller asked for the re-read resource as the result (`?expand=`), not the movement.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub expand: bool,
    /// The `metadata` a create asked for, recorded with the object when the operation finishes later
    /// (checked: never a card number).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub metadata: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredOperation {
    pub tenant: String,
    pub op: Operation,
    #[serde(default)]
    pub context: OpContext,
    /// What the platform did, as far as the gateway knows.
    pub applied: Applied,
    /// Requests that may have reached the platform.
    #[serde(default)]
    pub attempts: u32,
    /// When the last of them was sent (the quiet period before a resend counts from here).
    #[serde(default)]
    pub sent_at: Option<DateTime<Utc>>,
    /// The money-cap reservation this operation holds (kept while money may have moved).
    #[serde(default)]
    pub cap: Option<Reservation>,
    /// A failure that applied nothing and is no final answer (e.g. "retry later"): the same request
    /// may run again.
    #[serde(default)]
    pub retryable: bool,
    /// The last send repeated one whose outcome stayed unknown (resent after the quiet period).
    #[serde(default)]
    pub resent_after_unknown: bool,
    /// That resend was refused. The refusal proves nothing about the earlier send, so it becomes the
    /// answer only once the platform still shows no trace of the order after another quiet period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused_resend: Option<RefusedResend>,
    /// Compare-and-set version: 0 = not stored yet.
    #[serde(default)]
    pub version: u64,
}

/// A refusal of a resend, kept until it can be believed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefusedResend {
    pub problem: crate::error::Problem,
    /// "Retry later" or not reaching the platform, rather than a final refusal.
    pub retryable: bool,
}

impl StoredOperation {
    pub fn new(
        tenant: &TenantId,
        id: String,
        kind: OperationKind,
        user_req_no: String,
        target: Option<OperationTarget>,
        context: OpContext,
    ) -> Self {
        Self {
            tenant: tenant.to_string(),
            op: Operation {
                id,
                kind,
                status: OperationStatus::Pending,
                user_req_no,
                upstream_order_id: None,
                created_at: Utc::now(),
                completed_at: None,
                target,
                result: None,
                error: None,
            },
            context,
            applied: Applied::No,
            attempts: 0,
            sent_at: None,
            cap: None,
            retryable: false,
            resent_after_unknown: false,
            refused_resend: None,
            version: 0,
        }
    }

    pub fn tenant_id(&self) -> Option<TenantId> {
        TenantId::parse(&self.tenant)
    }

    /// Final for the platform and for the client: nothing will change it again.
    pub fn is_settled(&self) -> bool {
        self.op.status.is_final() && !self.retryable
    }

    /// About to send: from here on the outcome is unknown until the platform says otherwise.
    pub fn mark_sending(&mut self) {
        self.applied = Applied::Unknown;
        self.attempts += 1;
        self.sent_at = Some(Utc::now());
        self.retryable = false;
        self.refused_resend = None;
        self.op.status = OperationStatus::Pending;
        self.op.error = None;
        self.op.completed_at = None;
    }

    pub fn succeed(&mut self, result: Option<serde_json::Value>) {
        self.applied = Applied::Yes;
        self.retryable = false;
        self.op.status = OperationStatus::Succeeded;
        self.op.completed_at = Some(Utc::now());
        if result.is_some() {
            self.op.result = result;
        }
        self.op.error = None;
    }

    /// Accepted by the platform; it finishes asynchronously.
    pub fn accept(&mut self, order_id: Option<String>) {
        self.applied = Applied::Yes;
        self.op.status = OperationStatus::Pending;
        if order_id.is_some() {
            self.op.upstream_order_id = order_id;
        }
    }

    /// The platform refused or failed the order: nothing was applied.
    pub fn fail(&mut self, problem: Problem, retryable: bool) {
        self.applied = Applied::No;
        self.retryable = retryable;
        self.op.status = OperationStatus::Failed;
        self.op.completed_at = Some(Utc::now());
        self.op.error = Some(problem);
    }

    /// No definitive answer: the platform may have acted.
    pub fn unknown(&mut self, problem: Problem) {
        self.applied = Applied::Unknown;
        self.op.status = OperationStatus::Unknown;
        self.op.error = Some(problem);
    }

    pub fn target_id(&self) -> Option<&str> {
        self.op.target.as_ref().and_then(|t| t.id.as_deref())
    }
}

/// Loads an operation the tenant owns.
pub async fn load(state: &AppState, tenant: &TenantId, id: &str) -> Result<Option<StoredOperation>, StoreError> {
    load_in(state.ownership.as_ref(), tenant, id).await
}

async fn load_in(
    docs: &dyn OwnershipStore,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<StoredOperation>, StoreError> {
    match docs.get_doc(tenant, ObjectKind::Operation, id).await? {
        None => Ok(None),
        Some(doc) => serde_json::from_value(doc).map(Some).map_err(|e| StoreError::Corrupt(e.to_string())),
    }
}

fn tenant_of(op: &StoredOperation) -> Result<TenantId, ApiError> {
    op.tenant_id().ok_or_else(|| ApiError::internal("operation without a valid tenant"))
}

/// Writes `op` if the stored version is still `op.version` (0 = absent); bumps the version.
/// `false`: someone else changed it first (reload and decide again). The first write creates the
/// operation with its index entry and its by-request-number lookup in one store step.
pub async fn commit(state: &AppState, op: &mut StoredOperation) -> Result<bool, ApiError> {
    commit_in(state.ownership.as_ref(), op).await
}

async fn commit_in(docs: &dyn OwnershipStore, op: &mut StoredOperation) -> Result<bool, ApiError> {
    let tenant = tenant_of(op)?;
    let expect = op.version;
    op.version = expect + 1;
    let doc = serde_json::to_value(&*op).map_err(ApiError::internal)?;
    let written = if expect == 0 {
        let meta = ObjectMeta { created_ms: op.op.created_at.timestamp_millis(), ..Default::default() };
        // Webhooks name the request number only: index it (the tenant is part of the number itself).
        let aliases = [(req_no_doc_id(&op.op.user_req_no), serde_json::json!({ "op_id": op.op.id }))];
        docs.create_doc(&tenant, ObjectKind::Operation, &op.op.id, &doc, &meta, &aliases).await
    } else {
        docs.swap_doc(&tenant, ObjectKind::Operation, &op.op.id, expect, &doc).await
    };
    match written {
        Ok(true) => Ok(true),
        Ok(false) => {
            op.version = expect;
            Ok(false)
        }
        Err(e) => {
            op.version = expect;
            Err(e.into())
        }
    }
}

/// Applies `change` to the operation and commits it, re-reading and re-applying when another path
/// (a webhook, a concurrent read) changed it in between. `change` sees the freshest copy and returns
/// `false` to leave it as it is (e.g. it is already settled).
pub async fn transition(
    state: &AppState,
    op: &mut StoredOperation,
    change: impl FnMut(&mut StoredOperation) -> bool,
) -> Result<(), ApiError> {
    transition_in(state.ownership.as_ref(), op, change).await
}

/// [`transition`] on the documents of `docs` (for work that outlives the request's `AppState` borrow).
pub async fn transition_in(
    docs: &dyn OwnershipStore,
    op: &mut StoredOperation,
    mut change: impl FnMut(&mut StoredOperation) -> bool,
) -> Result<(), ApiError> {
    for _ in 0..16 {
        if !change(op) {
            return Ok(());
        }
        if commit_in(docs, op).await? {
            return Ok(());
        }
        let tenant = tenant_of(op)?;
        match load_in(docs, &tenant, &op.op.id).await? {
            Some(fresh) => *op = fresh,
            None => return Err(ApiError::internal("an operation disappeared while it was being settled")),
        }
    }
    Err(ApiError::internal("an operation kept changing while it was being settled"))
}

fn req_no_doc_id(user_req_no: &str) -> String {
    format!("by-req:{user_req_no}")
}

/// Finds the operation of a platform request number (tenant read back from the number itself).
pub async fn load_by_user_req_no(state: &AppState, user_req_no: &str) -> Result<Option<StoredOperation>, StoreError> {
    let Some(tenant) = state.req_nos.tenant_of(user_req_no) else { return Ok(None) };
    let Some(index) = state.ownership.get_doc(&tenant, ObjectKind::Operation, &req_no_doc_id(user_req_no)).await?
    else {
        return Ok(None);
    };
    let Some(op_id) = index.get("op_id").and_then(|v| v.as_str()) else { return Ok(None) };
    load(state, &tenant, op_id).await
}

/// An object an operation created, to record as the operation's tenant's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub kind: ObjectKind,
    pub id: String,
    /// Non-sensitive attributes kept with the ownership record (currency, group, cardholder).
    pub attrs: Vec<(&'static str, String)>,
    /// The caller's `metadata`, kept with the ownership record.
    pub metadata: std::collections::BTreeMap<String, String>,
}

impl Created {
    pub fn new(kind: ObjectKind, id: impl Into<String>) -> Self {
        Self { kind, id: id.into(), attrs: Vec::new(), metadata: Default::default() }
    }

    pub fn metadata(mut self, metadata: &std::collections::BTreeMap<String, String>) -> Self {
        self.metadata = metadata.clone();
        self
    }

    pub fn attr(mut self, name: &'static str, value: Option<&str>) -> Self {
        if let Some(v) = value {
            self.attrs.push((name, v.to_owned()));
        }
        self
    }
}

/// Records an object the operation created as the operation's tenant's and makes it the
/// operation's target. A claim refused because another tenant already owns the id is an internal
/// error: the platform issued the same id twice.
pub async fn claim_created(state: &AppState, op: &mut StoredOperation, created: &Created) -> Result<(), ApiError> {
    let tenant = tenant_of(op)?;
    let attrs = created.attrs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    let meta =
        ObjectMeta { created_ms: op.op.created_at.timestamp_millis(), attrs, metadata: created.metadata.clone() };
    if !state.ownership.claim(&tenant, created.kind, &created.id, &meta).await? {
        tracing::error!(operation.id = %op.op.id, object.kind = created.kind.as_str(), "a created object is already owned by another tenant");
        return Err(ApiError::internal("ownership conflict on a created object"));
    }
    op.op.target = Some(OperationTarget { kind: created.kind.as_str().to_owned(), id: Some(created.id.clone()) });
    Ok(())
}
