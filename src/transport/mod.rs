//! The HTTP client transport: reqwest on one shared tokio runtime (`runtime`) for async
//! clients and on a runtime run by its waiting callers (`driven`) for sync ones, with
//! httpx's options (`options`; the system's CAs are read at the first handshake,
//! `lazy_roots`) and per-request timeouts (`phases`), sending requests (`client`) and
//! handing response bodies over as they arrive (`body`, through `channel`), with
//! `encoding` to undo gzip / deflate / br for readers that decode the bytes in Rust.
//! Errors map 1:1 to httpx's classes (`error`). No pyo3 here: `src/py/` wraps these
//! types for Python.

mod body;
mod brotli_stream;
mod channel;
mod client;
pub mod driven;
mod encoding;
mod error;
mod lazy_roots;
mod options;
mod per_process;
mod phases;
mod preconnect;
pub mod runtime;

#[cfg(test)]
mod driven_tests;
#[cfg(test)]
mod test_util;
#[cfg(test)]
mod tests;

pub use body::{Body, Received, MAX_BUFFERED_BYTES};
pub use channel::WakeFn;
pub use client::{Client, HttpVersion, Pending, Request, Response, ResponseHead};
pub use encoding::{ContentEncoding, Decoder as ContentDecoder, UnsupportedEncoding};
pub use error::{redact_url, TransportError, TransportErrorKind};
pub use options::{ClientOptions, RuntimeKind, Verify};
pub use phases::Timeouts;
