//! Throughput of the pure-Rust SSE framer (no Python): a 10,000-event `OpenAI`
//! chat-completions stream fed in 64 KiB chunks and one event per chunk.
//! Run: `cargo bench --bench sse_framer`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use seltzer::sse::{Event, SseDecoder, SseError};

fn stream() -> Vec<Vec<u8>> {
    (0..10_000)
        .map(|i| {
            format!(
                "data: {{\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":\"chat.completion.chunk\",\
                 \"created\":1741569952,\"model\":\"gpt-4o-mini-2024-07-18\",\"service_tier\":\"default\",\
                 \"system_fingerprint\":\"fp_06737a9306\",\"choices\":[{{\"index\":0,\"delta\":\
                 {{\"content\":\" token{i}\"}},\"logprobs\":null,\"finish_reason\":null}}]}}\n\n"
            )
            .into_bytes()
        })
        .collect()
}

fn frame(chunks: &[&[u8]]) -> usize {
    let mut decoder = SseDecoder::default();
    let mut bytes = 0;
    for chunk in chunks {
        let fed = decoder.feed(chunk, |ev: &Event<'_>| {
            bytes += black_box(ev.data.len());
            Ok::<(), SseError>(())
        });
        if fed.is_err() {
            return 0;
        }
    }
    bytes
}

fn measure(name: &str, chunks: &[&[u8]]) {
    let total: usize = chunks.iter().map(|c| c.len()).sum();
    let mut best = Duration::MAX;
    for _ in 0..50 {
        let start = Instant::now();
        black_box(frame(black_box(chunks)));
        best = best.min(start.elapsed());
    }
    #[allow(clippy::cast_precision_loss)]
    let gbps = total as f64 / best.as_secs_f64() / 1e9;
    #[allow(clippy::cast_precision_loss)]
    let ns_per_event = best.as_nanos() as f64 / 10_000.0;
    println!(
        "{name:<22} {gbps:6.2} GB/s  {ns_per_event:7.1} ns/event  ({total} bytes, best of 50)"
    );
}

fn main() {
    let events = stream();
    let body: Vec<u8> = events.concat();
    let big: Vec<&[u8]> = body.chunks(65536).collect();
    let per_event: Vec<&[u8]> = events.iter().map(Vec::as_slice).collect();
    measure("64 KiB chunks", &big);
    measure("one event per chunk", &per_event);
}
