//! A minimal raw-TCP HTTP/1.1 client for the mock server's tests: sends one request on
//! a kept-alive connection, reads the status, headers and a chunked (or sized) body,
//! recording each chunk and when it arrived, and whether the body ended properly. Also
//! decodes a body with the crate's own `TokenDecoder`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::dialect::Dialect;
use crate::token::{DecodeFailure, TokenDecoder};

/// One response as the client read it.
#[derive(Debug, Default)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body's chunks as framed by chunked encoding, with their arrival times.
    pub chunks: Vec<(Instant, Vec<u8>)>,
    /// Whether the body ended properly (the zero-length chunk, or the full length).
    pub complete: bool,
    pub sent_at: Option<Instant>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A connection to the server.
pub struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
    pos: usize,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stream.set_nodelay(true).unwrap();
        Self {
            stream,
            buf: Vec::new(),
            pos: 0,
        }
    }

    /// Reads more bytes; false at end of stream (or on a reset).
    fn fill(&mut self) -> bool {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        let mut tmp = [0u8; 16384];
        match self.stream.read(&mut tmp) {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&tmp[..n]);
                true
            }
        }
    }

    fn line(&mut self) -> Option<String> {
        loop {
            if let Some(i) = self.buf[self.pos..].windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[self.pos..self.pos + i]).into_owned();
                self.pos += i + 2;
                return Some(line);
            }
            if !self.fill() {
                return None;
            }
        }
    }

    fn exact(&mut self, n: usize) -> Option<Vec<u8>> {
        while self.buf.len() - self.pos < n {
            if !self.fill() {
                return None;
            }
        }
        let out = self.buf[self.pos..self.pos + n].to_vec();
        self.pos += n;
        Some(out)
    }

    /// Sends a request with `body` (JSON) and reads the whole response.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Resp {
        let mut req = format!("{method} {path} HTTP/1.1\r\nhost: mock\r\ncontent-type: application/json\r\ncontent-length: {}\r\n", body.len());
        for (k, v) in headers {
            let _ = write!(req, "{k}: {v}\r\n");
        }
        req.push_str("\r\n");
        let mut wire = req.into_bytes();
        wire.extend_from_slice(body);
        self.stream.write_all(&wire).unwrap();
        let mut resp = Resp {
            sent_at: Some(Instant::now()),
            ..Resp::default()
        };
        let Some(status) = self.line() else {
            return resp;
        };
        resp.status = status
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        while let Some(line) = self.line() {
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                resp.headers
                    .push((k.trim().to_owned(), v.trim().to_owned()));
            }
        }
        if resp
            .header("transfer-encoding")
            .is_some_and(|v| v.contains("chunked"))
        {
            loop {
                let Some(size) = self.line() else { return resp };
                let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
                    return resp;
                };
                if size == 0 {
                    resp.complete = self.line().is_some();
                    return resp;
                }
                let Some(data) = self.exact(size) else {
                    return resp;
                };
                if self.exact(2).is_none() {
                    return resp;
                }
                resp.body.extend_from_slice(&data);
                resp.chunks.push((Instant::now(), data));
            }
        }
        let len: usize = resp
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if let Some(data) = self.exact(len) {
            resp.body = data;
            resp.complete = true;
        }
        resp
    }

    /// POSTs a JSON body.
    pub fn post(&mut self, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
        self.request("POST", path, headers, body.as_bytes())
    }
}

/// One request on a fresh connection.
pub fn post(addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
    Client::connect(addr).post(path, headers, body)
}

/// The aggregate of a decoded stream, as the fixtures' `expected`.
#[derive(Debug, Default)]
pub struct Decoded {
    pub text: BTreeMap<u32, String>,
    /// Tokens with non-empty text.
    pub text_tokens: usize,
    pub finish: BTreeMap<u32, String>,
    pub usage: Option<String>,
    pub tool_args: String,
    pub tool_names: Vec<String>,
    pub done: bool,
    pub error: Option<DecodeFailure>,
}

/// Decodes `chunks` (fed one by one, as they arrived) with the dialect `name`.
pub fn decode(name: &str, chunks: &[(Instant, Vec<u8>)]) -> Decoded {
    let mut dec = TokenDecoder::new(
        Dialect::from_name(name).unwrap(),
        crate::sse::DEFAULT_MAX_EVENT_BYTES,
    );
    let mut out = Decoded::default();
    let mut sink = |t: &crate::dialect::Token<'_>| -> Result<(), DecodeFailure> {
        if !t.text.is_empty() {
            out.text_tokens += 1;
            out.text.entry(t.index).or_default().push_str(&t.text);
        }
        if let Some(f) = &t.finish_reason {
            out.finish.insert(t.index, f.to_string());
        }
        if let Some(u) = &t.usage {
            out.usage = Some(u.to_string());
        }
        for call in &t.tool_calls {
            out.tool_args.push_str(&call.arguments);
            if let Some(name) = &call.name {
                out.tool_names.push(name.to_string());
            }
        }
        Ok(())
    };
    let mut result = Ok(());
    for (_, chunk) in chunks {
        result = dec.feed(chunk, &mut sink);
        if result.is_err() {
            break;
        }
    }
    if result.is_ok() {
        result = dec.flush(&mut sink);
    }
    out.error = result.err();
    out.done = dec.done();
    out
}
