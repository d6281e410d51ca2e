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

	/// Serve WHIP/WHEP over HTTPS with this certificate chain (PEM), so pages served over HTTPS
	/// (and browsers that refuse mixed content) can reach the node. Needs --streaming-tls-key.
	#[arg(long, value_name = "PEM", requires = "streaming_tls_key")]
	pub streaming_tls_cert: Option<std::path::PathBuf>,

	/// The private key (PEM) of --streaming-tls-cert.
	#[arg(long, value_name = "PEM", requires = "streaming_tls_cert")]
	pub streaming_tls_key: Option<std::path::PathBuf>,

	/// The UDP port every WebRTC session of the node shares (0 picks a free port).
	#[arg(long, value_name = "PORT", default_value_t = sutantra_streaming::config::DEFAULT_UDP_PORT)]
	pub webrtc_port: u16,

	/// The local address the WebRTC media socket binds to (`0.0.0.0`: every interface).
	#[arg(long, value_name = "IP", default_value = "0.0.0.0")]
	pub webrtc_bind_ip: std::net::IpAddr,

	/// The public address to announce to peers, when the node is behind a 1:1 NAT.
	#[arg(long, value_name = "IP")]
	pub public_ip: Option<std::net::IpAddr>,

	/// A STUN server for the node's own outgoing connections (a relay's pulls from origins) to
	/// learn their public address, e.g. `stun:stun.example.org:3478` (repeatable). Viewers and
	/// creators need none from the node: it is ICE-lite on one port.
	#[arg(long = "stun", value_name = "URL")]
	pub stun_servers: Vec<String>,

	/// A TURN relay for the node's own outgoing connections (a relay's pulls) that cannot reach
	/// an origin directly: `URL,USERNAME,CREDENTIAL` (repeatable).
	#[arg(long = "turn", value_name = "URL,USER,CREDENTIAL", value_parser = parse_turn)]
	pub turn_servers: Vec<sutantra_streaming::TurnServer>,

	/// How many streams the node serves at once.
	#[arg(long, default_value_t = 100)]
	pub max_streams: u32,

	/// How many viewers one stream may have on this node (a stream's own `max_viewers`, when
	/// smaller, applies too).
	#[arg(long, default_value_t = 500)]
	pub max_viewers_per_stream: u32,

	/// How many sessions one account may hold on one stream at once; a further join replaces
	/// the oldest.
	#[arg(long, value_name = "COUNT", default_value_t = 1)]
	pub max_sessions_per_viewer: u32,

	/// How many sessions one client (a source address, IPv6 by its /64, or an account) may hold
	/// on this node at once; more are refused with 429 and `Retry-After`.
	#[arg(long, value_name = "COUNT", default_value_t = 32)]
	pub max_sessions_per_client: u32,

	/// How many of one client's sessions may be still connecting (ICE and DTLS not up yet).
	#[arg(long, value_name = "COUNT", default_value_t = 8)]
	pub max_pending_per_client: u32,

	/// How many sessions may be connecting at once on the whole node; more are refused with 503
	/// and `Retry-After`.
	#[arg(long, value_name = "COUNT", default_value_t = 256)]
	pub max_pending_sessions: u32,

	/// Signalling (HTTP) connections one client (a source address) may hold open at once; more
	/// are closed unread. Raise it behind a reverse proxy, where every viewer has its address.
	#[arg(long, value_name = "COUNT",
		default_value_t = sutantra_streaming::server::DEFAULT_CONNECTIONS_PER_ADDRESS)]
	pub max_connections_per_client: u32,

	/// Offers and payments one client (a source address) may send per second over HTTP,
	/// sustained (twice as many in a burst); more are refused with 429 and `Retry-After`.
	#[arg(long, value_name = "COUNT", default_value_t = 10)]
	pub requests_per_second_per_client: u32,

	/// Seconds a session's connection (a publisher's media) has to come up before it is ended.
	#[arg(long, value_name = "SECONDS", default_value_t = 10)]
	pub handshake_timeout: u64,

	/// Seconds a relayed stream nobody watches here is kept before its pull ends.
	#[arg(long, value_name = "SECONDS", default_value_t = 30)]
	pub relay_idle_timeout: u64,

	/// How old a signed access statement may be, in seconds.
	#[arg(long, value_name = "SECONDS", default_value_t = 300)]
	pub statement_max_age: u64,

	/// The base URL publishers and viewers reach this node's streaming server at, e.g.
	/// `https://node.example:8088`: what creators announce on chain as their stream's origin.
	#[arg(long, value_name = "URL")]
	pub streaming_public_url: Option<String>,

	/// Relay streams published on other nodes: a viewer asking for a stream that is live
	/// elsewhere is served from one pull of its origin (the origin named on chain). The relay
	/// pulls as the account of the `strm` key in the node's keystore (`key insert --key-type
	/// strm --scheme sr25519`), or of --relay-suri.
	#[arg(long)]
	pub relay: bool,

	/// Let relaying pull from origins at loopback, private or link-local addresses: for a test
	/// network on one host or a LAN. Without it such origins are refused, so a stream's origin
	/// (named by whoever registered it) cannot make this node reach into its own network.
	#[arg(long)]
	pub relay_private_origins: bool,

	/// How many streams this node relays at once (with --relay).
	#[arg(long, value_name = "COUNT", default_value_t = 10)]
	pub relay_capacity: u32,

	/// The account this node pulls relayed streams as (a secret URI such as `//Ferdie` on a dev
	/// chain, or a secret phrase), instead of the keystore's `strm` key; creators grant it
	/// access to the streams it may relay. On a shared machine prefer the keystore: a secret on
	/// the command line is visible to other users.
	#[arg(long, value_name = "SURI")]
	pub relay_suri: Option<String>,

	/// How often, in seconds, the node re-reads the chain's live streams into its directory
	/// (`GET /directory` on the streaming server).
	#[arg(long, value_name = "SECONDS", default_value_t = 30)]
	pub discovery_interval: u64,
}

impl StreamingArgs {
	/// The engine's configuration, or `None` with `--no-streaming`.
	pub fn config(&self) -> Option<sutantra_streaming::StreamingConfig> {
		(!self.no_streaming).then(|| sutantra_streaming::StreamingConfig {
			http_addr: self.streaming_addr,
			tls: match (&self.streaming_tls_cert, &self.streaming_tls_key) {
				(Some(cert), Some(key)) => {
					Some(sutantra_streaming::TlsFiles { cert: cert.clone(), key: key.clone() })
				},
				_ => None,
			},
			udp_bind_ip: self.webrtc_bind_ip,
			udp_port: self.webrtc_port,
			public_ip: self.public_ip,
			stun_servers: self.stun_servers.clone(),
			turn_servers: self.turn_servers.clone(),
			max_streams: self.max_streams,
			max_viewers_per_stream: self.max_viewers_per_stream,
			max_sessions_per_viewer: self.max_sessions_per_viewer,
			max_sessions_per_client: self.max_sessions_per_client,
			max_pending_per_client: self.max_pending_per_client,
			max_pending_sessions: self.max_pending_sessions,
			max_connections_per_client: self.max_connections_per_client,
			requests_per_second_per_client: self.requests_per_second_per_client,
			handshake_timeout: Duration::from_secs(self.handshake_timeout),
			relay_idle_timeout: Duration::from_secs(self.relay_idle_timeout),
			node_info: Default::default(),
			enable_relay: self.relay,
			relay_private_origins: self.relay_private_origins,
			relay_capacity: self.relay_capacity,
			discovery_interval_seconds: self.discovery_interval,
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
	/// Run the node: the same as `sutantra-node` with no subcommand; every node flag works.
	Start(Box<NodeRunCmd>),

	/// Show what a node is doing: chain, blocks, peers, streaming endpoint, streams, viewers.
	Status(StatusCmd),

	/// Streams: create, list, show, start, end, remove, grant, revoke, publish, watch, token.
	#[command(subcommand)]
	Stream(StreamCmd),

	/// Payment channels: open, top up, close, list.
	#[command(subcommand)]
	Channel(ChannelCmd),

	/// Validating: join the validator set by bonding, leave it, take the bond back.
	#[command(subcommand)]
	Validator(ValidatorCmd),

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

/// How a command-line client reaches a node and prints its results.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientArgs {
	/// The node's JSON-RPC WebSocket endpoint.
	#[arg(long, value_name = "URL", default_value = "ws://127.0.0.1:9944")]
	pub rpc: String,

	/// The node's streaming server (WHIP/WHEP); by default the RPC host on port 8088.
	#[arg(long, value_name = "URL")]
	pub streaming: Option<String>,

	/// Print JSON for scripts instead of tables.
	#[arg(long)]
	pub json: bool,
}

/// Whose key signs: a secret URI, or a key in a keystore directory.
#[derive(Debug, Clone, clap::Args)]
pub struct SignerArgs {
	/// The signing account's secret URI: a dev account such as `//Alice`, a secret phrase, or a
	/// 0x seed. It is never printed.
	#[arg(long, value_name = "SURI")]
	pub suri: Option<String>,

	/// A keystore directory (a node's `<base-path>/chains/<chain>/keystore`, or one written by
	/// `sutantra-node key insert`) holding the signing account's key; use with --account.
	#[arg(long, value_name = "DIR")]
	pub keystore_path: Option<std::path::PathBuf>,

	/// The account whose key --keystore-path holds (SS58 address); for `channel list`, whose
	/// channels to list (an address or a dev account like //Bob).
	#[arg(long, value_name = "ADDRESS")]
	pub account: Option<String>,
}

/// `sutantra-node status`.
#[derive(Debug, clap::Args)]
pub struct StatusCmd {
	#[command(flatten)]
	pub client: ClientArgs,
}

/// `sutantra-node stream ...`.
#[derive(Debug, clap::Subcommand)]
pub enum StreamCmd {
	/// Register a stream on chain (holds a 1 SUT deposit until it is removed).
	Create {
		/// Its title.
		#[arg(long)]
		title: String,
		/// What a viewer pays per second, in SUT (e.g. 0.01); 0 makes it free.
		#[arg(long, value_name = "SUT", value_parser = crate::client::parse_amount)]
		price_per_second: u128,
		/// The most viewers at once; 0 for no limit.
		#[arg(long, default_value_t = 0)]
		max_viewers: u32,
		/// A description or metadata URI.
		#[arg(long, default_value = "")]
		description: String,
		/// The streaming endpoint you will publish to, announced on chain so other nodes can
		/// relay the stream (e.g. `https://node.example:8088`).
		#[arg(long, value_name = "URL")]
		origin: Option<String>,
		/// Start it (go live) right away.
		#[arg(long)]
		start: bool,
		#[command(flatten)]
		client: ClientArgs,
		#[command(flatten)]
		signer: SignerArgs,
	},
	/// List streams: every registered one, or only live ones.
	List {
		/// Only streams that are live.
		#[arg(long)]
		live: bool,
		/// Only this creator's streams (SS58 address or a dev account like //Alice).
		#[arg(long, value_name = "ACCOUNT")]
		creator: Option<String>,
		#[command(flatten)]
		client: ClientArgs,
	},
	/// Show one stream.
	Show {
		/// The stream's id.
		id: u64,
		#[command(flatten)]
		client: ClientArgs,
	},
	/// Show how a live stream reaches its viewers on the node: round trip, loss, jitter and
	/// delivered bitrate (median, 95th percentile, worst) from the viewers' receiver reports.
	Stats {
		/// The stream's id.
		id: u64,
		#[command(flatten)]
		client: ClientArgs,
	},
	/// Start a stream (creator): viewers may watch once you publish.
	Start {
		/// The stream's id.
		id: u64,
		#[command(flatten)]
		client: ClientArgs,
		#[command(flatten)]
		signer: SignerArgs,
	},
	/// End a stream (creator): every viewer's session closes.
	End {
		/// The stream's id.
		id: u64,
		#[command(flatten)]
		client: ClientArgs,
		#[command(flatten)]
		signer: SignerArgs,
	},
	/// Remove an ended stream (creator): its deposit is returned.
	Remove {
		/// The stream's id.
		id: u64,
		#[command(flatten)]
		client: ClientArgs,
		#[command(flatten)]
		signer: SignerArgs,
	},
	/// Let an account watch a stream (creator).
	Grant {
		/// The stream's id.
		id: u64,
		/// The viewer (SS58 address or a dev account like //Bob).
		#[arg(value_name = "ACCOUNT")]
		viewer: String,
		/// Until when: a duration such as `2h`, `30m`, `45s`, or `block:1234`; without end if
		/// left out.
		#[arg(long, value_name = "WHEN")]
		until: Option<String>,
		#[command(flatten)]
		client: ClientArgs,
		#[command(flatten)]
		signer: SignerArgs,
	},
	/// Take back access you granted (creator).
	Revoke {
		/// The stream's id.
		id: u64,
		/// The viewer (SS58 address or a dev account like //Bob).
		#[arg(value_name = "ACCOUNT")]
		viewer: String,
		#[command(flatten)]
		client: ClientArgs,
		#[command(flatten)]
		signer: SignerArgs,
	},
	/// Publish to a stream over WHIP (creator): a video file or the built-in test source.
	Publish {
		/// The stream's id.
		id: u64,
		/// An IVF file (VP8 or VP9), sent at real-time pace and looped.
		#[arg(long, value_name = "FILE", conflicts_with = "test_source", required_unless_present = "test_source")]
		file: Option<std::path::PathBuf>,
		/// Send the built-in 640x360 VP8 test pattern.
		#[arg(long)]
		test_source: bool,
		/// Simulcast: a lower-quality encoding of the same picture as `--file` (same codec and
		/// frame rate, keyframes at the same frames), sent as a layer of its own; give it once
		/// or twice, lowest first. Each viewer then gets the layer its link carries.
		#[arg(long, value_name = "FILE", requires = "file")]
		lower_layer: Vec<std::path::PathBuf>,
		/// Send the built-in test pattern as three simulcast layers (640x360, 320x180, 160x90).
		#[arg(long, requires = "test_source")]
		simulcast: bool,
		/// Stop after this many seconds (default: until Ctrl-C).
		#[arg(long, value_name = "SECONDS")]
		duration: Option<u64>,
		#[command(flatten)]
		client: ClientArgs,
		#[command(flatten)]
		signer: SignerArgs,
	},
	/// Watch a stream over WHEP, paying for it with vouchers on a payment channel.
	Watch {
		/// The stream's id.
		id: u64,
		/// The deposit of a channel opened for watching, in SUT (default: 5 minutes of the
		/// price). An open channel to the creator is reused.
		#[arg(long, value_name = "SUT", value_parser = crate::client::parse_amount)]
		deposit: Option<u128>,
		/// Save the video to this IVF file.
		#[arg(long, value_name = "FILE")]
		out: Option<std::path::PathBuf>,
		/// Stop after this many seconds (default: until Ctrl-C or the stream ends).
		#[arg(long, value_name = "SECONDS")]
		duration: Option<u64>,
		/// Close the payment channel when done watching (the rest of the deposit returns after
		/// the challenge period).
		#[arg(long)]
		close: bool,
		#[command(flatten)]
		client: ClientArgs,
		#[command(flatten)]
		signer: SignerArgs,
	},
	/// Print a signed statement to use as the bearer token of a WHIP or WHEP request (e.g. in
	/// OBS's WHIP settings), with the endpoint it is for. It is good for one request.
	Token {
		/// The stream's id.
		id: u64,
		/// A viewer's statement instead of a publisher's.
		#[arg(long)]
		watch: bool,
		#[command(flatten)]
		client: ClientArgs,
		#[command(flatten)]
		signer: SignerArgs,
	},
}

/// `sutantra-node channel ...`.
#[derive(Debug, clap::Subcommand)]
pub enum ChannelCmd {
	/// Open a payment channel to a payee (a creator), holding a deposit.
	Open {
		/// Who is paid (SS58 address or a dev account like //Alice).
		payee: String,
		/// The deposit, in SUT.
		#[arg(long, value_name = "SUT", value_parser = crate::client::parse_amount)]
		deposit: u128,
		/// Only for this stream (default: any of the payee's streams).
		#[arg(long, value_name = "ID")]
		stream: Option<u64>,
		#[command(flatten)]
		client: ClientArgs,
		#[command(flatten)]
		signer: SignerArgs,
	},
	/// Add to a channel's deposit (payer).
	TopUp {
		/// The channel's id.
		id: u64,
		/// How much to add, in SUT.
		#[arg(value_parser = crate::client::parse_amount)]
		amount: u128,
		#[command(flatten)]
		client: ClientArgs,
		#[command(flatten)]
		signer: SignerArgs,
	},
	/// Close a channel: the payer starts the challenge period, the payee closes at once; after
	/// the period, run it again to take back the rest.
	Close {
		/// The channel's id.
		id: u64,
		#[command(flatten)]
		client: ClientArgs,
		#[command(flatten)]
		signer: SignerArgs,
	},
	/// List an account's channels, as payer and as payee: --account's, or the signer's.
	List {
		#[command(flatten)]
		client: ClientArgs,
		#[command(flatten)]
		signer: SignerArgs,
	},
}

/// `sutantra-node validator ...`.
#[derive(Debug, clap::Subcommand)]
pub enum ValidatorCmd {
	/// Join the validators: the node at --rpc (your validator node, started with --validator)
	/// makes session keys owned by the signer's account, which registers them and bonds the
	/// candidacy bond. It validates from the session after next if its bond holds a seat.
	Join {
		#[command(flatten)]
		client: ClientArgs,
		#[command(flatten)]
		signer: SignerArgs,
	},
	/// Leave the validators: the bond stays reserved, and slashable, while it unbonds.
	Leave {
		#[command(flatten)]
		client: ClientArgs,
		#[command(flatten)]
		signer: SignerArgs,
	},
	/// Take back a bond whose unbonding is over.
	Withdraw {
		#[command(flatten)]
		client: ClientArgs,
		#[command(flatten)]
		signer: SignerArgs,
	},
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
