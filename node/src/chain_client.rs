//! A typed JSON-RPC client for a Sutantra node.
//!
//! It speaks the standard Substrate RPC over WebSocket and encodes and decodes with the
//! runtime's own types, so a call, an event or a storage value can never drift from what the
//! chain runs. The end-to-end tests use it, and so do the node's command-line clients.

use codec::{Decode, Encode};
use jsonrpsee::{
	core::client::{ClientT, SubscriptionClientT},
	rpc_params,
	ws_client::{WsClient, WsClientBuilder},
};
use sc_transaction_pool_api::TransactionStatus;
use sp_core::{sr25519, storage::StorageKey, Bytes, Pair};
use sp_runtime::traits::Header as _;
use sutantra_runtime::{
	AccountId, Balance, BlockNumber, Hash, Header, Nonce, Runtime, RuntimeCall, RuntimeEvent,
};

use crate::extrinsic::{self, SigningContext};

/// How long a signed transaction stays valid, in blocks.
const MORTALITY_PERIOD: u64 = 64;

/// What went wrong talking to a node, worded for the person who has to fix it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
	#[error("cannot reach a Sutantra node at {url}: {source}. Is the node running, and is the URL right?")]
	Connect { url: String, source: jsonrpsee::core::ClientError },
	#[error("the node failed to answer `{method}`: {source}")]
	Rpc { method: &'static str, source: jsonrpsee::core::ClientError },
	#[error("cannot decode {what} from the node's answer: {source}. Is this node running the Sutantra runtime this client was built for?")]
	Decode { what: &'static str, source: codec::Error },
	#[error("the node rejected the transaction: {0}")]
	Rejected(String),
	#[error("the transaction was included in block {block:?} but failed: {error}")]
	Failed { block: Hash, error: String },
	#[error("the node's transaction status stream ended before the transaction was {0}")]
	StreamEnded(&'static str),
	#[error("the node has no block {0:?}")]
	UnknownBlock(Hash),
}

/// How long to follow a submitted transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitFor {
	/// Until it is in a block of the best chain.
	InBlock,
	/// Until that block is final.
	Finalized,
}

/// How far a submitted transaction has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxProgress {
	/// The node accepted it into its pool; this is its hash.
	Submitted(Hash),
	/// It is in this block of the best chain.
	InBlock(Hash),
	/// That block is final.
	Finalized(Hash),
}

/// A transaction that made it into a block.
#[derive(Debug, Clone)]
pub struct Included {
	/// The block it is in.
	pub block_hash: Hash,
	/// Its hash.
	pub extrinsic_hash: Hash,
	/// The events it emitted, in order (fee payment and `ExtrinsicSuccess` included).
	pub events: Vec<RuntimeEvent>,
}

/// What `system_health` answers.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
	/// Connected peers.
	pub peers: u64,
	/// Whether the node is catching up with the network.
	pub is_syncing: bool,
	/// Whether the node expects to have peers (false on a single-node dev chain).
	pub should_have_peers: bool,
}

/// A connection to one node.
pub struct ChainClient {
	rpc: WsClient,
	genesis_hash: Hash,
	spec_version: u32,
	transaction_version: u32,
}

/// The part of `state_getRuntimeVersion`'s answer a signer needs.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuntimeVersionJson {
	spec_version: u32,
	transaction_version: u32,
}

impl ChainClient {
	/// Connects to the node's WebSocket RPC endpoint, e.g. `ws://127.0.0.1:9944`.
	pub async fn connect(url: &str) -> Result<Self, Error> {
		let rpc = WsClientBuilder::default()
			.build(url)
			.await
			.map_err(|source| Error::Connect { url: url.to_string(), source })?;
		let genesis_hash: Hash = request(&rpc, "chain_getBlockHash", rpc_params![0u32]).await?;
		let version: RuntimeVersionJson =
			request(&rpc, "state_getRuntimeVersion", rpc_params![]).await?;
		Ok(Self {
			rpc,
			genesis_hash,
			spec_version: version.spec_version,
			transaction_version: version.transaction_version,
		})
	}

	/// Hash of block 0.
	pub fn genesis_hash(&self) -> Hash {
		self.genesis_hash
	}

	/// The node's chain properties (`tokenSymbol`, `tokenDecimals`, `ss58Format`).
	pub async fn properties(&self) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
		request(&self.rpc, "system_properties", rpc_params![]).await
	}

	/// The node's libp2p peer id.
	pub async fn local_peer_id(&self) -> Result<String, Error> {
		request(&self.rpc, "system_localPeerId", rpc_params![]).await
	}

	/// The node's health: peers, whether it is syncing.
	pub async fn health(&self) -> Result<Health, Error> {
		request(&self.rpc, "system_health", rpc_params![]).await
	}

	/// The chain's name, as the chain spec gives it.
	pub async fn chain_name(&self) -> Result<String, Error> {
		request(&self.rpc, "system_chain", rpc_params![]).await
	}

	/// The header of the best block.
	pub async fn best_header(&self) -> Result<Header, Error> {
		request(&self.rpc, "chain_getHeader", rpc_params![]).await
	}

	/// The number of the best block.
	pub async fn best_number(&self) -> Result<BlockNumber, Error> {
		Ok(*self.best_header().await?.number())
	}

	/// The number of the newest finalised block.
	pub async fn finalized_number(&self) -> Result<BlockNumber, Error> {
		let hash: Hash = request(&self.rpc, "chain_getFinalizedHead", rpc_params![]).await?;
		let header: Option<Header> =
			request(&self.rpc, "chain_getHeader", rpc_params![hash]).await?;
		Ok(*header.ok_or(Error::UnknownBlock(hash))?.number())
	}

	/// Reads and decodes a storage value; `None` when it is not set. `at = None` is the best block.
	pub async fn storage<T: Decode>(
		&self,
		key: Vec<u8>,
		at: Option<Hash>,
		what: &'static str,
	) -> Result<Option<T>, Error> {
		let data: Option<Bytes> =
			request(&self.rpc, "state_getStorage", rpc_params![StorageKey(key), at]).await?;
		data.map(|bytes| T::decode(&mut &bytes[..]).map_err(|source| Error::Decode { what, source }))
			.transpose()
	}

	/// An account's free balance at the best block.
	pub async fn free_balance(&self, account: &AccountId) -> Result<Balance, Error> {
		self.free_balance_at_block(account, None).await
	}

	/// An account's free balance at block `at`.
	pub async fn free_balance_at(&self, account: &AccountId, at: Hash) -> Result<Balance, Error> {
		self.free_balance_at_block(account, Some(at)).await
	}

	async fn free_balance_at_block(
		&self,
		account: &AccountId,
		at: Option<Hash>,
	) -> Result<Balance, Error> {
		let key = frame_system::Account::<Runtime>::hashed_key_for(account);
		let info: Option<frame_system::AccountInfo<Nonce, pallet_balances::AccountData<Balance>>> =
			self.storage(key, at, "an account").await?;
		Ok(info.map(|info| info.data.free).unwrap_or_default())
	}

	/// The hash of the best chain's block `number`.
	pub async fn block_hash(&self, number: BlockNumber) -> Result<Hash, Error> {
		let hash: Option<Hash> = request(&self.rpc, "chain_getBlockHash", rpc_params![number]).await?;
		hash.ok_or_else(|| Error::Rejected(format!("the node has no block {number}")))
	}

	/// The nonce the account's next transaction needs, counting those waiting in the pool.
	pub async fn next_nonce(&self, account: &AccountId) -> Result<Nonce, Error> {
		request(&self.rpc, "system_accountNextIndex", rpc_params![account.to_string()]).await
	}

	/// Signs `call` as `signer`, submits it, and follows it until `wait_for`.
	///
	/// A transaction that is included but fails (`ExtrinsicFailed`) is an error carrying the
	/// runtime's reason.
	pub async fn submit(
		&self,
		signer: &sr25519::Pair,
		call: RuntimeCall,
		wait_for: WaitFor,
	) -> Result<Included, Error> {
		self.submit_with_progress(signer, call, wait_for, &mut |_| {}).await
	}

	/// [`ChainClient::submit`], telling `progress` of each step the transaction takes.
	pub async fn submit_with_progress(
		&self,
		signer: &sr25519::Pair,
		call: RuntimeCall,
		wait_for: WaitFor,
		progress: &mut (dyn FnMut(TxProgress) + Send),
	) -> Result<Included, Error> {
		let account: AccountId = signer.public().into();
		let nonce = self.next_nonce(&account).await?;
		let best = self.best_header().await?;
		let context = SigningContext {
			genesis_hash: self.genesis_hash,
			spec_version: self.spec_version,
			transaction_version: self.transaction_version,
			mortality: Some((MORTALITY_PERIOD, u64::from(*best.number()), best.hash())),
		};
		let signed = extrinsic::sign(signer, call, nonce, &context);
		let extrinsic_hash = extrinsic::hash(&signed);

		let mut statuses = self
			.rpc
			.subscribe::<TransactionStatus<Hash, Hash>, _>(
				"author_submitAndWatchExtrinsic",
				rpc_params![Bytes(signed.encode())],
				"author_unwatchExtrinsic",
			)
			.await
			.map_err(|source| Error::Rejected(source.to_string()))?;
		progress(TxProgress::Submitted(extrinsic_hash));

		while let Some(status) = statuses.next().await {
			let status = status.map_err(|source| Error::Rpc {
				method: "author_submitAndWatchExtrinsic",
				source: source.into(),
			})?;
			let block_hash = match status {
				TransactionStatus::InBlock((hash, _)) if wait_for == WaitFor::InBlock => {
					progress(TxProgress::InBlock(hash));
					hash
				},
				TransactionStatus::InBlock((hash, _)) => {
					progress(TxProgress::InBlock(hash));
					continue;
				},
				TransactionStatus::Finalized((hash, _)) => {
					progress(TxProgress::Finalized(hash));
					hash
				},
				TransactionStatus::Invalid => {
					return Err(Error::Rejected("it became invalid (stale nonce or era?)".into()))
				},
				TransactionStatus::Dropped => {
					return Err(Error::Rejected("the pool dropped it (pool full?)".into()))
				},
				TransactionStatus::Usurped(by) => {
					return Err(Error::Rejected(format!("replaced by transaction {by:?}")))
				},
				TransactionStatus::FinalityTimeout(block) => {
					return Err(Error::Rejected(format!(
						"in block {block:?}, but that block was not finalised in time"
					)))
				},
				_ => continue,
			};
			let events = self.extrinsic_events(block_hash, extrinsic_hash).await?;
			return Ok(Included { block_hash, extrinsic_hash, events });
		}
		Err(Error::StreamEnded(match wait_for {
			WaitFor::InBlock => "in a block",
			WaitFor::Finalized => "finalised",
		}))
	}

	/// All event records of a block.
	pub async fn block_events(
		&self,
		block_hash: Hash,
	) -> Result<Vec<frame_system::EventRecord<RuntimeEvent, Hash>>, Error> {
		let key = plain_storage_key("System", "Events");
		Ok(self.storage(key, Some(block_hash), "the block's events").await?.unwrap_or_default())
	}

	/// The events one extrinsic emitted; its failure, if it failed, as an error.
	async fn extrinsic_events(
		&self,
		block_hash: Hash,
		extrinsic_hash: Hash,
	) -> Result<Vec<RuntimeEvent>, Error> {
		#[derive(serde::Deserialize)]
		struct BlockJson {
			extrinsics: Vec<Bytes>,
		}
		#[derive(serde::Deserialize)]
		struct SignedBlockJson {
			block: BlockJson,
		}
		let block: Option<SignedBlockJson> =
			request(&self.rpc, "chain_getBlock", rpc_params![block_hash]).await?;
		let block = block.ok_or(Error::UnknownBlock(block_hash))?;
		let index = block
			.block
			.extrinsics
			.iter()
			.position(|xt| sp_crypto_hashing::blake2_256(xt) == extrinsic_hash.0)
			.ok_or(Error::UnknownBlock(block_hash))? as u32;

		let mut events = Vec::new();
		for record in self.block_events(block_hash).await? {
			if record.phase != frame_system::Phase::ApplyExtrinsic(index) {
				continue;
			}
			if let RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
				dispatch_error,
				..
			}) = &record.event
			{
				return Err(Error::Failed { block: block_hash, error: describe_dispatch_error(dispatch_error) });
			}
			events.push(record.event);
		}
		Ok(events)
	}

	/// What signing an immortal transaction for this chain takes (for tools that sign many
	/// transactions at once, with nonces of their own).
	pub fn signing_context(&self) -> SigningContext {
		SigningContext {
			genesis_hash: self.genesis_hash,
			spec_version: self.spec_version,
			transaction_version: self.transaction_version,
			mortality: None,
		}
	}

	/// Hands an encoded transaction to the node's pool without following it; returns its hash.
	pub async fn submit_encoded(&self, extrinsic: Vec<u8>) -> Result<Hash, Error> {
		request(&self.rpc, "author_submitExtrinsic", rpc_params![Bytes(extrinsic)]).await
	}

	/// Writes `value` under `key` in the node's persistent offchain storage, where its offchain
	/// workers read (an unsafe RPC method: the node must allow it, as a local dev node does).
	pub async fn set_offchain_storage(&self, key: &[u8], value: &[u8]) -> Result<(), Error> {
		request(
			&self.rpc,
			"offchain_localStorageSet",
			rpc_params!["PERSISTENT", Bytes(key.to_vec()), Bytes(value.to_vec())],
		)
		.await
	}

	/// Whether the node's keystore holds the private keys of `keys` (SCALE of the runtime's
	/// session keys). An unsafe RPC method: a node allows it on its local RPC by default.
	pub async fn has_session_keys(&self, keys: &[u8]) -> Result<bool, Error> {
		request(&self.rpc, "author_hasSessionKeys", rpc_params![Bytes(keys.to_vec())]).await
	}

	/// Has the node make new session keys, with a proof that `owner` owns them (an unsafe RPC
	/// method: a node answers it on its local RPC by default). The keys are SCALE of the
	/// runtime's session keys; the proof is `None` from a node whose runtime makes none.
	pub async fn rotate_keys_with_owner(
		&self,
		owner: &AccountId,
	) -> Result<(Vec<u8>, Option<Vec<u8>>), Error> {
		#[derive(serde::Deserialize)]
		struct Generated {
			keys: Bytes,
			#[serde(default)]
			proof: Option<Bytes>,
		}
		let generated: Generated = request(
			&self.rpc,
			"author_rotateKeysWithOwner",
			rpc_params![Bytes(owner.encode())],
		)
		.await?;
		Ok((generated.keys.0, generated.proof.map(|proof| proof.0)))
	}

	/// The node's roles: `Authority` for a node started with --validator, else `Full`.
	pub async fn node_roles(&self) -> Result<Vec<String>, Error> {
		request(&self.rpc, "system_nodeRoles", rpc_params![]).await
	}

	/// Calls a runtime API function through `state_call` and decodes its answer.
	pub async fn runtime_call<T: Decode>(
		&self,
		function: &str,
		args: impl Encode,
		at: Option<Hash>,
		what: &'static str,
	) -> Result<T, Error> {
		let answer: Bytes =
			request(&self.rpc, "state_call", rpc_params![function, Bytes(args.encode()), at])
				.await?;
		T::decode(&mut &answer[..]).map_err(|source| Error::Decode { what, source })
	}
}

/// A runtime error in words: a pallet's error by name with its documentation, e.g.
/// `Streams.NotCreator: only the stream's creator may do this`.
pub fn describe_dispatch_error(error: &sp_runtime::DispatchError) -> String {
	let sp_runtime::DispatchError::Module(module) = error else {
		return format!("{error:?}");
	};
	let named = match module.index {
		4 => module_error::<pallet_balances::Error<Runtime>>("Balances", &module.error),
		7 => module_error::<pallet_streams::Error<Runtime>>("Streams", &module.error),
		8 => module_error::<pallet_payments::Error<Runtime>>("Payments", &module.error),
		10 => module_error::<pallet_collator_selection::Error<Runtime>>(
			"CollatorSelection",
			&module.error,
		),
		11 => module_error::<pallet_session::Error<Runtime>>("Session", &module.error),
		14 => module_error::<pallet_validators::Error<Runtime>>("Validators", &module.error),
		_ => None,
	};
	named.unwrap_or_else(|| format!("{error:?}"))
}

fn module_error<E: scale_info::TypeInfo + 'static>(pallet: &str, bytes: &[u8; 4]) -> Option<String> {
	let scale_info::TypeDef::Variant(def) = E::type_info().type_def else { return None };
	let variant = def.variants.iter().find(|variant| variant.index == bytes[0])?;
	let docs = variant.docs.join(" ");
	Some(if docs.is_empty() {
		format!("{pallet}.{}", variant.name)
	} else {
		format!("{pallet}.{}: {}", variant.name, docs.trim())
	})
}

/// The storage key of a pallet's plain (non-map) storage value.
pub fn plain_storage_key(pallet: &str, item: &str) -> Vec<u8> {
	let mut key = sp_crypto_hashing::twox_128(pallet.as_bytes()).to_vec();
	key.extend_from_slice(&sp_crypto_hashing::twox_128(item.as_bytes()));
	key
}

async fn request<T: serde::de::DeserializeOwned>(
	rpc: &WsClient,
	method: &'static str,
	params: jsonrpsee::core::params::ArrayParams,
) -> Result<T, Error> {
	rpc.request(method, params).await.map_err(|source| Error::Rpc { method, source })
}
