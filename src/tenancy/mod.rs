//! Tenancy: tenant ids, who owns which upstream object, the upstream request numbers that carry the
//! tenant, and tamper-evident list cursors. The upstream knows nothing of tenants: this is the only
//! place isolation exists.

pub mod cached;
pub mod cursor;
pub mod memory;
pub mod ownership;
pub mod rebuild;
pub mod redis;
pub mod req_no;
pub mod tenant;

pub use ownership::{ObjectKind, ObjectMeta, OwnershipStore};
pub use req_no::ReqNos;
pub use tenant::TenantId;
