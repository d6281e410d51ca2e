//! Chain events become streaming commands, within the block that carries them.
//!
//! The bridge follows the node's block imports. For each new best block it reads the block's
//! events and:
//! - `Streams::StreamEnded` ends the stream's sessions (publisher and viewers);
//! - `Streams::AccessRevoked`, `Streams::StreamUpdated` (a new price), and payment-channel
//!   events (`CloseRequested`, `Claimed`, `ChannelClosed`, which can leave a viewer's channel
//!   closing or drained) make it ask the runtime again, at that block, whether each affected
//!   viewer may still watch; a viewer who may not is dropped with the chain's reason.
//!
//! It also runs the payments of viewers who watch on a payment channel: vouchers arriving on
//! the `sutantra-pay` data channel are checked by the [`VoucherBook`] against the channel at the
//! best block, stored durably, and answered (`ack` or `reject`). A viewer whose accepted
//! payments fall more than [`WARN_BEHIND_SECS`] of the price behind the time watched is warned,
//! and more than [`GRACE_SECS`] behind is dropped with "payment required".

use std::{
	collections::{HashMap, HashSet},
	marker::PhantomData,
	sync::Arc,
	time::{Duration, Instant},
};

use futures::StreamExt;
use pallet_payments_runtime_api::PaymentsApi;
use pallet_streams_runtime_api::{AccessStatus, StreamsApi};
use sc_client_api::{BlockchainEvents, StorageProvider};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::{crypto::Ss58Codec, storage::StorageKey};
use sutantra_runtime::{
	apis::StreamInfo, opaque::Block, AccountId, Balance, BlockNumber, Hash, RuntimeEvent,
};
use sutantra_streaming::{Engine, EngineEvent, EngineEvents, Role, SessionId, StreamId};

use crate::{
	policy::decide,
	vouchers::{ChannelState, PayMessage, VoucherBook, VoucherStore},
	LOG_TARGET,
};

/// A paying viewer is warned when its accepted payments are this many seconds of the price
/// behind the time it has watched.
pub const WARN_BEHIND_SECS: u64 = 10;
/// ... and dropped at this many: the runtime's `AccessGraceSeconds`.
pub const GRACE_SECS: u64 = 30;

/// A viewer watching on a payment channel.
struct Paying {
	account: AccountId,
	creator: AccountId,
	price: Balance,
	joined: Instant,
	/// What this session's accepted vouchers added.
	paid: Balance,
	warned: bool,
}

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
pub struct Bridge<C, B, V> {
	client: Arc<C>,
	engine: Engine,
	book: VoucherBook<V>,
	paying: HashMap<SessionId, Paying>,
	metrics: Option<crate::metrics::Metrics>,
	/// Payload bytes last seen per viewer session, to count what was sent since.
	bytes_seen: HashMap<SessionId, u64>,
	_backend: PhantomData<B>,
}

impl<C, B, V> Bridge<C, B, V>
where
	B: sc_client_api::Backend<Block> + 'static,
	V: VoucherStore,
	C: ProvideRuntimeApi<Block>
		+ HeaderBackend<Block>
		+ BlockchainEvents<Block>
		+ StorageProvider<Block, B>
		+ Send
		+ Sync
		+ 'static,
	C::Api: StreamsApi<Block, AccountId, StreamInfo, BlockNumber>
		+ PaymentsApi<Block, AccountId, Balance, BlockNumber, pallet_payments::VoucherSignature>,
{
	/// A bridge between `client`'s chain and `engine`, keeping vouchers in `book`.
	pub fn new(
		client: Arc<C>,
		engine: Engine,
		book: VoucherBook<V>,
		metrics: Option<crate::metrics::Metrics>,
	) -> Self {
		Self {
			client,
			engine,
			book,
			paying: HashMap::new(),
			metrics,
			bytes_seen: HashMap::new(),
			_backend: PhantomData,
		}
	}

	/// Brings the streaming gauges and the bytes-sent counter up to date.
	async fn update_metrics(&mut self) {
		let Some(metrics) = self.metrics.clone() else { return };
		metrics.live_streams.set(self.engine.live_streams().len() as u64);
		let viewers: Vec<_> =
			self.engine.sessions().into_iter().filter(|s| s.role == Role::Viewer).collect();
		metrics.viewers.set(viewers.len() as u64);
		let mut seen = HashMap::new();
		for viewer in viewers {
			let Ok(stats) = self.engine.session_stats(viewer.session).await else { continue };
			let before = self.bytes_seen.get(&viewer.session).copied().unwrap_or(0);
			metrics.bytes_sent.inc_by(stats.payload_bytes.saturating_sub(before));
			seen.insert(viewer.session, stats.payload_bytes);
		}
		self.bytes_seen = seen;
	}

	/// Runs until the chain's import stream or the engine's events end.
	pub async fn run(mut self, mut events: EngineEvents) {
		let mut imports = self.client.import_notification_stream();
		let mut ticks = tokio::time::interval(Duration::from_secs(1));
		loop {
			tokio::select! {
				event = events.recv() => match event {
					Some(event) => self.on_engine_event(event).await,
					None => break,
				},
				_ = ticks.tick() => {
					self.enforce_payment().await;
					self.update_metrics().await;
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

	async fn on_engine_event(&mut self, event: EngineEvent) {
		log::debug!(target: LOG_TARGET, "{event:?}");
		match event {
			EngineEvent::ViewerJoined { session, .. } => self.on_viewer_joined(session),
			EngineEvent::ViewerLeft { session, .. } => {
				self.paying.remove(&session);
			},
			EngineEvent::DataMessage { session, data, .. } => {
				self.on_pay_message(session, &data).await
			},
			_ => {},
		}
	}

	/// Notes a viewer who watches on a payment channel: from now on it must pay as it watches.
	fn on_viewer_joined(&mut self, session: SessionId) {
		let Some((id, account)) = self.viewer(session) else { return };
		let best = self.client.info().best_hash;
		let api = self.client.runtime_api();
		let (Ok(Some(info)), Ok(access)) =
			(api.stream(best, id), api.access(best, id, account.clone()))
		else {
			return;
		};
		if let AccessStatus::Allowed { source: pallet_streams::AccessSource::Channel, .. } = access
		{
			self.paying.insert(
				session,
				Paying {
					account,
					creator: info.creator,
					price: info.price_per_second,
					joined: Instant::now(),
					paid: 0,
					warned: false,
				},
			);
		}
	}

	/// A message on a viewer's `sutantra-pay` channel: a voucher to check and answer.
	async fn on_pay_message(&mut self, session: SessionId, data: &[u8]) {
		let message = serde_json::from_slice::<PayMessage>(data).ok();
		let Some(signed) = message.as_ref().and_then(PayMessage::signed_voucher) else {
			let reject = PayMessage::refuse(0, "not a voucher message (see docs/payments.md)");
			self.reply(session, &reject).await;
			return;
		};
		let channel_id = signed.voucher.channel_id;
		let Some((viewer, creator)) = self
			.paying
			.get(&session)
			.map(|p| (p.account.clone(), p.creator.clone()))
			.or_else(|| self.viewer_of(session))
		else {
			return;
		};
		let best = self.client.info().best_hash;
		let channel = match self.client.runtime_api().channel(best, channel_id) {
			Ok(Some(channel)) => ChannelState {
				closing: channel.closes_at.is_some(),
				payer: channel.payer,
				payee: channel.payee,
				deposit: channel.deposit,
				paid: channel.paid,
				nonce: channel.nonce,
			},
			Ok(None) => {
				let reason = format!("channel {channel_id} is not open on chain");
				self.reply(session, &PayMessage::refuse(channel_id, reason)).await;
				return;
			},
			Err(error) => {
				log::warn!(target: LOG_TARGET, "reading channel {channel_id}: {error}");
				return;
			},
		};
		let answer = match self.book.accept(&signed, &channel, &viewer, &creator) {
			Ok(accepted) => {
				if let Some(metrics) = &self.metrics {
					metrics.vouchers_accepted.inc();
					metrics.amount_accepted.inc_by(accepted.increase as f64);
				}
				if let Some(paying) = self.paying.get_mut(&session) {
					paying.paid = paying.paid.saturating_add(accepted.increase);
				}
				PayMessage::Ack { channel_id, accepted: accepted.total.to_string() }
			},
			Err(rejection) => {
				if let Some(metrics) = &self.metrics {
					metrics.vouchers_rejected.with_label_values(&[rejection.label()]).inc();
				}
				PayMessage::reject(channel_id, &rejection)
			},
		};
		self.reply(session, &answer).await;
	}

	/// The viewer's account and the stream's creator, for a session not paying by channel.
	fn viewer_of(&self, session: SessionId) -> Option<(AccountId, AccountId)> {
		let (id, account) = self.viewer(session)?;
		let best = self.client.info().best_hash;
		let stream = self.client.runtime_api().stream(best, id).ok()??;
		Some((account, stream.creator))
	}

	/// A session's on-chain stream id and the account the policy admitted.
	fn viewer(&self, session: SessionId) -> Option<(u64, AccountId)> {
		self.engine
			.sessions()
			.iter()
			.find(|info| info.session == session)
			.and_then(stream_and_account)
	}

	async fn reply(&self, session: SessionId, message: &PayMessage) {
		let Ok(bytes) = serde_json::to_vec(message) else { return };
		if let Err(error) = self.engine.send_data(session, bytes.into()).await {
			log::debug!(target: LOG_TARGET, "answering viewer {session}: {error}");
		}
	}

	/// Warns, then drops, viewers whose payments fall behind the time they have watched.
	async fn enforce_payment(&mut self) {
		let mut late = Vec::new();
		let mut warn = Vec::new();
		for (session, paying) in &mut self.paying {
			if paying.price == 0 {
				continue;
			}
			let owed = paying.price.saturating_mul(paying.joined.elapsed().as_secs().into());
			let behind = owed.saturating_sub(paying.paid);
			if behind > paying.price.saturating_mul(GRACE_SECS.into()) {
				late.push(*session);
			} else if behind > paying.price.saturating_mul(WARN_BEHIND_SECS.into())
				&& !paying.warned
			{
				paying.warned = true;
				warn.push(*session);
			} else if behind <= paying.price.saturating_mul(WARN_BEHIND_SECS.into()) {
				paying.warned = false;
			}
		}
		for session in warn {
			let reason = format!(
				"payment is more than {WARN_BEHIND_SECS} s behind; send a voucher within {} s or be disconnected",
				GRACE_SECS - WARN_BEHIND_SECS
			);
			self.reply(session, &PayMessage::Warning { reason }).await;
		}
		for session in late {
			self.paying.remove(&session);
			let reason = format!("payment required: vouchers fell more than {GRACE_SECS} s behind");
			if let Err(error) = self.engine.drop_viewer(session, &reason).await {
				log::debug!(target: LOG_TARGET, "dropping viewer {session}: {error}");
			}
		}
	}

	async fn on_block(&self, hash: Hash) {
		let events = match self.events_at(hash) {
			Ok(events) => events,
			Err(error) => {
				log::warn!(target: LOG_TARGET, "cannot read the events of block {hash}: {error}");
				return;
			},
		};
		if let Some(metrics) = &self.metrics {
			let claims = events
				.iter()
				.filter(|e| {
					matches!(e, RuntimeEvent::Payments(pallet_payments::Event::Claimed { .. }))
				})
				.count();
			metrics.claims.inc_by(claims as u64);
		}
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
			let Some((stream, account)) = stream_and_account(&session) else { continue };
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

/// A session's on-chain stream id and admitted account, if it has both.
fn stream_and_account(info: &sutantra_streaming::SessionInfo) -> Option<(u64, AccountId)> {
	let stream = info.stream.as_str().parse::<u64>().ok()?;
	let account = AccountId::from_ss58check(info.principal.as_deref()?).ok()?;
	Some((stream, account))
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
