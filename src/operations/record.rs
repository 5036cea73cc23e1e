//! The stored operation: the public `Operation` plus what finishing it needs.

use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::{
    domain::operation::{Operation, OperationKind, OperationStatus, OperationTarget},
    error::{ApiError, Problem},
    state::AppState,
    storage::StoreError,
    tenancy::{ObjectKind, ObjectMeta, TenantId},
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
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredOperation {
    pub tenant: String,
    pub op: Operation,
    #[serde(default)]
    pub context: OpContext,
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
        }
    }

    pub fn tenant_id(&self) -> Option<TenantId> {
        TenantId::parse(&self.tenant)
    }

    pub fn succeed(&mut self, result: Option<serde_json::Value>) {
        self.op.status = OperationStatus::Succeeded;
        self.op.completed_at = Some(Utc::now());
        if result.is_some() {
            self.op.result = result;
        }
        self.op.error = None;
    }

    pub fn fail(&mut self, problem: Problem) {
        self.op.status = OperationStatus::Failed;
        self.op.completed_at = Some(Utc::now());
        self.op.error = Some(problem);
    }

    pub fn target_id(&self) -> Option<&str> {
        self.op.target.as_ref().and_then(|t| t.id.as_deref())
    }
}

/// Loads an operation the tenant owns.
pub async fn load(state: &AppState, tenant: &TenantId, id: &str) -> Result<Option<StoredOperation>, StoreError> {
    match state.ownership.get_doc(tenant, ObjectKind::Operation, id).await? {
        None => Ok(None),
        Some(doc) => serde_json::from_value(doc).map(Some).map_err(|e| StoreError::Corrupt(e.to_string())),
    }
}

/// Saves an operation (claiming its id for the tenant on first save).
pub async fn save(state: &AppState, op: &StoredOperation) -> Result<(), ApiError> {
    let tenant = op.tenant_id().ok_or_else(|| ApiError::internal("operation without a valid tenant"))?;
    let doc = serde_json::to_value(op).map_err(ApiError::internal)?;
    state.ownership.put_doc(&tenant, ObjectKind::Operation, &op.op.id, &doc).await?;
    let meta = ObjectMeta { created_ms: op.op.created_at.timestamp_millis(), attrs: Default::default() };
    if !state.ownership.claim(&tenant, ObjectKind::Operation, &op.op.id, &meta).await? {
        return Err(ApiError::internal("operation id collision across tenants"));
    }
    // Webhooks name the request number only: index it (the tenant is part of the number itself).
    let index = serde_json::json!({ "op_id": op.op.id });
    state.ownership.put_doc(&tenant, ObjectKind::Operation, &req_no_doc_id(&op.op.user_req_no), &index).await?;
    Ok(())
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

/// Records an object the operation just created as the operation's tenant's (with a few
/// non-sensitive attributes) and makes it the operation's target. A claim refused because another
/// tenant already owns the id is an internal error: the platform issued the same id twice.
pub async fn claim_created(
    state: &AppState,
    op: &mut StoredOperation,
    kind: ObjectKind,
    id: &str,
    attrs: &[(&str, Option<&str>)],
) -> Result<(), ApiError> {
    let tenant = op.tenant_id().ok_or_else(|| ApiError::internal("operation without a valid tenant"))?;
    let attrs = attrs.iter().filter_map(|(k, v)| v.map(|v| ((*k).to_owned(), v.to_owned()))).collect();
    let meta = ObjectMeta { created_ms: op.op.created_at.timestamp_millis(), attrs };
    if !state.ownership.claim(&tenant, kind, id, &meta).await? {
        tracing::error!(operation.id = %op.op.id, object.kind = kind.as_str(), "a created object is already owned by another tenant");
        return Err(ApiError::internal("ownership conflict on a created object"));
    }
    op.op.target = Some(OperationTarget { kind: kind.as_str().to_owned(), id: Some(id.to_owned()) });
    Ok(())
}
