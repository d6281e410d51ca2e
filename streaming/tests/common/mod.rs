//! Shared pieces of the engine's end-to-end tests: an engine on loopback, the test video, a
//! policy over fixed tokens, and a log of the engine's events.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use sutantra_streaming::client::{PublishOptions, Publisher, Viewer, WatchOptions};
use sutantra_streaming::{
	AccessPolicy, Credentials, Decision, DenyStatus, Engine, EngineEvent, StreamId, StreamingConfig,
};
use tokio::sync::Notify;

/// The committed test video.
pub fn fixture() -> PathBuf {
	fixture_named("testsrc-640x360-30fps-vp8.ivf")
}

/// A test video in `fixtures/`.
#[allow(dead_code)]
pub fn fixture_named(name: &str) -> PathBuf {
	PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

/// Publishers need the token `creator`; viewers `viewer`, while `broke` must pay first.
pub struct TokenPolicy;

#[async_trait]
impl AccessPolicy for TokenPolicy {
	async fn authorize_publisher(&self, _: &StreamId, credentials: &Credentials) -> Decision {
		match credentials.token() {
			Some("creator") => Decision::Allow,
			Some(_) => {
				Decision::deny(DenyStatus::Forbidden, "only the stream's creator may publish it")
			},
			None => Decision::deny(DenyStatus::Unauthorized, "sign in: send a bearer token"),
		}
	}

	async fn authorize_viewer(&self, stream: &StreamId, credentials: &Credentials) -> Decision {
		if stream.as_str() == "missing" {
			return Decision::deny(DenyStatus::NotFound, "no stream 'missing' on chain");
		}
		match credentials.token() {
			Some("viewer") => Decision::Allow,
			Some("broke") => {
				Decision::deny(DenyStatus::PaymentRequired, "payment required: open a channel")
			},
			Some(_) => Decision::deny(DenyStatus::Unauthorized, "unknown token"),
			None => Decision::deny(DenyStatus::Unauthorized, "sign in: send a bearer token"),
		}
	}
}

/// Every event the engine reported, for assertions.
#[derive(Clone, Default)]
pub struct EventLog {
	events: Arc<Mutex<Vec<EngineEvent>>>,
	changed: Arc<Notify>,
}

impl EventLog {
	pub fn all(&self) -> Vec<EngineEvent> {
		self.events.lock().unwrap().clone()
	}

	/// Waits for an event matching `wanted`; panics with the log after `timeout`.
	pub async fn wait_for(
		&self,
		timeout: Duration,
		wanted: impl Fn(&EngineEvent) -> bool,
	) -> EngineEvent {
		let deadline = tokio::time::Instant::now() + timeout;
		loop {
			let notified = self.changed.notified();
			if let Some(event) = self.all().into_iter().find(|event| wanted(event)) {
				return event;
			}
			if tokio::time::timeout_at(deadline, notified).await.is_err() {
				panic!(
					"the expected event did not come within {timeout:?}; events: {:#?}",
					self.all()
				);
			}
		}
	}
}

pub struct TestEngine {
	pub engine: Engine,
	pub events: EventLog,
	pub base: String,
}

impl TestEngine {
	pub async fn start(config: StreamingConfig, policy: Arc<dyn AccessPolicy>) -> TestEngine {
		let (engine, mut receiver) = Engine::start(config, policy).await.expect("engine starts");
		let events = EventLog::default();
		let log = events.clone();
		tokio::spawn(async move {
			while let Some(event) = receiver.recv().await {
				log.events.lock().unwrap().push(event);
				log.changed.notify_waiters();
			}
		});
		let base = format!("http://{}", engine.http_addr().expect("serving"));
		TestEngine { engine, events, base }
	}

	pub async fn loopback(policy: Arc<dyn AccessPolicy>) -> TestEngine {
		Self::start(StreamingConfig::loopback(), policy).await
	}

	pub fn whip(&self, stream: &str) -> String {
		format!("{}/whip/{stream}", self.base)
	}

	pub fn whep(&self, stream: &str) -> String {
		format!("{}/whep/{stream}", self.base)
	}

	/// Starts publishing the test video (looped) with `token`, if any.
	pub async fn try_publish(
		&self,
		stream: &str,
		token: Option<&str>,
	) -> sutantra_streaming::Result<Publisher> {
		Publisher::start(PublishOptions {
			endpoint: self.whip(stream),
			token: token.map(str::to_owned),
			file: fixture(),
			looped: true,
			lower_layers: Vec::new(),
		})
		.await
	}

	/// Publishes the test video (looped) and waits until the stream is live.
	pub async fn publish(&self, stream: &str, token: &str) -> Publisher {
		let publisher = self.try_publish(stream, Some(token)).await.expect("publisher connects");
		let stream_id: StreamId = stream.parse().unwrap();
		self.events
			.wait_for(
				Duration::from_secs(10),
				|event| matches!(event, EngineEvent::StreamLive { stream, .. } if *stream == stream_id),
			)
			.await;
		publisher
	}

	pub async fn viewer(&self, stream: &str, token: &str) -> sutantra_streaming::Result<Viewer> {
		Viewer::connect(WatchOptions {
			endpoint: self.whep(stream),
			token: Some(token.into()),
			output: None,
		})
		.await
	}
}

/// Frames keep arriving at a viewer (at least `more` within a few seconds).
pub async fn keeps_receiving(viewer: &Viewer, more: u64) {
	let before = viewer.stats().frames;
	viewer
		.wait_for_frames(before + more, Duration::from_secs(10))
		.await
		.unwrap_or_else(|error| panic!("viewer stopped receiving: {error}"));
}

/// No frame arrives at a viewer for `period`.
pub async fn receives_nothing(viewer: &Viewer, period: Duration) {
	let before = viewer.stats().packets;
	tokio::time::sleep(period).await;
	assert_eq!(viewer.stats().packets, before, "packets still arrive");
}

/// Watches the viewer's frames for `period`; returns the frames that arrived whole and the
/// longest time without one.
#[allow(dead_code)]
pub async fn frames_over(viewer: &Viewer, period: Duration) -> (u64, Duration) {
	let started = Instant::now();
	let first = viewer.stats().frames_complete;
	let (mut last, mut last_at, mut longest) = (first, started, Duration::ZERO);
	while started.elapsed() < period {
		tokio::time::sleep(Duration::from_millis(50)).await;
		let now = viewer.stats().frames_complete;
		if now > last {
			(last, last_at) = (now, Instant::now());
		}
		longest = longest.max(last_at.elapsed());
	}
	(last - first, longest)
}

/// The session of the first viewer the engine lists.
#[allow(dead_code)]
pub fn first_viewer(engine: &Engine) -> sutantra_streaming::SessionId {
	engine
		.sessions()
		.into_iter()
		.find(|session| session.role == sutantra_streaming::Role::Viewer)
		.expect("a viewer's session")
		.session
}
