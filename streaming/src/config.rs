//! The engine's settings and their validation.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::error::ConfigError;

/// Default HTTP signalling address (WHIP, WHEP, `/streams`, `/health`).
pub const DEFAULT_HTTP_ADDR: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 8088);
/// Default UDP port for WebRTC media.
pub const DEFAULT_UDP_PORT: u16 = 40000;

/// Settings of the streaming engine.
///
/// Every field has a production default ([`StreamingConfig::default`]); [`StreamingConfig::validate`]
/// is called by [`crate::Engine::start`] and says what to change when a value cannot work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamingConfig {
	/// Where the HTTP signalling server listens. Port 0 picks a free port (tests).
	pub http_addr: SocketAddr,
	/// Serve signalling over HTTPS with this certificate and key instead of plain HTTP.
	pub tls: Option<crate::tls::TlsFiles>,
	/// The local address the media socket binds to. `0.0.0.0` listens on every interface and
	/// announces every non-loopback one; a concrete address (a loopback one in tests) binds and
	/// announces only that address.
	pub udp_bind_ip: IpAddr,
	/// The one UDP port every WebRTC session of the node uses. Port 0 picks a free port
	/// (tests). A relay's pulls from other nodes are outgoing connections on ports of their own.
	pub udp_port: u16,
	/// The public address of this host when it sits behind a 1:1 NAT (a cloud VM's elastic IP):
	/// advertised in ICE candidates instead of the local address.
	pub public_ip: Option<IpAddr>,
	/// STUN servers (`stun:host:port`) used to learn this host's public address.
	pub stun_servers: Vec<String>,
	/// TURN servers for peers that cannot reach us directly.
	pub turn_servers: Vec<TurnServer>,
	/// How many streams may be live on this node at once.
	pub max_streams: u32,
	/// How many viewers one stream may have on this node (a stream's own, smaller cap applies
	/// too: [`crate::Admission::audience_cap`]).
	pub max_viewers_per_stream: u32,
	/// How many sessions one admitted principal (an account) may hold on one stream at once. A
	/// further join replaces the oldest, which is dropped with a reason, so one purchase is not
	/// shared by a room.
	pub max_sessions_per_viewer: u32,
	/// How many sessions one client may hold on this node at once: counted per source address
	/// (an IPv4 address, an IPv6 /64) and per admitted account. Refused with 429 and
	/// `Retry-After` beyond it.
	pub max_sessions_per_client: u32,
	/// How many of one client's sessions may still be connecting (ICE and DTLS not up yet).
	pub max_pending_per_client: u32,
	/// How many sessions may be connecting at once on the whole node; refused with 503 and
	/// `Retry-After` beyond it, so half-open offers cannot take every UDP port.
	pub max_pending_sessions: u32,
	/// Signalling connections (HTTP) one client (a source address, an IPv6 /64) may hold open at
	/// once; beyond, a new connection is closed unread. Raise it behind a reverse proxy.
	pub max_connections_per_client: u32,
	/// Requests that cost the node work (offers, payments) one client (a source address) may make
	/// per second, sustained; twice as many in a burst. Beyond, 429 with `Retry-After`.
	pub requests_per_second_per_client: u32,
	/// A session whose connection is not up this long after its offer was answered (a
	/// publisher's, or a relay pull's, whose media has not arrived) is ended.
	pub handshake_timeout: std::time::Duration,
	/// A relayed stream nobody watches on this node for this long is released (the pull from
	/// its origin ends).
	pub relay_idle_timeout: std::time::Duration,
	/// What `GET /node` says about this node (e.g. the account vouchers paid here must name).
	pub node_info: std::collections::BTreeMap<String, String>,
	/// Whether this node offers to relay streams published elsewhere.
	pub enable_relay: bool,
	/// Whether relaying may pull from origins at loopback, private or link-local addresses
	/// (a test network on one host or a LAN). Off by default: a stream's origin is named by
	/// whoever registered it, and must not turn this node against its own network.
	pub relay_private_origins: bool,
	/// How many relayed streams this node accepts when relaying is on.
	pub relay_capacity: u32,
	/// How often (seconds) the owner refreshes the directory of streams live on the network
	/// ([`crate::Engine::set_directory`], served at `GET /directory`).
	pub discovery_interval_seconds: u64,
}

/// A TURN server and its credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TurnServer {
	/// `turn:host:port` or `turns:host:port`.
	pub url: String,
	/// TURN username.
	pub username: String,
	/// TURN credential.
	pub credential: String,
}

impl Default for StreamingConfig {
	fn default() -> Self {
		Self {
			http_addr: DEFAULT_HTTP_ADDR,
			tls: None,
			udp_bind_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
			udp_port: DEFAULT_UDP_PORT,
			public_ip: None,
			stun_servers: Vec::new(),
			turn_servers: Vec::new(),
			max_streams: 100,
			max_viewers_per_stream: 500,
			max_sessions_per_viewer: 1,
			max_sessions_per_client: 32,
			max_pending_per_client: 8,
			max_pending_sessions: 256,
			max_connections_per_client: crate::server::DEFAULT_CONNECTIONS_PER_ADDRESS,
			requests_per_second_per_client: 10,
			handshake_timeout: std::time::Duration::from_secs(10),
			relay_idle_timeout: std::time::Duration::from_secs(30),
			node_info: Default::default(),
			enable_relay: false,
			relay_private_origins: false,
			relay_capacity: 10,
			discovery_interval_seconds: 30,
		}
	}
}

impl StreamingConfig {
	/// A configuration for tests and local tools: everything on 127.0.0.1, a free HTTP port.
	pub fn loopback() -> Self {
		Self {
			http_addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
			udp_bind_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
			udp_port: 0,
			..Self::default()
		}
	}

	/// Checks that the settings can work; the error says which setting to change and how.
	pub fn validate(&self) -> Result<(), ConfigError> {
		let invalid =
			|setting: &'static str, problem: String| Err(ConfigError { setting, problem });
		if self.max_streams == 0 {
			return invalid(
				"max_streams",
				"must be at least 1 (0 would refuse every publisher)".into(),
			);
		}
		if self.max_viewers_per_stream == 0 {
			return invalid(
				"max_viewers_per_stream",
				"must be at least 1 (0 would refuse every viewer)".into(),
			);
		}
		if self.max_sessions_per_viewer == 0 {
			return invalid(
				"max_sessions_per_viewer",
				"must be at least 1 (0 would refuse every viewer)".into(),
			);
		}
		for (setting, value) in [
			("max_sessions_per_client", self.max_sessions_per_client),
			("max_pending_per_client", self.max_pending_per_client),
			("max_pending_sessions", self.max_pending_sessions),
			("max_connections_per_client", self.max_connections_per_client),
			("requests_per_second_per_client", self.requests_per_second_per_client),
		] {
			if value == 0 {
				return invalid(setting, "must be at least 1 (0 would refuse every client)".into());
			}
		}
		for (setting, value) in [
			("handshake_timeout", self.handshake_timeout),
			("relay_idle_timeout", self.relay_idle_timeout),
		] {
			if value < std::time::Duration::from_secs(1)
				|| value > std::time::Duration::from_secs(600)
			{
				return invalid(
					setting,
					format!("{value:?} is out of range; use 1 to 600 seconds"),
				);
			}
		}
		if let Some(ip) = self.public_ip {
			if ip.is_unspecified() || ip.is_loopback() || ip.is_multicast() {
				return invalid(
					"public_ip",
					format!("{ip} cannot be reached by viewers; give the host's public address or leave it unset"),
				);
			}
			if self.udp_bind_ip.is_ipv4() != ip.is_ipv4() {
				return invalid(
					"public_ip",
					format!(
						"{ip} is not of the same IP family as the UDP bind address {}",
						self.udp_bind_ip
					),
				);
			}
		}
		for url in &self.stun_servers {
			if !url.starts_with("stun:") && !url.starts_with("stuns:") {
				return invalid(
					"stun_servers",
					format!("'{url}' is not a STUN URL; write it as stun:host:port"),
				);
			}
		}
		for server in &self.turn_servers {
			if !server.url.starts_with("turn:") && !server.url.starts_with("turns:") {
				return invalid(
					"turn_servers",
					format!(
						"'{}' is not a TURN URL; write it as turn:host:port or turns:host:port",
						server.url
					),
				);
			}
			if server.username.is_empty() || server.credential.is_empty() {
				return invalid(
					"turn_servers",
					format!("'{}' needs a username and a credential", server.url),
				);
			}
		}
		if self.enable_relay && self.relay_capacity == 0 {
			return invalid("relay_capacity", "must be at least 1 when relaying is enabled".into());
		}
		if self.discovery_interval_seconds == 0 || self.discovery_interval_seconds > 3600 {
			return invalid(
				"discovery_interval_seconds",
				format!(
					"{} is out of range; use 1 to 3600 seconds",
					self.discovery_interval_seconds
				),
			);
		}
		Ok(())
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn defaults_and_loopback_are_valid() {
		StreamingConfig::default().validate().unwrap();
		StreamingConfig::loopback().validate().unwrap();
	}

	#[test]
	fn each_bad_setting_is_named() {
		let cases: Vec<(&str, Box<dyn Fn(&mut StreamingConfig)>)> = vec![
			("max_streams", Box::new(|c| c.max_streams = 0)),
			("max_viewers_per_stream", Box::new(|c| c.max_viewers_per_stream = 0)),
			("max_sessions_per_viewer", Box::new(|c| c.max_sessions_per_viewer = 0)),
			("max_sessions_per_client", Box::new(|c| c.max_sessions_per_client = 0)),
			("max_pending_per_client", Box::new(|c| c.max_pending_per_client = 0)),
			("max_pending_sessions", Box::new(|c| c.max_pending_sessions = 0)),
			("max_connections_per_client", Box::new(|c| c.max_connections_per_client = 0)),
			("requests_per_second_per_client", Box::new(|c| c.requests_per_second_per_client = 0)),
			("handshake_timeout", Box::new(|c| c.handshake_timeout = Default::default())),
			(
				"relay_idle_timeout",
				Box::new(|c| c.relay_idle_timeout = std::time::Duration::from_secs(3600)),
			),
			("public_ip", Box::new(|c| c.public_ip = Some("127.0.0.1".parse().unwrap()))),
			("public_ip", Box::new(|c| c.public_ip = Some("2001:db8::1".parse().unwrap()))),
			("stun_servers", Box::new(|c| c.stun_servers = vec!["stun.example.org:3478".into()])),
			(
				"turn_servers",
				Box::new(|c| {
					c.turn_servers = vec![TurnServer {
						url: "turn:turn.example.org".into(),
						username: String::new(),
						credential: "x".into(),
					}]
				}),
			),
			(
				"relay_capacity",
				Box::new(|c| {
					c.enable_relay = true;
					c.relay_capacity = 0
				}),
			),
			("discovery_interval_seconds", Box::new(|c| c.discovery_interval_seconds = 0)),
		];
		for (setting, change) in cases {
			let mut config = StreamingConfig::default();
			change(&mut config);
			let error = config.validate().unwrap_err();
			assert_eq!(error.setting, setting, "{error}");
			assert!(error.to_string().contains(setting), "{error}");
		}
	}
}
