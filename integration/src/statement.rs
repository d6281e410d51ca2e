//! Signed statements: how a publisher or viewer proves, in a WHIP/WHEP bearer token, which
//! account is asking, for which stream, to do what.
//!
//! A statement is SCALE-encoded and signed with sr25519 by the account, over
//!
//! ```text
//! "sutantra/statement/v1"   21 bytes, ASCII, the domain tag (STATEMENT_DOMAIN)
//! genesis hash              32 bytes
//! SCALE(Statement)          65 bytes: account (32), stream id (u64 LE, 8), purpose (1 byte:
//!                           0 publish, 1 watch), issued at (u64 LE, ms since the Unix epoch, 8),
//!                           nonce (16 random bytes)
//! ```
//!
//! The bearer token is the lowercase hex (no `0x`) of SCALE(Statement) followed by the 64-byte
//! signature: 258 characters. As with vouchers, a signature over `<Bytes>payload</Bytes>` (what
//! browser wallets sign) is accepted too.
//!
//! A node accepts a statement once, for the stream and purpose it names, while it is fresh:
//! issued no more than [`StatementVerifier::max_age`] ago and no more than
//! [`StatementVerifier::max_skew`] in the future.

use std::{
	collections::HashMap,
	sync::Mutex,
	time::{Duration, SystemTime, UNIX_EPOCH},
};

use codec::{Decode, Encode};
use sp_core::sr25519;
use sp_runtime::{traits::Verify, AccountId32};
use sutantra_payments_primitives::VoucherSignature;

/// The domain tag every statement payload starts with.
pub const STATEMENT_DOMAIN: &[u8; 21] = b"sutantra/statement/v1";

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

/// "This account asks to `purpose` stream `stream_id`", made at `issued_at_ms`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Statement {
	/// Who asks; the statement is signed with this account's sr25519 key.
	pub account: AccountId32,
	/// The on-chain stream id.
	pub stream_id: u64,
	/// Publish or watch.
	pub purpose: Purpose,
	/// When it was made, in milliseconds since the Unix epoch.
	pub issued_at_ms: u64,
	/// Random bytes that make every statement unique.
	pub nonce: [u8; 16],
}

impl Statement {
	/// A fresh statement made now, with a random nonce.
	pub fn new(account: AccountId32, stream_id: u64, purpose: Purpose) -> Self {
		Self { account, stream_id, purpose, issued_at_ms: now_ms(), nonce: rand::random() }
	}

	/// The exact bytes the account signs on the chain with `genesis_hash`.
	pub fn payload(&self, genesis_hash: &[u8]) -> Vec<u8> {
		let mut payload = Vec::with_capacity(STATEMENT_DOMAIN.len() + genesis_hash.len() + 65);
		payload.extend_from_slice(STATEMENT_DOMAIN);
		payload.extend_from_slice(genesis_hash);
		self.encode_to(&mut payload);
		payload
	}

	/// Signs the statement and returns the bearer token.
	pub fn sign(&self, pair: &sr25519::Pair, genesis_hash: &[u8]) -> String {
		use sp_core::Pair as _;
		let signature = pair.sign(&self.payload(genesis_hash));
		let mut bytes = self.encode();
		bytes.extend_from_slice(&signature.0);
		hex::encode(bytes)
	}
}

/// Why a bearer token was refused. Every case is a 401 for the client; the text says what to do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
	/// Not a statement token at all.
	#[error("the bearer token is not a Sutantra statement (hex of the SCALE statement and its 64-byte signature); sign a fresh one with `sutantra-node stream token`")]
	Malformed,
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
}

/// Checks bearer tokens and remembers the ones it accepted until they could no longer be used.
pub struct StatementVerifier {
	genesis_hash: Vec<u8>,
	max_age: Duration,
	max_skew: Duration,
	/// Accepted (account, nonce) pairs and when each stops mattering (ms since the epoch).
	seen: Mutex<HashMap<(AccountId32, [u8; 16]), u64>>,
}

impl StatementVerifier {
	/// A verifier for the chain with `genesis_hash`, accepting statements issued no more than
	/// `max_age` ago and no more than `max_skew` ahead of this node's clock.
	pub fn new(genesis_hash: &[u8], max_age: Duration, max_skew: Duration) -> Self {
		Self { genesis_hash: genesis_hash.to_vec(), max_age, max_skew, seen: Mutex::default() }
	}

	/// How old a statement may be.
	pub fn max_age(&self) -> Duration {
		self.max_age
	}

	/// How far ahead of this node's clock a statement may be dated.
	pub fn max_skew(&self) -> Duration {
		self.max_skew
	}

	/// Checks `token` for a request to `purpose` stream `stream_id`, now; on success the
	/// statement is used up and its account returned.
	pub fn verify(
		&self,
		token: &str,
		stream_id: u64,
		purpose: Purpose,
	) -> Result<AccountId32, StatementError> {
		self.verify_at(token, stream_id, purpose, now_ms())
	}

	/// [`Self::verify`] at the given time (ms since the epoch).
	pub fn verify_at(
		&self,
		token: &str,
		stream_id: u64,
		purpose: Purpose,
		now_ms: u64,
	) -> Result<AccountId32, StatementError> {
		let bytes = hex::decode(token.trim().trim_start_matches("0x"))
			.map_err(|_| StatementError::Malformed)?;
		let mut input = &bytes[..];
		let statement = Statement::decode(&mut input).map_err(|_| StatementError::Malformed)?;
		let signature: [u8; 64] = input.try_into().map_err(|_| StatementError::Malformed)?;
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
		let mut seen = self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		seen.retain(|_, until| *until >= now_ms);
		let key = (statement.account.clone(), statement.nonce);
		if seen.contains_key(&key) {
			return Err(StatementError::Replayed);
		}
		seen.insert(key, statement.issued_at_ms.saturating_add(max_age));
		Ok(statement.account)
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

	fn verifier() -> StatementVerifier {
		StatementVerifier::new(&GENESIS, Duration::from_secs(300), Duration::from_secs(30))
	}

	fn statement(purpose: Purpose) -> Statement {
		Statement::new(AccountId32::new(alice().public().0), 4, purpose)
	}

	#[test]
	fn a_signed_statement_is_accepted_once() {
		let verifier = verifier();
		let token = statement(Purpose::Watch).sign(&alice(), &GENESIS);
		assert_eq!(token.len(), 2 * (65 + 64));
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
		assert_eq!(payload.len(), 21 + 32 + 65);
		assert_eq!(&payload[..21], b"sutantra/statement/v1");
		assert_eq!(&payload[21..53], &GENESIS);
		assert_eq!(&payload[53..85], &alice().public().0);
		assert_eq!(&payload[85..93], &4u64.to_le_bytes());
		assert_eq!(payload[93], 0);
		assert_eq!(&payload[94..102], &s.issued_at_ms.to_le_bytes());
		assert_eq!(&payload[102..], &s.nonce);
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
			verifier.verify_at(&token, 4, Purpose::Watch, issued + 300_001),
			Err(StatementError::Stale(300))
		);
		assert_eq!(
			verifier.verify_at(&token, 4, Purpose::Watch, issued - 30_001),
			Err(StatementError::FromTheFuture)
		);
		assert!(verifier.verify_at(&token, 4, Purpose::Watch, issued + 300_000).is_ok());
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
}
