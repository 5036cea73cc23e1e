//! HTTP plumbing shared by all routes: body/query extractors with exact error locations, validation,
//! request ids, and the framework's own rejections turned into problems.

pub mod cors;
pub mod extract;
pub mod fallback;
pub mod log_value;
pub mod pagination;
pub mod request_id;
pub mod rules;
pub mod validate;
