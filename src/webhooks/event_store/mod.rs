//! Event log backends: in-process (development, single replica) and Redis streams (durable, shared by
//! replicas). Both meet the contract in `contract_tests`.

pub mod memory;
pub mod redis;

#[cfg(test)]
mod contract_tests;
