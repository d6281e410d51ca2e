//! What each payer owes this node's creators, across sessions.
//!
//! A viewer who watches on a payment channel owes the stream's price for every second watched,
//! and pays with vouchers. Counting per session would let a payer who never pays reconnect for a
//! fresh grace period each time; the ledger counts per payer and creator instead, on this node,
//! across every session and restart: `owed` grows with time watched, `paid` with the vouchers
//! this node accepted. A payer more than the grace period behind is dropped, and refused at the
//! next join until a voucher (on the data channel, or `POST /pay`) brings them back within it;
//! so over any sequence of reconnects, unpaid watching is bounded by one grace period.
//!
//! Entries live in the node's offchain storage under [`LEDGER_PREFIX`] followed by the payer's
//! and the creator's account ids; the value is SCALE(`(owed, paid)`).

use std::{collections::HashMap, sync::Mutex};

use codec::{Decode, Encode};
use sp_runtime::AccountId32;

use crate::vouchers::{Balance, VoucherStore};

/// The offchain storage prefix of ledger entries.
pub const LEDGER_PREFIX: &[u8] = b"sutantra/streaming/owed/";

/// One payer's standing with one creator on this node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct Standing {
	/// What the time watched on a channel was worth, at the prices of the time.
	pub owed: Balance,
	/// What this node accepted in vouchers from the payer to the creator.
	pub paid: Balance,
}

impl Standing {
	/// How much the payer is behind (zero when paid ahead).
	pub fn behind(&self) -> Balance {
		self.owed.saturating_sub(self.paid)
	}
}

/// The ledger: standings kept in memory and written through to a store.
pub struct Ledger<S> {
	store: S,
	standings: Mutex<HashMap<(AccountId32, AccountId32), Standing>>,
}

fn key(payer: &AccountId32, creator: &AccountId32) -> Vec<u8> {
	[LEDGER_PREFIX, payer.as_ref(), creator.as_ref()].concat()
}

impl<S: VoucherStore> Ledger<S> {
	/// A ledger kept in `store`.
	pub fn new(store: S) -> Self {
		Self { store, standings: Mutex::default() }
	}

	/// `payer`'s standing with `creator`.
	pub fn standing(&self, payer: &AccountId32, creator: &AccountId32) -> Standing {
		let mut standings = self.standings.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		*self.entry(&mut standings, payer, creator)
	}

	fn entry<'a>(
		&self,
		standings: &'a mut HashMap<(AccountId32, AccountId32), Standing>,
		payer: &AccountId32,
		creator: &AccountId32,
	) -> &'a mut Standing {
		standings.entry((payer.clone(), creator.clone())).or_insert_with(|| {
			self.store
				.get(&key(payer, creator))
				.and_then(|bytes| Standing::decode(&mut &bytes[..]).ok())
				.unwrap_or_default()
		})
	}

	/// Adds `owed` and `paid` to `payer`'s standing with `creator`; returns the new standing.
	pub fn record(
		&self,
		payer: &AccountId32,
		creator: &AccountId32,
		owed: Balance,
		paid: Balance,
	) -> Standing {
		let mut standings = self.standings.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		let entry = self.entry(&mut standings, payer, creator);
		entry.owed = entry.owed.saturating_add(owed);
		entry.paid = entry.paid.saturating_add(paid);
		let standing = *entry;
		if let Err(error) = self.store.set(&key(payer, creator), &standing.encode()) {
			log::warn!(target: crate::LOG_TARGET, "writing the payment ledger: {error}");
		}
		standing
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use std::sync::Arc;

	#[derive(Clone, Default)]
	struct Memory(Arc<Mutex<HashMap<Vec<u8>, Vec<u8>>>>);

	impl VoucherStore for Memory {
		fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
			self.0.lock().unwrap().get(key).cloned()
		}
		fn set(&self, key: &[u8], value: &[u8]) -> std::io::Result<()> {
			self.0.lock().unwrap().insert(key.to_vec(), value.to_vec());
			Ok(())
		}
	}

	#[test]
	fn standings_add_up_and_outlive_the_ledger() {
		let (bob, alice, charlie) =
			(AccountId32::new([2; 32]), AccountId32::new([1; 32]), AccountId32::new([3; 32]));
		let store = Memory::default();
		let ledger = Ledger::new(store.clone());
		ledger.record(&bob, &alice, 300, 0);
		let standing = ledger.record(&bob, &alice, 100, 250);
		assert_eq!(standing, Standing { owed: 400, paid: 250 });
		assert_eq!(standing.behind(), 150);
		assert_eq!(ledger.standing(&bob, &charlie), Standing::default());
		// A restarted node reads the same standing back.
		let restarted = Ledger::new(store);
		assert_eq!(restarted.standing(&bob, &alice), Standing { owed: 400, paid: 250 });
		assert_eq!(restarted.record(&bob, &alice, 0, 500).behind(), 0);
	}
}
