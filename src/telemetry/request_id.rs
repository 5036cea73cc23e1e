//! The current request's id: the `X-Request-Id` header name and the task-local the request-id
//! middleware (`http::request_id`) sets for the whole request. A leaf of the tracing set-up, so that
//! problem bodies (`error`) and platform calls (`upstream`, which forwards it) read it from below.

/// The header that carries the id, in and out (and on every platform call).
pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    /// The current request's id, set by the request-id middleware for the whole request.
    pub static REQUEST_ID: String;
}

/// The current request id, or `-` outside a request.
pub fn current() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_else(|_| "-".to_owned())
}
