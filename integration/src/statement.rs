//! Signed statements: how a publisher or viewer proves, in a WHIP/WHEP bearer token, which
//! account is asking, of which node, for which stream, to do what.
//!
//! A statement is SCALE-encoded and signed with sr25519 by the account, over
//!
//! ```text
//! "sutantra/statement/v2"   21 bytes, ASCII, the domain tag (STATEMENT_DOMAIN)
//! genesis hash              32 bytes
//! SCALE(Statement)          97 bytes: account (32), stream id (u64 LE, 8), purpose (1 byte:
//!                           0 publish, 1 watch), node (32: the network key of the node it is
//!                           for, its `lane` in `GET /node`), issued at (u64 LE, ms since the Unix
//!                           epoch, 8), nonce (16 random bytes)
//! ```
//!
//! The bearer token is the lowercase hex (no `0x`) of SCALE(Statement) followed by the 64-byte
//! signature: 322 characters. As with vouchers, a signature over `<Bytes>payload</Bytes>` (what
//! browser wallets sign) is accepted too.
//!
//! A node accepts a statement once, if it names this node, for the stream and purpose it names,
//! while it is fresh: issued no more than [`StatementVerifier::max_age`] ago and no more than
//! [`StatementVerifier::max_skew`] in the future. Checking ([`StatementVerifier::check`]) costs
//! the node a signature verification and remembers nothing; only a statement the chain then
//! admits is used up ([`StatementVerifier::consume`]), so keys with no standing on chain cannot
//! fill the node's memory. Used statements are remembered until they are stale, in memory (at
//! most [`MAX_REMEMBERED`]) and, on a node, in a file that outlives a restart.

use std::{
	collections::HashMap,
	fs::{File, OpenOptions},
	io::{Read, Write},
	path::{Path, PathBuf},
	sync::Mutex,
	time::{Duration, SystemTime, UNIX_EPOCH},
};

use codec::{Decode, Encode};
use sp_core::sr25519;
use sp_runtime::{traits::Verify, AccountId32};
use sutantra_payments_primitives::VoucherSignature;

/// The domain tag every statement payload starts with.
pub const STATEMENT_DOMAIN: &[u8; 21] = b"sutantra/statement/v2";
/// The most used statements a node remembers at once (about 100 bytes each in memory). Beyond,
/// requests are refused until some go stale; statements are only remembered once the chain has
/// admitted their account, so reaching it costs an attacker on-chain standing for every entry.
pub const MAX_REMEMBERED: usize = 250_000;
/// The most used statements one account may have remembered at a node at once (one freshness
/// window): so one account cannot fill [`MAX_REMEMBERED`] for everyone.
pub const MAX_PER_ACCOUNT: u32 = 1_000;

/// What the account wants to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Purpose {
	/// Publish (WHIP) the stream: only its creator may.
	#[codec(index = 0)]
	Publish,
	/// Watch (WHEP) the stream.
	#[codec(index = 1)]
	Watch,
}

/// "This account asks node `node` to `purpose` stream `stream_id`", made at `issued_at_ms`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Statement {
	/// Who asks; the statement is signed with this account's sr25519 key.
	pub account: AccountId32,
	/// The on-chain stream id.
	pub stream_id: u64,
	/// Publish or watch.
	pub purpose: Purpose,
	/// The node it is for: that node's network key (its `lane` in `GET /node`). Another node
	/// refuses it, so a statement seen by one node cannot be replayed at another.
	pub node: [u8; 32],
	/// When it was made, in milliseconds since the Unix epoch.
	pub issued_at_ms: u64,
	/// Random bytes that make every statement unique.
	pub nonce: [u8; 16],
}

impl Statement {
	/// A fresh statement for `node`, made now, with a random nonce.
	pub fn new(account: AccountId32, stream_id: u64, purpose: Purpose, node: [u8; 32]) -> Self {
		Self { account, stream_id, purpose, node, issued_at_ms: now_ms(), nonce: rand::random() }
	}

	/// The exact bytes the account signs on the chain with `genesis_hash`.
	pub fn payload(&self, genesis_hash: &[u8]) -> Vec<u8> {
		let mut payload = Vec::with_capacity(STATEMENT_DOMAIN.len() + genesis_hash.len() + 97);
		payload.extend_from_slice(STATEMENT_DOMAIN);
		payload.extend_from_slice(genesis_hash);
		self.encode_to(&mut payload);
		payload
	}

	/// Signs the statement and returns the bearer token.
	pub fn sign(&self, pair: &sr25519::Pair, genesis_hash: &[u8]) -> String {
		use sp_core::Pair as _;
		self.token(&pair.sign(&self.payload(genesis_hash)).0)
	}

	/// The bearer token of the statement with `signature` (over [`Self::payload`]), for
	/// signers that hold their key elsewhere (a keystore, a wallet).
	pub fn token(&self, signature: &[u8; 64]) -> String {
		let mut bytes = self.encode();
		bytes.extend_from_slice(signature);
		hex::encode(bytes)
	}
}

/// Why a bearer token was refused. Every case but [`StatementError::Busy`] is a 401 for the
/// client; the text says what to do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
	/// Not a statement token at all.
	#[error("the bearer token is not a Sutantra statement (hex of the SCALE statement v2 and its 64-byte signature); sign a fresh one with `sutantra-node stream token`")]
	Malformed,
	/// Signed for another node.
	#[error("the statement is for another node; sign one for this node (its key is the `lane` of GET /node)")]
	WrongNode,
	/// Signed for another stream.
	#[error("the statement is for stream {0}, not this one; sign one for this stream")]
	WrongStream(u64),
	/// Signed to publish but used to watch, or the other way round.
	#[error("the statement is for {0}, not for this request; sign one with the right purpose")]
	WrongPurpose(&'static str),
	/// Too old.
	#[error("the statement is older than {0} s; sign a fresh one")]
	Stale(u64),
	/// Dated too far ahead: the signer's clock is wrong.
	#[error("the statement is dated in the future; check the signer's clock")]
	FromTheFuture,
	/// The signature is not the account's over this statement on this chain.
	#[error("the statement's signature is not its account's for this chain")]
	BadSignature,
	/// Already used.
	#[error("the statement was already used; sign a fresh one for every request")]
	Replayed,
	/// The node remembers as many used statements as it can.
	#[error("the node is busy remembering {0} recent statements; retry in a minute")]
	Busy(usize),
	/// The account used as many statements at this node as one account may in a freshness
	/// window.
	#[error("this account used {0} statements at this node within their freshness window; wait a minute before signing more")]
	TooMany(u32),
}

/// A statement whose signature, audience and freshness were checked, not yet used up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
	/// The account that signed it.
	pub account: AccountId32,
	nonce: [u8; 16],
	/// Until when (ms since the epoch) it must be remembered: then it is stale anyway.
	until_ms: u64,
}

/// Checks bearer tokens and remembers the ones used until they could no longer be used.
pub struct StatementVerifier {
	genesis_hash: Vec<u8>,
	node: [u8; 32],
	max_age: Duration,
	max_skew: Duration,
	seen: Mutex<Seen>,
}

/// Used statements: (account, nonce) and when each stops mattering (ms since the epoch), and
/// the file they are also written to.
#[derive(Default)]
struct Seen {
	entries: HashMap<(AccountId32, [u8; 16]), u64>,
	/// How many of `entries` each account has.
	per_account: HashMap<AccountId32, u32>,
	file: Option<SeenFile>,
}

impl Seen {
	/// Forgets the entries that went stale before `now_ms`.
	fn prune(&mut self, now_ms: u64) {
		let per_account = &mut self.per_account;
		self.entries.retain(|(account, _), until| {
			let keep = *until >= now_ms;
			if !keep {
				if let Some(count) = per_account.get_mut(account) {
					*count = count.saturating_sub(1);
				}
			}
			keep
		});
		per_account.retain(|_, count| *count > 0);
	}

	fn counted(entries: HashMap<(AccountId32, [u8; 16]), u64>) -> Self {
		let mut per_account = HashMap::new();
		for (account, _) in entries.keys() {
			*per_account.entry(account.clone()).or_insert(0u32) += 1;
		}
		Self { entries, per_account, file: None }
	}
}

/// One record per used statement: account (32), nonce (16), until (u64 LE, 8).
const RECORD: usize = 56;

struct SeenFile {
	path: PathBuf,
	file: File,
	/// Records written since the file was last rewritten with only the live ones.
	appended: usize,
}

impl StatementVerifier {
	/// A verifier for the node with network key `node` on the chain with `genesis_hash`,
	/// accepting statements issued no more than `max_age` ago and no more than `max_skew` ahead
	/// of this node's clock. It remembers used statements in memory only.
	pub fn new(genesis_hash: &[u8], node: [u8; 32], max_age: Duration, max_skew: Duration) -> Self {
		Self {
			genesis_hash: genesis_hash.to_vec(),
			node,
			max_age,
			max_skew,
			seen: Mutex::default(),
		}
	}

	/// Remembers used statements in the file at `path` too, and those already there that are
	/// still fresh: a statement used before a restart stays used.
	pub fn remembering_in(self, path: &Path) -> std::io::Result<Self> {
		let now = now_ms();
		let mut entries = HashMap::new();
		if let Ok(mut file) = File::open(path) {
			let mut bytes = Vec::new();
			file.read_to_end(&mut bytes)?;
			for record in bytes.chunks_exact(RECORD) {
				let account = AccountId32::new(record[..32].try_into().expect("32 bytes"));
				let nonce: [u8; 16] = record[32..48].try_into().expect("16 bytes");
				let until = u64::from_le_bytes(record[48..].try_into().expect("8 bytes"));
				if until >= now {
					entries.insert((account, nonce), until);
				}
			}
		}
		let file = SeenFile::rewrite(path, &entries)?;
		let mut seen = Seen::counted(entries);
		seen.file = Some(file);
		*self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = seen;
		Ok(self)
	}

	/// How old a statement may be.
	pub fn max_age(&self) -> Duration {
		self.max_age
	}

	/// How far ahead of this node's clock a statement may be dated.
	pub fn max_skew(&self) -> Duration {
		self.max_skew
	}

	/// Checks `token` for a request to `purpose` stream `stream_id`, now, and uses it up; returns
	/// its account. (A node checks, asks the chain, then [`Self::consume`]s.)
	pub fn verify(
		&self,
		token: &str,
		stream_id: u64,
		purpose: Purpose,
	) -> Result<AccountId32, StatementError> {
		let checked = self.check(token, stream_id, purpose)?;
		self.consume(&checked)?;
		Ok(checked.account)
	}

	/// Checks `token` for a request to `purpose` stream `stream_id`, now, without using it up.
	pub fn check(
		&self,
		token: &str,
		stream_id: u64,
		purpose: Purpose,
	) -> Result<Checked, StatementError> {
		self.check_at(token, stream_id, purpose, now_ms())
	}

	/// [`Self::check`] at the given time (ms since the epoch).
	pub fn check_at(
		&self,
		token: &str,
		stream_id: u64,
		purpose: Purpose,
		now_ms: u64,
	) -> Result<Checked, StatementError> {
		let bytes = hex::decode(token.trim().trim_start_matches("0x"))
			.map_err(|_| StatementError::Malformed)?;
		let mut input = &bytes[..];
		let statement = Statement::decode(&mut input).map_err(|_| StatementError::Malformed)?;
		let signature: [u8; 64] = input.try_into().map_err(|_| StatementError::Malformed)?;
		if statement.node != self.node {
			return Err(StatementError::WrongNode);
		}
		if statement.stream_id != stream_id {
			return Err(StatementError::WrongStream(statement.stream_id));
		}
		if statement.purpose != purpose {
			return Err(StatementError::WrongPurpose(match statement.purpose {
				Purpose::Publish => "publishing",
				Purpose::Watch => "watching",
			}));
		}
		let max_age = self.max_age.as_millis() as u64;
		if statement.issued_at_ms.saturating_add(max_age) < now_ms {
			return Err(StatementError::Stale(self.max_age.as_secs()));
		}
		if statement.issued_at_ms > now_ms.saturating_add(self.max_skew.as_millis() as u64) {
			return Err(StatementError::FromTheFuture);
		}
		let signature = VoucherSignature(sr25519::Signature::from_raw(signature));
		if !signature.verify(&statement.payload(&self.genesis_hash)[..], &statement.account) {
			return Err(StatementError::BadSignature);
		}
		let checked = Checked {
			account: statement.account,
			nonce: statement.nonce,
			until_ms: statement.issued_at_ms.saturating_add(max_age),
		};
		let seen = self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		if seen.entries.contains_key(&(checked.account.clone(), checked.nonce)) {
			return Err(StatementError::Replayed);
		}
		Ok(checked)
	}

	/// Uses a checked statement up: from now on it is refused as replayed, here and, when the
	/// verifier remembers in a file, after a restart. Fails if it was used meanwhile.
	pub fn consume(&self, checked: &Checked) -> Result<(), StatementError> {
		self.consume_at(checked, now_ms())
	}

	/// [`Self::consume`] at the given time (ms since the epoch).
	pub fn consume_at(&self, checked: &Checked, now_ms: u64) -> Result<(), StatementError> {
		let mut seen = self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		let key = (checked.account.clone(), checked.nonce);
		if seen.entries.contains_key(&key) {
			return Err(StatementError::Replayed);
		}
		let mine = seen.per_account.get(&checked.account).copied().unwrap_or(0);
		if seen.entries.len() >= MAX_REMEMBERED || mine >= MAX_PER_ACCOUNT {
			seen.prune(now_ms);
			if seen.entries.len() >= MAX_REMEMBERED {
				return Err(StatementError::Busy(seen.entries.len()));
			}
			let mine = seen.per_account.get(&checked.account).copied().unwrap_or(0);
			if mine >= MAX_PER_ACCOUNT {
				return Err(StatementError::TooMany(mine));
			}
		}
		seen.entries.insert(key.clone(), checked.until_ms);
		*seen.per_account.entry(checked.account.clone()).or_insert(0) += 1;
		let appended = match seen.file.as_mut().map(|file| file.append(checked)) {
			None => return Ok(()),
			Some(Ok(appended)) => appended,
			Some(Err(error)) => {
				// Not durable: refuse rather than admit a statement a restart would forget.
				log::error!(target: crate::LOG_TARGET, "the used-statement file: {error}");
				seen.entries.remove(&key);
				if let Some(count) = seen.per_account.get_mut(&checked.account) {
					*count = count.saturating_sub(1);
				}
				return Err(StatementError::Busy(seen.entries.len()));
			},
		};
		// Now and then the file is rewritten with only the fresh entries.
		if appended > seen.entries.len().max(1024) {
			seen.prune(now_ms);
			if let Some(path) = seen.file.as_ref().map(|file| file.path.clone()) {
				match SeenFile::rewrite(&path, &seen.entries) {
					Ok(file) => seen.file = Some(file),
					// The append made this statement durable; the longer file is kept.
					Err(error) => log::warn!(target: crate::LOG_TARGET, "rewriting {}: {error}", path.display()),
				}
			}
		}
		Ok(())
	}
}

impl SeenFile {
	/// Writes `entries` to a new file and puts it in place of `path`.
	fn rewrite(path: &Path, entries: &HashMap<(AccountId32, [u8; 16]), u64>) -> std::io::Result<Self> {
		if let Some(parent) = path.parent() {
			std::fs::create_dir_all(parent)?;
		}
		let fresh = path.with_extension("new");
		let mut bytes = Vec::with_capacity(entries.len() * RECORD);
		for ((account, nonce), until) in entries {
			bytes.extend_from_slice(account.as_ref());
			bytes.extend_from_slice(nonce);
			bytes.extend_from_slice(&until.to_le_bytes());
		}
		let mut file = File::create(&fresh)?;
		file.write_all(&bytes)?;
		file.sync_all()?;
		std::fs::rename(&fresh, path)?;
		let file = OpenOptions::new().append(true).open(path)?;
		Ok(Self { path: path.to_owned(), file, appended: 0 })
	}

	/// Appends `checked` durably; returns how many records were appended since the last rewrite.
	fn append(&mut self, checked: &Checked) -> std::io::Result<usize> {
		let mut record = [0u8; RECORD];
		record[..32].copy_from_slice(checked.account.as_ref());
		record[32..48].copy_from_slice(&checked.nonce);
		record[48..].copy_from_slice(&checked.until_ms.to_le_bytes());
		self.file.write_all(&record)?;
		self.file.sync_data()?;
		self.appended += 1;
		Ok(self.appended)
	}
}

fn now_ms() -> u64 {
	SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_core::Pair;

	const GENESIS: [u8; 32] = [7; 32];

	fn alice() -> sr25519::Pair {
		sr25519::Pair::from_string("//Alice", None).unwrap()
	}

	const NODE: [u8; 32] = [3; 32];

	fn verifier() -> StatementVerifier {
		StatementVerifier::new(&GENESIS, NODE, Duration::from_secs(300), Duration::from_secs(30))
	}

	fn statement(purpose: Purpose) -> Statement {
		Statement::new(AccountId32::new(alice().public().0), 4, purpose, NODE)
	}

	#[test]
	fn a_signed_statement_is_accepted_once() {
		let verifier = verifier();
		let token = statement(Purpose::Watch).sign(&alice(), &GENESIS);
		assert_eq!(token.len(), 2 * (97 + 64));
		assert_eq!(
			verifier.verify(&token, 4, Purpose::Watch),
			Ok(AccountId32::new(alice().public().0))
		);
		assert_eq!(verifier.verify(&token, 4, Purpose::Watch), Err(StatementError::Replayed));
	}

	#[test]
	fn the_payload_is_as_documented() {
		let s = statement(Purpose::Publish);
		let payload = s.payload(&GENESIS);
		assert_eq!(payload.len(), 21 + 32 + 97);
		assert_eq!(&payload[..21], b"sutantra/statement/v2");
		assert_eq!(&payload[21..53], &GENESIS);
		assert_eq!(&payload[53..85], &alice().public().0);
		assert_eq!(&payload[85..93], &4u64.to_le_bytes());
		assert_eq!(payload[93], 0);
		assert_eq!(&payload[94..126], &NODE);
		assert_eq!(&payload[126..134], &s.issued_at_ms.to_le_bytes());
		assert_eq!(&payload[134..], &s.nonce);
	}

	#[test]
	fn statements_for_something_else_are_refused() {
		let verifier = verifier();
		let token = statement(Purpose::Watch).sign(&alice(), &GENESIS);
		assert_eq!(verifier.verify(&token, 5, Purpose::Watch), Err(StatementError::WrongStream(4)));
		assert_eq!(
			verifier.verify(&token, 4, Purpose::Publish),
			Err(StatementError::WrongPurpose("watching"))
		);
		let other_chain = statement(Purpose::Watch).sign(&alice(), &[8; 32]);
		assert_eq!(
			verifier.verify(&other_chain, 4, Purpose::Watch),
			Err(StatementError::BadSignature)
		);
	}

	#[test]
	fn forged_and_malformed_tokens_are_refused() {
		let verifier = verifier();
		// Bob signs a statement naming Alice.
		let bob = sr25519::Pair::from_string("//Bob", None).unwrap();
		let forged = statement(Purpose::Watch).sign(&bob, &GENESIS);
		assert_eq!(verifier.verify(&forged, 4, Purpose::Watch), Err(StatementError::BadSignature));
		for token in ["", "zz", "00", &forged[..forged.len() - 2], &format!("{forged}00")] {
			assert_eq!(verifier.verify(token, 4, Purpose::Watch), Err(StatementError::Malformed));
		}
	}

	#[test]
	fn only_fresh_statements_are_accepted() {
		let verifier = verifier();
		let s = statement(Purpose::Watch);
		let token = s.sign(&alice(), &GENESIS);
		let issued = s.issued_at_ms;
		assert_eq!(
			verifier.check_at(&token, 4, Purpose::Watch, issued + 300_001),
			Err(StatementError::Stale(300))
		);
		assert_eq!(
			verifier.check_at(&token, 4, Purpose::Watch, issued - 30_001),
			Err(StatementError::FromTheFuture)
		);
		assert!(verifier.check_at(&token, 4, Purpose::Watch, issued + 300_000).is_ok());
	}

	#[test]
	fn wallet_wrapped_statements_are_accepted() {
		let verifier = verifier();
		let s = statement(Purpose::Watch);
		let wrapped = [&b"<Bytes>"[..], &s.payload(&GENESIS), &b"</Bytes>"[..]].concat();
		let mut bytes = s.encode();
		bytes.extend_from_slice(&alice().sign(&wrapped).0);
		assert!(verifier.verify(&hex::encode(bytes), 4, Purpose::Watch).is_ok());
	}

	#[test]
	fn a_statement_for_another_node_is_refused_there() {
		let token = statement(Purpose::Watch).sign(&alice(), &GENESIS);
		let elsewhere =
			StatementVerifier::new(&GENESIS, [4; 32], Duration::from_secs(300), Duration::from_secs(30));
		assert_eq!(elsewhere.verify(&token, 4, Purpose::Watch), Err(StatementError::WrongNode));
		// Refused there, it is still good here.
		assert!(verifier().verify(&token, 4, Purpose::Watch).is_ok());
	}

	#[test]
	fn checking_remembers_nothing_until_the_statement_is_consumed() {
		let verifier = verifier();
		let token = statement(Purpose::Watch).sign(&alice(), &GENESIS);
		let first = verifier.check(&token, 4, Purpose::Watch).unwrap();
		let second = verifier.check(&token, 4, Purpose::Watch).unwrap();
		verifier.consume(&first).unwrap();
		// Two requests raced with one statement: only one may use it.
		assert_eq!(verifier.consume(&second), Err(StatementError::Replayed));
		assert_eq!(verifier.check(&token, 4, Purpose::Watch), Err(StatementError::Replayed));
	}

	#[test]
	fn one_account_cannot_fill_the_memory_of_used_statements() {
		let verifier = verifier();
		for _ in 0..MAX_PER_ACCOUNT {
			let token = statement(Purpose::Watch).sign(&alice(), &GENESIS);
			verifier.verify(&token, 4, Purpose::Watch).unwrap();
		}
		let one_more = statement(Purpose::Watch).sign(&alice(), &GENESIS);
		assert_eq!(
			verifier.verify(&one_more, 4, Purpose::Watch),
			Err(StatementError::TooMany(MAX_PER_ACCOUNT))
		);
		// Another account is not affected; and once Alice's go stale, she may sign again.
		let bob = sr25519::Pair::from_string("//Bob", None).unwrap();
		let theirs = Statement::new(AccountId32::new(bob.public().0), 4, Purpose::Watch, NODE)
			.sign(&bob, &GENESIS);
		assert!(verifier.verify(&theirs, 4, Purpose::Watch).is_ok());
		let later = verifier.check(&one_more, 4, Purpose::Watch).unwrap();
		assert!(verifier.consume_at(&later, now_ms() + 301_000).is_ok());
	}

	#[test]
	fn used_statements_stay_used_after_a_restart_until_they_are_stale() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("streaming").join("statements.seen");
		let used = statement(Purpose::Watch).sign(&alice(), &GENESIS);
		let unused = statement(Purpose::Watch).sign(&alice(), &GENESIS);
		{
			let verifier = verifier().remembering_in(&path).unwrap();
			verifier.verify(&used, 4, Purpose::Watch).unwrap();
		}
		// The node restarts.
		let verifier = verifier().remembering_in(&path).unwrap();
		assert_eq!(verifier.verify(&used, 4, Purpose::Watch), Err(StatementError::Replayed));
		assert!(verifier.verify(&unused, 4, Purpose::Watch).is_ok());
		assert_eq!(std::fs::metadata(&path).unwrap().len(), 2 * RECORD as u64);

		// Entries that went stale are not carried over by the next restart.
		let stale = Checked {
			account: AccountId32::new([1; 32]),
			nonce: [2; 16],
			until_ms: now_ms() - 1,
		};
		verifier.consume_at(&stale, now_ms() - 10).unwrap();
		drop(verifier);
		let _verifier = self::verifier().remembering_in(&path).unwrap();
		assert_eq!(std::fs::metadata(&path).unwrap().len(), 2 * RECORD as u64);
	}
}
