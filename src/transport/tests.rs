//! The client and the plain body against the crate's mock server and tiny local servers:
//! keep-alive, chunked bodies whole and chunk by chunk, prompt delivery, each timeout,
//! refused and dropped connections, cancellation, and secrets kept out of errors.

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use super::test_util::{
    chat, client, client_on, one_shot_server, plain_texts, server, wait_until, RUNTIMES,
};
use super::*;
use crate::mock::{expected_text, HEADER_FAULT, HEADER_ITL_MS, HEADER_TOKENS, HEADER_TTFT_MS};

#[test]
fn keep_alive_reuses_one_connection() {
    for runtime in RUNTIMES {
        let server = server();
        let client = client_on(runtime, None);
        for _ in 0..3 {
            let mut resp = client.send_blocking(chat(&server.url(), 5, &[])).unwrap();
            assert_eq!(resp.head.status, 200);
            assert_eq!(resp.head.version, HttpVersion::Http11);
            resp.body.read_to_end().unwrap();
            // hyper returns the connection to the pool from its own task, woken by the
            // same read that ends the body; on a loaded 2-core machine that can lag.
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(server.stats().connections, 1, "{runtime:?}");
        assert_eq!(server.stats().requests, 3, "{runtime:?}");
    }
}

#[test]
fn chunked_body_reads_whole_and_chunk_by_chunk() {
    let server = server();
    let client = client();
    let mut whole = client.send_blocking(chat(&server.url(), 30, &[])).unwrap();
    assert_eq!(
        whole.head.header("content-type"),
        Some(&b"text/event-stream"[..])
    );
    let bytes = whole.body.read_to_end().unwrap();
    assert_eq!(plain_texts(&bytes).concat(), expected_text(7, 30, false));

    let mut paced = client
        .send_blocking(chat(&server.url(), 30, &[(HEADER_ITL_MS, "2")]))
        .unwrap();
    let mut chunks = Vec::new();
    while let Some(chunk) = paced.body.next_chunk().unwrap() {
        chunks.push(chunk);
    }
    assert!(chunks.len() > 10, "{} chunks", chunks.len());
    assert_eq!(chunks.concat(), bytes);
    // After the end, the end again.
    assert_eq!(paced.body.next_chunk().unwrap(), None);
}

#[test]
fn each_chunk_is_delivered_as_soon_as_it_arrives() {
    let server = server();
    let mut resp = client()
        .send_blocking(chat(&server.url(), 10, &[(HEADER_ITL_MS, "40")]))
        .unwrap();
    let start = Instant::now();
    let mut arrivals = Vec::new();
    while let Some(chunk) = resp.body.next_chunk().unwrap() {
        arrivals.push((start.elapsed(), chunk.len()));
    }
    // Ten tokens 40 ms apart (360 ms from first to last): the first arrives long before
    // the last is sent, and the reads come one token at a time, not bunched at the end.
    // Bounds are loose: a loaded machine may merge a few reads.
    let total = arrivals.last().map(|a| a.0).unwrap_or_default();
    let first = arrivals[0].0;
    assert!(
        total.saturating_sub(first) >= Duration::from_millis(200),
        "{arrivals:?}"
    );
    assert!(arrivals.len() >= 6, "{arrivals:?}");
}

#[test]
fn a_stalled_stream_gives_read_timeout_after_the_bytes_before_it() {
    let server = server();
    for runtime in RUNTIMES {
        let mut req = chat(&server.url(), 10, &[(HEADER_FAULT, "stall@3:3000")]);
        req.timeouts.read = Some(Duration::from_millis(200));
        let start = Instant::now();
        let mut resp = client_on(runtime, None).send_blocking(req).unwrap();
        let mut got = Vec::new();
        let err = loop {
            match resp.body.next_chunk() {
                Ok(Some(chunk)) => got.extend_from_slice(&chunk),
                Ok(None) => panic!("no timeout ({runtime:?})"),
                Err(err) => break err,
            }
        };
        assert_eq!(err.kind(), TransportErrorKind::ReadTimeout, "{err}");
        assert!(start.elapsed() < Duration::from_secs(2));
        assert_eq!(plain_texts(&got).len(), 3);
        assert!(err.message().contains("/v1/chat/completions"), "{err}");
    }
}

#[test]
fn a_consumer_away_longer_than_the_read_timeout_gets_the_bytes_that_came_meanwhile() {
    // The read timeout bounds waiting for the server, not the consumer's own pauses: a
    // consumer that comes back after it (with bytes in the socket or buffered) reads on.
    let server = server();
    for runtime in RUNTIMES {
        let mut req = chat(&server.url(), 20, &[(HEADER_ITL_MS, "20")]);
        req.timeouts.read = Some(Duration::from_millis(150));
        let mut resp = client_on(runtime, None).send_blocking(req).unwrap();
        let mut got = resp.body.next_chunk().unwrap().unwrap().to_vec();
        std::thread::sleep(Duration::from_millis(500));
        while let Some(chunk) = resp.body.next_chunk().unwrap_or_else(|err| {
            panic!("{runtime:?}: {err}");
        }) {
            got.extend_from_slice(&chunk);
        }
        assert_eq!(
            plain_texts(&got).concat(),
            expected_text(7, 20, false),
            "{runtime:?}"
        );
    }
}

#[test]
fn a_slow_first_byte_gives_read_timeout() {
    let server = server();
    let mut req = chat(&server.url(), 3, &[(HEADER_TTFT_MS, "3000")]);
    req.timeouts.read = Some(Duration::from_millis(150));
    let start = Instant::now();
    // The mock may send its head at once and wait before the first event.
    match client().send_blocking(req) {
        Err(err) => assert_eq!(err.kind(), TransportErrorKind::ReadTimeout, "{err}"),
        Ok(mut resp) => {
            let err = resp.body.read_to_end().unwrap_err();
            assert_eq!(err.kind(), TransportErrorKind::ReadTimeout, "{err}");
        }
    }
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_server_that_never_answers_gives_read_timeout_for_the_head() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = std::thread::spawn(move || {
        let (sock, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        drop(sock);
    });
    let mut req = chat(&format!("http://{addr}"), 1, &[]);
    req.timeouts.read = Some(Duration::from_millis(200));
    let err = client().send_blocking(req).unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::ReadTimeout, "{err}");
    hold.join().unwrap();
}

#[test]
fn a_server_that_never_reads_gives_write_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = std::thread::spawn(move || {
        let (sock, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        drop(sock);
    });
    let mut req = chat(&format!("http://{addr}"), 1, &[]);
    req.body = vec![b'x'; 64 << 20].into();
    req.timeouts.write = Some(Duration::from_millis(200));
    let err = client().send_blocking(req).unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::WriteTimeout, "{err}");
    hold.join().unwrap();
}

#[test]
fn a_refused_connection_gives_connect_error() {
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let req = chat(
        &format!("http://{addr}"),
        1,
        &[("authorization", "Bearer sk-secret-123")],
    );
    let shown = format!("{req:?}");
    let err = client().send_blocking(req).unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::ConnectError, "{err}");
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
    for text in [err.to_string(), format!("{err:?}"), shown] {
        assert!(!text.contains("sk-secret"), "{text}");
    }
}

#[test]
fn connect_retries_try_again() {
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let client = Client::new(&ClientOptions {
        retries: 2,
        ..ClientOptions::default()
    })
    .unwrap();
    let start = Instant::now();
    let err = client
        .send_blocking(chat(&format!("http://{addr}"), 1, &[]))
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::ConnectError);
    // Backoff 0 s then 0.5 s.
    assert!(
        start.elapsed() >= Duration::from_millis(450),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn urls_without_http_are_unsupported_and_query_strings_stay_out_of_messages() {
    let client = client();
    for url in [
        "ftp://example.com/x",
        "not a url",
        "mailto:someone@example.com",
    ] {
        let mut req = chat("", 1, &[]);
        req.url = url.to_owned();
        let err = client.send_blocking(req).unwrap_err();
        assert_eq!(
            err.kind(),
            TransportErrorKind::UnsupportedProtocol,
            "{url}: {err}"
        );
    }
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut req = chat(&format!("http://{addr}"), 1, &[]);
    req.url.push_str("?key=sk-query-secret");
    let err = client.send_blocking(req).unwrap_err();
    assert!(!format!("{err} {err:?}").contains("sk-query"), "{err}");
}

#[test]
fn a_dropped_connection_mid_body_is_a_protocol_error() {
    let server = server();
    let mut resp = client()
        .send_blocking(chat(&server.url(), 10, &[(HEADER_FAULT, "drop@4")]))
        .unwrap();
    let mut got = Vec::new();
    let err = loop {
        match resp.body.next_chunk() {
            Ok(Some(chunk)) => got.extend_from_slice(&chunk),
            Ok(None) => panic!("a cut stream ended cleanly"),
            Err(err) => break err,
        }
    };
    assert!(
        matches!(
            err.kind(),
            TransportErrorKind::RemoteProtocolError | TransportErrorKind::ReadError
        ),
        "{err}"
    );
    assert_eq!(plain_texts(&got).len(), 4);
}

#[test]
fn dropping_the_body_mid_stream_closes_the_connection() {
    // On the caller-driven runtime nothing waits on it after the drop: the drop itself
    // must run it, or the connection would stay open until the next wait.
    for runtime in RUNTIMES {
        let server = server();
        let mut resp = client_on(runtime, None)
            .send_blocking(chat(&server.url(), 1000, &[(HEADER_ITL_MS, "5")]))
            .unwrap();
        resp.body.next_chunk().unwrap().unwrap();
        assert_eq!(server.stats().open_connections, 1);
        drop(resp);
        assert!(
            wait_until(|| server.stats().open_connections == 0),
            "{runtime:?}: {:?}",
            server.stats()
        );
        assert!(server.stats().tokens < 1000);
    }
}

#[test]
fn dropping_a_pending_request_closes_the_connection() {
    let server = server();
    let pending = client().send(chat(&server.url(), 5, &[(HEADER_TTFT_MS, "5000")]));
    assert!(wait_until(|| server.stats().open_connections == 1));
    drop(pending);
    assert!(
        wait_until(|| server.stats().open_connections == 0),
        "{:?}",
        server.stats()
    );
}

#[test]
fn a_full_pool_gives_pool_timeout() {
    let server = server();
    for runtime in RUNTIMES {
        let client = client_on(runtime, Some(1));
        let held = client
            .send_blocking(chat(&server.url(), 100, &[(HEADER_ITL_MS, "50")]))
            .unwrap();
        let mut req = chat(&server.url(), 1, &[]);
        req.timeouts.pool = Some(Duration::from_millis(100));
        let err = client.send_blocking(req.clone()).unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::PoolTimeout, "{err}");
        drop(held);
        let mut resp = client.send_blocking(req).unwrap();
        resp.body.read_to_end().unwrap();
    }
}

#[test]
fn an_error_status_is_a_response_not_an_error() {
    let server = server();
    let mut resp = client()
        .send_blocking(chat(&server.url(), 3, &[(HEADER_FAULT, "status:503")]))
        .unwrap();
    assert_eq!(
        (resp.head.status, resp.head.reason),
        (503, "Service Unavailable")
    );
    assert!(!resp.body.read_to_end().unwrap().is_empty());
}

#[test]
fn try_next_with_a_wake_callback_gets_every_byte_with_one_wake_per_empty_try() {
    let server = server();
    let mut resp = client()
        .send_blocking(chat(
            &server.url(),
            40,
            &[(HEADER_ITL_MS, "1"), (HEADER_TOKENS, "40")],
        ))
        .unwrap();
    let wakes = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel::<()>();
    let counter = Arc::clone(&wakes);
    resp.body.set_wake(Arc::new(move || {
        counter.fetch_add(1, Ordering::Relaxed);
        let _ = tx.send(());
    }));
    let (mut got, mut empty_tries) = (Vec::new(), 0);
    loop {
        match resp.body.try_next() {
            Some(Ok(Some(received))) => {
                // Each part ends after the last, the last at the end, in arrival order.
                let ends: Vec<usize> = received.parts.iter().map(|p| p.0).collect();
                assert!(ends.windows(2).all(|w| w[0] < w[1]), "{ends:?}");
                assert_eq!(ends.last(), Some(&received.bytes.len()));
                assert!(received.parts.windows(2).all(|w| w[0].1 <= w[1].1));
                got.extend_from_slice(&received.bytes);
            }
            Some(Ok(None)) => break,
            Some(Err(err)) => panic!("{err}"),
            None => {
                empty_tries += 1;
                rx.recv_timeout(Duration::from_secs(5)).unwrap();
            }
        }
    }
    assert_eq!(plain_texts(&got).concat(), expected_text(7, 40, false));
    assert_eq!(wakes.load(Ordering::Relaxed), empty_tries);
}

#[test]
fn bodies_can_be_awaited_on_another_runtime() {
    let server = server();
    let client = client();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let got = rt.block_on(async {
        let mut resp = client
            .send(chat(&server.url(), 12, &[(HEADER_ITL_MS, "1")]))
            .await
            .unwrap();
        let mut got = Vec::new();
        while let Some(chunk) = std::future::poll_fn(|cx| resp.body.poll_next(cx))
            .await
            .unwrap()
        {
            got.extend_from_slice(&chunk);
        }
        got
    });
    assert_eq!(plain_texts(&got).concat(), expected_text(7, 12, false));
}

#[test]
fn a_gzip_body_decodes_chunk_by_chunk_as_it_arrives() {
    use std::io::Write as _;
    let plain: Vec<u8> = (0..200)
        .flat_map(|i| format!("data: {{\"n\":{i}}}\n\n").into_bytes())
        .collect();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut pieces = Vec::new();
    for part in plain.chunks(1000) {
        encoder.write_all(part).unwrap();
        encoder.flush().unwrap();
        pieces.push(std::mem::take(encoder.get_mut()));
    }
    pieces.push(encoder.finish().unwrap());
    let head = "HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ntransfer-encoding: chunked\r\n\r\n";
    let url = one_shot_server(head, pieces, true);
    let mut req = chat(&url, 1, &[]);
    req.timeouts = Timeouts::all(Some(Duration::from_secs(5)));
    let mut resp = client().send_blocking(req).unwrap();
    assert_eq!(resp.head.header("content-encoding"), Some(&b"gzip"[..]));
    let encoding = ContentEncoding::from_header(resp.head.header("content-encoding")).unwrap();
    let mut decoder = ContentDecoder::new(encoding);
    let (mut out, mut steps) = (Vec::new(), 0);
    while let Some(chunk) = resp.body.next_chunk().unwrap() {
        let plain_part = decoder.feed(&chunk).unwrap();
        steps += usize::from(!plain_part.is_empty());
        out.extend(plain_part);
    }
    out.extend(decoder.finish().unwrap());
    assert_eq!(out, plain);
    // Bytes come out as their compressed pieces arrive, not all at the end.
    assert!(steps > 1, "{steps} decoded steps");
}
