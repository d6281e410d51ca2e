//! Starts the real `sutantra-node` binary on free loopback ports with a temporary base path,
//! and stops it the way an operator would (SIGINT), checking that it exits cleanly.

// Each test binary uses a different part of this harness.
#![allow(dead_code)]

pub mod chain;
pub mod streaming;

use std::{
	collections::VecDeque,
	future::Future,
	net::TcpListener,
	process::Stdio,
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};

use sutantra_node::chain_client::ChainClient;
use tokio::{
	io::{AsyncBufReadExt, BufReader},
	process::{Child, Command},
};

/// Lines of node output kept to explain a failure.
const LOG_TAIL: usize = 80;
/// Written into a node's log where the test asked it to stop.
const STOP_MARK: &str = "--- the test sends Ctrl-C (SIGINT) ---";

pub struct TestNode {
	child: Child,
	pub ws_url: String,
	pub prometheus_port: u16,
	/// The streaming server's HTTP port (WHIP/WHEP) on 127.0.0.1.
	pub streaming_port: u16,
	pub p2p_port: u16,
	/// How the node was told which chain to run (`--dev`, or `--chain dev --alice ...`).
	chain_args: Vec<String>,
	log: Arc<Mutex<VecDeque<String>>>,
	_base_path: tempfile::TempDir,
}

/// A TCP port nobody listens on right now.
pub fn free_port() -> u16 {
	TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl TestNode {
	/// Starts a one-validator dev node with the given extra arguments.
	pub async fn start(extra_args: &[&str]) -> TestNode {
		Self::start_chain(&["--dev"], extra_args).await
	}

	/// Starts a node of the chain `chain_args` say (e.g. `--chain dev` for a full node that
	/// follows a dev validator) with the given extra arguments.
	pub async fn start_chain(chain_args: &[&str], extra_args: &[&str]) -> TestNode {
		let ports = (free_port(), free_port(), free_port(), free_port());
		let chain_args = chain_args.iter().map(|arg| arg.to_string()).collect();
		Self::start_at(tempfile::tempdir().unwrap(), chain_args, ports, extra_args).await
	}

	/// Starts a node of the chain `chain_args` say whose keystore holds, before it starts, the
	/// sr25519 key `suri` of `key_type` (as `sutantra-node key insert` puts it there).
	pub async fn start_chain_with_key(
		chain_args: &[&str],
		(key_type, suri): (&str, &str),
		extra_args: &[&str],
	) -> TestNode {
		let base_path = tempfile::tempdir().unwrap();
		let inserted = Command::new(env!("CARGO_BIN_EXE_sutantra-node"))
			.args(["key", "insert", "--scheme", "sr25519", "--key-type", key_type, "--suri", suri])
			.arg("--base-path")
			.arg(base_path.path())
			.args(chain_args)
			.output()
			.await
			.expect("sutantra-node key insert runs");
		assert!(inserted.status.success(), "{}", String::from_utf8_lossy(&inserted.stderr));
		let ports = (free_port(), free_port(), free_port(), free_port());
		let chain_args = chain_args.iter().map(|arg| arg.to_string()).collect();
		Self::start_at(base_path, chain_args, ports, extra_args).await
	}

	/// Kills the node with SIGKILL (no chance to shut down cleanly), then starts it again on
	/// the same database and ports with `extra_args`.
	pub async fn crash_and_restart(mut self, extra_args: &[&str]) -> TestNode {
		self.child.kill().await.expect("the node can be killed");
		let rpc_port: u16 = self.ws_url.rsplit(':').next().unwrap().parse().unwrap();
		let ports = (rpc_port, self.p2p_port, self.prometheus_port, self.streaming_port);
		let base_path = std::mem::replace(&mut self._base_path, tempfile::tempdir().unwrap());
		let chain_args = std::mem::take(&mut self.chain_args);
		Self::start_at(base_path, chain_args, ports, extra_args).await
	}

	async fn start_at(
		base_path: tempfile::TempDir,
		chain_args: Vec<String>,
		(rpc_port, p2p_port, prometheus_port, streaming_port): (u16, u16, u16, u16),
		extra_args: &[&str],
	) -> TestNode {
		let mut child = Command::new(env!("CARGO_BIN_EXE_sutantra-node"))
			.args(&chain_args)
			.args(["--no-mdns", "--no-telemetry"])
			.arg("--base-path")
			.arg(base_path.path())
			.args(["--rpc-port", &rpc_port.to_string()])
			.args(["--listen-addr", &format!("/ip4/127.0.0.1/tcp/{p2p_port}")])
			.args(["--prometheus-port", &prometheus_port.to_string()])
			.args(["--streaming-addr", &format!("127.0.0.1:{streaming_port}")])
			.args(["--webrtc-bind-ip", "127.0.0.1", "--webrtc-port", "0"])
			.args(extra_args)
			.stdin(Stdio::null())
			.stdout(Stdio::piped())
			.stderr(Stdio::piped())
			.kill_on_drop(true)
			.spawn()
			.expect("the sutantra-node binary starts");

		let log = Arc::new(Mutex::new(VecDeque::new()));
		for stream in [
			Box::new(child.stdout.take().unwrap()) as Box<dyn tokio::io::AsyncRead + Unpin + Send>,
			Box::new(child.stderr.take().unwrap()),
		] {
			let log = log.clone();
			tokio::spawn(async move {
				let mut lines = BufReader::new(stream).lines();
				while let Ok(Some(line)) = lines.next_line().await {
					let mut log = log.lock().unwrap();
					if log.len() == LOG_TAIL {
						log.pop_front();
					}
					log.push_back(line);
				}
			});
		}

		TestNode {
			child,
			ws_url: format!("ws://127.0.0.1:{rpc_port}"),
			prometheus_port,
			streaming_port,
			p2p_port,
			chain_args,
			log,
			_base_path: base_path,
		}
	}

	/// The node's process id.
	pub fn pid(&self) -> u32 {
		self.child.id().expect("the node is running")
	}

	/// The streaming server's base URL.
	pub fn streaming_url(&self) -> String {
		format!("http://127.0.0.1:{}", self.streaming_port)
	}

	/// The node's p2p address with its peer id, for another node's `--bootnodes`.
	pub async fn p2p_address(&mut self) -> String {
		let peer_id = self.client().await.local_peer_id().await.expect("the node has a peer id");
		format!("/ip4/127.0.0.1/tcp/{}/p2p/{peer_id}", self.p2p_port)
	}

	/// The last lines the node printed, to explain a failure.
	pub fn log_tail(&self) -> String {
		self.log.lock().unwrap().iter().cloned().collect::<Vec<_>>().join("\n")
	}

	/// Connects to the node's RPC, waiting for it to come up.
	pub async fn client(&mut self) -> ChainClient {
		let deadline = Instant::now() + Duration::from_secs(120);
		loop {
			if let Ok(Some(status)) = self.child.try_wait() {
				panic!("the node exited early with {status}:\n{}", self.log_tail());
			}
			match ChainClient::connect(&self.ws_url).await {
				Ok(client) => return client,
				Err(e) if Instant::now() > deadline => {
					panic!("the node's RPC did not come up: {e}\n{}", self.log_tail())
				},
				Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
			}
		}
	}

	/// Polls `check` until it returns `Some`, or fails the test with the node's log.
	pub async fn wait_for<T, F, Fut>(&self, what: &str, timeout: Duration, mut check: F) -> T
	where
		F: FnMut() -> Fut,
		Fut: Future<Output = Option<T>>,
	{
		let deadline = Instant::now() + timeout;
		loop {
			if let Some(value) = check().await {
				return value;
			}
			if Instant::now() > deadline {
				panic!("timed out after {timeout:?} waiting for {what}\n{}", self.log_tail());
			}
			tokio::time::sleep(Duration::from_millis(200)).await;
		}
	}

	/// The node's Prometheus metrics, as text.
	pub async fn metrics(&self) -> String {
		self.http_get(self.prometheus_port, "/metrics", "Prometheus endpoint").await
	}

	/// GETs `path` from the node's streaming server and returns the JSON body.
	pub async fn streaming_get(&self, path: &str) -> serde_json::Value {
		let response = self.http_get(self.streaming_port, path, "streaming server").await;
		let body = response.split_once("\r\n\r\n").map(|(_, body)| body).unwrap_or_default();
		serde_json::from_str(body).unwrap_or_else(|e| panic!("{path} is not JSON: {e}: {body}"))
	}

	/// GETs `path` from the node's HTTP server on `port`; the whole response, which must be a 200.
	async fn http_get(&self, port: u16, path: &str, what: &str) -> String {
		use tokio::io::{AsyncReadExt, AsyncWriteExt};
		let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
			.await
			.unwrap_or_else(|e| panic!("no {what}: {e}\n{}", self.log_tail()));
		let request =
			format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
		stream.write_all(request.as_bytes()).await.unwrap();
		let mut response = String::new();
		stream.read_to_string(&mut response).await.unwrap();
		assert!(response.starts_with("HTTP/1.1 200"), "{response}");
		response
	}

	/// Stops the node with SIGINT and checks that it shuts down cleanly.
	pub async fn stop(mut self) {
		let pid = self.child.id().expect("the node is still running");
		self.log.lock().unwrap().push_back(STOP_MARK.into());
		let sent = std::process::Command::new("kill")
			.args(["-INT", &pid.to_string()])
			.status()
			.expect("kill runs");
		assert!(sent.success());
		let status = tokio::time::timeout(Duration::from_secs(60), self.child.wait())
			.await
			.unwrap_or_else(|_| panic!("the node did not stop within 60 s\n{}", self.log_tail()))
			.unwrap();
		assert!(status.success(), "the node exited with {status}\n{}", self.log_tail());
		// A clean stop logs no error: what the node said after Ctrl-C (once its output is read).
		// sc-service tears its tasks down in no fixed order, and an essential task whose inputs
		// closed first ends and is logged as failed ("syncing" after the network's notification
		// service, the block import worker, GRANDPA's voter: each seen once in CI). Those are
		// upstream's teardown; the transaction pool's, which every stop logged until the node
		// handled it, and any error are ours.
		tokio::time::sleep(Duration::from_millis(300)).await;
		let tail = self.log_tail();
		let after_stop = tail.rsplit(STOP_MARK).next().unwrap_or_default();
		assert!(
			!after_stop.contains("Essential task `txpool") && !after_stop.contains("ERROR"),
			"the node logged an error while stopping:\n{after_stop}"
		);
	}
}
