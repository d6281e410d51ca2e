//! The command-line clients: `sutantra-node status`, `stream ...`, `channel ...` and
//! `validator ...`.
//!
//! They talk to a node over its JSON-RPC (the typed [`ChainClient`]) and its streaming server
//! (WHIP/WHEP), sign with an account given by secret URI or keystore, print tables (or JSON with
//! `--json`), and fail with a message that says what to do and a non-zero exit code.

mod channel;
mod format;
mod status;
mod stream;
mod record;
mod validator;
mod watch;

use std::path::Path;

use sp_core::{crypto::Ss58Codec, sr25519, Pair};
use sutantra_runtime::{AccountId, Balance, Hash, RuntimeCall, RuntimeEvent};

pub use format::{format_amount, parse_amount, printable};

use crate::{
	chain_client::{ChainClient, Included, TxProgress, WaitFor},
	cli::{ChannelCmd, ClientArgs, SignerArgs, StatusCmd, StreamCmd, ValidatorCmd},
};

/// A client command's failure, worded for the person at the terminal.
#[derive(Debug)]
pub struct Failure(pub String);

impl std::fmt::Display for Failure {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.write_str(&self.0)
	}
}

impl std::error::Error for Failure {}

impl From<crate::chain_client::Error> for Failure {
	fn from(error: crate::chain_client::Error) -> Self {
		Failure(explain_chain_error(error))
	}
}

impl From<sutantra_streaming::Error> for Failure {
	fn from(error: sutantra_streaming::Error) -> Self {
		Failure(error.to_string())
	}
}

/// A client command's result.
pub type Outcome = Result<(), Failure>;

/// Fails with `message`.
pub fn fail<T>(message: impl Into<String>) -> Result<T, Failure> {
	Err(Failure(message.into()))
}

/// Runs `sutantra-node status`.
pub fn status(cmd: &StatusCmd) -> Outcome {
	block_on(status::run(cmd))
}

/// Runs a `sutantra-node stream ...` command.
pub fn stream(cmd: &StreamCmd) -> Outcome {
	block_on(stream::run(cmd))
}

/// Runs a `sutantra-node channel ...` command.
pub fn channel(cmd: &ChannelCmd) -> Outcome {
	block_on(channel::run(cmd))
}

/// Runs a `sutantra-node validator ...` command.
pub fn validator(cmd: &ValidatorCmd) -> Outcome {
	block_on(validator::run(cmd))
}

fn block_on(future: impl std::future::Future<Output = Outcome>) -> Outcome {
	tokio::runtime::Builder::new_multi_thread()
		.enable_all()
		.build()
		.map_err(|error| Failure(format!("cannot start the async runtime: {error}")))?
		.block_on(future)
}

/// A connection to the node the command line names.
pub(crate) struct Session {
	pub chain: ChainClient,
	pub args: ClientArgs,
}

impl Session {
	pub async fn connect(args: &ClientArgs) -> Result<Self, Failure> {
		let chain = ChainClient::connect(&args.rpc).await.map_err(|error| match error {
			crate::chain_client::Error::Connect { url, .. } => Failure(format!(
				"cannot reach a Sutantra node at {url}: is it running? Start one with \
				 `sutantra-node --dev`, or point --rpc at a running node's WebSocket RPC"
			)),
			other => other.into(),
		})?;
		Ok(Self { chain, args: args.clone() })
	}

	/// The node's network key, from its streaming server (`GET /node`): the audience its
	/// statements name, and the lane its vouchers name.
	pub async fn node_key(&self) -> Result<AccountId, Failure> {
		let url = format!("{}/node", self.streaming_url()?);
		let node = sutantra_streaming::client::Signalling::new()?.get_json(&url).await?;
		node.get("lane")
			.and_then(|lane| lane.as_str())
			.and_then(sutantra_integration::vouchers::from_hex::<32>)
			.map(AccountId::new)
			.ok_or_else(|| {
				Failure(format!("{url} names no node key: is the node a Sutantra node with streaming on?"))
			})
	}

	/// The node's streaming server base URL: `--streaming`, or the RPC host on port 8088.
	pub fn streaming_url(&self) -> Result<String, Failure> {
		if let Some(url) = &self.args.streaming {
			return Ok(url.trim_end_matches('/').to_owned());
		}
		let rest = self
			.args
			.rpc
			.strip_prefix("ws://")
			.map(|rest| ("http", rest))
			.or_else(|| self.args.rpc.strip_prefix("wss://").map(|rest| ("https", rest)));
		let Some((scheme, rest)) = rest else {
			return fail(format!(
				"cannot tell the streaming server from --rpc {}; give it with --streaming URL",
				self.args.rpc
			));
		};
		let authority = rest.split('/').next().unwrap_or(rest);
		let host = match authority.rsplit_once(':') {
			Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
			_ => authority,
		};
		Ok(format!("{scheme}://{host}:{}", sutantra_streaming::config::DEFAULT_HTTP_ADDR.port()))
	}

	/// Submits `call` signed by `signer`, showing progress on stderr (unless `--json`), and
	/// waits until it is in a block.
	pub async fn submit(
		&self,
		signer: &sr25519::Pair,
		call: RuntimeCall,
		what: &str,
	) -> Result<Included, Failure> {
		let quiet = self.args.json;
		let mut progress = |step: TxProgress| {
			if quiet {
				return;
			}
			match step {
				TxProgress::Submitted(hash) => {
					eprintln!("⏳ {what}: submitted {}, waiting for a block…", short_hash(&hash))
				},
				TxProgress::InBlock(hash) => eprintln!("✔ in block {}", short_hash(&hash)),
				TxProgress::Finalized(hash) => eprintln!("✔ finalised in {}", short_hash(&hash)),
			}
		};
		Ok(self.chain.submit_with_progress(signer, call, WaitFor::InBlock, &mut progress).await?)
	}

	/// Prints `value` as JSON with `--json`, else `text()`.
	pub fn print(&self, value: serde_json::Value, text: impl FnOnce() -> String) {
		if self.args.json {
			println!("{}", serde_json::to_string_pretty(&value).unwrap_or_default());
		} else {
			println!("{}", text());
		}
	}

	/// Fails unless `account` can pay `need` (plus fees) from its free balance.
	pub async fn ensure_funds(
		&self,
		account: &AccountId,
		need: Balance,
		what: &str,
	) -> Result<(), Failure> {
		let have = self.chain.free_balance(account).await?;
		if have < need {
			return fail(format!(
				"insufficient balance: {} has {}, needs {} for {what} plus fees; fund the account first",
				account.to_ss58check(),
				format_amount(have),
				format_amount(need)
			));
		}
		Ok(())
	}
}

fn short_hash(hash: &Hash) -> String {
	let hex = format!("{hash:?}");
	format!("{}…{}", &hex[..8], &hex[hex.len() - 4..])
}

/// The signing key the command line names: `--suri`, or `--keystore-path` with `--account`.
pub(crate) fn signer(args: &SignerArgs) -> Result<sr25519::Pair, Failure> {
	match (&args.suri, &args.keystore_path, &args.account) {
		(Some(suri), None, _) => sr25519::Pair::from_string(suri, None).map_err(|_| {
			Failure(
				"--suri is not a valid secret URI: give a secret phrase, a 0x seed, or a dev \
				 account such as //Alice"
					.into(),
			)
		}),
		(None, Some(dir), Some(account)) => keystore_key(dir, &parse_account(account)?),
		(None, Some(_), None) => fail("--keystore-path needs --account: whose key to use"),
		(Some(_), Some(_), _) => fail("give either --suri or --keystore-path, not both"),
		(None, None, _) => fail(
			"this command signs a transaction: give the account's secret URI with --suri (e.g. \
			 --suri //Alice on a dev chain) or a keystore with --keystore-path DIR --account ADDRESS",
		),
	}
}

/// The sr25519 key of `account` in a Substrate keystore directory: files named by the key
/// type's and the public key's hex, holding the secret URI as a JSON string.
fn keystore_key(dir: &Path, account: &AccountId) -> Result<sr25519::Pair, Failure> {
	let public_hex = hex::encode(<AccountId as AsRef<[u8; 32]>>::as_ref(account));
	let entries = std::fs::read_dir(dir)
		.map_err(|error| Failure(format!("cannot read the keystore {}: {error}", dir.display())))?;
	for entry in entries.flatten() {
		let name = entry.file_name().to_string_lossy().into_owned();
		if name.len() != 8 + 64 || !name.ends_with(&public_hex) {
			continue;
		}
		let text = std::fs::read_to_string(entry.path())
			.map_err(|error| Failure(format!("cannot read {}: {error}", entry.path().display())))?;
		let secret: String = serde_json::from_str(&text).map_err(|_| {
			Failure(format!("{} is not a keystore key file", entry.path().display()))
		})?;
		let pair = sr25519::Pair::from_string(&secret, None).map_err(|_| {
			Failure(format!("{} does not hold an sr25519 secret", entry.path().display()))
		})?;
		if AccountId::from(pair.public()) == *account {
			return Ok(pair);
		}
	}
	fail(format!(
		"the keystore {} has no sr25519 key of {}; add one with `sutantra-node key insert \
		 --keystore-path {} --scheme sr25519 --key-type acco`",
		dir.display(),
		account.to_ss58check(),
		dir.display()
	))
}

/// An account given on the command line: an SS58 address, or a dev account such as `//Bob`.
pub(crate) fn parse_account(text: &str) -> Result<AccountId, Failure> {
	if text.starts_with("//") {
		if let Ok(pair) = sr25519::Pair::from_string(text, None) {
			return Ok(pair.public().into());
		}
	}
	AccountId::from_ss58check(text).map_err(|_| {
		Failure(format!(
			"`{text}` is not an account: give an SS58 address (5Grw…) or a dev account such as //Bob"
		))
	})
}

/// The first event of `included` that `pick` recognises.
pub(crate) fn find_event<T>(
	included: &Included,
	pick: impl Fn(&RuntimeEvent) -> Option<T>,
) -> Option<T> {
	included.events.iter().find_map(pick)
}

/// The id of the channel an `open_channel` transaction opened.
pub(crate) fn opened_channel(included: &Included) -> Result<u64, Failure> {
	find_event(included, |event| match event {
		RuntimeEvent::Payments(pallet_payments::Event::ChannelOpened { channel_id, .. }) => {
			Some(*channel_id)
		},
		_ => None,
	})
	.ok_or_else(|| Failure("the chain opened no channel (no ChannelOpened event)".into()))
}

/// A chain client's error, with the runtime's reasons spelled out.
fn explain_chain_error(error: crate::chain_client::Error) -> String {
	use crate::chain_client::Error;
	match error {
		Error::Failed { error, .. } => format!("the transaction failed: {error}"),
		Error::Rejected(reason) if reason.contains("Inability to pay some fees") => {
			"the node refused the transaction: the account cannot pay its fee (insufficient \
			 balance); fund the account first"
				.into()
		},
		other => other.to_string(),
	}
}
