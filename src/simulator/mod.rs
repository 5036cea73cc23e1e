//! Merchant simulator (see issue 2).
