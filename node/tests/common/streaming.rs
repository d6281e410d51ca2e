//! Streaming steps the end-to-end tests share: statements, publishing the test source,
//! watching, and paying with vouchers on the data channel or over HTTP.

use std::{path::PathBuf, time::Duration};

use pallet_payments::{SignedVoucher, Voucher};
use sp_keyring::Sr25519Keyring;
use sutantra_integration::{
	statement::{Purpose, Statement},
	vouchers::{from_hex, PayMessage},
};
use sutantra_node::chain_client::ChainClient;
use sutantra_payments_primitives::sign_voucher;
use sutantra_runtime::AccountId;
use sutantra_streaming::{
	client::{PublishOptions, Publisher, Viewer, WatchOptions},
	Error,
};

use super::TestNode;

pub fn fixture() -> PathBuf {
	PathBuf::from(env!("CARGO_MANIFEST_DIR"))
		.join("../streaming/fixtures/testsrc-640x360-30fps-vp8.ivf")
}

/// A fresh statement by `who` to `purpose` stream `id` at the node with network key `node`, as
/// a bearer token.
pub fn token(
	client: &ChainClient,
	node: [u8; 32],
	who: Sr25519Keyring,
	id: u64,
	purpose: Purpose,
) -> String {
	Statement::new(who.to_account_id(), id, purpose, node)
		.sign(&who.pair(), client.genesis_hash().as_ref())
}

/// The network key of the node whose streaming server is at `base` (`GET /node`): the audience
/// its statements must name.
pub async fn node_key(base: &str) -> [u8; 32] {
	let info = sutantra_streaming::client::Signalling::new()
		.unwrap()
		.get_json(&format!("{base}/node"))
		.await
		.expect("the node answers GET /node");
	from_hex::<32>(info["lane"].as_str().expect("the node names its key")).expect("32 bytes of hex")
}

/// `creator` publishes the looping test source to stream `id`.
pub async fn publish_test_source(
	client: &ChainClient,
	base: &str,
	creator: Sr25519Keyring,
	id: u64,
) -> Publisher {
	Publisher::start(PublishOptions {
		endpoint: format!("{base}/whip/{id}"),
		token: Some(token(client, node_key(base).await, creator, id, Purpose::Publish)),
		file: fixture(),
		looped: true,
		lower_layers: Vec::new(),
	})
	.await
	.unwrap()
}

/// The lane vouchers paid at `node` must name (`GET /node`).
pub async fn lane_of(node: &TestNode) -> AccountId {
	let info = node.streaming_get("/node").await;
	let lane = info["lane"].as_str().expect("the node names its lane");
	AccountId::new(from_hex::<32>(lane).expect("a lane is 32 bytes of hex"))
}

/// `payer`'s signed voucher message for `amount` on `lane` of `channel_id`.
pub fn voucher_message(
	client: &ChainClient,
	payer: Sr25519Keyring,
	channel_id: u64,
	lane: &AccountId,
	amount: u128,
) -> PayMessage {
	let voucher = Voucher { channel_id, lane: lane.clone(), cumulative_amount: amount };
	let signature = sign_voucher(&payer.pair(), client.genesis_hash().as_ref(), &voucher);
	PayMessage::voucher(&SignedVoucher { voucher, signature })
}

/// Sends `message` on the viewer's `sutantra-pay` channel and returns the node's answer (a
/// warning that crosses it is passed over).
pub async fn send_on(viewer: &mut Viewer, message: &PayMessage) -> PayMessage {
	viewer.send(&serde_json::to_vec(&message).unwrap()).await.unwrap();
	loop {
		let answer = tokio::time::timeout(Duration::from_secs(10), viewer.next_message())
			.await
			.expect("the node answers a voucher")
			.expect("the data channel is open");
		match serde_json::from_slice(&answer) {
			Ok(PayMessage::Warning { .. }) | Err(_) => continue,
			Ok(answer) => return answer,
		}
	}
}

/// Sends `message` to the node's `POST /pay` and returns its answer.
pub async fn post_pay(node: &TestNode, message: &PayMessage) -> PayMessage {
	let url = format!("{}/pay", node.streaming_url());
	let answer = sutantra_streaming::client::Signalling::new()
		.unwrap()
		.post_json(&url, serde_json::to_vec(message).unwrap())
		.await
		.unwrap();
	serde_json::from_value(answer).unwrap()
}

/// The status a refused connection got.
pub fn refusal<T>(result: sutantra_streaming::Result<T>) -> (u16, String) {
	match result {
		Err(Error::Denied { status, reason }) => (status, reason),
		Err(other) => panic!("expected a refusal, got {other}"),
		Ok(_) => panic!("expected a refusal, got a session"),
	}
}

/// A viewer connects to stream `id` at the streaming server `base` with `token`.
pub async fn watch_with_token(
	base: &str,
	id: u64,
	token: String,
) -> sutantra_streaming::Result<Viewer> {
	Viewer::connect(WatchOptions {
		endpoint: format!("{base}/whep/{id}"),
		token: Some(token),
		output: None,
	})
	.await
}

/// `who` connects to `node` as a viewer of stream `id` with a fresh statement.
pub async fn watch_as(
	client: &ChainClient,
	node: &TestNode,
	who: Sr25519Keyring,
	id: u64,
) -> sutantra_streaming::Result<Viewer> {
	Viewer::connect(WatchOptions {
		endpoint: format!("{}/whep/{id}", node.streaming_url()),
		token: Some(token(client, node_key(&node.streaming_url()).await, who, id, Purpose::Watch)),
		output: None,
	})
	.await
}
