//! Sync clients on the caller-driven runtime (`driven.rs`) against the crate's mock
//! server: paced delivery read by the waiting caller, bytes that came while it was away,
//! several threads streaming at once through one client, the async calls refused rather
//! than left hanging, and the read timeout counted per wait of the caller (its pauses
//! between reads are no wait for the server). Keep-alive, the read timeout, the pool
//! limit and dropping a body are tested on both runtimes in `tests.rs`, preconnecting in
//! `preconnect_tests.rs`.

use std::time::{Duration, Instant};

use super::test_util::{chat, client_on, plain_texts, server};
use super::*;
use crate::mock::{expected_text, HEADER_FAULT, HEADER_ITL_MS};

fn driven_client(max_connections: Option<usize>) -> Client {
    client_on(RuntimeKind::CallerDriven, max_connections)
}

#[test]
fn a_waiting_caller_gets_each_paced_chunk_as_it_arrives() {
    let server = server();
    let mut resp = driven_client(None)
        .send_blocking(chat(&server.url(), 10, &[(HEADER_ITL_MS, "40")]))
        .unwrap();
    let start = Instant::now();
    let mut arrivals = Vec::new();
    let mut body = Vec::new();
    while let Some(read) = resp.body.next_chunk_for(Duration::from_secs(5)) {
        let Some(read) = read.unwrap() else { break };
        arrivals.push(start.elapsed());
        body.extend_from_slice(&read.bytes);
    }
    assert_eq!(plain_texts(&body).concat(), expected_text(7, 10, false));
    let spread = arrivals.last().unwrap().saturating_sub(arrivals[0]);
    assert!(spread >= Duration::from_millis(200), "{arrivals:?}");
    assert!(arrivals.len() >= 6, "{arrivals:?}");
}

#[test]
fn bytes_that_came_while_the_caller_was_away_are_taken_in_one_read() {
    let server = server();
    let mut resp = driven_client(None)
        .send_blocking(chat(&server.url(), 10, &[(HEADER_ITL_MS, "5")]))
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // Read when this caller asks, or earlier if another thread was waiting on the
    // runtime meanwhile (as the other tests here may be). A take hands over what is
    // queued without waiting: what was read during the send (the first token, say), then
    // everything that waited in the socket, at once.
    let mut takes = Vec::new();
    while let Some(read) = resp.body.next_chunk_for(Duration::from_secs(5)) {
        let Some(read) = read.unwrap() else { break };
        takes.push(plain_texts(&read.bytes).len());
    }
    assert_eq!(takes.iter().sum::<usize>(), 10, "{takes:?}");
    assert!(takes.iter().filter(|&&n| n > 0).count() <= 2, "{takes:?}");
}

#[test]
fn a_caller_that_pauses_between_reads_has_the_whole_read_timeout_for_each_wait() {
    // Tokens 300 ms apart, a 200 ms read timeout, and a caller that works 250 ms on each
    // take: each of its waits lasts about 50 ms. As with httpx, that is no timeout, though
    // 300 ms pass between chunks.
    let server = server();
    let mut req = chat(&server.url(), 4, &[(HEADER_ITL_MS, "300")]);
    req.timeouts.read = Some(Duration::from_millis(200));
    let mut resp = driven_client(None).send_blocking(req).unwrap();
    let mut body = Vec::new();
    while let Some(chunk) = resp.body.next_chunk().unwrap() {
        body.extend_from_slice(&chunk);
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(plain_texts(&body).concat(), expected_text(7, 4, false));
}

#[test]
fn a_wait_resumed_after_its_limit_still_times_out_on_a_stalled_server() {
    // `next_chunk_for` returns empty-handed so that the caller can check for signals;
    // calling again continues the same wait, and the read timeout still fires.
    let server = server();
    let mut req = chat(&server.url(), 10, &[(HEADER_FAULT, "stall@2:3000")]);
    req.timeouts.read = Some(Duration::from_millis(200));
    let start = Instant::now();
    let mut resp = driven_client(None).send_blocking(req).unwrap();
    let mut body = Vec::new();
    let err = loop {
        match resp.body.next_chunk_for(Duration::from_millis(20)) {
            None => {}
            Some(Ok(Some(read))) => body.extend_from_slice(&read.bytes),
            Some(Ok(None)) => panic!("no timeout"),
            Some(Err(err)) => break err,
        }
    };
    assert_eq!(err.kind(), TransportErrorKind::ReadTimeout, "{err}");
    assert!(start.elapsed() < Duration::from_secs(2));
    assert_eq!(plain_texts(&body).len(), 2);
}

#[test]
fn threads_streaming_at_once_through_one_client_share_its_connections() {
    let server = server();
    let client = driven_client(Some(16));
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let (client, url) = (client.clone(), server.url());
            std::thread::spawn(move || {
                (0..10)
                    .map(|_| {
                        let req = chat(&url, 20, &[(HEADER_ITL_MS, "1")]);
                        let mut resp = client.send_blocking(req).unwrap();
                        plain_texts(&resp.body.read_to_end().unwrap()).concat()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for thread in threads {
        for text in thread.join().unwrap() {
            assert_eq!(text, expected_text(7, 20, false));
        }
    }
    assert_eq!(server.stats().requests, 160);
    // Each request finds the connection its thread's last body released in the pool.
    assert!(server.stats().connections <= 16, "{:?}", server.stats());
}

#[test]
fn async_calls_are_refused_not_left_hanging() {
    let server = server();
    let client = driven_client(None);
    let pending = client.send(chat(&server.url(), 3, &[]));
    let err = pending.wait().unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Runtime, "{err}");
    assert!(err.message().contains("async"), "{err}");

    let mut resp = client.send_blocking(chat(&server.url(), 3, &[])).unwrap();
    let err = resp.body.try_next().unwrap().unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Runtime, "{err}");
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(matches!(
        resp.body.poll_next(&mut cx),
        std::task::Poll::Ready(Err(_))
    ));
    // The blocking read still works after the refused ones.
    assert_eq!(plain_texts(&resp.body.read_to_end().unwrap()).len(), 3);
}
