//! The Sutantra node as a library: the `sutantra-node` binary is a thin `main` over
//! [`command::run`], and the integration tests and command-line clients reuse the typed
//! JSON-RPC client in [`chain_client`].

pub mod benchmarking;
pub mod chain_client;
pub mod chain_spec;
pub mod cli;
pub mod client;
pub mod command;
pub mod extrinsic;
pub mod rpc;
pub mod service;
