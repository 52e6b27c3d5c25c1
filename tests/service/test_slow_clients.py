"""Slow clients are dropped by the server itself: headers and bodies that arrive too
slowly close the connection; a prompt client is served on the same server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from audioclf.service.settings import get_settings
from audioclf.service.slow_clients import SlowClientGuard

TIMEOUT = 0.5


async def echo_length(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI app that reads the whole body and answers with its length; on a WebSocket,
    answers every text message with its length."""
    if scope["type"] == "websocket":
        await echo_websocket(receive, send)
        return
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(size).encode()})


async def echo_websocket(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif message["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": str(len(message.get("text") or ""))})
        else:
            return


@pytest.fixture
def port(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    import uvicorn

    monkeypatch.setenv("AUDIOCLF_HEADER_TIMEOUT_SECONDS", str(TIMEOUT))
    monkeypatch.setenv("AUDIOCLF_BODY_TIMEOUT_SECONDS", str(TIMEOUT))
    get_settings.cache_clear()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(echo_length, http=SlowClientGuard, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started
    yield int(sock.getsockname()[1])
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    get_settings.cache_clear()


def _closed_within(conn: socket.socket, seconds: float) -> bool:
    """True when the server closes ``conn`` (EOF or reset) within ``seconds``."""
    conn.settimeout(seconds)
    try:
        return conn.recv(1024) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_half_a_request_line_is_dropped(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(b"POST /v1/pre")
        assert _closed_within(conn, 10 * TIMEOUT)


def test_a_connection_that_sends_nothing_is_dropped(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as conn:
        assert _closed_within(conn, 10 * TIMEOUT)


def test_an_upload_that_stalls_mid_body_is_dropped(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + b"a" * 1000)
        assert _closed_within(conn, 10 * TIMEOUT)


def test_a_slow_but_steady_upload_and_a_prompt_request_are_served(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 400\r\n\r\n")
        for _ in range(4):  # 4 × 0.6 × TIMEOUT: longer than one timeout, no gap that long
            time.sleep(0.6 * TIMEOUT)
            conn.sendall(b"b" * 100)
        conn.settimeout(5)
        reply = conn.recv(4096)
        assert reply.startswith(b"HTTP/1.1 200") and b"\r\n400\r\n" in reply
        # the kept-alive connection serves a second prompt request
        conn.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok")
        assert b"\r\n2\r\n" in conn.recv(4096)


def test_a_websocket_outlives_the_http_timeouts(port: int) -> None:
    """After the upgrade the connection is the WebSocket's: no header or body timer of the
    upgrade request may close it (a live stream lasts minutes)."""
    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{port}/") as ws:
        for _ in range(6):  # messages spread over three timeouts
            time.sleep(TIMEOUT / 2)
            ws.send("abc")
            assert ws.recv(timeout=5) == "3"


def test_forty_half_request_lines_are_all_dropped(port: int) -> None:
    conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
    try:
        for conn in conns:
            conn.sendall(b"GET /v1/mod")
        assert all(_closed_within(conn, 10 * TIMEOUT) for conn in conns)
    finally:
        for conn in conns:
            conn.close()
