//! The mock server under load over loopback (its own test binary, so that the memory
//! check sees no other test's allocations): raw TCP clients (on their own tokio
//! runtime) read and discard many concurrent streams at itl 0; every token must arrive
//! and memory must stay flat. Throughput figures come from `benches/mock_throughput.py`,
//! which compares the server with a real seltzer client.

// A test crate: failing loudly is the point (clippy.toml only covers `#[test]` bodies).
#![allow(clippy::unwrap_used, clippy::panic)]

use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use seltzer::mock::{MockConfig, MockServer, HEADER_BATCH, HEADER_TOKENS};

const BODY: &str =
    r#"{"model":"m","messages":[{"role":"user","content":"Write me a song"}],"stream":true}"#;

/// One client: `requests` streams in turn on one connection, reading to each body's end.
async fn client(addr: SocketAddr, requests: usize, tokens: u64, batch: u32) -> u64 {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let req = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: m\r\ncontent-type: application/json\r\n{HEADER_TOKENS}: {tokens}\r\n{HEADER_BATCH}: {batch}\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    let mut buf = vec![0u8; 256 * 1024];
    let mut bytes = 0;
    for _ in 0..requests {
        tcp.write_all(req.as_bytes()).await.unwrap();
        // The body ends with the terminating chunk after `data: [DONE]`.
        let mut tail: Vec<u8> = Vec::new();
        loop {
            let n = tcp.read(&mut buf).await.unwrap();
            assert!(n > 0, "server closed early");
            bytes += n as u64;
            tail.extend_from_slice(&buf[..n]);
            if tail.ends_with(b"[DONE]\n\n\r\n0\r\n\r\n") {
                break;
            }
            let keep = tail.len().saturating_sub(32);
            tail.drain(..keep);
        }
    }
    bytes
}

/// Runs `streams` concurrent clients, each making `per_client` requests, and checks
/// that the server sent every token.
fn run(streams: usize, per_client: usize, tokens: u64, batch: u32) {
    let server = MockServer::start(MockConfig::default()).unwrap();
    let addr = server.addr();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let tasks: Vec<_> = (0..streams)
            .map(|_| tokio::spawn(client(addr, per_client, tokens, batch)))
            .collect();
        for t in tasks {
            assert!(t.await.unwrap() > 0);
        }
    });
    let stats = server.stats();
    assert_eq!(stats.tokens, streams as u64 * per_client as u64 * tokens);
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[test]
fn small_load_completes_and_memory_stays_flat() {
    run(16, 10, 200, 1);
    let before = rss_kib();
    run(16, 50, 200, 1);
    let after = rss_kib();
    // 800 more streams must not grow the process by more than a few MiB.
    assert!(
        after < before + 32 * 1024,
        "RSS grew from {before} KiB to {after} KiB"
    );
}
