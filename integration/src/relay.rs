//! Relaying and discovery over the chain's registry.
//!
//! Every stream on chain may name its origin: the streaming endpoint of the node its creator
//! publishes to (`update_stream(.., origin_endpoint)`). A node with relaying on pulls a stream it
//! does not have from that origin, presenting a watch statement signed by its relay account; the
//! origin admits it like any viewer, so the creator decides which relays may carry the stream
//! (by granting that account access). Every `discovery_interval_seconds` the node re-reads the
//! live streams from the chain into the engine's directory (`GET /directory`).

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use pallet_streams_runtime_api::{StreamStatus, StreamsApi};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::{sr25519, Pair};
use sutantra_runtime::{apis::StreamInfo, opaque::Block, AccountId, BlockNumber};
use sutantra_streaming::client::{Reach, Signalling};
use sutantra_streaming::{DirectoryEntry, Engine, StreamId, Upstream, UpstreamLocator};

use crate::statement::{Purpose, Statement};

/// Live streams read per runtime call while discovering.
const PAGE: u32 = 200;

/// The account a relay pulls streams as: it signs the relay's watch statements.
pub trait RelaySigner: Send + Sync {
	/// The relay's account.
	fn account(&self) -> AccountId;
	/// An sr25519 signature of `payload` by that account, if the key is at hand.
	fn sign(&self, payload: &[u8]) -> Option<[u8; 64]>;
}

impl RelaySigner for sr25519::Pair {
	fn account(&self) -> AccountId {
		self.public().into()
	}

	fn sign(&self, payload: &[u8]) -> Option<[u8; 64]> {
		Some(Pair::sign(self, payload).0)
	}
}

/// Finds a stream's origin node on chain and signs the relay's watch statement for it.
pub struct ChainUpstreams<C> {
	client: Arc<C>,
	relay_key: Box<dyn RelaySigner>,
	genesis_hash: Vec<u8>,
	/// This node's own streaming endpoints, never pulled from.
	own_endpoints: Vec<String>,
	/// Which origins may be asked (public ones only, unless the operator allows private ones).
	reach: Reach,
}

impl<C> ChainUpstreams<C> {
	/// Locates upstreams with `client`'s runtime, signing as `relay_key`; `own_endpoints` are the
	/// base URLs this node itself is reached at (a stream whose origin is one of them is not
	/// relayed, which would loop).
	pub fn new(
		client: Arc<C>,
		relay_key: Box<dyn RelaySigner>,
		genesis_hash: &[u8],
		own_endpoints: Vec<String>,
		reach: Reach,
	) -> Self {
		let own_endpoints = own_endpoints.iter().map(|url| normalize(url)).collect();
		Self { client, relay_key, genesis_hash: genesis_hash.to_vec(), own_endpoints, reach }
	}

	/// The network key of the node at `origin` (its `lane` in `GET /node`): the audience of the
	/// statement the relay presents there.
	async fn node_key(&self, origin: &str) -> Result<[u8; 32], String> {
		let url = format!("{}/node", normalize(origin));
		let node = Signalling::for_node(self.reach)
			.map_err(|error| error.to_string())?
			.get_json(&url)
			.await
			.map_err(|error| error.to_string())?;
		node.get("lane")
			.and_then(|lane| lane.as_str())
			.and_then(crate::vouchers::from_hex::<32>)
			.ok_or_else(|| format!("{url} names no node key"))
	}
}

/// A base URL without its trailing slashes.
fn normalize(url: &str) -> String {
	url.trim().trim_end_matches('/').to_owned()
}

/// The WHEP endpoint of stream `id` on the node whose base URL is `origin`, if `origin` is an
/// http(s) URL.
pub fn whep_endpoint(origin: &str, id: u64) -> Option<String> {
	let origin = normalize(origin);
	let rest = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"))?;
	(!rest.is_empty() && !rest.contains(char::is_whitespace)).then(|| format!("{origin}/whep/{id}"))
}

#[async_trait]
impl<C> UpstreamLocator for ChainUpstreams<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: StreamsApi<Block, AccountId, StreamInfo, BlockNumber>,
{
	async fn locate(&self, stream: &StreamId) -> Option<Upstream> {
		let id: u64 = stream.as_str().parse().ok()?;
		let client = self.client.clone();
		let info = crate::off_executor(move || {
			let best = client.info().best_hash;
			client.runtime_api().stream(best, id).ok().flatten()
		})
		.await
		.ok()??;
		if info.status != StreamStatus::Live {
			return None;
		}
		let origin = String::from_utf8(info.origin?.into_inner()).ok()?;
		if self.own_endpoints.contains(&normalize(&origin)) {
			return None;
		}
		let Some(endpoint) = whep_endpoint(&origin, id) else {
			log::debug!(target: crate::LOG_TARGET, "stream {id}'s origin `{origin}` is not an http(s) URL");
			return None;
		};
		let node = match self.node_key(&origin).await {
			Ok(node) => node,
			Err(error) => {
				log::info!(target: crate::LOG_TARGET, "stream {id}'s origin cannot be relayed: {error}");
				return None;
			},
		};
		let statement = Statement::new(self.relay_key.account(), id, Purpose::Watch, node);
		let Some(signature) = self.relay_key.sign(&statement.payload(&self.genesis_hash)) else {
			log::warn!(target: crate::LOG_TARGET, "the relay's key is not in the keystore any more; stream {id} is not relayed");
			return None;
		};
		Some(Upstream { endpoint, token: Some(statement.token(&signature)) })
	}
}

/// The live streams on chain at the best block, as directory entries.
pub fn live_streams<C>(client: &C) -> Result<Vec<DirectoryEntry>, sp_api::ApiError>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block>,
	C::Api: StreamsApi<Block, AccountId, StreamInfo, BlockNumber>,
{
	let best = client.info().best_hash;
	let mut entries = Vec::new();
	let mut cursor = None;
	loop {
		let (page, next) = client.runtime_api().live_streams(best, cursor, PAGE)?;
		for (id, info) in page {
			entries.push(DirectoryEntry {
				stream: StreamId::from(id),
				title: String::from_utf8_lossy(&info.title).into_owned(),
				origin: info.origin.map(|origin| String::from_utf8_lossy(&origin).into_owned()),
				here: false,
			});
		}
		match next {
			Some(next) => cursor = Some(next),
			None => return Ok(entries),
		}
	}
}

/// Refreshes the engine's directory from the chain every `interval`, for ever.
pub async fn discover<C>(client: Arc<C>, engine: Engine, interval: Duration)
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: StreamsApi<Block, AccountId, StreamInfo, BlockNumber>,
{
	let mut ticks = tokio::time::interval(interval);
	ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
	loop {
		ticks.tick().await;
		let asking = client.clone();
		match crate::off_executor(move || live_streams(&*asking).map_err(|e| e.to_string()))
			.await
			.and_then(|entries| entries)
		{
			Ok(entries) => engine.set_directory(entries),
			Err(error) => {
				log::warn!(target: crate::LOG_TARGET, "reading the live streams for discovery failed: {error}")
			},
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn origins_become_whep_endpoints() {
		assert_eq!(
			whep_endpoint("http://10.0.0.1:8088/", 7).as_deref(),
			Some("http://10.0.0.1:8088/whep/7")
		);
		assert_eq!(
			whep_endpoint("https://node.example", 0).as_deref(),
			Some("https://node.example/whep/0")
		);
		for bad in ["ipfs://x", "", "http://", "node.example:8088", "http://a b"] {
			assert_eq!(whep_endpoint(bad, 1), None, "{bad}");
		}
	}
}
