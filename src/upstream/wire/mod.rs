//! The vendor's wire types: request and response bodies carried inside the envelope, with the vendor's
//! own field names. Never part of our public API. Every struct serialises and deserialises, because the
//! simulator speaks the other side of the same protocol.
//!
//! Decoding is lenient where the vendor is inconsistent (numbers vs strings, missing fields); unknown
//! fields are ignored so a vendor addition never breaks us.

pub mod account;
pub mod card;
pub mod cardholder;
pub mod common;
pub mod dpt;
pub mod group;
/// The lenient decoders live in a leaf (`sensitive` uses them too).
pub use crate::lenient;
pub mod order;
pub mod pcc;
pub mod webhook;
