//! Chain events become streaming commands, within the block that carries them.
//!
//! The bridge follows the node's block imports. For each new best block it reads the block's
//! events and:
//! - `Streams::StreamEnded` ends the stream's sessions (publisher and viewers);
//! - `Streams::AccessRevoked`, `Streams::StreamUpdated` (a new price), and payment-channel
//!   events (`CloseRequested`, `Claimed`, `ChannelClosed`, which can leave a viewer's channel
//!   closing or drained) make it ask the runtime again, at that block, whether each affected
//!   viewer may still watch; a viewer who may not is dropped with the chain's reason.

use std::{collections::HashSet, marker::PhantomData, sync::Arc};

use futures::StreamExt;
use pallet_payments_runtime_api::PaymentsApi;
use pallet_streams_runtime_api::{AccessStatus, StreamsApi};
use sc_client_api::{BlockchainEvents, StorageProvider};
use sp_api::ProvideRuntimeApi;
use sp_core::{crypto::Ss58Codec, storage::StorageKey};
use sutantra_runtime::{
	apis::StreamInfo, opaque::Block, AccountId, Balance, BlockNumber, Hash, RuntimeEvent,
};
use sutantra_streaming::{Engine, EngineEvent, EngineEvents, Role, StreamId};

use crate::{policy::decide, LOG_TARGET};

/// What a block's events ask of the engine.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Actions {
	/// Streams that ended on chain.
	pub ended: Vec<u64>,
	/// Viewers (by account) whose access must be asked again.
	pub accounts: HashSet<AccountId>,
	/// Streams whose viewers' access must be asked again.
	pub streams: HashSet<u64>,
	/// Channels whose payer's access must be asked again.
	pub channels: HashSet<u64>,
}

impl Actions {
	/// What `events` ask for.
	pub fn from_events<'a>(events: impl IntoIterator<Item = &'a RuntimeEvent>) -> Self {
		use pallet_payments::Event as Payments;
		use pallet_streams::Event as Streams;
		let mut actions = Actions::default();
		for event in events {
			match event {
				RuntimeEvent::Streams(Streams::StreamEnded { stream_id, .. }) => {
					actions.ended.push(*stream_id)
				},
				RuntimeEvent::Streams(Streams::AccessRevoked { viewer, .. }) => {
					actions.accounts.insert(viewer.clone());
				},
				RuntimeEvent::Streams(Streams::StreamUpdated { stream_id }) => {
					actions.streams.insert(*stream_id);
				},
				RuntimeEvent::Payments(Payments::CloseRequested { channel_id, .. })
				| RuntimeEvent::Payments(Payments::Claimed { channel_id, .. }) => {
					actions.channels.insert(*channel_id);
				},
				RuntimeEvent::Payments(Payments::ChannelClosed { payer, .. }) => {
					actions.accounts.insert(payer.clone());
				},
				_ => {},
			}
		}
		actions
	}

	/// Whether the block asks nothing.
	pub fn is_empty(&self) -> bool {
		self.ended.is_empty()
			&& self.accounts.is_empty()
			&& self.streams.is_empty()
			&& self.channels.is_empty()
	}
}

/// Follows the chain and the engine; runs until either ends.
pub struct Bridge<C, B> {
	client: Arc<C>,
	engine: Engine,
	_backend: PhantomData<B>,
}

impl<C, B> Bridge<C, B>
where
	B: sc_client_api::Backend<Block> + 'static,
	C: ProvideRuntimeApi<Block>
		+ BlockchainEvents<Block>
		+ StorageProvider<Block, B>
		+ Send
		+ Sync
		+ 'static,
	C::Api: StreamsApi<Block, AccountId, StreamInfo, BlockNumber>
		+ PaymentsApi<Block, AccountId, Balance, BlockNumber, pallet_payments::VoucherSignature>,
{
	/// A bridge between `client`'s chain and `engine`.
	pub fn new(client: Arc<C>, engine: Engine) -> Self {
		Self { client, engine, _backend: PhantomData }
	}

	/// Runs until the chain's import stream or the engine's events end.
	pub async fn run(self, mut events: EngineEvents) {
		let mut imports = self.client.import_notification_stream();
		loop {
			tokio::select! {
				event = events.recv() => match event {
					Some(event) => self.on_engine_event(event),
					None => break,
				},
				notification = imports.next() => match notification {
					Some(block) if block.is_new_best => self.on_block(block.hash).await,
					Some(_) => {},
					None => break,
				},
			}
		}
		self.engine.shutdown().await;
	}

	fn on_engine_event(&self, event: EngineEvent) {
		log::debug!(target: LOG_TARGET, "{event:?}");
	}

	async fn on_block(&self, hash: Hash) {
		let events = match self.events_at(hash) {
			Ok(events) => events,
			Err(error) => {
				log::warn!(target: LOG_TARGET, "cannot read the events of block {hash}: {error}");
				return;
			},
		};
		let actions = Actions::from_events(&events);
		if actions.is_empty() {
			return;
		}
		for stream in &actions.ended {
			let Ok(id) = stream.to_string().parse::<StreamId>() else { continue };
			if let Err(error) = self.engine.end_stream(&id, "the stream ended on chain").await {
				log::debug!(target: LOG_TARGET, "ending stream {stream}: {error}");
			}
		}
		let mut accounts = actions.accounts.clone();
		for channel in &actions.channels {
			match self.client.runtime_api().channel(hash, *channel) {
				Ok(Some(channel)) => {
					accounts.insert(channel.payer);
				},
				Ok(None) => {},
				Err(error) => log::warn!(target: LOG_TARGET, "reading channel {channel}: {error}"),
			}
		}
		self.recheck_viewers(hash, &accounts, &actions.streams).await;
	}

	/// Asks the runtime again about each affected viewer; drops those who may no longer watch.
	async fn recheck_viewers(
		&self,
		hash: Hash,
		accounts: &HashSet<AccountId>,
		streams: &HashSet<u64>,
	) {
		for session in self.engine.sessions() {
			if session.role != Role::Viewer {
				continue;
			}
			let Ok(stream) = session.stream.as_str().parse::<u64>() else { continue };
			let Some(account) =
				session.principal.as_deref().and_then(|p| AccountId::from_ss58check(p).ok())
			else {
				continue;
			};
			if !accounts.contains(&account) && !streams.contains(&stream) {
				continue;
			}
			let status = match self.client.runtime_api().access(hash, stream, account) {
				Ok(status) => status,
				Err(error) => {
					log::warn!(target: LOG_TARGET, "asking the runtime about access: {error}");
					continue;
				},
			};
			if matches!(status, AccessStatus::Allowed { .. }) {
				continue;
			}
			let reason = match decide(stream, status) {
				sutantra_streaming::Decision::Deny { reason, .. } => reason,
				_ => continue,
			};
			log::info!(target: LOG_TARGET, "dropping viewer {} of stream {stream}: {reason}", session.session);
			if let Err(error) = self.engine.drop_viewer(session.session, &reason).await {
				log::debug!(target: LOG_TARGET, "dropping viewer {}: {error}", session.session);
			}
		}
	}

	fn events_at(&self, hash: Hash) -> Result<Vec<RuntimeEvent>, String> {
		use codec::Decode;
		let mut key = sp_crypto_hashing::twox_128(b"System").to_vec();
		key.extend_from_slice(&sp_crypto_hashing::twox_128(b"Events"));
		let Some(data) =
			self.client.storage(hash, &StorageKey(key)).map_err(|error| error.to_string())?
		else {
			return Ok(Vec::new());
		};
		let records =
			Vec::<frame_system::EventRecord<RuntimeEvent, Hash>>::decode(&mut &data.0[..])
				.map_err(|error| error.to_string())?;
		Ok(records.into_iter().map(|record| record.event).collect())
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_keyring::Sr25519Keyring;

	#[test]
	fn a_blocks_events_become_actions() {
		let bob = Sr25519Keyring::Bob.to_account_id();
		let events = [
			RuntimeEvent::Streams(pallet_streams::Event::StreamEnded {
				stream_id: 4,
				forced: false,
			}),
			RuntimeEvent::Streams(pallet_streams::Event::AccessRevoked {
				stream_id: 5,
				viewer: bob.clone(),
			}),
			RuntimeEvent::Streams(pallet_streams::Event::StreamUpdated { stream_id: 6 }),
			RuntimeEvent::Payments(pallet_payments::Event::CloseRequested {
				channel_id: 7,
				closes_at: 99,
			}),
			RuntimeEvent::Streams(pallet_streams::Event::StreamStarted { stream_id: 8 }),
		];
		let actions = Actions::from_events(&events);
		assert_eq!(actions.ended, vec![4]);
		assert_eq!(actions.accounts, HashSet::from([bob]));
		assert_eq!(actions.streams, HashSet::from([6]));
		assert_eq!(actions.channels, HashSet::from([7]));
		assert!(Actions::from_events(&events[4..]).is_empty());
	}
}
