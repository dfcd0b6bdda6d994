//! The mock server's settings ([`MockConfig`]) and their per-request overrides from
//! `x-mock-*` headers ([`Pacing`] resolved per request). Reading the request body is
//! `request.rs`'s job; acting on the settings is `stream.rs`'s.

use hyper::HeaderMap;

use super::faults::Fault;

/// Most tokens one response may carry (per choice), whatever a request asks for.
pub const MAX_TOKENS: u64 = 1_000_000;
/// Longest delay (ttft, itl, jitter, stall) honoured, in milliseconds (one day); longer
/// ones are cut to it.
pub const MAX_DELAY_MS: u64 = 86_400_000;
/// Most tokens (all choices) of one non-streamed response, which is built whole.
pub const MAX_WHOLE_TOKENS: u64 = 1_000_000;
/// Most choices (`n`) one request may ask for.
pub const MAX_CHOICES: u32 = 128;

/// Header: time to first token, milliseconds.
pub const HEADER_TTFT_MS: &str = "x-mock-ttft-ms";
/// Header: interval between tokens, milliseconds.
pub const HEADER_ITL_MS: &str = "x-mock-itl-ms";
/// Header: interval between tokens, microseconds (beats `x-mock-itl-ms`), for the fast
/// paces of benchmarks.
pub const HEADER_ITL_US: &str = "x-mock-itl-us";
/// Header: uniform jitter added to each token's time, `0..=ms` milliseconds (seeded).
pub const HEADER_JITTER_MS: &str = "x-mock-jitter-ms";
/// Header: tokens per response (per choice).
pub const HEADER_TOKENS: &str = "x-mock-tokens";
/// Header: token events per write (one HTTP chunk, flushed).
pub const HEADER_BATCH: &str = "x-mock-batch";
/// Header: the text seed.
pub const HEADER_SEED: &str = "x-mock-seed";
/// Header: a fault spec (see [`Fault`]).
pub const HEADER_FAULT: &str = "x-mock-fault";
/// Header: `1` adds `"mock_sent_ns"` (unix ns at send time) to each event payload.
pub const HEADER_TIMESTAMPS: &str = "x-mock-timestamps";
/// Header: the `Retry-After` seconds sent with a 429 / 503 fault.
pub const HEADER_RETRY_AFTER: &str = "x-mock-retry-after";
/// Header: `1` lets the text contain non-ASCII words.
pub const HEADER_UNICODE: &str = "x-mock-unicode";

/// How a mock server behaves; every pacing and fault field can be overridden per request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockConfig {
    /// Address to bind (default `127.0.0.1`).
    pub host: String,
    /// Port to bind; 0 picks an ephemeral port (default).
    pub port: u16,
    /// Time to first token in milliseconds (default 0).
    pub ttft_ms: u64,
    /// Inter-token interval in milliseconds (default 0: as fast as the socket takes them).
    pub itl_ms: u64,
    /// Uniform, seeded jitter added to each token's time, `0..=jitter_ms` (default 0).
    pub jitter_ms: u64,
    /// Tokens per response when the request names no limit (default 16).
    pub tokens: u64,
    /// Token events per write (default 1: one event per HTTP chunk and TCP write).
    pub batch: u32,
    /// Text seed when the request gives none (default 0).
    pub seed: u64,
    /// Whether the text may contain non-ASCII words (default false).
    pub unicode: bool,
    /// A fault injected into every request that does not name its own (default none).
    pub fault: Option<Fault>,
    /// `Retry-After` seconds for 429 / 503 faults (default 1).
    pub retry_after_s: u64,
    /// Whether each event carries `"mock_sent_ns"` (default false).
    pub timestamps: bool,
    /// Model name used when the request names none (default `mock-model`).
    pub model: String,
    /// Largest request body accepted; larger ones get 413 (default 1 MiB).
    pub max_body_bytes: usize,
    /// Worker threads of the server's tokio runtime: 0 or 1 = current-thread (default 1).
    pub worker_threads: usize,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".to_owned(),
            port: 0,
            ttft_ms: 0,
            itl_ms: 0,
            jitter_ms: 0,
            tokens: 16,
            batch: 1,
            seed: 0,
            unicode: false,
            fault: None,
            retry_after_s: 1,
            timestamps: false,
            model: "mock-model".to_owned(),
            max_body_bytes: 1024 * 1024,
            worker_threads: 1,
        }
    }
}

/// The settings of one request: the config overridden by its `x-mock-*` headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pacing {
    pub ttft_ms: u64,
    pub itl_us: u64,
    pub jitter_ms: u64,
    /// Tokens from the header, if one was given (it beats the body's limit).
    pub tokens_header: Option<u64>,
    pub batch: u32,
    pub seed_header: Option<u64>,
    pub fault: Option<Fault>,
    pub timestamps: bool,
    pub retry_after_s: u64,
    pub unicode: bool,
}

impl Pacing {
    /// Resolves the overrides in `headers` over `config`.
    ///
    /// # Errors
    /// A message naming the header whose value does not parse.
    pub fn resolve(config: &MockConfig, headers: &HeaderMap) -> Result<Self, String> {
        let fault = match header(headers, HEADER_FAULT)? {
            Some(spec) if spec.is_empty() || spec == "none" => None,
            Some(spec) => Some(spec.parse::<Fault>().map_err(|e| e.to_string())?),
            None => config.fault,
        };
        Ok(Self {
            ttft_ms: number(headers, HEADER_TTFT_MS)?
                .unwrap_or(config.ttft_ms)
                .min(MAX_DELAY_MS),
            itl_us: match number(headers, HEADER_ITL_US)? {
                Some(us) => us.min(MAX_DELAY_MS * 1000),
                None => {
                    number(headers, HEADER_ITL_MS)?
                        .unwrap_or(config.itl_ms)
                        .min(MAX_DELAY_MS)
                        * 1000
                }
            },
            jitter_ms: number(headers, HEADER_JITTER_MS)?
                .unwrap_or(config.jitter_ms)
                .min(MAX_DELAY_MS),
            tokens_header: number(headers, HEADER_TOKENS)?.map(|t| t.min(MAX_TOKENS)),
            batch: number(headers, HEADER_BATCH)?
                .map_or(config.batch, |b| u32::try_from(b).unwrap_or(u32::MAX))
                .max(1),
            seed_header: number(headers, HEADER_SEED)?,
            fault,
            timestamps: flag(headers, HEADER_TIMESTAMPS)?.unwrap_or(config.timestamps),
            retry_after_s: number(headers, HEADER_RETRY_AFTER)?.unwrap_or(config.retry_after_s),
            unicode: flag(headers, HEADER_UNICODE)?.unwrap_or(config.unicode),
        })
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, String> {
    headers
        .get(name)
        .map(|v| {
            v.to_str()
                .map(str::trim)
                .map_err(|_| format!("header {name} is not ASCII"))
        })
        .transpose()
}

fn number(headers: &HeaderMap, name: &str) -> Result<Option<u64>, String> {
    header(headers, name)?
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| format!("header {name}: expected a non-negative integer, got {v:?}"))
        })
        .transpose()
}

fn flag(headers: &HeaderMap, name: &str) -> Result<Option<bool>, String> {
    header(headers, name)?
        .map(|v| match v {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" | "" => Ok(false),
            _ => Err(format!("header {name}: expected 1 or 0, got {v:?}")),
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    #[test]
    fn headers_override_config() {
        let config = MockConfig {
            itl_ms: 5,
            ..MockConfig::default()
        };
        let mut headers = HeaderMap::new();
        headers.insert(HEADER_TTFT_MS, HeaderValue::from_static("20"));
        headers.insert(HEADER_FAULT, HeaderValue::from_static("drop@3"));
        headers.insert(HEADER_BATCH, HeaderValue::from_static("0"));
        let p = Pacing::resolve(&config, &headers).unwrap();
        assert_eq!((p.ttft_ms, p.itl_us, p.batch), (20, 5000, 1));
        assert_eq!(p.fault, Some(Fault::Drop(3)));
        headers.insert(HEADER_ITL_US, HeaderValue::from_static("250"));
        assert_eq!(Pacing::resolve(&config, &headers).unwrap().itl_us, 250);
    }

    #[test]
    fn bad_header_is_an_error() {
        let mut headers = HeaderMap::new();
        headers.insert(HEADER_ITL_MS, HeaderValue::from_static("-1"));
        let err = Pacing::resolve(&MockConfig::default(), &headers).unwrap_err();
        assert!(err.contains(HEADER_ITL_MS), "{err}");
    }
}
