//! Signalling over HTTPS with a self-signed certificate: a publisher and a viewer negotiate over
//! TLS and the viewer gets frames; plain HTTP to the port gets nothing; clients that open
//! connections and never finish their handshake hold nobody up.
//!
//! The clients trust the certificate through `SSL_CERT_FILE` (as any rustls-native-certs client
//! does), which is why this test has a binary of its own.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{fixture, keeps_receiving};
use sutantra_streaming::client::{PublishOptions, Publisher, Viewer, WatchOptions};
use sutantra_streaming::{AllowAll, Engine, StreamingConfig, TlsFiles};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn whip_and_whep_work_over_https_and_stalled_handshakes_hold_nobody_up() {
	let dir = tempfile::tempdir().unwrap();
	let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
		.unwrap();
	let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
	std::fs::write(&cert_path, cert.serialize_pem().unwrap()).unwrap();
	std::fs::write(&key_path, cert.serialize_private_key_pem()).unwrap();
	// Before any client exists: they trust exactly this certificate.
	std::env::set_var("SSL_CERT_FILE", &cert_path);

	// A key that is not a key is refused at start, naming the file.
	let bad = StreamingConfig {
		tls: Some(TlsFiles { cert: cert_path.clone(), key: cert_path.clone() }),
		..StreamingConfig::loopback()
	};
	let refused = Engine::start(bad, Arc::new(AllowAll)).await.err().expect("refused");
	assert!(refused.to_string().contains("cert.pem: no private key"), "{refused}");

	let config = StreamingConfig {
		tls: Some(TlsFiles { cert: cert_path, key: key_path }),
		..StreamingConfig::loopback()
	};
	let (engine, mut events) = Engine::start(config, Arc::new(AllowAll)).await.unwrap();
	tokio::spawn(async move { while events.recv().await.is_some() {} });
	let addr = engine.http_addr().unwrap();
	let base = format!("https://{addr}");

	// Twenty connections from another host (127.0.0.2) that never say a word.
	let mut stalled = Vec::new();
	for _ in 0..20 {
		let socket = tokio::net::TcpSocket::new_v4().unwrap();
		socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
		stalled.push(socket.connect(addr).await.unwrap());
	}

	let publisher = Publisher::start(PublishOptions {
		endpoint: format!("{base}/whip/tls"),
		token: Some("creator".into()),
		file: fixture(),
		looped: true,
		lower_layers: Vec::new(),
	})
	.await
	.expect("publishing over HTTPS");
	let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
	while engine.live_streams().is_empty() && tokio::time::Instant::now() < deadline {
		tokio::time::sleep(Duration::from_millis(50)).await;
	}
	let viewer = Viewer::connect(WatchOptions {
		endpoint: format!("{base}/whep/tls"),
		token: Some("viewer".into()),
		output: None,
	})
	.await
	.expect("watching over HTTPS");
	keeps_receiving(&viewer, 30).await;
	let health = sutantra_streaming::client::Signalling::new()
		.unwrap()
		.get_json(&format!("{base}/health"))
		.await
		.unwrap();
	assert_eq!(health["status"], "ok");

	// Plain HTTP to the HTTPS port is not served.
	let mut plain = tokio::net::TcpStream::connect(addr).await.unwrap();
	plain.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
	let mut answer = Vec::new();
	let _ = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut answer)).await;
	assert!(!String::from_utf8_lossy(&answer).contains("\"status\""), "served over plain HTTP");

	drop(stalled);
	viewer.stop().await.unwrap();
	publisher.stop().await.unwrap();
	engine.shutdown().await;
}
