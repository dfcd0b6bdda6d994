//! Helpers for the transport's tests: the mock server, an openai-chat request, a plain
//! decode to compare with, and a one-shot raw HTTP server for bodies the mock does not send.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use super::*;
use crate::mock::{MockConfig, MockServer};

pub(super) fn server() -> MockServer {
    MockServer::start(MockConfig::default()).unwrap()
}

/// A streamed openai-chat request for `tokens` tokens of seed 7, with extra headers.
pub(super) fn chat(url: &str, tokens: u64, headers: &[(&str, &str)]) -> Request {
    let body = format!(
        r#"{{"model":"m","messages":[{{"role":"user","content":"hi"}}],"max_tokens":{tokens},"seed":7,"stream":true}}"#
    );
    let mut all = vec![("content-type".to_owned(), b"application/json".to_vec())];
    all.extend(
        headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec())),
    );
    Request {
        method: "POST".to_owned(),
        url: format!("{url}/v1/chat/completions"),
        headers: all,
        body: body.into(),
        timeouts: Timeouts::all(Some(Duration::from_secs(10))),
    }
}

pub(super) fn client() -> Client {
    Client::new(&ClientOptions::default()).unwrap()
}

/// Both runtimes a client can run on, for tests that must hold on each.
pub(super) const RUNTIMES: [RuntimeKind; 2] = [RuntimeKind::Shared, RuntimeKind::CallerDriven];

/// A client on `runtime`, with at most `max_connections` requests in flight.
pub(super) fn client_on(runtime: RuntimeKind, max_connections: Option<usize>) -> Client {
    Client::new(&ClientOptions {
        max_connections,
        runtime,
        ..ClientOptions::default()
    })
    .unwrap()
}

/// The token texts in an openai-chat SSE body.
pub(super) fn plain_texts(body: &[u8]) -> Vec<String> {
    let mut dec = crate::token::TokenDecoder::new(
        crate::dialect::Dialect::from_name("openai-chat").unwrap(),
        crate::sse::DEFAULT_MAX_EVENT_BYTES,
    );
    let mut out = Vec::new();
    dec.feed(body, |t: &crate::dialect::Token<'_>| {
        if !t.text.is_empty() {
            out.push(t.text.to_string());
        }
        Ok::<(), crate::token::DecodeFailure>(())
    })
    .unwrap();
    out
}

pub(super) fn wait_until(mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// A one-shot HTTP/1.1 server on a thread: reads one request, writes `head`, then each of
/// `chunks` as one chunked-encoding chunk (flushed), then the last chunk.
pub(super) fn one_shot_server(head: &'static str, chunks: Vec<Vec<u8>>, finish: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut sock, _) = listener.accept().unwrap();
        let mut buf = vec![0u8; 65536];
        let mut seen = Vec::new();
        while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = sock.read(&mut buf).unwrap();
            if n == 0 {
                return;
            }
            seen.extend_from_slice(&buf[..n]);
        }
        sock.write_all(head.as_bytes()).unwrap();
        for chunk in chunks {
            let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
            frame.extend_from_slice(&chunk);
            frame.extend_from_slice(b"\r\n");
            sock.write_all(&frame).unwrap();
            sock.flush().unwrap();
            std::thread::sleep(Duration::from_millis(2));
        }
        if finish {
            sock.write_all(b"0\r\n\r\n").unwrap();
        }
        std::thread::sleep(Duration::from_millis(50));
    });
    format!("http://{addr}")
}
