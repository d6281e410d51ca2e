//! What `sutantra-node` does with its command line.

use frame_benchmarking_cli::{BenchmarkCmd, ExtrinsicFactory, SUBSTRATE_REFERENCE_HARDWARE};
use sc_cli::SubstrateCli;
use sc_service::PartialComponents;
use sp_keyring::Sr25519Keyring;
use sutantra_runtime::{opaque::Block, EXISTENTIAL_DEPOSIT};

use crate::{
	benchmarking::{inherent_benchmark_data, RemarkBuilder, TransferKeepAliveBuilder},
	chain_spec,
	cli::{Cli, Consensus, NodeRunCmd, Subcommand},
	service,
};

impl SubstrateCli for Cli {
	fn impl_name() -> String {
		"Sutantra Node".into()
	}

	fn impl_version() -> String {
		env!("SUBSTRATE_CLI_IMPL_VERSION").into()
	}

	fn description() -> String {
		env!("CARGO_PKG_DESCRIPTION").into()
	}

	fn author() -> String {
		env!("CARGO_PKG_AUTHORS").into()
	}

	fn support_url() -> String {
		"https://github.com/sutantra/sutantra/issues".into()
	}

	fn copyright_start_year() -> i32 {
		2026
	}

	fn load_spec(&self, id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
		Ok(match id {
			"dev" => Box::new(chain_spec::development_chain_spec()?),
			"" | "local" => Box::new(chain_spec::local_chain_spec()?),
			path => Box::new(
				chain_spec::ChainSpec::from_json_file(std::path::PathBuf::from(path)).map_err(
					|e| format!("cannot load chain spec `{path}`: {e} (use dev, local or the path of a chain spec json)"),
				)?,
			),
		})
	}
}

/// Parses the command line and runs what it asks for.
pub fn run() -> sc_cli::Result<()> {
	let cli = Cli::from_args();
	// Subcommands that open the database import real-network blocks: they use Aura's queue.
	let consensus = Consensus::Aura;

	match &cli.subcommand {
		Some(Subcommand::Start(run)) => run_node(&cli, run),
		Some(Subcommand::Status(cmd)) => client_command(crate::client::status(cmd)),
		Some(Subcommand::Stream(cmd)) => client_command(crate::client::stream(cmd)),
		Some(Subcommand::Channel(cmd)) => client_command(crate::client::channel(cmd)),
		Some(Subcommand::Validator(cmd)) => client_command(crate::client::validator(cmd)),
		Some(Subcommand::Key(cmd)) => cmd.run(&cli),
		Some(Subcommand::BuildSpec(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.chain_spec, config.network))
		},
		Some(Subcommand::CheckBlock(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					service::new_partial(&config, consensus)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		},
		Some(Subcommand::ExportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } =
					service::new_partial(&config, consensus)?;
				Ok((cmd.run(client, config.database), task_manager))
			})
		},
		Some(Subcommand::ExportState(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } =
					service::new_partial(&config, consensus)?;
				Ok((cmd.run(client, config.chain_spec), task_manager))
			})
		},
		Some(Subcommand::ImportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					service::new_partial(&config, consensus)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		},
		Some(Subcommand::PurgeChain(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.database))
		},
		Some(Subcommand::Revert(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, backend, .. } =
					service::new_partial(&config, consensus)?;
				let aux_revert = Box::new(|client, _, blocks| {
					sc_consensus_grandpa::revert(client, blocks)?;
					Ok(())
				});
				Ok((cmd.run(client, backend, Some(aux_revert)), task_manager))
			})
		},
		Some(Subcommand::Benchmark(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| match cmd {
				BenchmarkCmd::Pallet(cmd) => {
					if !cfg!(feature = "runtime-benchmarks") {
						return Err("runtime benchmarking is not compiled into this node: \
							build it with `cargo build --features runtime-benchmarks`"
							.into());
					}
					cmd.run_with_spec::<sp_runtime::traits::HashingFor<Block>, ()>(Some(
						config.chain_spec,
					))
				},
				BenchmarkCmd::Block(cmd) => {
					let PartialComponents { client, .. } = service::new_partial(&config, consensus)?;
					cmd.run(client)
				},
				#[cfg(not(feature = "runtime-benchmarks"))]
				BenchmarkCmd::Storage(_) => Err("storage benchmarking is not compiled into this \
					node: build it with `cargo build --features runtime-benchmarks`"
					.into()),
				#[cfg(feature = "runtime-benchmarks")]
				BenchmarkCmd::Storage(cmd) => {
					let PartialComponents { client, backend, .. } =
						service::new_partial(&config, consensus)?;
					let db = backend.expose_db();
					let storage = backend.expose_storage();
					cmd.run(config, client, db, storage, None)
				},
				BenchmarkCmd::Overhead(cmd) => {
					let PartialComponents { client, .. } = service::new_partial(&config, consensus)?;
					let ext_builder = RemarkBuilder::new(client.clone());
					cmd.run(
						config.chain_spec.name().into(),
						client,
						inherent_benchmark_data()?,
						Vec::new(),
						&ext_builder,
						false,
					)
				},
				BenchmarkCmd::Extrinsic(cmd) => {
					let PartialComponents { client, .. } = service::new_partial(&config, consensus)?;
					let ext_factory = ExtrinsicFactory(vec![
						Box::new(RemarkBuilder::new(client.clone())),
						Box::new(TransferKeepAliveBuilder::new(
							client.clone(),
							Sr25519Keyring::Alice.to_account_id(),
							EXISTENTIAL_DEPOSIT,
						)),
					]);
					cmd.run(client, inherent_benchmark_data()?, Vec::new(), &ext_factory)
				},
				BenchmarkCmd::Machine(cmd) => cmd.run(&config, SUBSTRATE_REFERENCE_HARDWARE.clone()),
			})
		},
		Some(Subcommand::ChainInfo(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run::<Block>(&config))
		},
		None => run_node(&cli, &cli.run),
	}
}

/// A client command's end: its error printed for the person at the terminal, exit code 1.
fn client_command(outcome: crate::client::Outcome) -> sc_cli::Result<()> {
	if let Err(failure) = outcome {
		// A reason may come from a remote node: shown with its control characters escaped.
		eprintln!("error: {}", crate::client::printable(&failure.to_string(), true));
		std::process::exit(1);
	}
	Ok(())
}

/// Runs the node with `run`'s flags until it is stopped.
fn run_node(cli: &Cli, run: &NodeRunCmd) -> sc_cli::Result<()> {
	let consensus = run.consensus;
	let streaming = run.streaming.config().map(|config| service::StreamingSettings {
		config,
		statement_max_age: std::time::Duration::from_secs(run.streaming.statement_max_age),
		public_url: run.streaming.streaming_public_url.clone(),
		relay_suri: run.streaming.relay_suri.clone(),
	});
	// A node that takes vouchers must settle them: its offchain worker claims them. sc-cli turns
	// offchain workers on for authorities only, so a streaming full node (a relay) turns them on
	// itself, and one told never to run them refuses to take payments it could not settle.
	if streaming.is_some() &&
		matches!(run.base.offchain_worker_params.enabled, sc_cli::OffchainWorkerEnabled::Never)
	{
		return Err(sc_cli::Error::Input(
			"--offchain-worker never: a streaming node takes viewers' vouchers and settles them \
			 with its offchain worker, so it cannot run without one; drop the flag, or run \
			 without streaming (--no-streaming)"
				.into(),
		));
	}
	let runner = cli.create_runner(&run.base)?;
	runner.run_node_until_exit(|mut config| async move {
		if streaming.is_some() {
			config.offchain_worker.enabled = true;
		}
		if consensus != Consensus::Aura &&
			config.chain_spec.chain_type() != sc_service::ChainType::Development
		{
			log::warn!(
				"--consensus {consensus} seals blocks on this node alone; \
				 other nodes of this network will not follow it"
			);
		}
		match config.network.network_backend {
			sc_network::config::NetworkBackendType::Libp2p => {
				service::new_full::<
					sc_network::NetworkWorker<
						Block,
						<Block as sp_runtime::traits::Block>::Hash,
					>,
				>(config, consensus, streaming)
				.await
			},
			sc_network::config::NetworkBackendType::Litep2p => {
				service::new_full::<sc_network::Litep2pNetworkBackend>(
					config, consensus, streaming,
				)
				.await
			},
		}
		.map_err(sc_cli::Error::Service)
	})
}
