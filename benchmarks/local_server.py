"""Helpers for benchmarks that start an ``audioclf`` server on this machine."""

from __future__ import annotations

import socket

import httpx


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def is_ready(url: str, timeout: float = 5.0) -> bool:
    """Whether the server at ``url`` answers ``/readyz`` with 200 (False while it is down)."""
    try:
        return httpx.get(f"{url}/readyz", timeout=timeout).status_code == 200
    except httpx.TransportError:
        return False
