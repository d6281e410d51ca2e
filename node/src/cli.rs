//! Command-line arguments of `sutantra-node`.

use std::{fmt, str::FromStr, time::Duration};

/// How the node makes blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Consensus {
	/// Aura block production with GRANDPA finality: what every real network runs.
	#[default]
	Aura,
	/// A block as soon as a transaction arrives, finalised at once. For tests and demos.
	InstantSeal,
	/// A block every given interval, finalised at once. For tests and demos.
	ManualSeal(Duration),
}

impl FromStr for Consensus {
	type Err = String;

	fn from_str(s: &str) -> Result<Self, Self::Err> {
		const HELP: &str = "expected `aura`, `instant-seal` or `manual-seal-<milliseconds>` \
			(for example `manual-seal-500`)";
		match s {
			"aura" => Ok(Self::Aura),
			"instant-seal" => Ok(Self::InstantSeal),
			other => {
				let millis = other
					.strip_prefix("manual-seal-")
					.ok_or_else(|| format!("unknown consensus `{other}`: {HELP}"))?;
				let millis: u64 = millis
					.parse()
					.map_err(|_| format!("`{millis}` is not a number of milliseconds: {HELP}"))?;
				if millis == 0 {
					return Err(format!("the block interval must be at least 1 ms: {HELP}"));
				}
				Ok(Self::ManualSeal(Duration::from_millis(millis)))
			},
		}
	}
}

impl fmt::Display for Consensus {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			Self::Aura => f.write_str("aura"),
			Self::InstantSeal => f.write_str("instant-seal"),
			Self::ManualSeal(interval) => write!(f, "manual-seal-{}", interval.as_millis()),
		}
	}
}

#[derive(Debug, clap::Parser)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Cli {
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	#[command(flatten)]
	pub run: NodeRunCmd,
}

/// Running a node: every standard Substrate flag plus Sutantra's own.
#[derive(Debug, clap::Parser)]
pub struct NodeRunCmd {
	#[command(flatten)]
	pub base: sc_cli::RunCmd,

	/// How blocks are made: `aura` (Aura + GRANDPA, the default), `instant-seal` (a block per
	/// transaction) or `manual-seal-<ms>` (a block every <ms> milliseconds). The two sealing
	/// modes finalise each block at once and are meant for a single-node dev chain.
	#[arg(long, default_value_t = Consensus::Aura)]
	pub consensus: Consensus,

	#[command(flatten)]
	pub streaming: StreamingArgs,
}

/// The streaming server the node runs (WHIP for publishers, WHEP for viewers, WebRTC media).
#[derive(Debug, Clone, clap::Args)]
pub struct StreamingArgs {
	/// Run no streaming server: a chain-only node.
	#[arg(long)]
	pub no_streaming: bool,

	/// Where the WHIP/WHEP signalling server listens (HTTP).
	#[arg(long, value_name = "ADDR", default_value_t = sutantra_streaming::config::DEFAULT_HTTP_ADDR)]
	pub streaming_addr: std::net::SocketAddr,

	/// The UDP ports WebRTC media uses, one per session: `FIRST-LAST`.
	#[arg(long, value_name = "FIRST-LAST", default_value = "40000-40999",
		value_parser = sutantra_streaming::config::parse_port_range)]
	pub webrtc_ports: std::ops::RangeInclusive<u16>,

	/// The local address WebRTC media binds to.
	#[arg(long, value_name = "IP", default_value = "0.0.0.0")]
	pub webrtc_bind_ip: std::net::IpAddr,

	/// The public address to announce to peers, when the node is behind a 1:1 NAT.
	#[arg(long, value_name = "IP")]
	pub public_ip: Option<std::net::IpAddr>,

	/// A STUN server for peers to find their public address, e.g. `stun:stun.example.org:3478`
	/// (repeatable).
	#[arg(long = "stun", value_name = "URL")]
	pub stun_servers: Vec<String>,

	/// A TURN relay for peers that cannot connect directly: `URL,USERNAME,CREDENTIAL`
	/// (repeatable).
	#[arg(long = "turn", value_name = "URL,USER,CREDENTIAL", value_parser = parse_turn)]
	pub turn_servers: Vec<sutantra_streaming::TurnServer>,

	/// How many streams the node serves at once.
	#[arg(long, default_value_t = 100)]
	pub max_streams: u32,

	/// How many viewers one stream may have on this node.
	#[arg(long, default_value_t = 500)]
	pub max_viewers_per_stream: u32,

	/// How old a signed access statement may be, in seconds.
	#[arg(long, value_name = "SECONDS", default_value_t = 300)]
	pub statement_max_age: u64,
}

impl StreamingArgs {
	/// The engine's configuration, or `None` with `--no-streaming`.
	pub fn config(&self) -> Option<sutantra_streaming::StreamingConfig> {
		(!self.no_streaming).then(|| sutantra_streaming::StreamingConfig {
			http_addr: self.streaming_addr,
			udp_bind_ip: self.webrtc_bind_ip,
			udp_ports: self.webrtc_ports.clone(),
			public_ip: self.public_ip,
			stun_servers: self.stun_servers.clone(),
			turn_servers: self.turn_servers.clone(),
			max_streams: self.max_streams,
			max_viewers_per_stream: self.max_viewers_per_stream,
			..Default::default()
		})
	}
}

fn parse_turn(text: &str) -> Result<sutantra_streaming::TurnServer, String> {
	let mut parts = text.splitn(3, ',');
	match (parts.next(), parts.next(), parts.next()) {
		(Some(url), Some(username), Some(credential)) if !url.is_empty() => {
			Ok(sutantra_streaming::TurnServer {
				url: url.to_owned(),
				username: username.to_owned(),
				credential: credential.to_owned(),
			})
		},
		_ => Err(format!(
			"`{text}` is not URL,USERNAME,CREDENTIAL (e.g. turn:turn.example.org:3478,alice,secret)"
		)),
	}
}

#[derive(Debug, clap::Subcommand)]
pub enum Subcommand {
	/// Key management utilities.
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Build a chain specification.
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a given block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Benchmark the runtime's pallets, the machine, blocks and extrinsics.
	#[command(subcommand)]
	Benchmark(frame_benchmarking_cli::BenchmarkCmd),

	/// Database meta columns information.
	ChainInfo(sc_cli::ChainInfoCmd),
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn command_line_definition_is_consistent() {
		use clap::CommandFactory;
		Cli::command().debug_assert();
	}

	#[test]
	fn consensus_flag_reaches_the_run_command() {
		use sc_cli::SubstrateCli;
		let cli = Cli::from_iter(["sutantra-node", "--dev", "--consensus", "instant-seal"]);
		assert_eq!(cli.run.consensus, Consensus::InstantSeal);
		assert!(cli.run.base.shared_params.dev);
		let cli = Cli::from_iter(["sutantra-node", "--dev"]);
		assert_eq!(cli.run.consensus, Consensus::Aura);
	}

	#[test]
	fn consensus_parses_and_round_trips() {
		for text in ["aura", "instant-seal", "manual-seal-250"] {
			assert_eq!(text.parse::<Consensus>().unwrap().to_string(), text);
		}
		assert_eq!(
			"manual-seal-1500".parse::<Consensus>(),
			Ok(Consensus::ManualSeal(Duration::from_millis(1500)))
		);
	}

	#[test]
	fn consensus_rejects_bad_input_with_help() {
		for bad in ["babe", "manual-seal-", "manual-seal-x", "manual-seal-0", ""] {
			let err = bad.parse::<Consensus>().unwrap_err();
			assert!(err.contains("manual-seal-<milliseconds>"), "{bad}: {err}");
		}
	}
}
