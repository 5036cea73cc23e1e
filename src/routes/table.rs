//! The route policy types, where the `routes!` list and its tests have always found them; they live
//! in the leaf [`crate::policy`], which the middlewares read without importing `routes`.

pub use crate::policy::{Access, RouteClass, RoutePolicy, RouteTable};
