//! The node service: database, networking, block production and finality, RPC, offchain
//! workers. Everything Sutantra runs beside the chain is spawned from here.

use std::{sync::Arc, time::Duration};

use codec::Decode;
use futures::{FutureExt, StreamExt};
use sc_client_api::{Backend, BlockBackend, StorageProvider};
use sc_consensus_aura::{ImportQueueParams, SlotProportion, StartAuraParams};
use sc_consensus_grandpa::SharedVoterState;
use sc_consensus_manual_seal::{
	consensus::aura::AuraConsensusDataProvider, EngineCommand, ManualSealParams,
};
use sc_service::{error::Error as ServiceError, Configuration, TaskManager, WarpSyncConfig};
use sc_telemetry::{Telemetry, TelemetryWorker};
use sc_transaction_pool_api::{OffchainTransactionPoolFactory, TransactionPool};
use sp_consensus_aura::sr25519::AuthorityPair as AuraPair;
use sp_core::storage::StorageKey;
use sp_runtime::traits::Block as BlockT;
use sutantra_runtime::{apis::RuntimeApi, opaque::Block};

use crate::{chain_client::plain_storage_key, cli::Consensus};

/// The host functions the runtime may call. A benchmarking build's runtime also imports the
/// benchmarking ones, so a node built with `runtime-benchmarks` can still run a chain.
#[cfg(not(feature = "runtime-benchmarks"))]
pub type HostFunctions = sp_io::SubstrateHostFunctions;
/// The host functions the runtime may call, with the benchmarking ones.
#[cfg(feature = "runtime-benchmarks")]
pub type HostFunctions =
	(sp_io::SubstrateHostFunctions, frame_benchmarking::benchmarking::HostFunctions);

/// The full client: native node code over the wasm runtime.
pub type FullClient =
	sc_service::TFullClient<Block, RuntimeApi, sc_executor::WasmExecutor<HostFunctions>>;
type FullBackend = sc_service::TFullBackend<Block>;
type FullSelectChain = sc_consensus::LongestChain<FullBackend, Block>;
type FullPool = sc_transaction_pool::TransactionPoolHandle<Block, FullClient>;
type GrandpaBlockImport =
	sc_consensus_grandpa::GrandpaBlockImport<FullBackend, Block, FullClient, FullSelectChain>;
type GrandpaLink = sc_consensus_grandpa::LinkHalf<Block, FullClient, FullSelectChain>;

/// The minimum period of blocks on which justifications will be imported and generated.
const GRANDPA_JUSTIFICATION_PERIOD: u32 = 512;

/// The consensus-specific half of the node's parts.
pub enum ConsensusParts {
	/// Aura imports through GRANDPA's block import, which tracks the authority set.
	Aura { block_import: GrandpaBlockImport, grandpa_link: GrandpaLink },
	/// Manual or instant sealing imports straight into the client.
	Sealing,
}

pub type Service = sc_service::PartialComponents<
	FullClient,
	FullBackend,
	FullSelectChain,
	sc_consensus::DefaultImportQueue<Block>,
	FullPool,
	(ConsensusParts, Option<Telemetry>),
>;

/// The node's parts that exist before networking starts; also used by the subcommands that
/// read or import blocks (`check-block`, `export-blocks`, `revert`, `benchmark`, ...).
pub fn new_partial(config: &Configuration, consensus: Consensus) -> Result<Service, ServiceError> {
	let telemetry = config
		.telemetry_endpoints
		.clone()
		.filter(|x| !x.is_empty())
		.map(|endpoints| -> Result<_, sc_telemetry::Error> {
			let worker = TelemetryWorker::new(16)?;
			let telemetry = worker.handle().new_telemetry(endpoints);
			Ok((worker, telemetry))
		})
		.transpose()?;

	let executor = sc_service::new_wasm_executor::<HostFunctions>(&config.executor);
	let (client, backend, keystore_container, task_manager) =
		sc_service::new_full_parts::<Block, RuntimeApi, _>(
			config,
			telemetry.as_ref().map(|(_, telemetry)| telemetry.handle()),
			executor,
			Vec::new(),
		)?;
	let client = Arc::new(client);

	let telemetry = telemetry.map(|(worker, telemetry)| {
		task_manager.spawn_handle().spawn("telemetry", None, worker.run());
		telemetry
	});

	let select_chain = sc_consensus::LongestChain::new(backend.clone());

	let transaction_pool = Arc::from(
		sc_transaction_pool::Builder::new(
			QuietWhenDropped(task_manager.spawn_essential_handle()),
			client.clone(),
			config.role.is_authority().into(),
		)
		.with_options(config.transaction_pool.clone())
		.with_prometheus(config.prometheus_registry())
		.build(),
	);

	let (import_queue, consensus_parts) = match consensus {
		Consensus::Aura => {
			let (block_import, grandpa_link) = sc_consensus_grandpa::block_import(
				client.clone(),
				GRANDPA_JUSTIFICATION_PERIOD,
				&client,
				select_chain.clone(),
				telemetry.as_ref().map(|x| x.handle()),
			)?;
			let cidp_client = client.clone();
			let import_queue =
				sc_consensus_aura::import_queue::<AuraPair, _, _, _, _, _>(ImportQueueParams {
					block_import: block_import.clone(),
					justification_import: Some(Box::new(block_import.clone())),
					client: client.clone(),
					create_inherent_data_providers: move |parent_hash, _| {
						let cidp_client = cidp_client.clone();
						async move {
							let slot_duration = sc_consensus_aura::standalone::slot_duration_at(
								&*cidp_client,
								parent_hash,
							)?;
							let timestamp = sp_timestamp::InherentDataProvider::from_system_time();
							let slot = sp_consensus_aura::inherents::InherentDataProvider::from_timestamp_and_slot_duration(
								*timestamp,
								slot_duration,
							);
							Ok((slot, timestamp))
						}
					},
					spawner: &task_manager.spawn_essential_handle(),
					registry: config.prometheus_registry(),
					check_for_equivocation: Default::default(),
					telemetry: telemetry.as_ref().map(|x| x.handle()),
					compatibility_mode: Default::default(),
				})?;
			(import_queue, ConsensusParts::Aura { block_import, grandpa_link })
		},
		Consensus::InstantSeal | Consensus::ManualSeal(_) => {
			let import_queue = sc_consensus_manual_seal::import_queue(
				Box::new(client.clone()),
				&task_manager.spawn_essential_handle(),
				config.prometheus_registry(),
			);
			(import_queue, ConsensusParts::Sealing)
		},
	};

	Ok(sc_service::PartialComponents {
		client,
		backend,
		task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (consensus_parts, telemetry),
	})
}

/// Builds and starts a full node.
pub async fn new_full<N: sc_network::NetworkBackend<Block, <Block as BlockT>::Hash>>(
	config: Configuration,
	consensus: Consensus,
	streaming: Option<StreamingSettings>,
) -> Result<TaskManager, ServiceError> {
	let sc_service::PartialComponents {
		client,
		backend,
		mut task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (consensus_parts, mut telemetry),
	} = new_partial(&config, consensus)?;

	let mut net_config = sc_network::config::FullNetworkConfiguration::<
		Block,
		<Block as BlockT>::Hash,
		N,
	>::new(&config.network, config.prometheus_registry().cloned());
	let metrics = N::register_notification_metrics(config.prometheus_registry());
	let peer_store_handle = net_config.peer_store_handle();

	let genesis_hash = client
		.block_hash(0)
		.ok()
		.flatten()
		.ok_or_else(|| ServiceError::Other("the database has no genesis block".into()))?;

	// GRANDPA only runs under Aura; sealing modes finalise each block they make.
	let grandpa_protocol_name =
		sc_consensus_grandpa::protocol_standard_name(&genesis_hash, &config.chain_spec);
	let mut grandpa_notification_service = None;
	let mut warp_sync_config = None;
	if let ConsensusParts::Aura { grandpa_link, .. } = &consensus_parts {
		let (grandpa_protocol_config, notification_service) =
			sc_consensus_grandpa::grandpa_peers_set_config::<_, N>(
				grandpa_protocol_name.clone(),
				metrics.clone(),
				peer_store_handle,
			);
		net_config.add_notification_protocol(grandpa_protocol_config);
		grandpa_notification_service = Some(notification_service);
		let warp_sync = Arc::new(sc_consensus_grandpa::warp_proof::NetworkProvider::new(
			backend.clone(),
			grandpa_link.shared_authority_set().clone(),
			Vec::default(),
		));
		warp_sync_config = Some(WarpSyncConfig::WithProvider(warp_sync));
	}

	let (network, system_rpc_tx, tx_handler_controller, sync_service, _bitswap) =
		sc_service::build_network(sc_service::BuildNetworkParams {
			config: &config,
			net_config,
			client: client.clone(),
			transaction_pool: transaction_pool.clone(),
			spawn_handle: task_manager.spawn_handle(),
			spawn_essential_handle: task_manager.spawn_essential_handle(),
			import_queue,
			block_announce_validator_builder: None,
			warp_sync_config,
			block_relay: None,
			metrics,
			gap_sync_body_policy: None,
		})?;

	if config.offchain_worker.enabled {
		let offchain_workers =
			sc_offchain::OffchainWorkers::new(sc_offchain::OffchainWorkerOptions {
				runtime_api_provider: client.clone(),
				is_validator: config.role.is_authority(),
				keystore: Some(keystore_container.keystore()),
				offchain_db: backend.offchain_storage(),
				transaction_pool: Some(OffchainTransactionPoolFactory::new(
					transaction_pool.clone(),
				)),
				network_provider: Arc::new(network.clone()),
				enable_http_requests: true,
				custom_extensions: |_| vec![],
			})?;
		task_manager.spawn_handle().spawn(
			"offchain-workers-runner",
			"offchain-worker",
			offchain_workers.run(client.clone(), task_manager.spawn_handle()).boxed(),
		);
	}

	if let Some(settings) = streaming {
		// Vouchers paid to this node name its lane: the account of its network key, which every
		// node has and keeps in its base path.
		let lane = network.local_peer_id().into_ed25519().map(sutantra_runtime::AccountId::new).ok_or_else(
			|| ServiceError::Other("the node's network key is not ed25519; streaming needs one to name its payment lane".into()),
		)?;
		let journal = config.data_path.join("streaming").join("vouchers.journal");
		let offchain = backend.offchain_storage().ok_or_else(|| {
			ServiceError::Other("streaming needs the offchain database, which is missing".into())
		})?;
		let metrics = match config.prometheus_registry() {
			Some(registry) => Some(
				sutantra_integration::metrics::Metrics::register(registry)
					.map_err(|error| ServiceError::Other(format!("streaming metrics: {error}")))?,
			),
			None => None,
		};
		if let Some(metrics) = &metrics {
			task_manager.spawn_handle().spawn(
				"streaming-claims-metric",
				Some("streaming"),
				sutantra_integration::metrics::count_submitted_claims(
					transaction_pool.clone(),
					metrics.claims_submitted.clone(),
				),
			);
		}
		let payments = StreamingPayments { offchain, lane, journal };
		start_streaming(
			&task_manager,
			client.clone(),
			payments,
			genesis_hash,
			settings,
			metrics,
			keystore_container.keystore(),
		)
		.await?;
	}

	let role = config.role;
	let force_authoring = config.force_authoring;
	let name = config.network.node_name.clone();
	let enable_grandpa = !config.disable_grandpa;
	let prometheus_registry = config.prometheus_registry().cloned();

	let rpc_extensions_builder = {
		let client = client.clone();
		let pool = transaction_pool.clone();
		Box::new(move |_| {
			let deps = crate::rpc::FullDeps { client: client.clone(), pool: pool.clone() };
			crate::rpc::create_full(deps).map_err(Into::into)
		})
	};

	sc_service::spawn_tasks(sc_service::SpawnTasksParams {
		network: network.clone(),
		client: client.clone(),
		keystore: keystore_container.keystore(),
		task_manager: &mut task_manager,
		transaction_pool: transaction_pool.clone(),
		rpc_builder: rpc_extensions_builder,
		backend,
		system_rpc_tx,
		tx_handler_controller,
		sync_service: sync_service.clone(),
		config,
		telemetry: telemetry.as_mut(),
		tracing_execute_block: None,
	})?;

	let proposer_factory = sc_basic_authorship::ProposerFactory::new(
		task_manager.spawn_handle(),
		client.clone(),
		transaction_pool.clone(),
		prometheus_registry.as_ref(),
		telemetry.as_ref().map(|x| x.handle()),
	);

	let (block_import, grandpa_link) = match consensus_parts {
		ConsensusParts::Aura { block_import, grandpa_link } => (block_import, grandpa_link),
		ConsensusParts::Sealing => {
			spawn_sealing(&task_manager, client, transaction_pool, select_chain, proposer_factory, consensus)?;
			return Ok(task_manager);
		},
	};

	if role.is_authority() {
		let slot_duration = sc_consensus_aura::slot_duration(&*client)?;
		let aura = sc_consensus_aura::start_aura::<AuraPair, _, _, _, _, _, _, _, _, _, _>(
			StartAuraParams {
				slot_duration,
				client,
				select_chain,
				block_import,
				proposer_factory,
				create_inherent_data_providers: move |_, ()| async move {
					let timestamp = sp_timestamp::InherentDataProvider::from_system_time();
					let slot = sp_consensus_aura::inherents::InherentDataProvider::from_timestamp_and_slot_duration(
						*timestamp,
						slot_duration,
					);
					Ok((slot, timestamp))
				},
				force_authoring,
				backoff_authoring_blocks: Option::<()>::None,
				keystore: keystore_container.keystore(),
				sync_oracle: sync_service.clone(),
				justification_sync_link: sync_service.clone(),
				block_proposal_slot_portion: SlotProportion::new(2f32 / 3f32),
				max_block_proposal_slot_portion: None,
				telemetry: telemetry.as_ref().map(|x| x.handle()),
				compatibility_mode: Default::default(),
			},
		)?;
		// Block authoring is essential: if it fails, the node goes down with it.
		task_manager
			.spawn_essential_handle()
			.spawn_blocking("aura", Some("block-authoring"), aura);
	}

	if let (true, Some(notification_service)) = (enable_grandpa, grandpa_notification_service) {
		// Non-authorities follow finality without voting, so they need no keystore.
		let keystore = if role.is_authority() { Some(keystore_container.keystore()) } else { None };
		let grandpa_config = sc_consensus_grandpa::Config {
			gossip_duration: Duration::from_millis(333),
			justification_generation_period: GRANDPA_JUSTIFICATION_PERIOD,
			name: Some(name),
			observer_enabled: false,
			keystore,
			local_role: role,
			telemetry: telemetry.as_ref().map(|x| x.handle()),
			protocol_name: grandpa_protocol_name,
		};
		let grandpa_params = sc_consensus_grandpa::GrandpaParams {
			config: grandpa_config,
			link: grandpa_link,
			network,
			sync: sync_service,
			notification_service,
			voting_rule: sc_consensus_grandpa::VotingRulesBuilder::default().build(),
			prometheus_registry,
			shared_voter_state: SharedVoterState::empty(),
			telemetry: telemetry.as_ref().map(|x| x.handle()),
			offchain_tx_pool_factory: OffchainTransactionPoolFactory::new(transaction_pool),
		};
		// The voter is essential: finality stops without it, so the node stops too. While the
		// node shuts down the voter may end first ("`voter_commands_rx` was closed": the block
		// import that feeds it was dropped), which would be reported as a failed essential task
		// on a clean stop; its end is reported after a grace instead, by when a shutdown has
		// dropped it.
		let voter = sc_consensus_grandpa::run_grandpa_voter(grandpa_params)?;
		task_manager.spawn_essential_handle().spawn_blocking("grandpa-voter", None, async move {
			voter.await;
			tokio::time::sleep(ESSENTIAL_END_GRACE).await;
		});
	}

	Ok(task_manager)
}

/// Seals `service`'s chain in this process with no network: a block for each transaction in its
/// pool (`Consensus::InstantSeal`) or one every interval, each finalised at once. For tools that
/// need the node's own client over a real chain, such as the voucher benchmark; `service` must
/// have been made by [`new_partial`] with the same sealing `consensus`.
pub fn seal_in_process(service: &Service, consensus: Consensus) -> Result<(), Box<ServiceError>> {
	if !matches!(service.other.0, ConsensusParts::Sealing) {
		let reason = "sealing needs parts made for a sealing consensus";
		return Err(Box::new(ServiceError::Other(reason.into())));
	}
	let proposer_factory = sc_basic_authorship::ProposerFactory::new(
		service.task_manager.spawn_handle(),
		service.client.clone(),
		service.transaction_pool.clone(),
		None,
		None,
	);
	spawn_sealing(
		&service.task_manager,
		service.client.clone(),
		service.transaction_pool.clone(),
		service.select_chain.clone(),
		proposer_factory,
		consensus,
	)
	.map_err(Box::new)
}

/// Starts instant or interval sealing, each sealed block finalised at once.
///
/// Aura's pallet derives the slot from the block's timestamp and insists that slots strictly
/// increase, and the timestamp pallet wants at least half a slot between blocks. Sealing can be
/// faster than a slot, so a sealed block's timestamp is the wall clock or one slot after its
/// parent's, whichever is later: chain time runs ahead of the wall clock while blocks come fast.
fn spawn_sealing(
	task_manager: &TaskManager,
	client: Arc<FullClient>,
	pool: Arc<FullPool>,
	select_chain: FullSelectChain,
	proposer_factory: sc_basic_authorship::ProposerFactory<FullPool, FullClient>,
	consensus: Consensus,
) -> Result<(), ServiceError> {
	let slot_duration = sc_consensus_aura::slot_duration(&*client)?;
	let slot_millis = slot_duration.as_millis();
	let consensus_data_provider =
		Some(Box::new(AuraConsensusDataProvider::new_with_slot_duration(slot_duration)) as Box<_>);
	let cidp_client = client.clone();
	let create_inherent_data_providers = move |parent_hash, ()| {
		let client = cidp_client.clone();
		async move {
			let parent_timestamp = client
				.storage(parent_hash, &StorageKey(plain_storage_key("Timestamp", "Now")))?
				.map(|data| u64::decode(&mut &data.0[..]))
				.transpose()?
				.unwrap_or_default();
			let now = sp_timestamp::Timestamp::current().as_millis();
			let timestamp = now.max(parent_timestamp.saturating_add(slot_millis));
			Ok(sp_timestamp::InherentDataProvider::new(timestamp.into()))
		}
	};

	let sealing = match consensus {
		Consensus::InstantSeal => {
			// A block as soon as a transaction arrives, as manual seal's instant sealing does,
			// except for a block with no room for transactions: one that starts a session takes
			// the whole block weight. That block is sealed empty and the transaction goes in the
			// next one, instead of waiting for another transaction to arrive.
			let (mut commands, commands_stream) = futures::channel::mpsc::channel(8);
			let mut imports = pool.import_notification_stream();
			let ready_pool = pool.clone();
			task_manager.spawn_essential_handle().spawn("instant-seal-commands", None, async move {
				while imports.next().await.is_some() {
					let mut seal = |create_empty| {
						let (sender, sealed) = futures::channel::oneshot::channel();
						let command = EngineCommand::SealNewBlock {
							create_empty,
							finalize: true,
							parent_hash: None,
							sender: Some(sender),
						};
						let sent = commands.try_send(command).is_ok();
						async move { if sent { sealed.await.ok() } else { None } }
					};
					let first = seal(false).await;
					let no_room = matches!(
						first,
						Some(Err(sc_consensus_manual_seal::Error::EmptyTransactionPool))
					) && ready_pool.status().ready > 0;
					if no_room {
						seal(true).await;
						seal(false).await;
					}
				}
			});
			sc_consensus_manual_seal::run_manual_seal(ManualSealParams {
				block_import: client.clone(),
				env: proposer_factory,
				client,
				pool,
				commands_stream: commands_stream.boxed(),
				select_chain,
				consensus_data_provider,
				create_inherent_data_providers,
			})
			.boxed()
		},
		Consensus::ManualSeal(interval) => {
			let commands_stream = futures::stream::unfold((), move |()| async move {
				tokio::time::sleep(interval).await;
				let command = EngineCommand::SealNewBlock {
					create_empty: true,
					finalize: true,
					parent_hash: None,
					sender: None,
				};
				Some((command, ()))
			})
			.boxed();
			sc_consensus_manual_seal::run_manual_seal(ManualSealParams {
				block_import: client.clone(),
				env: proposer_factory,
				client,
				pool,
				commands_stream,
				select_chain,
				consensus_data_provider,
				create_inherent_data_providers,
			})
			.boxed()
		},
		Consensus::Aura => return Err(ServiceError::Other("Aura does not seal blocks".into())),
	};
	task_manager.spawn_essential_handle().spawn_blocking("sealing", Some("block-authoring"), sealing);
	Ok(())
}

/// How the node's streaming server runs.
pub struct StreamingSettings {
	/// The engine's configuration.
	pub config: sutantra_streaming::StreamingConfig,
	/// How old a signed access statement may be.
	pub statement_max_age: Duration,
	/// The base URL the streaming server is reached at from outside, if the operator gave one.
	pub public_url: Option<String>,
	/// The secret URI of the account relayed streams are pulled as.
	pub relay_suri: Option<String>,
}

impl StreamingSettings {
	/// The base URLs this node's streaming server is reached at.
	fn own_endpoints(&self) -> Vec<String> {
		let addr = self.config.http_addr;
		let scheme = if self.config.tls.is_some() { "https" } else { "http" };
		let mut endpoints: Vec<String> = self.public_url.iter().cloned().collect();
		if addr.ip().is_unspecified() || addr.ip().is_loopback() {
			endpoints.push(format!("{scheme}://127.0.0.1:{}", addr.port()));
			endpoints.push(format!("{scheme}://localhost:{}", addr.port()));
		}
		if !addr.ip().is_unspecified() {
			endpoints.push(format!("{scheme}://{addr}"));
		}
		endpoints
	}
}

/// Where and as whom the streaming server takes payments.
struct StreamingPayments {
	/// The offchain database the offchain worker claims vouchers from.
	offchain: <FullBackend as Backend<Block>>::OffchainStorage,
	/// The lane of every channel this node takes vouchers on: its account.
	lane: sutantra_runtime::AccountId,
	/// The journal that makes accepted vouchers durable before they are acknowledged.
	journal: std::path::PathBuf,
}

/// How long an essential task that ended waits before its end stops the node: a shutdown drops
/// it within this time, and a real failure is still reported.
const ESSENTIAL_END_GRACE: Duration = Duration::from_secs(5);

/// How far ahead of this node's clock a statement may be dated (clients' clocks drift).
const STATEMENT_MAX_SKEW: Duration = Duration::from_secs(30);

/// Spawns essential tasks whose normal end means their owner was dropped: the transaction pool's
/// background tasks end when the pool is dropped, which happens only while the node shuts down,
/// and an essential task that ends is reported as a failure ("Essential task `txpool-background`
/// failed") on every clean stop. Such an end waits for the shutdown instead; a panic is still a
/// failure that stops the node.
#[derive(Clone)]
struct QuietWhenDropped(sc_service::SpawnEssentialTaskHandle);

impl QuietWhenDropped {
	fn quiet(task: futures::future::BoxFuture<'static, ()>) -> futures::future::BoxFuture<'static, ()> {
		Box::pin(async move {
			task.await;
			futures::future::pending::<()>().await
		})
	}
}

impl sp_core::traits::SpawnEssentialNamed for QuietWhenDropped {
	fn spawn_essential_blocking(
		&self,
		name: &'static str,
		group: Option<&'static str>,
		task: futures::future::BoxFuture<'static, ()>,
	) {
		self.0.spawn_blocking(name, group, Self::quiet(task));
	}

	fn spawn_essential(
		&self,
		name: &'static str,
		group: Option<&'static str>,
		task: futures::future::BoxFuture<'static, ()>,
	) {
		self.0.spawn(name, group, Self::quiet(task));
	}
}

/// The key type of a relay's account key in the node's keystore (`key insert --key-type strm`).
pub const RELAY_KEY_TYPE: sp_core::crypto::KeyTypeId = sp_core::crypto::KeyTypeId(*b"strm");

/// A relay's account key in the node's keystore: it signs there, the secret never leaves it.
struct KeystoreRelayKey {
	keystore: sp_keystore::KeystorePtr,
	public: sp_core::sr25519::Public,
}

impl sutantra_integration::relay::RelaySigner for KeystoreRelayKey {
	fn account(&self) -> sutantra_runtime::AccountId {
		self.public.into()
	}

	fn sign(&self, payload: &[u8]) -> Option<[u8; 64]> {
		use sp_keystore::Keystore;
		self.keystore.sr25519_sign(RELAY_KEY_TYPE, &self.public, payload).ok().flatten().map(|s| s.0)
	}
}

/// Who a relaying node pulls streams as: `--relay-suri`, or else the `strm` key in its keystore.
fn relay_signer(
	settings: &StreamingSettings,
	keystore: sp_keystore::KeystorePtr,
) -> Result<Option<Box<dyn sutantra_integration::relay::RelaySigner>>, String> {
	if !settings.config.enable_relay {
		return Ok(None);
	}
	if let Some(suri) = &settings.relay_suri {
		let pair = <sp_core::sr25519::Pair as sp_core::Pair>::from_string(suri, None).map_err(|_| {
			"--relay-suri is not a valid secret URI: give a secret phrase, a 0x seed or a dev \
			 account such as //Ferdie"
				.to_owned()
		})?;
		return Ok(Some(Box::new(pair)));
	}
	use sp_keystore::Keystore;
	let mut keys = keystore.sr25519_public_keys(RELAY_KEY_TYPE);
	keys.sort();
	match keys.first() {
		Some(public) => {
			if keys.len() > 1 {
				log::warn!("📡 The keystore holds {} relay (strm) keys; relaying as the first", keys.len());
			}
			Ok(Some(Box::new(KeystoreRelayKey { keystore, public: *public })))
		},
		None => Err("--relay needs the relay's account key: put it in this node's keystore with \
			 `sutantra-node key insert --key-type strm --scheme sr25519 --suri <secret>` (with the \
			 node's --base-path and --chain), or give --relay-suri"
			.to_owned()),
	}
}

/// Starts the streaming engine, gated by the chain: publishers and viewers present signed
/// statements, and the runtime says who may publish and watch.
async fn start_streaming(
	task_manager: &TaskManager,
	client: Arc<FullClient>,
	payments: StreamingPayments,
	genesis_hash: <Block as BlockT>::Hash,
	mut settings: StreamingSettings,
	metrics: Option<sutantra_integration::metrics::Metrics>,
	keystore: sp_keystore::KeystorePtr,
) -> Result<(), ServiceError> {
	use sutantra_integration::{
		ledger::Ledger,
		payments::PaymentDesk,
		policy::ChainPolicy,
		statement::StatementVerifier,
		vouchers::{to_hex, OffchainVoucherStore, VoucherBook, VoucherJournal},
	};

	let StreamingPayments { offchain, lane, journal } = payments;
	let store = VoucherJournal::open(&journal, OffchainVoucherStore(offchain.clone())).map_err(|error| {
		ServiceError::Other(format!(
			"the voucher journal {} cannot be opened: {error}; check the base path's permissions and free space",
			journal.display()
		))
	})?;
	let ledger = Arc::new(Ledger::new(OffchainVoucherStore(offchain)));
	settings.config.node_info.insert("lane".into(), to_hex(lane.as_ref()));
	log::info!("💸 Taking vouchers on lane {}", sp_core::crypto::Ss58Codec::to_ss58check(&lane));

	let addr = settings.config.http_addr;
	let own_endpoints = settings.own_endpoints();
	let relay_key = relay_signer(&settings, keystore).map_err(ServiceError::Other)?;
	let discovery_interval = Duration::from_secs(settings.config.discovery_interval_seconds);
	let used_statements = journal.with_file_name("statements.seen");
	let node_key: [u8; 32] = lane.clone().into();
	let statements = StatementVerifier::new(
		genesis_hash.as_ref(),
		node_key,
		settings.statement_max_age,
		STATEMENT_MAX_SKEW,
	)
	.remembering_in(&used_statements)
	.map_err(|error| {
		ServiceError::Other(format!(
			"the used-statement file {} cannot be opened: {error}; check the base path's permissions and free space",
			used_statements.display()
		))
	})?;
	let policy =
		Arc::new(ChainPolicy::new(client.clone(), statements).with_debts(ledger.clone()));
	let (engine, events) = sutantra_streaming::Engine::start(settings.config, policy)
		.await
		.map_err(|error| {
			ServiceError::Other(format!(
				"the streaming server cannot start on {addr}: {error}; choose another address \
				 with --streaming-addr, or run without streaming (--no-streaming)"
			))
		})?;
	if let Some(key) = relay_key {
		use sp_core::crypto::Ss58Codec;
		log::info!(
			"📡 Relaying up to {} streams from their origin nodes, as {}",
			engine.config().relay_capacity,
			key.account().to_ss58check()
		);
		engine.set_upstreams(Arc::new(sutantra_integration::relay::ChainUpstreams::new(
			client.clone(),
			key,
			genesis_hash.as_ref(),
			own_endpoints,
			if engine.config().relay_private_origins {
				sutantra_streaming::client::Reach::Anywhere
			} else {
				sutantra_streaming::client::Reach::PublicOnly
			},
		)));
	}
	task_manager.spawn_handle().spawn(
		"streaming-discovery",
		Some("streaming"),
		sutantra_integration::relay::discover(client.clone(), engine.clone(), discovery_interval),
	);
	let book = VoucherBook::new(genesis_hash.as_ref(), lane, store);
	let desk = Arc::new(PaymentDesk::new(client.clone(), book, ledger, metrics.clone()));
	engine.set_payments(Arc::new(sutantra_integration::payments::HttpDesk(desk.clone())));
	let bridge =
		sutantra_integration::bridge::Bridge::<_, FullBackend, _, _>::new(client, engine, desk, metrics);
	task_manager.spawn_handle().spawn("streaming-bridge", Some("streaming"), bridge.run(events));
	Ok(())
}
