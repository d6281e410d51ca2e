//! Hostile bytes where the node decodes what strangers send: bearer-token statements, payment
//! messages from the data channel or `POST /pay`, vouchers, and the voucher journal read back
//! after a crash. Generated at random (proptest, on stable Rust): nothing panics, everything
//! malformed is refused with a reason, and a good voucher is still taken afterwards.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use codec::{Decode, Encode};
use proptest::prelude::*;
use sp_core::{sr25519, Pair};
use sp_runtime::AccountId32;
use sutantra_integration::statement::{Purpose, Statement, StatementVerifier};
use sutantra_integration::vouchers::{
	ChannelState, NodeVoucher, PayMessage, Viewing, VoucherBook, VoucherJournal, VoucherStore,
};
use sutantra_payments_primitives::{sign_voucher, SignedVoucher, Voucher};

const GENESIS: [u8; 32] = [5; 32];
const NODE: [u8; 32] = [6; 32];

#[derive(Clone, Default)]
struct Memory(Arc<Mutex<HashMap<Vec<u8>, Vec<u8>>>>);

impl VoucherStore for Memory {
	fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
		self.0.lock().unwrap().get(key).cloned()
	}
	fn set(&self, key: &[u8], value: &[u8]) -> io::Result<()> {
		self.0.lock().unwrap().insert(key.to_vec(), value.to_vec());
		Ok(())
	}
}

fn pair(name: &str) -> sr25519::Pair {
	sr25519::Pair::from_string(&format!("//{name}"), None).unwrap()
}

fn id(name: &str) -> AccountId32 {
	pair(name).public().into()
}

fn verifier() -> StatementVerifier {
	StatementVerifier::new(&GENESIS, NODE, Duration::from_secs(300), Duration::from_secs(30))
}

fn channel() -> ChannelState {
	ChannelState {
		payer: id("Bob"),
		payee: id("Alice"),
		stream_id: Some(4),
		deposit: 1_000_000,
		paid: 0,
		lane_paid: 0,
		lanes_full: false,
		closing: false,
	}
}

fn viewing() -> Viewing {
	Viewing { viewer: id("Bob"), creator: id("Alice"), stream: Some(4), price: 1 }
}

fn good_voucher(amount: u128) -> NodeVoucher {
	let voucher = Voucher { channel_id: 9, lane: AccountId32::new(NODE), cumulative_amount: amount };
	SignedVoucher { signature: sign_voucher(&pair("Bob"), &GENESIS, &voucher), voucher }
}

/// A good token with some of its hex characters changed, cut or extended.
fn mangled_token() -> impl Strategy<Value = String> {
	let token = Statement::new(id("Bob"), 4, Purpose::Watch, NODE).sign(&pair("Bob"), &GENESIS);
	let len = token.len();
	(proptest::collection::vec((0..len, any::<char>()), 0..6), proptest::option::of(0..len + 20))
		.prop_map(move |(edits, cut)| {
			let mut chars: Vec<char> = token.chars().collect();
			for (at, c) in edits {
				if at < chars.len() {
					chars[at] = c;
				}
			}
			let mut text: String = chars.into_iter().collect();
			if let Some(cut) = cut {
				if cut < text.len() && text.is_char_boundary(cut) {
					text.truncate(cut);
				} else {
					text.push_str("00");
				}
			}
			text
		})
}

proptest! {
	#![proptest_config(ProptestConfig { cases: 500, failure_persistence: None, ..ProptestConfig::default() })]

	#[test]
	fn random_bearer_tokens_are_refused_with_a_reason(
		token in prop_oneof![
			"\\PC{0,400}",
			proptest::collection::vec(any::<u8>(), 0..200).prop_map(hex::encode),
			mangled_token(),
		]
	) {
		let verifier = verifier();
		match verifier.check(&token, 4, Purpose::Watch) {
			Ok(checked) => {
				// Only an untouched statement checks out (an edit that changed nothing).
				prop_assert_eq!(checked.account, id("Bob"));
			},
			Err(error) => prop_assert!(!error.to_string().is_empty()),
		}
	}

	#[test]
	fn random_payment_messages_never_panic_and_bad_ones_are_refused(
		message in prop_oneof![
			proptest::collection::vec(any::<u8>(), 0..600),
			"\\PC{0,300}".prop_map(String::into_bytes),
			(any::<u64>(), "[0-9a-fx]{0,70}", "[0-9]{0,45}", "[0-9a-fx]{0,140}").prop_map(
				|(channel, lane, amount, signature)| format!(
					r#"{{"type":"voucher","channel_id":{channel},"lane":"{lane}","amount":"{amount}","signature":"{signature}"}}"#
				).into_bytes()
			),
		]
	) {
		let book = VoucherBook::new(&GENESIS, AccountId32::new(NODE), Memory::default());
		let Ok(message) = serde_json::from_slice::<PayMessage>(&message) else { return Ok(()) };
		if let Some(signed) = message.signed_voucher() {
			// Whatever it claims, it is not Bob's signature over it.
			prop_assert!(book.accept(&signed, &channel(), &viewing(), u128::MAX).is_err());
		}
		// The book still takes Bob's good voucher.
		prop_assert!(book.accept(&good_voucher(500), &channel(), &viewing(), u128::MAX).is_ok());
	}

	#[test]
	fn random_bytes_never_decode_into_a_voucher_that_is_taken(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
		let book = VoucherBook::new(&GENESIS, AccountId32::new(NODE), Memory::default());
		if let Ok(signed) = NodeVoucher::decode(&mut &bytes[..]) {
			prop_assert!(book.accept(&signed, &channel(), &viewing(), u128::MAX).is_err());
		}
	}

	#[test]
	fn a_journal_with_garbage_in_it_opens_and_keeps_working(
		garbage in proptest::collection::vec(any::<u8>(), 0..2000),
		good_first in any::<bool>(),
	) {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("vouchers.journal");
		let voucher = good_voucher(700);
		if good_first {
			let journal = VoucherJournal::open(&path, Memory::default()).unwrap();
			journal.set(b"key", &voucher.encode()).unwrap();
			drop(journal);
			let mut bytes = std::fs::read(&path).unwrap();
			bytes.extend_from_slice(&garbage);
			std::fs::write(&path, bytes).unwrap();
		} else {
			std::fs::write(&path, &garbage).unwrap();
		}
		// A torn or corrupt journal never stops the node: it opens, and what was written whole
		// before the garbage is still there.
		let store = Memory::default();
		if let Ok(journal) = VoucherJournal::open(&path, store.clone()) {
			if good_first {
				prop_assert_eq!(journal.get(b"key"), Some(voucher.encode()));
			}
			journal.set(b"after", b"works").unwrap();
			prop_assert_eq!(journal.get(b"after"), Some(b"works".to_vec()));
		}
	}
}
