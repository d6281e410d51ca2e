//! The node's one UDP socket for WebRTC media.
//!
//! Every session the node serves (publishers and viewers) sends and receives through one socket
//! on one port. The server side is ICE-lite: it never sends connectivity checks, it answers them.
//! A client's first packets are therefore always STUN binding requests, whose USERNAME starts
//! with the ICE username fragment this node gave the session in its answer; that routes the
//! request, and its source address is remembered for the session. Everything else (DTLS, SRTP,
//! SRTCP, later STUN) is routed by source address alone. A datagram from an address no session
//! knows is dropped: it costs one table lookup.
//!
//! Nothing a remote peer sends can make the routing task wait: each session has a bounded inbox,
//! and a datagram for a full inbox is dropped, as the network would drop it.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::LOG_TARGET;
use crate::error::{Error, Result};
use crate::types::SessionId;

/// Datagrams waiting for one session's driver; beyond this they are dropped.
const INBOX_DEPTH: usize = 512;
/// Remote addresses one session may be reached from (a client's candidates that passed a check);
/// a client needs one, a few cover a change of network path.
const MAX_ADDRESSES_PER_SESSION: usize = 4;
/// The largest datagram read (Ethernet MTU with room to spare; WebRTC stays under 1,500 bytes).
const MAX_DATAGRAM: usize = 2048;

/// A datagram for one session.
pub(crate) struct Datagram {
	pub(crate) from: SocketAddr,
	pub(crate) data: BytesMut,
	pub(crate) at: Instant,
}

#[derive(Clone)]
struct Route {
	session: SessionId,
	inbox: mpsc::Sender<Datagram>,
}

#[derive(Default)]
struct Routes {
	by_ufrag: HashMap<String, Route>,
	by_address: HashMap<SocketAddr, Route>,
	addresses: HashMap<SessionId, Vec<SocketAddr>>,
}

/// The shared socket, its routing table and the addresses it is announced at.
pub(crate) struct MediaSocket {
	socket: tokio::net::UdpSocket,
	bound: SocketAddr,
	announced: Vec<IpAddr>,
	routes: Mutex<Routes>,
	unrouted: AtomicU64,
	overflowed: AtomicU64,
}

/// What the media socket has dropped, for the operator.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct MediaSocketStats {
	/// Datagrams from addresses no session knows (and STUN for no session).
	pub unrouted: u64,
	/// Datagrams dropped because their session's inbox was full.
	pub overflowed: u64,
	/// Sessions currently reachable on the socket.
	pub sessions: usize,
}

impl MediaSocket {
	/// Binds `ip:port` (port 0 picks a free port) and announces `public_ip`, or else the bound
	/// address, or for a wildcard address every non-loopback interface of its family.
	/// Must be called within a Tokio runtime.
	pub(crate) fn bind(ip: IpAddr, port: u16, public_ip: Option<IpAddr>) -> Result<Arc<Self>> {
		let address = SocketAddr::new(ip, port);
		let socket = std::net::UdpSocket::bind(address).map_err(|source| Error::MediaSocket {
			address,
			reason: format!("{source}; choose a free port with --webrtc-port"),
		})?;
		socket
			.set_nonblocking(true)
			.map_err(|source| Error::MediaSocket { address, reason: source.to_string() })?;
		let bound = socket
			.local_addr()
			.map_err(|source| Error::MediaSocket { address, reason: source.to_string() })?;
		let socket = tokio::net::UdpSocket::from_std(socket)
			.map_err(|source| Error::MediaSocket { address, reason: source.to_string() })?;
		let announced = announced_addresses(ip, public_ip);
		if announced.is_empty() {
			return Err(Error::MediaSocket {
				address,
				reason: "no network interface to announce; bind a concrete address with \
					--webrtc-bind-ip or give --public-ip"
					.into(),
			});
		}
		Ok(Arc::new(Self {
			socket,
			bound,
			announced,
			routes: Mutex::new(Routes::default()),
			unrouted: AtomicU64::new(0),
			overflowed: AtomicU64::new(0),
		}))
	}

	/// The address the socket is bound to.
	pub(crate) fn bound(&self) -> SocketAddr {
		self.bound
	}

	/// The addresses (with the socket's port) a session's answer announces as host candidates.
	pub(crate) fn candidates(&self) -> impl Iterator<Item = SocketAddr> + '_ {
		self.announced.iter().map(|ip| SocketAddr::new(*ip, self.bound.port()))
	}

	pub(crate) fn stats(&self) -> MediaSocketStats {
		MediaSocketStats {
			unrouted: self.unrouted.load(Ordering::Relaxed),
			overflowed: self.overflowed.load(Ordering::Relaxed),
			sessions: self.routes().by_ufrag.len(),
		}
	}

	fn routes(&self) -> MutexGuard<'_, Routes> {
		// Every update is a handful of inserts or removes that cannot panic halfway.
		self.routes.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
	}

	/// Makes `session` reachable by STUN requests for `ufrag`; its datagrams arrive at the
	/// returned inbox until the inbox is dropped.
	pub(crate) fn register(self: &Arc<Self>, session: SessionId, ufrag: String) -> Inbox {
		let (sender, receiver) = mpsc::channel(INBOX_DEPTH);
		self.routes().by_ufrag.insert(ufrag.clone(), Route { session, inbox: sender });
		Inbox { receiver, socket: self.clone(), session, ufrag }
	}

	fn unregister(&self, session: SessionId, ufrag: &str) {
		let mut routes = self.routes();
		routes.by_ufrag.remove(ufrag);
		for address in routes.addresses.remove(&session).unwrap_or_default() {
			if routes.by_address.get(&address).is_some_and(|route| route.session == session) {
				routes.by_address.remove(&address);
			}
		}
	}

	/// Sends one datagram. A send the kernel refuses (a full buffer, an unreachable peer) is a
	/// lost packet, as on the wire; WebRTC recovers or gives up on its own terms.
	pub(crate) async fn send(&self, to: SocketAddr, data: &[u8]) {
		if let Err(error) = self.socket.send_to(data, to).await {
			tracing::trace!(target: LOG_TARGET, %to, %error, "media datagram not sent");
		}
	}

	/// Reads the socket and hands each datagram to its session until `shutdown`.
	pub(crate) async fn route_incoming(self: Arc<Self>, shutdown: CancellationToken) {
		let mut buffer = vec![0u8; MAX_DATAGRAM];
		loop {
			let received = tokio::select! {
				_ = shutdown.cancelled() => return,
				received = self.socket.recv_from(&mut buffer) => received,
			};
			match received {
				Ok((length, from)) => self.route(&buffer[..length], from),
				// ICMP errors for earlier sends surface here on Linux; the socket is fine.
				Err(error) => {
					tracing::debug!(target: LOG_TARGET, %error, "media socket read");
					tokio::time::sleep(Duration::from_millis(1)).await;
				},
			}
		}
	}

	fn route(&self, datagram: &[u8], from: SocketAddr) {
		let route = {
			let mut routes = self.routes();
			let by_ufrag = stun_username(datagram)
				.and_then(|username| username.split(':').next())
				.and_then(|ufrag| routes.by_ufrag.get(ufrag).cloned());
			match by_ufrag {
				Some(route) => {
					learn_address(&mut routes, &route, from);
					Some(route)
				},
				None => routes.by_address.get(&from).cloned(),
			}
		};
		let Some(route) = route else {
			self.unrouted.fetch_add(1, Ordering::Relaxed);
			return;
		};
		let datagram = Datagram { from, data: BytesMut::from(datagram), at: Instant::now() };
		if route.inbox.try_send(datagram).is_err() {
			self.overflowed.fetch_add(1, Ordering::Relaxed);
		}
	}
}

/// Remembers that `route`'s session is reached at `from` (a newer check from the same address
/// for another session takes it over), within the session's address allowance.
fn learn_address(routes: &mut Routes, route: &Route, from: SocketAddr) {
	if routes.by_address.get(&from).is_some_and(|known| known.session == route.session) {
		return;
	}
	let known = routes.addresses.entry(route.session).or_default();
	if known.len() >= MAX_ADDRESSES_PER_SESSION {
		return;
	}
	known.push(from);
	if let Some(previous) = routes.by_address.insert(from, route.clone()) {
		if let Some(addresses) = routes.addresses.get_mut(&previous.session) {
			addresses.retain(|address| *address != from);
		}
	}
}

/// One session's datagrams; dropping it makes the session unreachable.
pub(crate) struct Inbox {
	receiver: mpsc::Receiver<Datagram>,
	socket: Arc<MediaSocket>,
	session: SessionId,
	ufrag: String,
}

impl Inbox {
	pub(crate) async fn recv(&mut self) -> Option<Datagram> {
		self.receiver.recv().await
	}

	pub(crate) fn socket(&self) -> &Arc<MediaSocket> {
		&self.socket
	}
}

impl Drop for Inbox {
	fn drop(&mut self) {
		self.socket.unregister(self.session, &self.ufrag);
	}
}

/// The USERNAME of a STUN binding request (RFC 8489), or `None` for anything else.
fn stun_username(packet: &[u8]) -> Option<&str> {
	const BINDING_REQUEST: u16 = 0x0001;
	const MAGIC_COOKIE: [u8; 4] = [0x21, 0x12, 0xA4, 0x42];
	const USERNAME: u16 = 0x0006;
	let header = packet.get(..20)?;
	let kind = u16::from_be_bytes([header[0], header[1]]);
	if kind != BINDING_REQUEST || header[4..8] != MAGIC_COOKIE {
		return None;
	}
	let length = usize::from(u16::from_be_bytes([header[2], header[3]]));
	let attributes = packet.get(20..20 + length)?;
	let mut at = 0;
	while let Some(attribute) = attributes.get(at..at + 4) {
		let kind = u16::from_be_bytes([attribute[0], attribute[1]]);
		let length = usize::from(u16::from_be_bytes([attribute[2], attribute[3]]));
		let value = attributes.get(at + 4..at + 4 + length)?;
		if kind == USERNAME {
			return std::str::from_utf8(value).ok();
		}
		at += 4 + length.div_ceil(4) * 4;
	}
	None
}

/// The addresses to announce for a socket bound to `bind`.
fn announced_addresses(bind: IpAddr, public_ip: Option<IpAddr>) -> Vec<IpAddr> {
	if let Some(public_ip) = public_ip {
		return vec![public_ip];
	}
	if !bind.is_unspecified() {
		return vec![bind];
	}
	let mut addresses: Vec<IpAddr> = rtc::shared::ifaces::ifaces()
		.unwrap_or_default()
		.into_iter()
		.filter_map(|interface| interface.addr.map(|address| address.ip()))
		.filter(|ip| ip.is_ipv4() == bind.is_ipv4() && !ip.is_loopback() && !is_link_local(ip))
		.collect();
	addresses.sort();
	addresses.dedup();
	addresses
}

fn is_link_local(ip: &IpAddr) -> bool {
	match ip {
		IpAddr::V4(ip) => ip.is_link_local(),
		IpAddr::V6(ip) => (ip.segments()[0] & 0xffc0) == 0xfe80,
	}
}

/// A fresh ICE credential: `length` characters from the ICE alphabet (RFC 8839 `ice-char`).
pub(crate) fn ice_credential(length: usize) -> String {
	const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	(0..length).map(|_| char::from(ALPHABET[rand::random::<u8>() as usize % 64])).collect()
}

#[cfg(test)]
mod tests {
	use super::*;

	fn binding_request(username: &[u8], padding_trick: bool) -> Vec<u8> {
		let mut attributes = Vec::new();
		// An attribute before USERNAME, with padding, as browsers send (PRIORITY, ...).
		attributes.extend_from_slice(&[0x00, 0x24, 0x00, 0x04, 1, 2, 3, 4]);
		attributes.extend_from_slice(&0x0006u16.to_be_bytes());
		attributes.extend_from_slice(&(username.len() as u16).to_be_bytes());
		attributes.extend_from_slice(username);
		while attributes.len() % 4 != 0 {
			attributes.push(0);
		}
		let declared = if padding_trick { attributes.len() + 40 } else { attributes.len() };
		let mut packet = vec![0x00, 0x01];
		packet.extend_from_slice(&(declared as u16).to_be_bytes());
		packet.extend_from_slice(&[0x21, 0x12, 0xA4, 0x42]);
		packet.extend_from_slice(&[7; 12]);
		packet.extend_from_slice(&attributes);
		packet
	}

	#[test]
	fn reads_the_username_of_a_binding_request() {
		let packet = binding_request(b"serverfrag:clientfrag", false);
		assert_eq!(stun_username(&packet), Some("serverfrag:clientfrag"));
	}

	#[test]
	fn ignores_what_is_not_a_well_formed_binding_request() {
		let mut response = binding_request(b"a:b", false);
		response[0..2].copy_from_slice(&0x0101u16.to_be_bytes());
		assert_eq!(stun_username(&response), None, "a binding response routes by address");
		let mut no_cookie = binding_request(b"a:b", false);
		no_cookie[4] = 0;
		assert_eq!(stun_username(&no_cookie), None);
		assert_eq!(stun_username(&binding_request(b"a:b", true)), None, "length past the end");
		assert_eq!(stun_username(&[0x80, 0x60, 0, 1]), None, "RTP");
		assert_eq!(stun_username(&[]), None);
		let truncated = binding_request(b"serverfrag:clientfrag", false);
		for end in 0..truncated.len() {
			let _ = stun_username(&truncated[..end]);
		}
	}

	#[test]
	fn a_session_is_reached_from_a_bounded_number_of_addresses() {
		let (inbox, _receiver) = mpsc::channel(1);
		let route = Route { session: SessionId::random(), inbox };
		let mut routes = Routes::default();
		for port in 1..=10 {
			learn_address(&mut routes, &route, SocketAddr::from(([127, 0, 0, 1], port)));
		}
		assert_eq!(routes.by_address.len(), MAX_ADDRESSES_PER_SESSION);
		assert_eq!(routes.addresses[&route.session].len(), MAX_ADDRESSES_PER_SESSION);
	}

	#[test]
	fn credentials_use_the_ice_alphabet() {
		let ufrag = ice_credential(16);
		assert_eq!(ufrag.len(), 16);
		assert!(ufrag.chars().all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/'));
		assert_ne!(ufrag, ice_credential(16));
	}
}
