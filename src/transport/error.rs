//! The transport's one error type, [`TransportError`]: a [`TransportErrorKind`] that maps
//! 1:1 onto an httpx exception class, and a message saying what failed and where (the URL
//! without userinfo, query or fragment). Headers are never part of an error, so an
//! `Authorization` value cannot leak through `Display` or `Debug`. Classifying reqwest and
//! hyper failures into kinds happens here too; raising Python exceptions is `src/py/`'s job.

use std::error::Error as StdError;
use std::fmt;
use std::io;

/// What went wrong, named after the httpx exception class it becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportErrorKind {
    /// `httpx.ConnectError`: the connection could not be made (refused, DNS, TLS).
    ConnectError,
    /// `httpx.ConnectTimeout`: the connection was not made within the connect timeout.
    ConnectTimeout,
    /// `httpx.ReadTimeout`: no bytes arrived within the read timeout.
    ReadTimeout,
    /// `httpx.WriteTimeout`: the request was not sent within the write timeout.
    WriteTimeout,
    /// `httpx.PoolTimeout`: no connection slot became free within the pool timeout.
    PoolTimeout,
    /// `httpx.ReadError`: reading from the connection failed.
    ReadError,
    /// `httpx.WriteError`: writing to the connection failed.
    WriteError,
    /// `httpx.RemoteProtocolError`: the server broke HTTP (closed mid-message, bad framing).
    RemoteProtocolError,
    /// `httpx.LocalProtocolError`: the request itself is not valid HTTP (method, header).
    LocalProtocolError,
    /// `httpx.DecodingError`: the body is not valid for its `Content-Encoding`.
    DecodingError,
    /// `httpx.ProxyError`: the proxy refused or failed the tunnel.
    ProxyError,
    /// `httpx.UnsupportedProtocol`: the URL's scheme is not `http` or `https`, or it has no host.
    UnsupportedProtocol,
    /// Client options that cannot be used (a CA bundle or certificate that does not load,
    /// a proxy URL that does not parse); `ValueError`/`OSError` in Python.
    InvalidOptions,
    /// The shared runtime could not start or was shut down.
    Runtime,
}

impl TransportErrorKind {
    /// The httpx exception class name, e.g. `"ReadTimeout"`.
    pub fn httpx_name(self) -> &'static str {
        match self {
            Self::ConnectError => "ConnectError",
            Self::ConnectTimeout => "ConnectTimeout",
            Self::ReadTimeout => "ReadTimeout",
            Self::WriteTimeout => "WriteTimeout",
            Self::PoolTimeout => "PoolTimeout",
            Self::ReadError => "ReadError",
            Self::WriteError => "WriteError",
            Self::RemoteProtocolError => "RemoteProtocolError",
            Self::LocalProtocolError => "LocalProtocolError",
            Self::DecodingError => "DecodingError",
            Self::ProxyError => "ProxyError",
            Self::UnsupportedProtocol => "UnsupportedProtocol",
            Self::InvalidOptions => "InvalidOptions",
            Self::Runtime => "RuntimeError",
        }
    }

    /// Whether this is one of the four timeouts (`httpx.TimeoutException`).
    pub fn is_timeout(self) -> bool {
        matches!(
            self,
            Self::ConnectTimeout | Self::ReadTimeout | Self::WriteTimeout | Self::PoolTimeout
        )
    }
}

/// A transport failure: its kind and a message naming what failed and where.
#[derive(Clone, PartialEq, Eq)]
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
}

impl TransportError {
    /// An error of `kind` with `message` (which must not contain header values).
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// The kind, i.e. the httpx class.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// The message, without the kind's name.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Classifies a reqwest failure while sending `url`. `body_sent` says whether the
    /// request body had been handed to the connection (a failure before that is a write
    /// error, after it a read error).
    pub(crate) fn from_send(err: &reqwest::Error, url: &str, body_sent: bool) -> Self {
        let cause = root_cause(err);
        let kind = if err.is_connect() {
            if has_timeout(err) {
                TransportErrorKind::ConnectTimeout
            } else if is_proxy_failure(err) {
                TransportErrorKind::ProxyError
            } else {
                TransportErrorKind::ConnectError
            }
        } else if err.is_builder() {
            TransportErrorKind::LocalProtocolError
        } else if let Some(kind) = hyper_kind(err) {
            kind
        } else if body_sent {
            TransportErrorKind::ReadError
        } else {
            TransportErrorKind::WriteError
        };
        let what = match kind {
            TransportErrorKind::ConnectError
            | TransportErrorKind::ConnectTimeout
            | TransportErrorKind::ProxyError => "cannot connect",
            TransportErrorKind::WriteError => "cannot send the request",
            _ => "no response",
        };
        Self::new(kind, format!("{what} to {url}: {cause}"))
    }

    /// Classifies a reqwest failure while reading the response body of `url`.
    pub(crate) fn from_body(err: &reqwest::Error, url: &str) -> Self {
        let cause = root_cause(err);
        let kind = if has_timeout(err) {
            TransportErrorKind::ReadTimeout
        } else {
            hyper_kind(err).unwrap_or(TransportErrorKind::ReadError)
        };
        Self::new(kind, format!("reading the response body of {url}: {cause}"))
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.httpx_name(), self.message)
    }
}

// Hand-written so that `Debug` shows exactly what `Display` shows (no request, no headers).
impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .finish()
    }
}

impl StdError for TransportError {}

/// `url` without userinfo, query string or fragment: what error messages may show.
pub fn redact_url(url: &reqwest::Url) -> String {
    let mut out = format!("{}://", url.scheme());
    if let Some(host) = url.host_str() {
        out.push_str(host);
    }
    if let Some(port) = url.port() {
        out.push(':');
        out.push_str(&port.to_string());
    }
    out.push_str(url.path());
    out
}

/// The innermost cause's message: "Connection refused (os error 111)" rather than
/// reqwest's "error sending request for url (...)", which would repeat the URL with its
/// query string.
fn root_cause(err: &reqwest::Error) -> String {
    let mut last: &dyn StdError = err;
    while let Some(next) = last.source() {
        last = next;
    }
    let text = last.to_string();
    if text.is_empty() {
        "connection failed".to_owned()
    } else {
        text
    }
}

fn chain(err: &reqwest::Error) -> impl Iterator<Item = &(dyn StdError + 'static)> {
    let mut next = err.source();
    std::iter::from_fn(move || {
        let current = next?;
        next = current.source();
        Some(current)
    })
}

fn has_timeout(err: &reqwest::Error) -> bool {
    err.is_timeout()
        || chain(err).any(|e| {
            e.is::<super::phases::ConnectTimedOut>()
                || e.downcast_ref::<io::Error>()
                    .is_some_and(|io| io.kind() == io::ErrorKind::TimedOut)
        })
}

fn is_proxy_failure(err: &reqwest::Error) -> bool {
    // hyper-util's tunnel reports a refused CONNECT as "unsuccessful tunnel" and a proxy
    // that requires credentials as "proxy authorization required".
    chain(err).any(|e| {
        let text = e.to_string();
        text.contains("tunnel") || text.contains("proxy")
    })
}

/// The httpx class for a hyper failure in the chain, if there is one.
fn hyper_kind(err: &reqwest::Error) -> Option<TransportErrorKind> {
    for e in chain(err) {
        if let Some(h) = e.downcast_ref::<hyper::Error>() {
            if h.is_timeout() {
                return Some(TransportErrorKind::ReadTimeout);
            }
            // A connection closed before the message completed, or bytes that are not
            // HTTP: httpx calls both RemoteProtocolError.
            if h.is_incomplete_message() || h.is_parse() || h.is_parse_status() {
                return Some(TransportErrorKind::RemoteProtocolError);
            }
            if h.is_body_write_aborted() {
                return Some(TransportErrorKind::WriteError);
            }
        }
        if let Some(io) = e.downcast_ref::<io::Error>() {
            return Some(match io.kind() {
                io::ErrorKind::TimedOut => TransportErrorKind::ReadTimeout,
                io::ErrorKind::UnexpectedEof => TransportErrorKind::RemoteProtocolError,
                io::ErrorKind::BrokenPipe => TransportErrorKind::WriteError,
                _ => TransportErrorKind::ReadError,
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_url_drops_userinfo_query_and_fragment() {
        let url =
            reqwest::Url::parse("https://user:secret@example.com:8443/v1/chat?key=sk-1#x").unwrap();
        assert_eq!(redact_url(&url), "https://example.com:8443/v1/chat");
    }

    #[test]
    fn display_and_debug_name_the_kind() {
        let err = TransportError::new(TransportErrorKind::ReadTimeout, "no bytes for 5s");
        assert_eq!(err.to_string(), "ReadTimeout: no bytes for 5s");
        assert!(format!("{err:?}").contains("ReadTimeout"));
        assert!(err.kind().is_timeout());
    }
}
