//! The mock server's connection handling over loopback: keep-alive, 64 concurrent
//! streams, error replies (404, 400, 413), garbage requests, fast start, shutdown that
//! frees the port and joins the thread, and the foreground `serve_until`.

use super::client::{decode, post, Client};
use super::tests::{decoder_name, server, stream_request, DIALECTS};
use super::*;

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    let server = server();
    let mut client = Client::connect(server.addr());
    for seed in 0..5 {
        let (path, body) = stream_request("anthropic", 8, seed);
        let resp = client.post(&path, &[], &body);
        assert!(resp.complete);
        assert_eq!(
            decode("anthropic", &resp.chunks).text[&0],
            expected_text(seed, 8, false)
        );
        let health = client.request("GET", "/health", &[], b"");
        assert_eq!(health.status, 200);
    }
    let stats = server.stats();
    assert_eq!((stats.connections, stats.requests), (1, 10));
}

#[test]
fn sixty_four_concurrent_streams_complete() {
    let server = server();
    let addr = server.addr();
    let handles: Vec<_> = (0..64)
        .map(|seed| {
            std::thread::spawn(move || {
                let (path, body) = stream_request(
                    DIALECTS[usize::try_from(seed).unwrap() % DIALECTS.len()],
                    100,
                    seed,
                );
                let resp = post(addr, &path, &[(HEADER_ITL_MS, "1")], &body);
                let d = decode(
                    decoder_name(DIALECTS[usize::try_from(seed).unwrap() % DIALECTS.len()]),
                    &resp.chunks,
                );
                assert!(d.done, "{seed}");
                assert_eq!(d.text[&0], expected_text(seed, 100, false));
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(server.stats().tokens, 6400);
}

type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], String, u16);

#[test]
fn errors_are_openai_style_json() {
    let server = MockServer::start(MockConfig {
        max_body_bytes: 1000,
        ..MockConfig::default()
    })
    .unwrap();
    let cases: [Case<'_>; 6] = [
        ("POST", "/v1/nope", &[], "{}".to_owned(), 404),
        ("GET", "/v1/chat/completions", &[], String::new(), 404),
        (
            "POST",
            "/v1/chat/completions",
            &[],
            "{not json".to_owned(),
            400,
        ),
        ("POST", "/v1/chat/completions", &[], "[1]".to_owned(), 400),
        (
            "POST",
            "/v1/chat/completions",
            &[(HEADER_ITL_MS, "fast")],
            "{}".to_owned(),
            400,
        ),
        (
            "POST",
            "/v1/chat/completions",
            &[],
            format!("{{\"x\":\"{}\"}}", "a".repeat(2000)),
            413,
        ),
    ];
    let whole = r#"{"messages":[],"n":128,"max_tokens":1000000}"#.to_owned();
    let cases: Vec<Case<'_>> = cases
        .into_iter()
        .chain([("POST", "/v1/chat/completions", &[][..], whole, 400)])
        .collect();
    let mut client = Client::connect(server.addr());
    for (method, path, headers, body, status) in cases {
        let resp = client.request(method, path, headers, body.as_bytes());
        assert_eq!(resp.status, status, "{method} {path}");
        let text = String::from_utf8(resp.body).unwrap();
        assert!(text.starts_with("{\"error\":{\"message\":"), "{text}");
        if status == 413 {
            client = Client::connect(server.addr());
        }
    }
    let models = post(server.addr(), "/v1/models", &[], "");
    assert_eq!(models.status, 404, "POST /v1/models is not a route");
    let models = Client::connect(server.addr()).request("GET", "/v1/models", &[], b"");
    assert!(String::from_utf8(models.body)
        .unwrap()
        .contains("\"mock-model\""));
}

#[test]
fn garbage_requests_do_not_hurt_the_server() {
    use std::io::{Read, Write};
    let server = server();
    for junk in [
        &b"\x00\x01\x02\r\n\r\n"[..],
        b"GET / HTTP/9.9\r\n\r\n",
        b"POST /v1/chat/completions HTTP/1.1\r\ncontent-length: 99999999999999999999\r\n\r\n",
    ] {
        let mut s = std::net::TcpStream::connect(server.addr()).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        s.write_all(junk).unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
    }
    let (path, body) = stream_request("openai-chat", 5, 0);
    assert!(
        decode(
            "openai-chat",
            &post(server.addr(), &path, &[], &body).chunks
        )
        .done
    );
}

#[test]
fn start_is_fast_and_shutdown_frees_the_port() {
    let t = std::time::Instant::now();
    let mut server = server();
    // Well under 100 ms in practice; the bound is loose for loaded machines.
    assert!(
        t.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        t.elapsed()
    );
    let addr = server.addr();
    assert_eq!(server.url(), format!("http://127.0.0.1:{}", addr.port()));
    // A connection that stays open, and a stream in flight, do not hold shutdown up.
    let _idle = std::net::TcpStream::connect(addr).unwrap();
    let slow = std::thread::spawn(move || {
        post(
            addr,
            "/v1/completions",
            &[(HEADER_ITL_MS, "100")],
            r#"{"prompt":"x","stream":true,"max_tokens":100}"#,
        )
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while server.stats().open_connections < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(server.stats().open_connections, 2);
    let t = std::time::Instant::now();
    server.shutdown();
    assert!(t.elapsed() < std::time::Duration::from_secs(1));
    assert!(!slow.join().unwrap().complete);
    std::net::TcpListener::bind(addr).expect("port released");
    server.shutdown();
}

#[test]
fn serve_until_runs_in_the_foreground_until_the_flag() {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel();
    let flag = std::sync::Arc::clone(&stop);
    let thread = std::thread::spawn(move || {
        serve_until(MockConfig::default(), &flag, move |addr| {
            tx.send(addr).unwrap();
        })
    });
    let addr = rx.recv().unwrap();
    let (path, body) = stream_request("gemini", 5, 1);
    assert!(decode("gemini", &post(addr, &path, &[], &body).chunks).done);
    stop.store(true, std::sync::atomic::Ordering::Release);
    let stats = thread.join().unwrap().unwrap();
    assert_eq!((stats.requests, stats.tokens), (1, 5));
}

#[test]
fn handles_are_send_and_sync_for_the_bindings() {
    fn check<T: Send + Sync>() {}
    check::<MockServer>();
    check::<MockConfig>();
    check::<MockStats>();
    check::<MockError>();
}
