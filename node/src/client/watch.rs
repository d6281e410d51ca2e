//! `sutantra-node stream watch`: watching over WHEP and paying with vouchers on the data channel.
//!
//! A viewer whose access comes from a payment channel pays as it watches: every
//! [`PAY_INTERVAL`] it signs a voucher, for the node's lane of the channel (`GET /node`), for the
//! price of the time watched plus [`PAY_AHEAD`], and sends it on `sutantra-pay`; the node checks
//! it, keeps it for the chain, and acknowledges the total. A channel to the creator is reused if
//! there is one, topped up if it runs low, and opened otherwise.
//!
//! The client never takes the node's word on money. Vouchers build on the most this payer ever
//! signed on the lane ([`super::record`]) or what the chain settled there, whichever is higher;
//! a node that says it accepted more moves that base only with the payer's own signature of the
//! amount. When the node refuses the join because this payer owes it for earlier watching, the
//! client pays the debt with one voucher (`POST /pay`) if it is within the grace the node may
//! claim, and joins again.

use std::{
	path::PathBuf,
	time::{Duration, Instant},
};

use pallet_streams::{AccessSource, AccessStatus, StreamStatus};
use serde_json::json;
use sp_core::{crypto::Ss58Codec, sr25519, Pair};
use sutantra_integration::{
	bridge::GRACE_SECS,
	statement::{Purpose, Statement},
	vouchers::{from_hex, PayMessage},
};
use sutantra_payments_primitives::{sign_voucher, verify_voucher, SignedVoucher, Voucher};
use sutantra_runtime::{AccountId, Balance, BlockNumber, RuntimeCall};
use sutantra_streaming::client::{Viewer, WatchOptions};

use super::{
	channel::{fetch_channel, ChannelInfo},
	fail,
	format::*,
	record::{data_dir, SignedRecord},
	stream::stream_info,
	Failure, Outcome, Session,
};

/// How often a paying viewer sends a voucher.
const PAY_INTERVAL: Duration = Duration::from_secs(2);
/// How far ahead of the time watched a voucher pays, so the node never sees the viewer behind.
const PAY_AHEAD: u64 = 4;
/// The default deposit of a channel opened for watching: this many seconds of the price.
const DEFAULT_DEPOSIT_SECONDS: u128 = 300;
/// The node's rule for a channel to count as access: it covers this many seconds of the price.
const CHANNEL_ACCESS_SECONDS: u128 = 30;

/// How the viewer pays: which channel and lane, what the lane can take, and the amount to
/// build on.
struct Payer {
	channel_id: u64,
	/// The node's lane of the channel.
	lane: AccountId,
	/// The most the lane can be paid in all: what it was paid plus what is left of the deposit.
	limit: Balance,
	/// The amount this session's vouchers build on.
	base: Balance,
	/// The most this payer has signed on the lane, as its record keeps it.
	signed: Balance,
	/// What the node has acknowledged on the lane (never above what was signed).
	accepted: Balance,
	/// The durable record of `signed`.
	record: SignedRecord,
	/// The payer's account and the chain's genesis, to check a node's proof of an amount.
	payer: AccountId,
	genesis: Vec<u8>,
}

impl Payer {
	/// What the node has accepted from this session: above the base it started from.
	fn accepted_here(&self) -> Balance {
		self.accepted.saturating_sub(self.base)
	}

	/// Signs the voucher for `amount` on the lane, recording it first.
	fn sign(&mut self, key: &sr25519::Pair, amount: Balance) -> Result<PayMessage, Failure> {
		if amount > self.signed {
			self.record.save(amount).map_err(|error| {
				Failure(format!(
					"cannot keep the record of signed vouchers under {}: {error}; set \
					 SUTANTRA_DATA_DIR to a writable directory",
					data_dir().display()
				))
			})?;
			self.signed = amount;
		}
		let voucher =
			Voucher { channel_id: self.channel_id, lane: self.lane.clone(), cumulative_amount: amount };
		let signature = sign_voucher(key, &self.genesis, &voucher);
		Ok(PayMessage::voucher(&SignedVoucher { voucher, signature }))
	}

	/// Whether `signature` is this payer's own signature of `amount` on the lane.
	fn proves(&self, amount: Balance, signature: &str) -> bool {
		let Some(raw) = from_hex::<64>(signature) else { return false };
		let voucher =
			Voucher { channel_id: self.channel_id, lane: self.lane.clone(), cumulative_amount: amount };
		let signature =
			sutantra_payments_primitives::VoucherSignature(sr25519::Signature::from_raw(raw));
		verify_voucher(&self.genesis, &voucher, &signature, &self.payer)
	}
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn watch(
	session: &Session,
	key: &sr25519::Pair,
	id: u64,
	deposit: Option<Balance>,
	out: Option<PathBuf>,
	duration: Option<u64>,
	close: bool,
) -> Outcome {
	let chain = &session.chain;
	let info = stream_info(session, id).await?;
	match info.status {
		StreamStatus::Live => {},
		StreamStatus::Registered => {
			return fail(format!(
				"stream {id} has not started yet: it can be watched once its creator starts it"
			))
		},
		StreamStatus::Ended => return fail(format!("stream {id} has ended")),
	}
	let me: AccountId = key.public().into();
	let price = info.price_per_second;
	let access: AccessStatus<BlockNumber> = chain
		.runtime_call("StreamsApi_access", (id, me.clone()), None, "the viewer's access")
		.await?;
	let best = chain.best_number().await?;
	let quiet = session.args.json;

	let mut payer = match access {
		AccessStatus::Allowed { source, until } if source != AccessSource::Channel => {
			if !quiet {
				let until = until.map(|block| format_block(block, best)).unwrap_or("no end".into());
				let why = match source {
					AccessSource::Granted => "granted by the creator",
					AccessSource::Bought => "bought",
					AccessSource::Creator => "your own stream",
					_ => "free stream",
				};
				eprintln!("access: {why}, until {until}; nothing to pay while watching");
			}
			None
		},
		AccessStatus::StreamNotLive => return fail(format!("stream {id} is not live")),
		AccessStatus::UnknownStream => return fail(format!("stream {id} not found on chain")),
		_ => Some(channel_for(session, key, &info.creator, id, price, deposit).await?),
	};

	let endpoint = format!("{}/whep/{id}", session.streaming_url()?);
	let node = session.node_key().await?;
	let connect = || async {
		let token = Statement::new(me.clone(), id, Purpose::Watch, node.clone().into())
			.sign(key, chain.genesis_hash().as_ref());
		Viewer::connect(WatchOptions {
			endpoint: endpoint.clone(),
			token: Some(token),
			output: out.clone(),
		})
		.await
	};
	let mut joined = connect().await;
	// Refused for an earlier session's unpaid watching: pay that (within what the node may
	// claim) and join again.
	if let (Err(sutantra_streaming::Error::Denied { status: 402, reason }), Some(payer)) =
		(&joined, payer.as_mut())
	{
		if let Some(owed) = owed_in(reason) {
			pay_debt(session, key, payer, owed, price).await?;
			joined = connect().await;
		}
	}
	let mut viewer = joined.map_err(|error| match error {
		sutantra_streaming::Error::Denied { status: 404, reason } => Failure(format!(
			"the node does not serve stream {id} now ({reason}): is its creator publishing to this \
			 node? `sutantra-node stream show {id}` names the stream's origin"
		)),
		sutantra_streaming::Error::Denied { status, reason } => {
			Failure(format!("access denied ({status}): {reason}"))
		},
		other => other.into(),
	})?;
	if !quiet {
		eprintln!(
			"watching stream {id} ({}) from {endpoint}; Ctrl-C stops",
			printable_bytes(&info.title)
		);
	}

	let started = Instant::now();
	let deadline =
		duration.map(|seconds| tokio::time::Instant::now() + Duration::from_secs(seconds));
	let mut ticks = tokio::time::interval(Duration::from_secs(1));
	let mut last_bytes = 0u64;
	let mut last_pay: Option<Instant> = None;
	let mut messages_open = true;
	let mut warned_deposit = false;
	let ended: Option<String> = loop {
		tokio::select! {
			_ = tokio::signal::ctrl_c() => break None,
			_ = async { tokio::time::sleep_until(deadline.unwrap()).await }, if deadline.is_some() => break None,
			message = viewer.next_message(), if messages_open => match message {
				Some(bytes) => {
					if let (Some(payer), Ok(message)) = (payer.as_mut(), serde_json::from_slice::<PayMessage>(&bytes)) {
						handle_message(payer, message, quiet);
					}
				},
				None => messages_open = false,
			},
			_ = ticks.tick() => {
				if let Some(reason) = viewer.ended_reason() {
					break Some(reason);
				}
				if let Some(payer) = payer.as_mut() {
					if last_pay.is_none_or(|at| at.elapsed() >= PAY_INTERVAL) {
						last_pay = Some(Instant::now());
						let seconds = started.elapsed().as_secs() + PAY_AHEAD;
						let wanted = payer.base.saturating_add(price.saturating_mul(u128::from(seconds)));
						let amount = wanted.min(payer.limit);
						if amount < wanted && !warned_deposit && !quiet {
							warned_deposit = true;
							eprintln!("\nthe channel's deposit is nearly used up: top it up with `sutantra-node channel top-up {} <SUT>` to keep watching", payer.channel_id);
						}
						if amount > payer.base.max(payer.accepted) {
							let message = payer.sign(key, amount)?;
							if let Ok(bytes) = serde_json::to_vec(&message) {
								let _ = viewer.send(&bytes).await;
							}
						}
					}
				}
				if !quiet {
					let stats = viewer.stats();
					let bitrate = (stats.payload_bytes.saturating_sub(last_bytes)) as f64 * 8.0 / 1e6;
					last_bytes = stats.payload_bytes;
					let payment = match &payer {
						Some(payer) => format!(
							" | paid {} | left {}",
							format_amount(payer.accepted_here()),
							format_amount(payer.limit.saturating_sub(payer.accepted))
						),
						None => String::new(),
					};
					eprint!(
						"\r▶ {} frames | {bitrate:.2} Mbit/s{payment} | {}    ",
						stats.frames,
						format_duration(started.elapsed().as_secs())
					);
				}
			},
		}
	};
	if !quiet {
		eprintln!();
	}
	let stats = viewer.stats();
	let _ = viewer.stop().await;

	let mut closed = false;
	if let (true, Some(payer)) = (close, &payer) {
		let call =
			RuntimeCall::Payments(pallet_payments::Call::close { channel_id: payer.channel_id });
		session.submit(key, call, "closing the payment channel").await?;
		closed = true;
	}
	let value = json!({
		"id": id,
		"frames": stats.frames,
		"bytes": stats.payload_bytes,
		"seconds": started.elapsed().as_secs(),
		"first_frame_ms": stats.first_frame_after.map(|d| d.as_millis() as u64),
		"channel": payer.as_ref().map(|p| p.channel_id),
		"paid": payer.as_ref().map(|p| p.accepted_here().to_string()),
		"channel_closing": closed,
		"ended_by_node": ended,
		"saved_to": out.as_ref().map(|path| path.display().to_string()),
	});
	session.print(value, || {
		let mut text = format!(
			"watched stream {id} for {}: {} frames",
			format_duration(started.elapsed().as_secs()),
			stats.frames
		);
		if let Some(payer) = &payer {
			text.push_str(&format!(
				"; paid {} on channel {}",
				format_amount(payer.accepted_here()),
				payer.channel_id
			));
			if closed {
				text.push_str(
					" (closing: the rest of the deposit returns after the challenge period)",
				);
			}
		}
		if let Some(reason) = &ended {
			text.push_str(&format!("\nthe node ended the session: {}", printable(reason, false)));
		}
		if let Some(path) = &out {
			text.push_str(&format!("\nsaved to {}", path.display()));
		}
		text
	});
	match ended {
		Some(reason) if reason.contains("payment required") => {
			fail(format!("dropped by the node: {reason}; top up or open a channel and watch again"))
		},
		_ => Ok(()),
	}
}

/// Acts on the node's answer to a voucher.
fn handle_message(payer: &mut Payer, message: PayMessage, quiet: bool) {
	match message {
		PayMessage::Ack { accepted, .. } => {
			if let Ok(total) = accepted.parse::<Balance>() {
				payer.accepted = total.min(payer.signed);
			}
		},
		// The node holds a newer voucher than this payer's record (signed elsewhere, or a record
		// lost): build on it only if it is this payer's own signature of that amount.
		PayMessage::Reject { accepted: Some(amount), signature, reason, .. } => {
			let Ok(amount) = amount.parse::<Balance>() else { return };
			if amount <= payer.signed {
				return;
			}
			if signature.as_deref().is_some_and(|signature| payer.proves(amount, signature)) {
				if payer.record.save(amount).is_ok() {
					payer.signed = amount;
				}
				payer.base = amount;
				payer.accepted = amount;
			} else if !quiet {
				eprintln!(
					"\nthe node says it accepted {} on this channel but shows no voucher of \
					 yours for it; not paying on that word ({})",
					format_amount(amount),
					printable(&reason, false)
				);
			}
		},
		PayMessage::Reject { reason, .. } => {
			if !quiet {
				eprintln!("\nthe node refused a voucher: {}", printable(&reason, false));
			}
		},
		PayMessage::Warning { reason } => {
			if !quiet {
				eprintln!("\nthe node warns: {}", printable(&reason, false));
			}
		},
		PayMessage::Voucher { .. } => {},
	}
}

/// The amount a refusal for earlier unpaid watching names ("you owe N plancks").
fn owed_in(reason: &str) -> Option<Balance> {
	let (_, rest) = reason.split_once("you owe ")?;
	rest.split_once(" plancks")?.0.parse().ok()
}

/// Pays a debt the node names, with one voucher over `POST /pay`, if it is no more than the
/// node may let a payer owe (the grace period, and a few seconds more for time in flight).
async fn pay_debt(
	session: &Session,
	key: &sr25519::Pair,
	payer: &mut Payer,
	owed: Balance,
	price: Balance,
) -> Result<(), Failure> {
	let most = price.saturating_mul(u128::from(GRACE_SECS + 2 * PAY_AHEAD));
	if owed > most {
		return fail(format!(
			"the node says you owe {} for earlier watching, more than the {} a node may let you \
			 owe; not paying that. Watch through another node, or settle with the creator",
			format_amount(owed),
			format_amount(most)
		));
	}
	let url = format!("{}/pay", session.streaming_url()?);
	let http = sutantra_streaming::client::Signalling::new()?;
	// A second try when the node proves (with this payer's own signature) that it holds more
	// than this payer's record says: the record was lost, or the voucher signed elsewhere.
	for _ in 0..2 {
		let amount = payer.base.max(payer.signed).saturating_add(owed).min(payer.limit);
		let message = payer.sign(key, amount)?;
		let body = serde_json::to_vec(&message).map_err(|error| Failure(error.to_string()))?;
		match serde_json::from_value::<PayMessage>(http.post_json(&url, body).await?) {
			Ok(PayMessage::Ack { accepted, .. }) => {
				if !session.args.json {
					eprintln!("paid {} owed for earlier watching on this node", format_amount(owed));
				}
				payer.base = amount;
				payer.accepted = accepted.parse::<Balance>().unwrap_or(0).min(payer.signed);
				return Ok(());
			},
			Ok(reject @ PayMessage::Reject { accepted: Some(_), signature: Some(_), .. }) => {
				let before = payer.base;
				handle_message(payer, reject, true);
				if payer.base == before {
					return fail("the node refused the payment of what you owe: it claims a floor it cannot prove");
				}
			},
			Ok(PayMessage::Reject { reason, .. }) => {
				return fail(format!("the node refused the payment of what you owe: {reason}"))
			},
			_ => return fail(format!("{url} did not answer a payment message")),
		}
	}
	fail("the node refused the payment of what you owe twice; try again later")
}

/// The channel the viewer pays on: an open one to the creator, topped up if it runs low, or
/// a new one.
async fn channel_for(
	session: &Session,
	key: &sr25519::Pair,
	creator: &AccountId,
	id: u64,
	price: Balance,
	deposit: Option<Balance>,
) -> Result<Payer, Failure> {
	let me: AccountId = key.public().into();
	let quiet = session.args.json;
	let lane = session.node_key().await?;
	let genesis = session.chain.genesis_hash().as_ref().to_vec();
	let channels: Vec<(u64, ChannelInfo)> = session
		.chain
		.runtime_call("PaymentsApi_channels_of", me.clone(), None, "the viewer's channels")
		.await?;
	let usable = channels
		.into_iter()
		.filter(|(_, channel)| {
			channel.payer == me
				&& channel.payee == *creator
				&& channel.closes_at.is_none()
				&& channel.stream_id.is_none_or(|stream| stream == id)
		})
		.max_by_key(|(_, channel)| channel.remaining());
	let wanted = deposit.unwrap_or(price.saturating_mul(DEFAULT_DEPOSIT_SECONDS));
	let needed = price.saturating_mul(CHANNEL_ACCESS_SECONDS);
	// What a channel can still pay this node: its deposit left, less what this payer already
	// signed to the node's lane and is not settled yet.
	let room = |channel: &ChannelInfo, standing: &LaneStanding| {
		standing.lane_paid.saturating_add(channel.remaining()).saturating_sub(standing.base())
	};
	let (channel_id, channel, standing) = match usable {
		Some((channel_id, channel)) => {
			let standing = lane_standing(session, &genesis, channel_id, &lane).await?;
			if room(&channel, &standing) > needed {
				if !quiet {
					eprintln!(
						"paying on channel {channel_id} ({} left of {})",
						format_amount(room(&channel, &standing)),
						format_amount(channel.deposit)
					);
				}
				(channel_id, channel, standing)
			} else {
				session.ensure_funds(&me, wanted, "topping up the channel").await?;
				let call = RuntimeCall::Payments(pallet_payments::Call::top_up {
					channel_id,
					amount: wanted,
				});
				session.submit(key, call, "topping up the payment channel").await?;
				(channel_id, fetch_channel(session, channel_id).await?, standing)
			}
		},
		None => {
			session.ensure_funds(&me, wanted, "the channel deposit").await?;
			let call = RuntimeCall::Payments(pallet_payments::Call::open_channel {
				payee: creator.clone().into(),
				stream_id: Some(id),
				deposit: wanted,
			});
			let included = session.submit(key, call, "opening a payment channel").await?;
			let channel_id = super::opened_channel(&included)?;
			if !quiet {
				eprintln!(
					"opened channel {channel_id} to {} with {} ({} of watching)",
					creator.to_ss58check(),
					format_amount(wanted),
					wanted
						.checked_div(price)
						.map(|seconds| format_duration(seconds as u64))
						.unwrap_or_else(|| "any length".into())
				);
			}
			let channel = fetch_channel(session, channel_id).await?;
			(channel_id, channel, lane_standing(session, &genesis, channel_id, &lane).await?)
		},
	};
	let base = standing.base();
	Ok(Payer {
		channel_id,
		limit: standing.lane_paid.saturating_add(channel.remaining()),
		lane,
		base,
		signed: standing.signed,
		accepted: base,
		record: standing.record,
		payer: me,
		genesis,
	})
}

/// Where this payer stands on a node's lane of a channel: what the chain settled there and what
/// the payer's own record says it signed.
struct LaneStanding {
	lane_paid: Balance,
	signed: Balance,
	record: SignedRecord,
}

impl LaneStanding {
	/// What the next voucher builds on.
	fn base(&self) -> Balance {
		self.signed.max(self.lane_paid)
	}
}

async fn lane_standing(
	session: &Session,
	genesis: &[u8],
	channel_id: u64,
	lane: &AccountId,
) -> Result<LaneStanding, Failure> {
	let lane_paid: Balance = session
		.chain
		.runtime_call("PaymentsApi_lane_paid", (channel_id, lane.clone()), None, "the lane's payments")
		.await?;
	let record = SignedRecord::new(&data_dir(), genesis, channel_id, lane);
	Ok(LaneStanding { lane_paid, signed: record.load(), record })
}

#[cfg(test)]
mod tests {
	use super::*;

	fn payer(dir: &std::path::Path) -> Payer {
		let me: AccountId = sr25519::Pair::from_string("//Bob", None).unwrap().public().into();
		let lane = AccountId::new([9; 32]);
		let record = SignedRecord::new(dir, &[1; 32], 3, &lane);
		record.save(400).unwrap();
		Payer {
			channel_id: 3,
			lane,
			limit: 10_000,
			base: 400,
			signed: 400,
			accepted: 400,
			record,
			payer: me,
			genesis: vec![1; 32],
		}
	}

	#[test]
	fn a_nodes_floor_moves_the_base_only_with_the_payers_own_signature() {
		let dir = tempfile::tempdir().unwrap();
		let key = sr25519::Pair::from_string("//Bob", None).unwrap();
		let mut payer = payer(dir.path());
		// A node claims 9,000 was accepted, with no proof, or with someone else's signature.
		let claim = |signature: Option<String>| PayMessage::Reject {
			channel_id: 3,
			reason: "not newer".into(),
			accepted: Some("9000".into()),
			signature,
		};
		handle_message(&mut payer, claim(None), true);
		let forged = sign_voucher(
			&sr25519::Pair::from_string("//Mallory", None).unwrap(),
			&[1; 32],
			&Voucher { channel_id: 3, lane: payer.lane.clone(), cumulative_amount: 9_000u128 },
		);
		handle_message(&mut payer, claim(Some(format!("0x{}", hex::encode(forged.0 .0)))), true);
		assert_eq!((payer.base, payer.signed, payer.accepted), (400, 400, 400));
		// An ack for more than was signed counts only what was signed.
		handle_message(&mut payer, PayMessage::Ack { channel_id: 3, accepted: "9000".into() }, true);
		assert_eq!(payer.accepted, 400);
		// With the payer's own signature of 900 (signed on another machine), the base moves.
		let mine = sign_voucher(
			&key,
			&[1; 32],
			&Voucher { channel_id: 3, lane: payer.lane.clone(), cumulative_amount: 900u128 },
		);
		let proven = PayMessage::Reject {
			channel_id: 3,
			reason: "not newer".into(),
			accepted: Some("900".into()),
			signature: Some(format!("0x{}", hex::encode(mine.0 .0))),
		};
		handle_message(&mut payer, proven, true);
		assert_eq!((payer.base, payer.signed, payer.accepted), (900, 900, 900));
		assert_eq!(payer.record.load(), 900);
	}

	#[test]
	fn signing_records_the_amount_first() {
		let dir = tempfile::tempdir().unwrap();
		let key = sr25519::Pair::from_string("//Bob", None).unwrap();
		let mut payer = payer(dir.path());
		let message = payer.sign(&key, 700).unwrap();
		assert_eq!(payer.record.load(), 700);
		let signed = message.signed_voucher().unwrap();
		assert_eq!(signed.voucher.cumulative_amount, 700);
		assert!(payer.proves(700, &format!("0x{}", hex::encode(signed.signature.0 .0))));
	}

	#[test]
	fn the_debt_in_a_refusal_is_read() {
		let reason = "payment required: you owe 1234 plancks for watching on this node, more";
		assert_eq!(owed_in(reason), Some(1234));
		assert_eq!(owed_in("payment required: buy access"), None);
	}
}
