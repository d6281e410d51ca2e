//! The bridge between Sutantra's chain and its streaming engine.
//!
//! - [`bridge`]: chain events and chain time become streaming commands (end a stream, drop a
//!   viewer), and paying viewers are held to their payments;
//! - [`ledger`]: what each payer owes each creator on this node, across sessions;
//! - [`metrics`]: the bridge's figures on the node's Prometheus registry;
//! - [`payments`]: the payment desk that checks and answers every voucher;
//! - [`policy`]: the engine's access gate, answered by the runtime at the best block;
//! - [`relay`]: relaying streams published on other nodes, found through the chain's registry,
//!   and the discovery of live streams;
//! - [`statement`]: the signed statements publishers and viewers present as bearer tokens, and
//!   their verification (signature, freshness, single use);
//! - [`vouchers`]: payments in flight: local checks of viewers' vouchers on this node's lane and
//!   their durable hand-off to the offchain worker.

pub mod bridge;
pub mod ledger;
pub mod metrics;
pub mod payments;
pub mod policy;
pub mod relay;
pub mod statement;
pub mod vouchers;

/// The log target of the bridge.
pub const LOG_TARGET: &str = "sutantra::integration";

/// Runs `work` (runtime calls, database reads, the voucher journal's fsync) on the blocking
/// thread pool and waits for it: such work never holds one of the async executor's threads,
/// which serve every WebRTC session and HTTP request of the node. `Err` if `work` panicked.
pub(crate) async fn off_executor<R: Send + 'static>(
	work: impl FnOnce() -> R + Send + 'static,
) -> Result<R, String> {
	tokio::task::spawn_blocking(work).await.map_err(|error| {
		log::error!(target: LOG_TARGET, "a blocking task failed: {error}");
		format!("the node failed while asking the chain: {error}")
	})
}
