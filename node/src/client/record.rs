//! What this payer has signed: the client's own record, per chain, channel and lane, of the
//! highest voucher amount it ever signed. The watch client builds every new voucher on this
//! record (or on what the chain settled, if higher), never on a node's word: a node that claims
//! to have accepted more must show the payer's own signature of it.
//!
//! One small file per lane, `<data dir>/vouchers/<genesis>/<channel>-<lane>`, holding the amount
//! in decimal. The data dir is `$SUTANTRA_DATA_DIR`, else `$XDG_DATA_HOME/sutantra`, else
//! `~/.local/share/sutantra`. It is written (and flushed) before a voucher for a higher amount is
//! sent, so a crash never leaves a voucher out there that the record does not cover.

use std::{
	io::Write,
	path::{Path, PathBuf},
};

use sutantra_runtime::{AccountId, Balance};

/// The client's data directory.
pub(super) fn data_dir() -> PathBuf {
	if let Some(dir) = std::env::var_os("SUTANTRA_DATA_DIR") {
		return PathBuf::from(dir);
	}
	if let Some(dir) = std::env::var_os("XDG_DATA_HOME") {
		return Path::new(&dir).join("sutantra");
	}
	let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
	Path::new(&home).join(".local/share/sutantra")
}

/// The record of one lane of one channel.
pub(super) struct SignedRecord {
	path: PathBuf,
}

impl SignedRecord {
	/// The record of `lane` of `channel` on the chain with `genesis` under `dir`.
	pub(super) fn new(dir: &Path, genesis: &[u8], channel: u64, lane: &AccountId) -> Self {
		let lane: &[u8] = lane.as_ref();
		let path = dir
			.join("vouchers")
			.join(hex::encode(genesis))
			.join(format!("{channel}-{}", hex::encode(lane)));
		Self { path }
	}

	/// The highest amount signed so far (zero when nothing was).
	pub(super) fn load(&self) -> Balance {
		std::fs::read_to_string(&self.path)
			.ok()
			.and_then(|text| text.trim().parse().ok())
			.unwrap_or(0)
	}

	/// Records `amount` as signed, durably.
	pub(super) fn save(&self, amount: Balance) -> std::io::Result<()> {
		let dir = self.path.parent().expect("the record's path has a directory");
		std::fs::create_dir_all(dir)?;
		let fresh = self.path.with_extension("new");
		let mut file = std::fs::File::create(&fresh)?;
		file.write_all(amount.to_string().as_bytes())?;
		file.sync_all()?;
		std::fs::rename(&fresh, &self.path)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_record_survives_and_is_per_channel_and_lane() {
		let dir = tempfile::tempdir().unwrap();
		let lane = AccountId::new([7; 32]);
		let record = SignedRecord::new(dir.path(), &[1; 32], 3, &lane);
		assert_eq!(record.load(), 0);
		record.save(1_500).unwrap();
		assert_eq!(SignedRecord::new(dir.path(), &[1; 32], 3, &lane).load(), 1_500);
		assert_eq!(SignedRecord::new(dir.path(), &[1; 32], 4, &lane).load(), 0);
		assert_eq!(SignedRecord::new(dir.path(), &[1; 32], 3, &AccountId::new([8; 32])).load(), 0);
		assert_eq!(SignedRecord::new(dir.path(), &[2; 32], 3, &lane).load(), 0);
	}
}
