//! Throughput of the mock server over loopback: raw TCP clients (on their own tokio
//! runtime) read and discard 1000-token streams at itl 0, with 1, 64 and 512 concurrent
//! streams; prints tokens/s. The full run is `#[ignore]`d (run it with
//! `cargo test --release --lib mock::load_tests -- --ignored --nocapture`); a small one
//! runs always, and checks memory stays flat over many requests.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

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

/// Runs `streams` concurrent clients, each making `per_client` requests; tokens/s.
fn run(
    worker_threads: usize,
    streams: usize,
    per_client: usize,
    tokens: u64,
    batch: u32,
) -> (f64, f64, f64) {
    let server = MockServer::start(MockConfig {
        worker_threads,
        ..MockConfig::default()
    })
    .unwrap();
    let addr = server.addr();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let start = Instant::now();
    let cpu0 = server_cpu_secs();
    let bytes: u64 = rt.block_on(async {
        let tasks: Vec<_> = (0..streams)
            .map(|_| tokio::spawn(client(addr, per_client, tokens, batch)))
            .collect();
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap();
        }
        total
    });
    let secs = start.elapsed().as_secs_f64();
    let cpu = server_cpu_secs() - cpu0;
    let stats = server.stats();
    assert_eq!(stats.tokens, streams as u64 * per_client as u64 * tokens);
    #[allow(clippy::cast_precision_loss, reason = "a report, not arithmetic")]
    (
        stats.tokens as f64 / secs,
        bytes as f64 / secs / 1e6,
        cpu / secs,
    )
}

/// CPU seconds used so far by the server's threads (named `seltzer-mock`).
fn server_cpu_secs() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    let mut ticks = 0u64;
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim() != "seltzer-mock" {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // Fields after the parenthesised name: state is field 3; utime 14, stime 15.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        ticks += fields
            .get(11)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        ticks += fields
            .get(12)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
    }
    #[allow(clippy::cast_precision_loss, reason = "a report, not arithmetic")]
    let secs = ticks as f64 / 100.0;
    secs
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
    let _ = run(1, 16, 10, 200, 1);
    let before = rss_kib();
    let _ = run(1, 16, 50, 200, 1);
    let after = rss_kib();
    // 800 more streams must not grow the process by more than a few MiB.
    assert!(
        after < before + 32 * 1024,
        "RSS grew from {before} KiB to {after} KiB"
    );
}

#[test]
#[ignore = "load test: run with --release --ignored --nocapture"]
fn load_report() {
    for workers in [1, 2] {
        for (streams, per_client) in [(1, 200), (64, 8), (512, 2)] {
            for batch in [1, 16] {
                let t = Instant::now();
                let (tps, mbps, cpu) = run(workers, streams, per_client, 1000, batch);
                println!(
                    "workers={workers} streams={streams:>3} batch={batch:>2}: {:>10.0} tokens/s {mbps:>7.1} MB/s, server CPU {:>4.0}% ({:?})",
                    tps,
                    cpu * 100.0,
                    t.elapsed()
                );
            }
        }
    }
    let _ = Duration::ZERO;
}
