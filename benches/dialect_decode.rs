//! Token decoding throughput: the long openai-chat fixture, openai-completions, the
//! anthropic and ollama fixtures through `TokenDecoder`, fed in 16 KiB chunks, repeated; prints ns/token and
//! MB/s. A plain `Instant` loop (no criterion); the Python-level comparisons with other
//! libraries live in `benches/test_*.py`. Run with `cargo bench --bench dialect_decode`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use seltzer::dialect::{Dialect, Token};
use seltzer::sse::DEFAULT_MAX_EVENT_BYTES;
use seltzer::token::{DecodeFailure, TokenDecoder};

/// Where the fixtures are: `$SELTZER_FIXTURES`, else `../shared/fixtures`.
fn fixtures_dir() -> PathBuf {
    std::env::var_os("SELTZER_FIXTURES").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures"),
        PathBuf::from,
    )
}

/// Decodes `body` once; returns the number of tokens and the text's length.
fn decode_once(
    dialect: &Dialect,
    body: &[u8],
    chunk: usize,
) -> Result<(usize, usize), DecodeFailure> {
    let mut decoder = TokenDecoder::new(dialect.clone(), DEFAULT_MAX_EVENT_BYTES);
    let mut tokens = 0;
    let mut text = 0;
    let mut sink = |t: &Token<'_>| {
        tokens += 1;
        text += t.text.len();
        black_box(t);
        Ok::<(), DecodeFailure>(())
    };
    for piece in body.chunks(chunk) {
        decoder.feed(piece, &mut sink)?;
    }
    decoder.flush(&mut sink)?;
    Ok((tokens, text))
}

fn bench(label: &str, dialect: &Dialect, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    // `SELTZER_BENCH=substring` times only the matching cases (for profiling one).
    if let Some(only) = std::env::var_os("SELTZER_BENCH") {
        if !label.contains(&*only.to_string_lossy()) {
            return Ok(());
        }
    }
    let body = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (tokens, _) = decode_once(dialect, &body, 16 * 1024)?;
    // Warm up, then time enough rounds to fill about a second.
    let start = Instant::now();
    let mut rounds = 0u32;
    while start.elapsed() < Duration::from_millis(200) {
        black_box(decode_once(dialect, black_box(&body), 16 * 1024)?);
        rounds += 1;
    }
    let rounds = (rounds * 5).max(1);
    let start = Instant::now();
    for _ in 0..rounds {
        black_box(decode_once(dialect, black_box(&body), 16 * 1024)?);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let per_round = elapsed / f64::from(rounds);
    #[allow(clippy::cast_precision_loss)]
    let (ns_per_token, mb_per_s) = (
        per_round * 1e9 / tokens as f64,
        body.len() as f64 / per_round / 1e6,
    );
    println!(
        "{label:<40} {tokens:>6} tokens {:>8} bytes  {ns_per_token:>8.1} ns/token  {mb_per_s:>8.1} MB/s",
        body.len()
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = fixtures_dir();
    bench(
        "openai-chat/long-synthetic-2574",
        &Dialect::OpenAiChat,
        &dir.join("openai-chat/long-synthetic-2574.sse"),
    )?;
    bench(
        "openai-chat/gpt4o-mini-text-usage",
        &Dialect::OpenAiChat,
        &dir.join("openai-chat/gpt4o-mini-text-usage.sse"),
    )?;
    bench(
        "openai-completions/gpt35-instruct-usage",
        &Dialect::OpenAiCompletions,
        &dir.join("openai-completions/gpt35-instruct-usage.sse"),
    )?;
    bench(
        "anthropic/sonnet4-text",
        &Dialect::Anthropic,
        &dir.join("anthropic/sonnet4-text.sse"),
    )?;
    bench(
        "anthropic/sonnet4-thinking-signature",
        &Dialect::Anthropic,
        &dir.join("anthropic/sonnet4-thinking-signature.sse"),
    )?;
    bench(
        "ollama/generate-gemma3-japanese",
        &Dialect::Ollama,
        &dir.join("ollama/generate-gemma3-japanese.ndjson"),
    )?;
    Ok(())
}
