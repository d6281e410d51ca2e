//! Chain events and chain time become streaming commands, within the block that carries them.
//!
//! Every admitted viewer carries what the chain said when it was admitted: the source of its
//! access and the block it lasts until. The bridge follows the node's block imports and, for each
//! new best block, asks the runtime again, at that block, about every viewer whose access ended
//! at the block before (so access that runs out stops within one block, and access extended in
//! time keeps the session), and about every viewer the block's events touch:
//! - `Streams::StreamEnded` ends the stream's sessions (publisher and viewers);
//! - `Streams::AccessRevoked`, `Streams::StreamUpdated` (a new price), and payment-channel
//!   events (`CloseRequested`, `Claimed`, `ChannelClosed`, which can leave a viewer's channel
//!   closing or drained) make it ask the runtime again whether each affected viewer may still
//!   watch; a viewer who may not is dropped with the chain's reason. One who may, but now by
//!   another source (a revoked grant while a channel is open), carries on under the new source:
//!   a viewer whose access now comes from a channel starts paying from that moment.
//!
//! It also runs the payments of viewers who watch on a payment channel: vouchers arriving on
//! the `sutantra-pay` data channel go to the [`PaymentDesk`] and are answered (`ack` or
//! `reject`). Each second a paying viewer watches adds the stream's price at that second to what
//! the payer owes the creator on this node ([`crate::ledger`]); a payer more than
//! [`WARN_BEHIND_SECS`] of the price behind is warned, and more than [`GRACE_SECS`] behind is
//! dropped with "payment required".

use std::{
	collections::{HashMap, HashSet},
	marker::PhantomData,
	sync::Arc,
	time::{Duration, Instant},
};

use futures::StreamExt;
use pallet_payments_runtime_api::PaymentsApi;
use pallet_streams_runtime_api::{AccessSource, AccessStatus, StreamsApi};
use sc_client_api::{BlockchainEvents, StorageProvider};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::{crypto::Ss58Codec, storage::StorageKey};
use sp_runtime::traits::Header as _;
use sutantra_runtime::{
	apis::StreamInfo, opaque::Block, AccountId, Balance, BlockNumber, Hash, RuntimeEvent,
};
use sutantra_streaming::{Engine, EngineEvent, EngineEvents, Role, SessionId, StreamId};

use crate::{
	payments::PaymentDesk,
	policy::decide,
	vouchers::{PayMessage, Viewing, VoucherStore},
	LOG_TARGET,
};

/// A paying viewer is warned when its accepted payments are this many seconds of the price
/// behind the time it has watched.
pub const WARN_BEHIND_SECS: u64 = 10;
/// ... and dropped at this many: the runtime's `AccessGraceSeconds`.
pub const GRACE_SECS: u64 = 30;
/// How often (in blocks) the list of pending claims is checked against the chain.
const PRUNE_EVERY_BLOCKS: BlockNumber = 100;
/// A payer may pay at most this many seconds of the price ahead of what it owes a node: bounds
/// what a node can lose when lanes of one channel promise more than its deposit holds.
pub const PREPAY_SECS: u64 = 60;

/// An admitted viewer, as the chain last justified it.
struct Watching {
	stream: u64,
	account: AccountId,
	creator: AccountId,
	/// Why the chain lets them watch.
	source: AccessSource,
	/// The last block of their access, when it ends at a known block.
	until: Option<BlockNumber>,
	/// The stream's price per second.
	price: Balance,
	/// Up to when the time watched on a channel has been counted in the ledger.
	counted_to: Instant,
	warned: bool,
}

impl Watching {
	fn pays_by_channel(&self) -> bool {
		self.source == AccessSource::Channel && self.price > 0
	}

	fn viewing(&self) -> Viewing {
		Viewing {
			viewer: self.account.clone(),
			creator: self.creator.clone(),
			stream: Some(self.stream),
			price: self.price,
		}
	}
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
pub struct Bridge<C, B, V, L> {
	client: Arc<C>,
	engine: Engine,
	desk: Arc<PaymentDesk<C, V, L>>,
	watching: HashMap<SessionId, Watching>,
	metrics: Option<crate::metrics::Metrics>,
	/// Payload bytes last seen per viewer session, to count what was sent since.
	bytes_seen: HashMap<SessionId, u64>,
	/// Streams with quality series on the metrics endpoint.
	quality_streams: HashSet<StreamId>,
	_backend: PhantomData<B>,
}

impl<C, B, V, L> Bridge<C, B, V, L>
where
	B: sc_client_api::Backend<Block> + 'static,
	V: VoucherStore + 'static,
	L: VoucherStore + 'static,
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
	/// A bridge between `client`'s chain and `engine`, taking payments at `desk`.
	pub fn new(
		client: Arc<C>,
		engine: Engine,
		desk: Arc<PaymentDesk<C, V, L>>,
		metrics: Option<crate::metrics::Metrics>,
	) -> Self {
		Self {
			client,
			engine,
			desk,
			watching: HashMap::new(),
			metrics,
			bytes_seen: HashMap::new(),
			quality_streams: HashSet::new(),
			_backend: PhantomData,
		}
	}

	/// Takes channels that were settled or closed while the node was not watching the chain off
	/// the offchain worker's list.
	async fn prune_pending(&self) {
		let (client, desk) = (self.client.clone(), self.desk.clone());
		let _ = crate::off_executor(move || {
			let best = client.info().best_hash;
			let api = client.runtime_api();
			let lane = desk.book().lane().clone();
			for channel_id in desk.book().pending() {
				let paid = match api.channel(best, channel_id) {
					Ok(None) => None,
					Ok(Some(_)) => match api.lane_paid(best, channel_id, lane.clone()) {
						Ok(paid) => Some(paid),
						Err(_) => continue,
					},
					Err(_) => continue,
				};
				if let Err(error) = desk.book().settled(channel_id, paid) {
					log::warn!(target: LOG_TARGET, "updating the pending claims: {error}");
				}
			}
		})
		.await;
	}

	/// Brings the streaming gauges and the bytes-sent counter up to date.
	async fn update_metrics(&mut self) {
		let Some(metrics) = self.metrics.clone() else { return };
		let live: HashSet<StreamId> =
			self.engine.live_streams().into_iter().map(|stream| stream.stream).collect();
		metrics.live_streams.set(live.len() as u64);
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
		for stream in &live {
			if let Some((_, receptions)) = self.engine.stream_receptions(stream) {
				metrics.quality.observe(&stream.to_string(), &receptions);
			}
		}
		for ended in self.quality_streams.difference(&live) {
			metrics.quality.forget(&ended.to_string());
		}
		self.quality_streams = live;
	}

	/// Runs until the chain's import stream or the engine's events end.
	pub async fn run(mut self, mut events: EngineEvents) {
		let mut imports = self.client.import_notification_stream();
		self.prune_pending().await;
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
					Some(block) if block.is_new_best => {
						let (adopted, abandoned) = branch_of(block.hash, block.tree_route.as_deref());
						let number = *block.header.number();
						self.on_block(block.hash, number, adopted, abandoned).await;
						// Now and then, what was settled unseen (events of blocks imported
						// without notifications, as in a major sync) leaves the list too.
						if number % PRUNE_EVERY_BLOCKS == 0 {
							self.prune_pending().await;
						}
					},
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
			EngineEvent::ViewerJoined { session, .. } => self.on_viewer_joined(session).await,
			EngineEvent::ViewerLeft { session, .. } => {
				if let Some(mut watching) = self.watching.remove(&session) {
					self.count_watching(&mut watching);
				}
			},
			EngineEvent::DataMessage { session, data, .. } => {
				self.on_pay_message(session, &data).await
			},
			_ => {},
		}
	}

	/// Notes what the chain says of a viewer who just connected: the source of its access, until
	/// when, and at what price. One whose access ended in the meantime is dropped.
	async fn on_viewer_joined(&mut self, session: SessionId) {
		let Some((stream, account)) = self.viewer(session) else { return };
		let client = self.client.clone();
		let asked = {
			let account = account.clone();
			crate::off_executor(move || {
				let best = client.info().best_hash;
				let api = client.runtime_api();
				match (api.stream(best, stream), api.access(best, stream, account)) {
					(Ok(Some(info)), Ok(access)) => Some((info, access)),
					_ => None,
				}
			})
			.await
		};
		let Ok(Some((info, access))) = asked else {
			// A viewer the bridge cannot follow is neither billed nor expired: it goes.
			let reason = "the node could not ask the chain about this session; join again";
			if let Err(error) = self.engine.drop_viewer(session, reason).await {
				log::debug!(target: LOG_TARGET, "dropping viewer {session}: {error}");
			}
			return;
		};
		let AccessStatus::Allowed { source, until } = access else {
			self.drop_viewer(session, stream, access).await;
			return;
		};
		self.watching.insert(
			session,
			Watching {
				stream,
				account,
				creator: info.creator,
				source,
				until,
				price: info.price_per_second,
				counted_to: Instant::now(),
				warned: false,
			},
		);
	}

	/// A message on a viewer's `sutantra-pay` channel: a voucher to check and answer. The check
	/// (runtime calls, the signature, the journal's fsync) runs off the async executor.
	async fn on_pay_message(&mut self, session: SessionId, data: &[u8]) {
		let known = self.watching.get(&session).map(Watching::viewing);
		let unknown = match known {
			Some(_) => None,
			None => match self.viewer(session) {
				Some(viewer) => Some(viewer),
				None => return,
			},
		};
		let (client, desk, data) = (self.client.clone(), self.desk.clone(), data.to_vec());
		let answered = crate::off_executor(move || {
			let viewing = match known {
				Some(viewing) => viewing,
				None => viewing_of(&*client, unknown?)?,
			};
			Some(desk.take(&data, Some(&viewing)).0)
		})
		.await;
		match answered {
			Ok(Some(answer)) => self.reply(session, &answer).await,
			Ok(None) => {},
			Err(reason) => self.reply(session, &PayMessage::refuse(0, &reason)).await,
		}
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

	/// Counts the time `watching` watched on a channel since it was last counted, at its
	/// price, in the ledger, and moves its count on by that time; returns how far the payer is
	/// now behind.
	fn count_watching(&self, watching: &mut Watching) -> Balance {
		let millis = watching.counted_to.elapsed().as_millis();
		watching.counted_to += Duration::from_millis(millis as u64);
		if !watching.pays_by_channel() {
			return 0;
		}
		let owed = watching.price.saturating_mul(millis) / 1000;
		self.desk.ledger().record(&watching.account, &watching.creator, owed, 0).behind()
	}

	/// Counts the time paying viewers watched; warns, then drops, those whose payments fall
	/// behind it.
	async fn enforce_payment(&mut self) {
		let mut late = Vec::new();
		let mut warn = Vec::new();
		let mut watching_all = std::mem::take(&mut self.watching);
		for (session, watching) in watching_all.iter_mut() {
			let session = *session;
			if !watching.pays_by_channel() {
				continue;
			}
			let behind = self.count_watching(watching);
			let price = watching.price;
			if behind > price.saturating_mul(GRACE_SECS.into()) {
				late.push(session);
			} else if behind > price.saturating_mul(WARN_BEHIND_SECS.into()) {
				if !watching.warned {
					watching.warned = true;
					warn.push(session);
				}
			} else {
				watching.warned = false;
			}
		}
		self.watching = watching_all;
		for session in warn {
			let reason = format!(
				"payment is more than {WARN_BEHIND_SECS} s behind; send a voucher within {} s or be disconnected",
				GRACE_SECS - WARN_BEHIND_SECS
			);
			self.reply(session, &PayMessage::Warning { reason }).await;
		}
		for session in late {
			self.watching.remove(&session);
			let reason = format!("payment required: vouchers fell more than {GRACE_SECS} s behind");
			if let Err(error) = self.engine.drop_viewer(session, &reason).await {
				log::debug!(target: LOG_TARGET, "dropping viewer {session}: {error}");
			}
		}
	}

	/// A new best block `hash`: the events of every block it adopts (`adopted`: after a reorg,
	/// the new branch from the common ancestor up to and including this block) are acted on;
	/// those of `abandoned` blocks (the old branch) have their viewers asked again, at this block,
	/// since what they granted or ended may not hold any more.
	async fn on_block(
		&mut self,
		hash: Hash,
		number: BlockNumber,
		adopted: Vec<Hash>,
		abandoned: Vec<Hash>,
	) {
		let (client, desk) = (self.client.clone(), self.desk.clone());
		let read = crate::off_executor(move || {
			let events_of = |block: Hash| match events_at::<C, B>(&client, block) {
				Ok(events) => events,
				Err(error) => {
					log::warn!(target: LOG_TARGET, "cannot read the events of block {block}: {error}");
					Vec::new()
				},
			};
			// The abandoned branch first: what it settled is pending again, unless the adopted
			// branch settles it too.
			let undone: Vec<RuntimeEvent> = abandoned.into_iter().flat_map(events_of).collect();
			relist_pending(desk.book(), &undone);
			let events: Vec<RuntimeEvent> = adopted.into_iter().flat_map(events_of).collect();
			settle_pending(desk.book(), &events);
			let mut actions = Actions::from_events(&events);
			let undone = Actions::from_events(&undone);
			actions.accounts.extend(undone.accounts);
			actions.streams.extend(undone.streams.into_iter().chain(undone.ended));
			actions.channels.extend(undone.channels);
			let mut accounts = actions.accounts.clone();
			for channel in &actions.channels {
				match client.runtime_api().channel(hash, *channel) {
					Ok(Some(channel)) => {
						accounts.insert(channel.payer);
					},
					Ok(None) => {},
					Err(error) => {
						log::warn!(target: LOG_TARGET, "reading channel {channel}: {error}")
					},
				}
			}
			let claims = events
				.iter()
				.filter(|e| {
					matches!(e, RuntimeEvent::Payments(pallet_payments::Event::Claimed { .. }))
				})
				.count();
			(actions, accounts, claims)
		})
		.await;
		let Ok((actions, accounts, claims)) = read else { return };
		if let Some(metrics) = &self.metrics {
			metrics.claims.inc_by(claims as u64);
		}
		for stream in &actions.ended {
			let Ok(id) = stream.to_string().parse::<StreamId>() else { continue };
			if let Err(error) = self.engine.end_stream(&id, "the stream ended on chain").await {
				log::debug!(target: LOG_TARGET, "ending stream {stream}: {error}");
			}
		}
		self.recheck_viewers(hash, number, &accounts, &actions.streams).await;
	}

	/// Asks the runtime again about each viewer whose access ran out before block `number` or
	/// whom the block's events touch; drops those who may no longer watch and carries the others
	/// on under what the chain now says.
	async fn recheck_viewers(
		&mut self,
		hash: Hash,
		number: BlockNumber,
		accounts: &HashSet<AccountId>,
		streams: &HashSet<u64>,
	) {
		let mut due = Vec::new();
		for session in self.engine.sessions() {
			if session.role != Role::Viewer {
				continue;
			}
			let Some((stream, account)) = stream_and_account(&session) else { continue };
			let expired = self
				.watching
				.get(&session.session)
				.and_then(|watching| watching.until)
				.is_some_and(|until| until < number);
			if expired || accounts.contains(&account) || streams.contains(&stream) {
				due.push((session.session, stream, account));
			}
		}
		if due.is_empty() {
			return;
		}
		let client = self.client.clone();
		let Ok(answers) = crate::off_executor(move || {
			let api = client.runtime_api();
			due.into_iter()
				.filter_map(|(session, stream, account)| {
					match (api.access(hash, stream, account), api.stream(hash, stream)) {
						(Ok(status), Ok(info)) => Some((session, stream, status, info)),
						(Err(error), _) | (_, Err(error)) => {
							log::warn!(target: LOG_TARGET, "asking the runtime about access: {error}");
							None
						},
					}
				})
				.collect::<Vec<_>>()
		})
		.await
		else {
			return;
		};
		for (session, stream, status, info) in answers {
			let AccessStatus::Allowed { source, until } = status else {
				if let Some(mut watching) = self.watching.remove(&session) {
					self.count_watching(&mut watching);
				}
				self.drop_viewer(session, stream, status).await;
				continue;
			};
			let Some(mut watching) = self.watching.remove(&session) else { continue };
			// What was watched under the old terms is counted at the old price first.
			self.count_watching(&mut watching);
			if watching.source != source {
				log::info!(
					target: LOG_TARGET,
					"viewer {session} of stream {stream} now watches by {source:?} (was {:?})",
					watching.source
				);
			}
			watching.source = source;
			watching.until = until;
			if let Some(info) = info {
				watching.price = info.price_per_second;
			}
			self.watching.insert(session, watching);
		}
	}

	/// Drops a viewer the chain no longer lets watch, with the chain's reason.
	async fn drop_viewer(
		&self,
		session: SessionId,
		stream: u64,
		status: AccessStatus<BlockNumber>,
	) {
		let reason = match decide(stream, status) {
			sutantra_streaming::Decision::Deny { reason, .. } => reason,
			_ => return,
		};
		log::info!(target: LOG_TARGET, "dropping viewer {session} of stream {stream}: {reason}");
		if let Err(error) = self.engine.drop_viewer(session, &reason).await {
			log::debug!(target: LOG_TARGET, "dropping viewer {session}: {error}");
		}
	}
}

/// The events of block `hash`.
fn events_at<C, B>(client: &C, hash: Hash) -> Result<Vec<RuntimeEvent>, String>
where
	B: sc_client_api::Backend<Block>,
	C: StorageProvider<Block, B>,
{
	use codec::Decode;
	let mut key = sp_crypto_hashing::twox_128(b"System").to_vec();
	key.extend_from_slice(&sp_crypto_hashing::twox_128(b"Events"));
	let Some(data) = client.storage(hash, &StorageKey(key)).map_err(|error| error.to_string())?
	else {
		return Ok(Vec::new());
	};
	let records = Vec::<frame_system::EventRecord<RuntimeEvent, Hash>>::decode(&mut &data.0[..])
		.map_err(|error| error.to_string())?;
	Ok(records.into_iter().map(|record| record.event).collect())
}

/// What a voucher from `viewer`'s session is checked against, asked of the chain at the best
/// block (for a session the bridge has not noted yet).
fn viewing_of<C>(client: &C, (stream, viewer): (u64, AccountId)) -> Option<Viewing>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block>,
	C::Api: StreamsApi<Block, AccountId, StreamInfo, BlockNumber>,
{
	let best = client.info().best_hash;
	let info = client.runtime_api().stream(best, stream).ok()??;
	Some(Viewing {
		viewer,
		creator: info.creator,
		stream: Some(stream),
		price: info.price_per_second,
	})
}

/// Takes the channels whose voucher the chain paid on this node's lane, or which closed, off the
/// list the offchain worker visits.
fn settle_pending<V: VoucherStore>(
	book: &crate::vouchers::VoucherBook<V>,
	events: &[RuntimeEvent],
) {
	use pallet_payments::Event as Payments;
	for event in events {
		let settled =
			match event {
				RuntimeEvent::Payments(Payments::Claimed {
					channel_id, lane, lane_paid, ..
				}) if lane == book.lane() => book.settled(*channel_id, Some(*lane_paid)),
				RuntimeEvent::Payments(Payments::ChannelClosed { channel_id, .. }) => {
					book.settled(*channel_id, None)
				},
				_ => continue,
			};
		if let Err(error) = settled {
			log::warn!(target: LOG_TARGET, "updating the pending claims: {error}");
		}
	}
}

/// Lists again the channels whose settlement (on this node's lane) or close was in blocks the
/// chain abandoned.
fn relist_pending<V: VoucherStore>(
	book: &crate::vouchers::VoucherBook<V>,
	events: &[RuntimeEvent],
) {
	use pallet_payments::Event as Payments;
	for event in events {
		let channel_id = match event {
			RuntimeEvent::Payments(Payments::Claimed { channel_id, lane, .. })
				if lane == book.lane() =>
			{
				*channel_id
			},
			RuntimeEvent::Payments(Payments::ChannelClosed { channel_id, .. }) => *channel_id,
			_ => continue,
		};
		if let Err(error) = book.relist(channel_id) {
			log::warn!(target: LOG_TARGET, "updating the pending claims: {error}");
		}
	}
}

/// The blocks a new best block `hash` adopts (oldest first, ending with it) and those it
/// abandons, from the tree route its import reported (`None`: it extends the old best).
pub fn branch_of(
	hash: Hash,
	tree_route: Option<&sp_blockchain::TreeRoute<Block>>,
) -> (Vec<Hash>, Vec<Hash>) {
	let Some(route) = tree_route else { return (vec![hash], Vec::new()) };
	let mut adopted: Vec<Hash> = route.enacted().iter().map(|block| block.hash).collect();
	adopted.push(hash);
	(adopted, route.retracted().iter().map(|block| block.hash).collect())
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
	fn a_reorg_adopts_the_new_branch_and_abandons_the_old() {
		use sp_blockchain::{HashAndNumber, TreeRoute};
		let block = |n: u8| HashAndNumber { hash: Hash::repeat_byte(n), number: u32::from(n) };
		// Old best 13 (on 11, 12); the new best 23 is built on 22, 21 and the common ancestor 10.
		let route = TreeRoute::new(
			vec![block(13), block(12), block(11), block(10), block(21), block(22)],
			3,
		)
		.unwrap();
		let new_best = Hash::repeat_byte(23);
		let (adopted, abandoned) = branch_of(new_best, Some(&route));
		assert_eq!(adopted, vec![Hash::repeat_byte(21), Hash::repeat_byte(22), new_best]);
		assert_eq!(
			abandoned,
			vec![Hash::repeat_byte(13), Hash::repeat_byte(12), Hash::repeat_byte(11)]
		);
		assert_eq!(branch_of(new_best, None), (vec![new_best], Vec::new()));
	}

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
