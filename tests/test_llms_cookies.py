"""Cookies through a model's own clients, as through any httpx client: a cookie the
server sets (``Set-Cookie``, in whatever letter case) goes back with the next request,
and an answer that sets none leaves the jar as it was. (The models' clients hand only
answers with ``Set-Cookie`` to the cookie jar, see ``seltzer.llms._http``.)"""

from __future__ import annotations

from typing import Any

import pytest

from seltzer.llms import ChatOpenAI
from tests.clients import DONE, chat_event
from tests.conftest import MODES, run_async
from tests.server import Conn, LoopbackServer

#: What each answer sets, in order: a cookie, nothing, a second cookie, nothing.
SET_COOKIES = ["session=abc; Path=/", None, "region=eu; Path=/v1", None]


@pytest.mark.parametrize("mode", MODES)
def test_cookies_set_by_the_server_are_sent_back(server: LoopbackServer, mode: str) -> None:
    sent: list[str | None] = []

    @server.route("/v1/chat/completions")
    def chat(conn: Conn) -> None:
        sent.append(conn.request.headers.get("cookie"))
        setting = SET_COOKIES[len(sent) - 1]
        conn.head(200, {"Set-Cookie": setting} if setting else {})
        conn.send(chat_event(f"reply {len(sent)}"))
        conn.send(DONE)
        conn.end()

    model = ChatOpenAI(model="m", base_url=server.url + "/v1", api_key="sk-test")
    if mode == "sync":
        with model:
            texts = ["".join(str(c.content) for c in model.stream("hi")) for _ in SET_COOKIES]
    else:

        async def main() -> list[str]:
            texts = []
            async with model:
                for _ in SET_COOKIES:
                    texts.append("".join([str(c.content) async for c in model.astream("hi")]))
            return texts

        texts = run_async(main(), mode)
    assert texts == [f"reply {n}" for n in range(1, len(SET_COOKIES) + 1)]
    assert sent == [None, "session=abc", "session=abc", "region=eu; session=abc"]


def test_cookie_jar_keeps_what_httpx_keeps(server: LoopbackServer) -> None:
    """The jar of a model's client is httpx's (same cookies, same ``client.cookies``)."""

    @server.route("/v1/chat/completions")
    def chat(conn: Conn) -> None:
        conn.head(200, {"set-cookie": "k=v; Path=/"})
        conn.send(DONE)
        conn.end()

    with ChatOpenAI(model="m", base_url=server.url + "/v1", api_key="sk-test") as model:
        list(model.stream("hi"))
        client: Any = model._sync_client()
        assert dict(client.cookies) == {"k": "v"}
