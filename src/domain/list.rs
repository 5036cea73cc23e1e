//! Cursor pagination: `?limit=&cursor=` → `{"data": [...], "next_cursor": "..."|null}`.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::validate::{Validate, Violations};

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

/// Ids are opaque, but bounded: 1–64 characters of `[A-Za-z0-9_-]`. Anything else cannot be ours.
pub fn is_id(s: &str) -> bool {
    crate::http::rules::ID.matches(s)
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page size, 1–100 (default 20). Each object on the page is read from the card platform and
    /// charged as one request of the tenant's `read` rate limit; a page the allowance cannot cover
    /// is refused whole (429 + `Retry-After`) before any platform call.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl ListQuery {
    pub fn limit(&self) -> usize {
        self.limit.unwrap_or(DEFAULT_LIMIT)
    }
}

impl Validate for ListQuery {
    fn validate(&self, v: &mut Violations) {
        if let Some(l) = self.limit {
            v.check((1..=MAX_LIMIT).contains(&l), "query.limit", "must be between 1 and 100");
        }
        if let Some(c) = &self.cursor {
            crate::http::rules::CURSOR.check(v, Some(c), "query.cursor");
        }
    }
}

/// A page of results.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    pub data: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}
