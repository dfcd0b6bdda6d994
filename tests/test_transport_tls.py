"""seltzer's HTTP transport over TLS (certificates from a trustme CA) and through
proxies: HTTP/2 by ALPN, ``verify`` as a CA path or False, untrusted certificates,
client certificates, ``SSL_CERT_FILE``, http and CONNECT proxies (explicit or from the
environment), and the fused token path over HTTP/2."""

from __future__ import annotations

import asyncio
import base64
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

import seltzer
from seltzer.transport import AsyncHTTPTransport, HTTPTransport
from tests.clients import DONE, chat_event, fetch, request
from tests.compress import compressed_pieces
from tests.conftest import MODES, run_async
from tests.proxy import Proxy
from tests.server import Conn, LoopbackServer
from tests.tls_server import CONNECTION_DEADLINE_S, Reply, TLSRequest, TLSServer

ASYNC_MODES = ["asyncio", "uvloop"]
TOKENS = [f"tok{i} " for i in range(12)]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_path(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(autouse=True)
def no_env_tls_or_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests set the environment they mean to test, and nothing else leaks in."""
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for scheme in ("HTTP", "HTTPS", "ALL"):
        monkeypatch.delenv(f"{scheme}_PROXY", raising=False)
        monkeypatch.delenv(f"{scheme.lower()}_proxy", raising=False)


def add_routes(server: TLSServer) -> None:
    @server.route("/echo")
    def echo(req: TLSRequest) -> Reply:
        return Reply(200, {"content-type": "application/octet-stream"}, (req.body,))

    @server.route("/chat")
    def chat(req: TLSRequest) -> Reply:
        def events() -> Iterator[bytes]:
            for token in TOKENS:
                yield chat_event(token)
                time.sleep(0.005)
            yield DONE

        return Reply(200, {"content-type": "text/event-stream"}, events())

    @server.route("/chat-gzip")
    def chat_gzip(req: TLSRequest) -> Reply:
        pieces = compressed_pieces([*map(chat_event, TOKENS), DONE], "gzip")
        headers = {"content-type": "text/event-stream", "content-encoding": "gzip"}
        return Reply(200, headers, pieces)

    @server.route("/cut")
    def cut(req: TLSRequest) -> Reply:
        events = [chat_event(t) for t in TOKENS[:3]]
        return Reply(200, {"content-type": "text/event-stream"}, events, cut=True)

    @server.route("/stall")
    def stall(req: TLSRequest) -> Reply:
        def events() -> Iterator[bytes]:
            yield chat_event(TOKENS[0])
            time.sleep(1.5)

        return Reply(200, {"content-type": "text/event-stream"}, events())

    @server.route("/endless")
    def endless(req: TLSRequest) -> Reply:
        def events() -> Iterator[bytes]:
            deadline = time.monotonic() + CONNECTION_DEADLINE_S
            while time.monotonic() < deadline:
                yield chat_event("x")
                time.sleep(0.02)

        return Reply(200, {"content-type": "text/event-stream"}, events())


@pytest.fixture
def tls(ca: trustme.CA) -> Iterator[TLSServer]:
    with TLSServer(ca) as srv:
        add_routes(srv)
        yield srv


@pytest.fixture
def tls_http1(ca: trustme.CA) -> Iterator[TLSServer]:
    with TLSServer(ca, alpn=("http/1.1",)) as srv:
        add_routes(srv)
        yield srv


# --- HTTP/2 and HTTP/1.1 over TLS ------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_http2_over_tls_with_a_ca_bundle(tls: TLSServer, ca_path: str, mode: str) -> None:
    body = bytes(range(256)) * 4096
    options = {"verify": ca_path, "http2": True}
    response = request(mode, "POST", tls.url + "/echo", options=options, content=body)
    assert response.http_version == "HTTP/2"
    assert response.content == body
    (seen,) = tls.requests
    assert seen.http_version == "HTTP/2"
    assert seen.method == "POST"
    assert seen.body == body
    assert seen.headers[":authority"] == f"127.0.0.1:{tls.port}"
    assert seen.headers[":scheme"] == "https"


@pytest.mark.parametrize("mode", MODES)
def test_http1_over_tls_when_http2_is_off_or_not_offered(
    tls: TLSServer, tls_http1: TLSServer, ca_path: str, mode: str
) -> None:
    response = request(mode, "POST", tls.url + "/echo", options={"verify": ca_path}, content=b"a")
    assert response.http_version == "HTTP/1.1"
    assert response.content == b"a"
    assert tls.requests[0].headers["host"] == f"127.0.0.1:{tls.port}"
    options = {"verify": ca_path, "http2": True}
    response = request(mode, "POST", tls_http1.url + "/echo", options=options, content=b"b")
    assert response.http_version == "HTTP/1.1"
    assert response.content == b"b"


@pytest.mark.parametrize("mode", ASYNC_MODES)
def test_http2_multiplexes_concurrent_streams_on_one_connection(
    tls: TLSServer, ca_path: str, mode: str
) -> None:
    async def main() -> list[str]:
        transport = AsyncHTTPTransport(verify=ca_path, http2=True)
        async with httpx.AsyncClient(transport=transport, timeout=10) as client:
            # The first request settles on HTTP/2; the rest share its connection.
            assert (await client.post(tls.url + "/echo", content=b"x")).http_version == "HTTP/2"

            async def one() -> str:
                async with client.stream("GET", tls.url + "/chat") as response:
                    return "".join([t async for t in seltzer.aiter_text(response, "openai-chat")])

            return await asyncio.gather(*(one() for _ in range(10)))

    texts = run_async(main(), mode)
    assert texts == ["".join(TOKENS)] * 10
    assert tls.connections == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", ["/chat", "/chat-gzip"])
def test_fused_tokens_over_http2(tls: TLSServer, ca_path: str, mode: str, path: str) -> None:
    url = tls.url + path
    if mode == "sync":
        with (
            httpx.Client(transport=HTTPTransport(verify=ca_path, http2=True)) as client,
            client.stream("GET", url) as response,
        ):
            version = response.http_version
            texts = list(seltzer.iter_text(response, "openai-chat"))
    else:

        async def main() -> tuple[str, list[str]]:
            transport = AsyncHTTPTransport(verify=ca_path, http2=True)
            async with (
                httpx.AsyncClient(transport=transport) as client,
                client.stream("GET", url) as response,
            ):
                return response.http_version, [
                    t async for t in seltzer.aiter_text(response, "openai-chat")
                ]

        version, texts = run_async(main(), mode)
    assert version == "HTTP/2"
    assert texts == TOKENS


@pytest.mark.parametrize("mode", MODES)
def test_break_resets_the_http2_stream(tls: TLSServer, ca_path: str, mode: str) -> None:
    url = tls.url + "/endless"
    if mode == "sync":
        with (
            httpx.Client(transport=HTTPTransport(verify=ca_path, http2=True)) as client,
            client.stream("GET", url) as response,
        ):
            for _ in seltzer.iter_text(response, "openai-chat"):
                break
    else:

        async def main() -> None:
            transport = AsyncHTTPTransport(verify=ca_path, http2=True)
            async with (
                httpx.AsyncClient(transport=transport) as client,
                client.stream("GET", url) as response,
            ):
                async for _ in seltzer.aiter_text(response, "openai-chat"):
                    break

        run_async(main(), mode)
    assert tls.reset.wait(5.0)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("http2", [False, True], ids=["http1", "http2"])
def test_connection_cut_mid_stream_over_tls_keeps_the_partial_text(
    tls: TLSServer, ca_path: str, mode: str, http2: bool
) -> None:
    options = {"verify": ca_path, "http2": http2}
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        fetch(mode, "GET", tls.url + "/cut", options=options)
    got: list[str] = []
    with pytest.raises(seltzer.StreamInterrupted) as info:
        stream_text(mode, tls.url + "/cut", options, got)
    assert got == TOKENS[:3]
    assert info.value.partial == "".join(TOKENS[:3])
    assert isinstance(info.value.__cause__, (httpx.RemoteProtocolError, httpx.ReadError))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("http2", [False, True], ids=["http1", "http2"])
def test_stalled_stream_over_tls_raises_read_timeout(
    tls: TLSServer, ca_path: str, mode: str, http2: bool
) -> None:
    options = {"verify": ca_path, "http2": http2}
    timeout = httpx.Timeout(5.0, read=0.3)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        fetch(mode, "GET", tls.url + "/stall", options=options, timeout=timeout)
    got: list[str] = []
    with pytest.raises(seltzer.StreamInterrupted) as info:
        stream_text(mode, tls.url + "/stall", options, got, timeout=timeout)
    assert time.monotonic() - started < 5.0
    assert got == TOKENS[:1]
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)


def stream_text(
    mode: str, url: str, options: dict[str, Any], into: list[str], timeout: Any = 5.0
) -> None:
    """GETs ``url`` and reads it with ``iter_text`` / ``aiter_text`` into ``into``."""
    if mode == "sync":
        with (
            httpx.Client(transport=HTTPTransport(**options), timeout=timeout) as client,
            client.stream("GET", url) as response,
        ):
            for text in seltzer.iter_text(response, "openai-chat"):
                into.append(text)
        return

    async def main() -> None:
        transport = AsyncHTTPTransport(**options)
        async with (
            httpx.AsyncClient(transport=transport, timeout=timeout) as client,
            client.stream("GET", url) as response,
        ):
            async for text in seltzer.aiter_text(response, "openai-chat"):
                into.append(text)

    run_async(main(), mode)


# --- verify, cert, SSL_CERT_FILE ---------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_verify_false_accepts_an_untrusted_certificate(tls: TLSServer, mode: str) -> None:
    response = request(mode, "POST", tls.url + "/echo", options={"verify": False}, content=b"ok")
    assert response.content == b"ok"


@pytest.mark.parametrize("mode", MODES)
def test_untrusted_certificate_raises_connect_error(
    tls: TLSServer, mode: str, tmp_path: Path
) -> None:
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    url = tls.url + "/echo"
    for options in ({}, {"verify": True}, {"verify": str(other)}):
        with pytest.raises(httpx.ConnectError) as info:
            request(mode, "GET", url, options=options)
        assert str(info.value.request.url) == url
        assert "certificate" in str(info.value).lower()
    assert tls.requests == []


def test_ssl_context_raises_type_error_naming_what_to_pass() -> None:
    context = ssl.create_default_context()
    for transport in (HTTPTransport, AsyncHTTPTransport):
        with pytest.raises(TypeError, match=r"ssl\.SSLContext") as info:
            transport(verify=context)
        assert "verify=False" in str(info.value)
        assert "ca-bundle" in str(info.value)


def test_unreadable_ca_bundle_or_certificate_raises_value_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.pem")
    with pytest.raises(ValueError, match="CA bundle"):
        HTTPTransport(verify=missing)
    with pytest.raises(ValueError, match="certificate"):
        AsyncHTTPTransport(cert=missing)
    with pytest.raises(TypeError, match="cert"):
        HTTPTransport(cert=("a", "b", "password"))  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", MODES)
def test_client_certificate_is_presented(
    ca: trustme.CA, ca_path: str, tmp_path: Path, mode: str
) -> None:
    client_cert = ca.issue_cert("client@example.org")
    cert_path, key_path, both_path = (tmp_path / n for n in ("c.pem", "k.pem", "both.pem"))
    for blob in client_cert.cert_chain_pems:
        blob.write_to_path(str(cert_path), append=True)
    client_cert.private_key_pem.write_to_path(str(key_path))
    client_cert.private_key_and_cert_chain_pem.write_to_path(str(both_path))
    with TLSServer(ca, client_ca=ca) as server:
        add_routes(server)
        url = server.url + "/echo"
        for cert in ((str(cert_path), str(key_path)), str(both_path)):
            options = {"verify": ca_path, "cert": cert}
            assert request(mode, "POST", url, options=options, content=b"m").content == b"m"
        with pytest.raises(httpx.TransportError):
            request(mode, "POST", url, options={"verify": ca_path}, content=b"m")
        assert len(server.requests) == 2


@pytest.mark.parametrize("mode", MODES)
def test_ssl_cert_file_is_trusted_with_trust_env(
    tls: TLSServer, ca_path: str, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", ca_path)
    assert request(mode, "POST", tls.url + "/echo", content=b"env").content == b"env"
    # The environment's (or system's) CAs are read at the first handshake, with a TLS
    # setup of seltzer's own: it offers the HTTP versions the transport allows.
    for options, version in (({"http2": True}, "HTTP/2"), ({"http2": False}, "HTTP/1.1")):
        response = request(mode, "POST", tls.url + "/echo", options=options, content=b"v")
        assert (response.http_version, response.content) == (version, b"v")
    assert [seen.http_version for seen in tls.requests][-2:] == ["HTTP/2", "HTTP/1.1"]


@pytest.mark.parametrize("mode", MODES)
def test_unusable_ssl_cert_file_fails_the_first_handshake_naming_it(
    tls: TLSServer, mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The environment's bundle is read when a handshake first needs it, not when the
    transport is made (a plain-HTTP client never reads it): one that holds no
    certificate fails each TLS connection with an error that names the file."""
    bundle = tmp_path / "not-a-bundle.pem"
    bundle.write_text("no certificates here\n")
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    for _ in range(2):
        with pytest.raises(httpx.ConnectError) as info:
            request(mode, "GET", tls.url + "/echo")
        assert "no usable CA certificates" in str(info.value)
        assert str(bundle) in str(info.value)
    assert tls.requests == []


@pytest.mark.parametrize("mode", MODES)
def test_trust_env_false_ignores_ssl_cert_file(
    tls: TLSServer, ca_path: str, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As httpx: without trust_env, SSL_CERT_FILE is not read, so the test CA is not
    trusted."""
    monkeypatch.setenv("SSL_CERT_FILE", ca_path)
    with pytest.raises(httpx.ConnectError):
        request(mode, "POST", tls.url + "/echo", options={"trust_env": False}, content=b"env")


# --- Proxies -----------------------------------------------------------------------------


@pytest.fixture
def proxy() -> Iterator[Proxy]:
    with Proxy() as srv:
        yield srv


@pytest.fixture
def origin(server: LoopbackServer) -> LoopbackServer:
    @server.route("/hello")
    def hello(conn: Conn) -> None:
        conn.head(200, {"content-type": "text/plain", "content-length": "5"}, chunked=False)
        conn.write(b"hello")

    return server


@pytest.mark.parametrize("mode", MODES)
def test_http_proxy_gets_absolute_form_requests(
    origin: LoopbackServer, proxy: Proxy, mode: str
) -> None:
    url = origin.url + "/hello?a=1"
    for proxy_option in (proxy.url, httpx.URL(proxy.url), httpx.Proxy(proxy.url)):
        response = request(mode, "GET", url, options={"proxy": proxy_option})
        assert response.text == "hello"
    assert [(p.method, p.target) for p in proxy.seen] == [("GET", url)] * 3
    assert all(p.headers["host"] == f"127.0.0.1:{origin.port}" for p in proxy.seen)
    assert len(origin.requests) == 3


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("http2", [False, True], ids=["http1", "http2"])
def test_https_goes_through_a_connect_tunnel(
    tls: TLSServer, proxy: Proxy, ca_path: str, mode: str, http2: bool
) -> None:
    options = {"proxy": proxy.url, "verify": ca_path, "http2": http2}
    response, chunks = fetch(mode, "GET", tls.url + "/chat", options=options)
    assert response.http_version == ("HTTP/2" if http2 else "HTTP/1.1")
    assert b"".join(chunks) == b"".join([*map(chat_event, TOKENS), DONE])
    assert [(p.method, p.target) for p in proxy.seen] == [("CONNECT", f"127.0.0.1:{tls.port}")]
    assert len(tls.requests) == 1


@pytest.mark.parametrize("mode", MODES)
def test_proxy_credentials_are_sent_to_the_proxy(
    origin: LoopbackServer, tls: TLSServer, proxy: Proxy, ca_path: str, mode: str
) -> None:
    expected = "Basic " + base64.b64encode(b"user:p@ss").decode()
    proxies = [
        httpx.Proxy(proxy.url, auth=("user", "p@ss")),
        proxy.url.replace("http://", "http://user:p%40ss@"),
    ]
    for proxy_option in proxies:
        options = {"proxy": proxy_option, "verify": ca_path}
        assert request(mode, "GET", origin.url + "/hello", options=options).text == "hello"
        assert request(mode, "POST", tls.url + "/echo", options=options, content=b"t").text == "t"
    assert [p.method for p in proxy.seen] == ["GET", "CONNECT"] * 2
    assert [p.headers.get("proxy-authorization") for p in proxy.seen] == [expected] * 4
    assert "proxy-authorization" not in tls.requests[0].headers


@pytest.mark.parametrize("mode", MODES)
def test_refused_tunnel_raises_proxy_error(tls: TLSServer, ca_path: str, mode: str) -> None:
    with Proxy(refuse_connect=True) as refusing:
        options = {"proxy": refusing.url, "verify": ca_path}
        with pytest.raises(httpx.ProxyError) as info:
            request(mode, "GET", tls.url + "/echo", options=options)
        assert [p.method for p in refusing.seen] == ["CONNECT"]
    assert info.value.request.url.port == tls.port
    assert tls.requests == []


@pytest.mark.parametrize("mode", MODES)
def test_environment_proxies_apply_only_with_trust_env(
    origin: LoopbackServer,
    tls: TLSServer,
    proxy: Proxy,
    ca_path: str,
    mode: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    assert request(mode, "GET", origin.url + "/hello").text == "hello"
    options = {"verify": ca_path}
    assert request(mode, "POST", tls.url + "/echo", options=options, content=b"t").text == "t"
    assert [p.method for p in proxy.seen] == ["GET", "CONNECT"]
    # trust_env=False ignores them.
    assert request(mode, "GET", origin.url + "/hello", options={"trust_env": False}).text == "hello"
    assert len(proxy.seen) == 2
    # NO_PROXY exempts the host.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert request(mode, "GET", origin.url + "/hello").text == "hello"
    assert len(proxy.seen) == 2
    assert len(origin.requests) == 3


def test_proxy_sees_each_request_of_concurrent_streams(
    origin: LoopbackServer, proxy: Proxy
) -> None:
    """Several threads share one sync transport through the proxy."""
    transport = HTTPTransport(proxy=proxy.url)
    results: list[str] = []

    def one(client: httpx.Client) -> None:
        results.append(client.get(origin.url + "/hello").text)

    with httpx.Client(transport=transport, timeout=10) as client:
        threads = [threading.Thread(target=one, args=(client,)) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=15)
    assert results == ["hello"] * 8
    assert len(proxy.seen) == 8
