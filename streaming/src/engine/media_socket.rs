//! The node's UDP socket for WebRTC media: one port for every session.
//!
//! Every session the node serves (publishers and viewers) sends and receives through one socket
//! on one port (one socket per announced interface address when bound to a wildcard address, all
//! on the same port, so a reply always leaves from the address the client sent to). The server
//! side is ICE-lite: it answers connectivity checks and never sends its own. A client's first
//! packets are therefore STUN binding requests, whose USERNAME starts with the ICE username
//! fragment this node gave the session in its answer. A request whose MESSAGE-INTEGRITY is
//! right for that session teaches the router the client's address, within the session's
//! allowance and never taking an address another session holds. Everything else (DTLS, SRTP,
//! SRTCP, later STUN) is routed by source address alone; a datagram from an address no session
//! learned is dropped after one table lookup.
//!
//! Nothing a remote peer sends can make the routing task wait: each session has a bounded inbox,
//! and a datagram for a full inbox is dropped, as the network would drop it.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use rtc::crypto::RTCCryptoProvider;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::LOG_TARGET;
use crate::error::{Error, Result};
use crate::types::SessionId;

/// Datagrams waiting for one session's driver; beyond this they are dropped.
const INBOX_DEPTH: usize = 512;
/// Remote addresses one session may be reached from (client candidates whose checks were
/// authentic); a client needs one, a few cover a change of network path.
pub(crate) const MAX_ADDRESSES_PER_SESSION: usize = 4;
/// The largest datagram read (Ethernet MTU with room to spare; WebRTC stays under 1,500 bytes).
const MAX_DATAGRAM: usize = 2048;
/// The socket buffers asked of the kernel (it caps them at `net.core.rmem_max`/`wmem_max`):
/// room for bursts of a thousand viewers' packets.
const SOCKET_BUFFER: usize = 8 << 20;

/// A datagram for one session: who sent it, to which of the node's sockets, when.
pub(crate) struct Datagram {
	pub(crate) from: SocketAddr,
	pub(crate) local: usize,
	pub(crate) data: BytesMut,
	pub(crate) at: Instant,
}

#[derive(Clone)]
struct Route {
	session: SessionId,
	pwd: Arc<str>,
	inbox: mpsc::Sender<Datagram>,
}

#[derive(Default)]
struct Routes {
	by_ufrag: HashMap<String, Route>,
	by_address: HashMap<SocketAddr, Route>,
	addresses: HashMap<SessionId, Vec<SocketAddr>>,
}

/// One bound socket and the address announced for it.
struct Bound {
	socket: tokio::net::UdpSocket,
	announced: SocketAddr,
}

/// The media sockets, their routing table and what they dropped.
pub(crate) struct MediaSocket {
	sockets: Vec<Bound>,
	routes: Mutex<Routes>,
	crypto: Arc<dyn RTCCryptoProvider>,
	unrouted: AtomicU64,
	refused: AtomicU64,
	overflowed: AtomicU64,
}

/// What the media socket has dropped, for the operator.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct MediaSocketStats {
	/// Datagrams from addresses no session knows (and STUN for no session).
	pub unrouted: u64,
	/// Connectivity checks for a session that failed its credentials, came from an address
	/// another session holds, or from more addresses than a session may use.
	pub refused: u64,
	/// Datagrams dropped because their session's inbox was full.
	pub overflowed: u64,
	/// Sessions currently reachable.
	pub sessions: usize,
}

impl MediaSocket {
	/// Binds `ip:port` (port 0 picks a free port) and announces `public_ip`, or else the bound
	/// address; a wildcard address binds and announces every non-loopback interface address of
	/// its family, all on one port. Must be called within a Tokio runtime.
	pub(crate) fn bind(
		ip: IpAddr,
		port: u16,
		public_ip: Option<IpAddr>,
		crypto: Arc<dyn RTCCryptoProvider>,
	) -> Result<Arc<Self>> {
		let plan: Vec<(IpAddr, IpAddr)> = match public_ip {
			Some(public_ip) => vec![(ip, public_ip)],
			None if !ip.is_unspecified() => vec![(ip, ip)],
			None => interface_addresses(ip).into_iter().map(|address| (address, address)).collect(),
		};
		if plan.is_empty() {
			return Err(Error::MediaSocket {
				address: SocketAddr::new(ip, port),
				reason: "no network interface to announce; bind a concrete address with \
					--webrtc-bind-ip or give --public-ip"
					.into(),
			});
		}
		let mut port = port;
		let mut sockets = Vec::new();
		for (bind_ip, announce_ip) in plan {
			let socket = bind_one(SocketAddr::new(bind_ip, port))?;
			port = socket.local_addr().map(|bound| bound.port()).unwrap_or(port);
			sockets.push(Bound { socket, announced: SocketAddr::new(announce_ip, port) });
		}
		Ok(Arc::new(Self {
			sockets,
			routes: Mutex::new(Routes::default()),
			crypto,
			unrouted: AtomicU64::new(0),
			refused: AtomicU64::new(0),
			overflowed: AtomicU64::new(0),
		}))
	}

	/// The address the (first) socket is bound to.
	pub(crate) fn bound(&self) -> SocketAddr {
		self.sockets[0].socket.local_addr().unwrap_or(self.sockets[0].announced)
	}

	/// The addresses a session's answer announces as host candidates, one per socket.
	pub(crate) fn candidates(&self) -> impl Iterator<Item = SocketAddr> + '_ {
		self.sockets.iter().map(|bound| bound.announced)
	}

	/// The address announced for socket `local` (what a session's connection calls its local
	/// candidate).
	pub(crate) fn announced(&self, local: usize) -> SocketAddr {
		self.sockets.get(local).unwrap_or(&self.sockets[0]).announced
	}

	pub(crate) fn stats(&self) -> MediaSocketStats {
		MediaSocketStats {
			unrouted: self.unrouted.load(Ordering::Relaxed),
			refused: self.refused.load(Ordering::Relaxed),
			overflowed: self.overflowed.load(Ordering::Relaxed),
			sessions: self.routes().by_ufrag.len(),
		}
	}

	fn routes(&self) -> MutexGuard<'_, Routes> {
		// Every update is a handful of inserts or removes that cannot panic halfway.
		self.routes.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
	}

	/// Makes `session` reachable by checks signed with `pwd` for `ufrag`; its datagrams arrive
	/// at the returned inbox until the inbox is dropped.
	pub(crate) fn register(
		self: &Arc<Self>,
		session: SessionId,
		ufrag: String,
		pwd: &str,
	) -> Inbox {
		let (sender, receiver) = mpsc::channel(INBOX_DEPTH);
		let route = Route { session, pwd: pwd.into(), inbox: sender };
		self.routes().by_ufrag.insert(ufrag.clone(), route);
		Inbox { receiver, socket: self.clone(), session, ufrag }
	}

	fn unregister(&self, session: SessionId, ufrag: &str) {
		let mut routes = self.routes();
		if routes.by_ufrag.get(ufrag).is_some_and(|route| route.session == session) {
			routes.by_ufrag.remove(ufrag);
		}
		for address in routes.addresses.remove(&session).unwrap_or_default() {
			if routes.by_address.get(&address).is_some_and(|route| route.session == session) {
				routes.by_address.remove(&address);
			}
		}
	}

	/// Sends one datagram from socket `local`. A send the kernel refuses (a full buffer, an
	/// unreachable peer) is a lost packet, as on the wire; WebRTC recovers or gives up on its
	/// own terms.
	pub(crate) async fn send(&self, local: usize, to: SocketAddr, data: &[u8]) {
		let Some(bound) = self.sockets.get(local) else { return };
		if let Err(error) = bound.socket.send_to(data, to).await {
			tracing::trace!(target: LOG_TARGET, %to, %error, "media datagram not sent");
		}
	}

	/// Starts a routing task per socket; they stop at `shutdown`.
	pub(crate) fn spawn_routing(self: &Arc<Self>, shutdown: CancellationToken) {
		for local in 0..self.sockets.len() {
			tokio::spawn(self.clone().route_incoming(local, shutdown.clone()));
		}
	}

	/// Reads socket `local` and hands each datagram to its session until `shutdown`.
	async fn route_incoming(self: Arc<Self>, local: usize, shutdown: CancellationToken) {
		let mut buffer = vec![0u8; MAX_DATAGRAM];
		loop {
			let received = tokio::select! {
				_ = shutdown.cancelled() => return,
				received = self.sockets[local].socket.recv_from(&mut buffer) => received,
			};
			match received {
				Ok((length, from)) => self.route(&buffer[..length], from, local),
				// ICMP errors for earlier sends surface here; the socket is fine.
				Err(error)
					if matches!(
						error.kind(),
						std::io::ErrorKind::ConnectionRefused
							| std::io::ErrorKind::ConnectionReset
							| std::io::ErrorKind::Interrupted
					) => {},
				Err(error) => {
					tracing::debug!(target: LOG_TARGET, %error, "media socket read");
					tokio::time::sleep(Duration::from_millis(1)).await;
				},
			}
		}
	}

	fn route(&self, datagram: &[u8], from: SocketAddr, local: usize) {
		let known = self.routes().by_address.get(&from).cloned();
		let route = match known {
			Some(route) => route,
			None => match self.learn(datagram, from) {
				Some(route) => route,
				None => return,
			},
		};
		let datagram = Datagram { from, local, data: BytesMut::from(datagram), at: Instant::now() };
		if route.inbox.try_send(datagram).is_err() {
			self.overflowed.fetch_add(1, Ordering::Relaxed);
		}
	}

	/// A datagram from an address no session holds: if it is an authentic connectivity check
	/// for a session with room for another address, that session now holds the address.
	fn learn(&self, datagram: &[u8], from: SocketAddr) -> Option<Route> {
		let Some(ufrag) = stun_username(datagram).and_then(|username| username.split(':').next())
		else {
			self.unrouted.fetch_add(1, Ordering::Relaxed);
			return None;
		};
		let Some(route) = self.routes().by_ufrag.get(ufrag).cloned() else {
			self.unrouted.fetch_add(1, Ordering::Relaxed);
			return None;
		};
		// The HMAC is checked outside the lock: it is the costly part.
		if !self.is_authentic(datagram, &route.pwd) {
			self.refused.fetch_add(1, Ordering::Relaxed);
			return None;
		}
		let mut routes = self.routes();
		let still_registered =
			routes.by_ufrag.get(ufrag).is_some_and(|current| current.session == route.session);
		if !still_registered || !learn_address(&mut routes, &route, from) {
			self.refused.fetch_add(1, Ordering::Relaxed);
			return None;
		}
		Some(route)
	}

	/// Whether a STUN message carries a MESSAGE-INTEGRITY made with `pwd` (RFC 8489 14.5).
	fn is_authentic(&self, datagram: &[u8], pwd: &str) -> bool {
		use rtc::stun::integrity::MessageIntegrity;
		use rtc::stun::message::Message;
		let mut message = Message::new();
		if message.unmarshal_binary(datagram).is_err() {
			return false;
		}
		MessageIntegrity::check(&mut message, pwd.as_bytes(), self.crypto.crypto()).is_ok()
	}
}

/// A UDP socket at `address`, non-blocking, with large buffers.
fn bind_one(address: SocketAddr) -> Result<tokio::net::UdpSocket> {
	use socket2::{Domain, Protocol, Socket, Type};
	let failed = |reason: String| Error::MediaSocket { address, reason };
	let socket = Socket::new(Domain::for_address(address), Type::DGRAM, Some(Protocol::UDP))
		.map_err(|error| failed(error.to_string()))?;
	// Best effort: the kernel caps both at its configured maximum.
	let _ = socket.set_recv_buffer_size(SOCKET_BUFFER);
	let _ = socket.set_send_buffer_size(SOCKET_BUFFER);
	socket
		.bind(&address.into())
		.map_err(|error| failed(format!("{error}; choose a free port with --webrtc-port")))?;
	socket.set_nonblocking(true).map_err(|error| failed(error.to_string()))?;
	tokio::net::UdpSocket::from_std(socket.into()).map_err(|error| failed(error.to_string()))
}

/// Makes `from` an address of `route`'s session, unless another session holds it or the session
/// has its allowance of addresses already.
fn learn_address(routes: &mut Routes, route: &Route, from: SocketAddr) -> bool {
	if let Some(holder) = routes.by_address.get(&from) {
		return holder.session == route.session;
	}
	let known = routes.addresses.entry(route.session).or_default();
	if known.len() >= MAX_ADDRESSES_PER_SESSION {
		return false;
	}
	known.push(from);
	routes.by_address.insert(from, route.clone());
	true
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

/// The non-loopback, non-link-local interface addresses of `wildcard`'s family.
fn interface_addresses(wildcard: IpAddr) -> Vec<IpAddr> {
	let mut addresses: Vec<IpAddr> = rtc::shared::ifaces::ifaces()
		.unwrap_or_default()
		.into_iter()
		.filter_map(|interface| interface.addr.map(|address| address.ip()))
		.filter(|ip| {
			ip.is_ipv4() == wildcard.is_ipv4()
				&& !ip.is_loopback()
				&& !ip.is_unspecified()
				&& !is_link_local(ip)
		})
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

	fn route(session: SessionId) -> Route {
		let (inbox, _receiver) = mpsc::channel(1);
		Route { session, pwd: "pwd".into(), inbox }
	}

	#[test]
	fn a_session_is_reached_from_a_bounded_number_of_addresses() {
		let route = route(SessionId::random());
		let mut routes = Routes::default();
		let learned = (1..=10)
			.filter(|port| {
				learn_address(&mut routes, &route, SocketAddr::from(([127, 0, 0, 1], *port)))
			})
			.count();
		assert_eq!(learned, MAX_ADDRESSES_PER_SESSION);
		assert_eq!(routes.by_address.len(), MAX_ADDRESSES_PER_SESSION);
	}

	#[test]
	fn an_address_one_session_holds_is_not_taken_by_another() {
		let (first, second) = (route(SessionId::random()), route(SessionId::random()));
		let mut routes = Routes::default();
		let address = SocketAddr::from(([127, 0, 0, 1], 5000));
		assert!(learn_address(&mut routes, &first, address));
		assert!(!learn_address(&mut routes, &second, address), "taken over");
		assert!(learn_address(&mut routes, &first, address), "its holder checks again");
		assert_eq!(routes.by_address[&address].session, first.session);
	}

	#[test]
	fn credentials_use_the_ice_alphabet() {
		let ufrag = ice_credential(16);
		assert_eq!(ufrag.len(), 16);
		assert!(ufrag.chars().all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/'));
		assert_ne!(ufrag, ice_credential(16));
	}
}
