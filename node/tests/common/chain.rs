//! Chain steps several end-to-end tests take: signed extrinsics whose result is an id.

use sp_keyring::Sr25519Keyring;
use sutantra_node::chain_client::{ChainClient, WaitFor};
use sutantra_runtime::{Balance, RuntimeCall, RuntimeEvent};

/// `creator` registers a stream at `price` per second and starts it; returns its id.
pub async fn register_live_stream(
	client: &ChainClient,
	creator: Sr25519Keyring,
	title: &str,
	price: Balance,
) -> u64 {
	let register = RuntimeCall::Streams(pallet_streams::Call::register_stream {
		title: title.as_bytes().to_vec(),
		description: vec![],
		price_per_second: price,
		max_viewers: 0,
	});
	let included = client.submit(&creator.pair(), register, WaitFor::InBlock).await.unwrap();
	let id = included
		.events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::Streams(pallet_streams::Event::StreamRegistered {
				stream_id, ..
			}) => Some(*stream_id),
			_ => None,
		})
		.expect("a StreamRegistered event");
	let start = RuntimeCall::Streams(pallet_streams::Call::start_stream { stream_id: id });
	client.submit(&creator.pair(), start, WaitFor::InBlock).await.unwrap();
	id
}

/// `payer` opens a channel to `payee` holding `deposit`; returns its id.
pub async fn open_channel(
	client: &ChainClient,
	payer: Sr25519Keyring,
	payee: Sr25519Keyring,
	stream_id: Option<u64>,
	deposit: Balance,
) -> u64 {
	let open = RuntimeCall::Payments(pallet_payments::Call::open_channel {
		payee: payee.to_account_id().into(),
		stream_id,
		deposit,
	});
	let included = client.submit(&payer.pair(), open, WaitFor::InBlock).await.unwrap();
	included
		.events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::Payments(pallet_payments::Event::ChannelOpened {
				channel_id, ..
			}) => Some(*channel_id),
			_ => None,
		})
		.expect("a ChannelOpened event")
}

/// `creator` grants `viewer` access to stream `id` without end.
pub async fn grant_access(
	client: &ChainClient,
	creator: Sr25519Keyring,
	id: u64,
	viewer: Sr25519Keyring,
) {
	let grant = RuntimeCall::Streams(pallet_streams::Call::grant_access {
		stream_id: id,
		viewer: viewer.to_account_id().into(),
		valid_until: None,
	});
	client.submit(&creator.pair(), grant, WaitFor::InBlock).await.unwrap();
}
