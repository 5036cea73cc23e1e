//! The operation lifecycle shared by every state-changing route, the operations routes, the
//! idempotency layer's recovery and the webhook receiver: create the record, send, settle the
//! outcome (succeeded / failed / pending / unknown), and finish pending ones from the platform's
//! order status.

pub mod caps;
pub mod outcome;
pub mod record;
pub mod resolve;
pub mod write;

pub use outcome::IdemOutcome;
pub use record::StoredOperation;
pub use write::WriteCtx;
