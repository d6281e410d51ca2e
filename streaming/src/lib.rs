//! # Sutantra streaming
//!
//! The node's live video engine: a WebRTC selective forwarding unit (SFU) built on webrtc-rs.
//! It knows nothing of the blockchain: it asks an [`AccessPolicy`] whom to admit, and reports
//! what happens as [`EngineEvent`]s.
//!
//! ## Overview
//!
//! - **Ingest**: a creator publishes with WHIP (RFC 9725) from OBS, ffmpeg, GStreamer or the
//!   built-in [`client::Publisher`]: `POST /whip/{stream}` with an SDP offer.
//! - **Playback**: viewers watch with WHEP from a browser (`GET /watch/{stream}` serves a player)
//!   or the built-in [`client::Viewer`]: `POST /whep/{stream}`.
//! - **Fan-out**: each published track's RTP packets are forwarded to every viewer without
//!   decoding. A joining viewer starts at a keyframe (the engine asks the publisher for one);
//!   a viewer that falls behind skips ahead instead of slowing the others.
//! - **Payments channel**: a viewer opens the `sutantra-pay` data channel; every message on it is
//!   an [`EngineEvent::DataMessage`], and [`Engine::send_data`] answers on it.
//! - **Control**: [`Engine`] lists sessions, reports per-session stats, drops a viewer (telling
//!   it why first) and ends streams.
//!
//! The wire details (status codes, the `bye` message) are in the project's `docs/streaming.md`.

#![warn(missing_docs)]

pub mod client;
pub mod codec;
pub mod config;
mod engine;
pub mod error;
pub mod event;
pub mod http;
pub mod latency;
pub mod policy;
mod sdp;
pub mod server;
pub mod tls;
pub mod types;

pub use config::{StreamingConfig, TurnServer};
pub use tls::TlsFiles;
pub use engine::{
	Answer, DirectoryEntry, Engine, EngineEvents, MediaSocketStats, Reception, SessionInfo,
	SessionStats, Spread, StreamQuality, StreamSummary, TrackSummary, Upstream, UpstreamLocator, PAY_CHANNEL_LABEL,
};
pub use error::{Error, Result};
pub use event::EngineEvent;
pub use policy::{AccessPolicy, Admission, AllowAll, Credentials, Decision, DenyStatus, PaymentDesk};
pub use types::{LeaveReason, Role, SessionId, StreamId};
