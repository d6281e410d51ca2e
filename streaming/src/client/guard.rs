//! Where a node's own outgoing requests may go. A relay pulls from origins named by whoever
//! registered the stream, so an origin is untrusted input: a guarded client reaches only public
//! addresses, checked after DNS resolution (and connects to the very addresses it checked, so a
//! name cannot resolve to a public address for the check and a private one for the connection).

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::dns::Name;

/// Which addresses a client's requests may reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
	/// Any address: a person's own client, which goes where its user points it.
	Anywhere,
	/// Public addresses only: never loopback, private, link-local (cloud metadata services),
	/// carrier-grade NAT, unique-local, multicast, reserved or documentation ranges.
	PublicOnly,
}

impl Reach {
	/// Whether `ip` may be reached.
	pub fn allows(self, ip: IpAddr) -> bool {
		self == Reach::Anywhere || is_public(ip)
	}
}

/// Whether `ip` is an address on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
	match ip {
		IpAddr::V4(v4) => is_public_v4(v4),
		IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
			Some(v4) => is_public_v4(v4),
			None => is_public_v6(v6),
		},
	}
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
	let [a, b, c, _] = ip.octets();
	!(ip.is_unspecified()
		|| ip.is_loopback()
		|| ip.is_private()
		|| ip.is_link_local()
		|| ip.is_broadcast()
		|| ip.is_multicast()
		|| ip.is_documentation()
		|| a == 0
		// Carrier-grade NAT, 100.64.0.0/10.
		|| (a == 100 && (64..128).contains(&b))
		// IETF protocol assignments, 192.0.0.0/24.
		|| (a == 192 && b == 0 && c == 0)
		// Benchmarking, 198.18.0.0/15.
		|| (a == 198 && (18..20).contains(&b))
		// Reserved, 240.0.0.0/4.
		|| a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
	let first = ip.segments()[0];
	!(ip.is_unspecified()
		|| ip.is_loopback()
		|| ip.is_multicast()
		// Unique local, fc00::/7 (cloud metadata services such as fd00:ec2::254 live here).
		|| (first & 0xfe00) == 0xfc00
		// Link-local, fe80::/10, and the old site-local, fec0::/10.
		|| (first & 0xffc0) == 0xfe80
		|| (first & 0xffc0) == 0xfec0
		// Documentation, 2001:db8::/32.
		|| (first == 0x2001 && ip.segments()[1] == 0x0db8)
		// NAT64 (64:ff9b::/96 and the local-use 64:ff9b:1::/48) and IPv4-compatible forms of
		// private addresses are not reached either.
		|| (first == 0x0064 && ip.segments()[1] == 0xff9b)
		|| ip.segments()[..6] == [0; 6])
}

/// Resolves names for the HTTP client and keeps only the addresses its [`Reach`] allows; a name
/// with none left fails to resolve, with a reason.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GuardedResolver(pub(crate) Reach);

type Resolving = Pin<Box<dyn Future<Output = io::Result<std::vec::IntoIter<SocketAddr>>> + Send>>;

impl tower::Service<Name> for GuardedResolver {
	type Response = std::vec::IntoIter<SocketAddr>;
	type Error = io::Error;
	type Future = Resolving;

	fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
		Poll::Ready(Ok(()))
	}

	fn call(&mut self, name: Name) -> Self::Future {
		let reach = self.0;
		Box::pin(async move {
			let host = name.as_str().to_owned();
			let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
			let allowed: Vec<SocketAddr> =
				resolved.iter().copied().filter(|address| reach.allows(address.ip())).collect();
			if allowed.is_empty() {
				return Err(io::Error::new(
					io::ErrorKind::PermissionDenied,
					format!("{host} resolves only to non-public addresses, which this node does not reach"),
				));
			}
			Ok(allowed.into_iter())
		})
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn only_public_addresses_are_public() {
		for private in [
			"127.0.0.1",
			"10.1.2.3",
			"172.16.0.1",
			"192.168.1.1",
			"169.254.169.254",
			"100.100.100.200",
			"0.0.0.0",
			"0.1.2.3",
			"255.255.255.255",
			"224.0.0.1",
			"198.18.0.1",
			"192.0.0.170",
			"::1",
			"::",
			"fd00:ec2::254",
			"fe80::1",
			"::ffff:127.0.0.1",
			"::ffff:169.254.169.254",
			"::127.0.0.1",
			"64:ff9b::a00:1",
			"64:ff9b:1::a00:1",
			"2001:db8::1",
		] {
			assert!(!is_public(private.parse().unwrap()), "{private}");
			assert!(Reach::Anywhere.allows(private.parse().unwrap()));
		}
		for public in ["8.8.8.8", "1.1.1.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.4.4"] {
			assert!(is_public(public.parse().unwrap()), "{public}");
		}
	}

	#[tokio::test]
	async fn names_that_resolve_only_to_private_addresses_do_not_resolve() {
		use tower::Service;
		let name: Name = "localhost".parse().unwrap();
		let error = GuardedResolver(Reach::PublicOnly).call(name.clone()).await.unwrap_err();
		assert_eq!(error.kind(), io::ErrorKind::PermissionDenied);
		assert!(error.to_string().contains("localhost resolves only to non-public addresses"));
		assert!(GuardedResolver(Reach::Anywhere).call(name).await.unwrap().count() > 0);
	}
}
