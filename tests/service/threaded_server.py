"""The real app under uvicorn in a background thread, for the browser tests."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

from audioclf.service.app import create_app
from audioclf.service.settings import Settings

START_TRIES = 200
START_WAIT_SECONDS = 0.05


def serve_in_thread(settings: Settings, *, join_seconds: float = 10) -> Iterator[str]:
    """Serve an app of ``settings`` on a free port of 127.0.0.1 (lifespan on); yield its
    URL, then stop the server."""
    import uvicorn  # deferred: only the browser tests need uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    waiting = threading.Event()
    for _ in range(START_TRIES):
        if server.started:
            break
        waiting.wait(START_WAIT_SECONDS)
    assert server.started, "uvicorn did not start within 10 s"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=join_seconds)
    sock.close()
