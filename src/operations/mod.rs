//! The operation lifecycle shared by every state-changing route, the operations routes, the
//! idempotency layer and the webhook receiver: one write pipeline (`pipeline::run`) that records,
//! sends, and settles each operation by what the platform did (`upstream::Applied`), and finishes
//! pending or unknown ones from the platform's view of the order.

pub mod caps;
pub mod ctx;
pub mod pipeline;
pub mod record;
pub mod resolve;

pub use ctx::WriteCtx;
pub use pipeline::{Sent, SuccessView, WriteSpec, run};
pub use record::{Created, StoredOperation};
