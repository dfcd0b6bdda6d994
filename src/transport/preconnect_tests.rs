//! `Client::open_connections` against the mock server: one connection per slot, each
//! left in the pool whatever the answer, within the connection limit; nothing listening
//! is not an error.

use std::net::TcpListener;
use std::time::Duration;

use crate::transport::test_util::{chat, client, client_on, server, wait_until};
use crate::transport::{Client, ClientOptions, Request, RuntimeKind, Timeouts, TransportErrorKind};

fn probe(url: &str) -> Request {
    Request {
        method: "GET".to_owned(),
        url: url.to_owned(),
        headers: Vec::new(),
        body: bytes::Bytes::new(),
        timeouts: Timeouts::all(Some(Duration::from_secs(10))),
    }
}

#[test]
fn each_slot_gets_a_connection_of_its_own_and_keeps_it() {
    let server = server();
    let client = client();
    // A 404 is answered at once, with a short body: without the wait for all the others,
    // its connection would go back to the pool and serve the next probe.
    let missing = format!("{}/no/such/path", server.url());
    let answered = client
        .open_connections_blocking(probe(&missing), 8, Duration::from_secs(10))
        .unwrap();
    assert_eq!(answered, 8);
    assert_eq!(server.stats().connections, 8);
    assert!(wait_until(|| server.stats().open_connections == 8));
    // Again: all 8 come from the pool.
    let answered = client
        .open_connections_blocking(probe(&missing), 8, Duration::from_secs(10))
        .unwrap();
    assert_eq!(answered, 8);
    assert_eq!(server.stats().connections, 8);
    // And a request after them reuses one.
    let mut resp = client.send_blocking(chat(&server.url(), 3, &[])).unwrap();
    resp.body.read_to_end().unwrap();
    assert_eq!(server.stats().connections, 8);
}

#[test]
fn the_connection_limit_bounds_them() {
    let server = server();
    let client = Client::new(&ClientOptions {
        max_connections: Some(3),
        ..ClientOptions::default()
    })
    .unwrap();
    let url = format!("{}/v1/models", server.url());
    let answered = client
        .open_connections_blocking(probe(&url), 10, Duration::from_secs(10))
        .unwrap();
    assert_eq!(answered, 3);
    assert_eq!(server.stats().connections, 3);
}

#[test]
fn nothing_listening_opens_none_and_a_bad_url_is_an_error() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/v1/models");
    let client = client();
    let answered = client
        .open_connections_blocking(probe(&url), 4, Duration::from_secs(5))
        .unwrap();
    assert_eq!(answered, 0);
    let err = client
        .open_connections_blocking(probe("ftp://127.0.0.1/x"), 4, Duration::from_secs(5))
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::UnsupportedProtocol);
}

#[test]
fn a_caller_driven_client_opens_them_for_its_later_requests() {
    let server = server();
    let client = client_on(RuntimeKind::CallerDriven, None);
    let url = format!("{}/v1/models", server.url());
    let answered = client
        .open_connections_blocking(probe(&url), 3, Duration::from_secs(10))
        .unwrap();
    assert_eq!(answered, 3);
    let mut resp = client.send_blocking(chat(&server.url(), 3, &[])).unwrap();
    resp.body.read_to_end().unwrap();
    assert_eq!(server.stats().connections, 3);
}
