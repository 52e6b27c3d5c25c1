"""Slow clients dropped by the server itself: uvicorn's HTTP/1.1 protocol with a header
and a body read timeout.

uvicorn closes an idle keep-alive connection, but a connection that has sent half a
request line, or stalls in the middle of a body, stays open as long as the client likes —
forty of them hold forty sockets, and stalled uploads hold their buffered bytes. A proxy
in front usually enforces such timeouts; this protocol does it in the server too, so a
bare `audioclf serve` is not at the mercy of the slowest client:

- **headers**: a request's headers must be complete within ``header_timeout_seconds`` of
  its first byte (of the connection, for the first request);
- **body**: while a request body is incomplete, no gap between two chunks may exceed
  ``body_timeout_seconds``.

A connection upgraded to a WebSocket leaves this protocol: its timers stop there (a live
stream has its own idle timeout, ``AUDIOCLF_STREAM_IDLE_SECONDS``). Past either, the
connection is closed: the route reading the body sees the client gone
and its buffered bytes are freed. The timeouts come from the server's settings
(``AUDIOCLF_HEADER_TIMEOUT_SECONDS``, ``AUDIOCLF_BODY_TIMEOUT_SECONDS``), read when a
connection opens, so worker processes started by uvicorn use them too. Written as a
subclass of uvicorn's own h11 protocol (``--http`` accepts a class) because neither uvicorn
nor h11 has these timeouts.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from audioclf.service.settings import get_settings


class SlowClientGuard(H11Protocol):
    """H11Protocol that closes connections whose headers or body arrive too slowly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self.header_timeout = settings.header_timeout_seconds
        self.body_timeout = settings.body_timeout_seconds
        self._header_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._upgraded = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._follow_state()

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        """Hand the connection to the WebSocket protocol, with no HTTP timer left on it."""
        self._upgraded = True
        self._cancel_timers()
        super().handle_websocket_upgrade(event)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        self._cancel_timers()
        super().on_response_complete()

    def _follow_state(self) -> None:
        """Arm, reset or cancel the timers for what the client is sending now."""
        if self._upgraded:
            return
        state = self.conn.their_state
        if state is h11.IDLE:  # a (next) request has begun, or will: its headers are timed
            self._arm_header_timer()
            return
        self._cancel(self._header_timer)
        self._header_timer = None
        self._cancel(self._body_timer)
        self._body_timer = None
        if state is h11.SEND_BODY:
            self._body_timer = self.loop.call_later(self.body_timeout, self._drop)

    def _arm_header_timer(self) -> None:
        if self._header_timer is None and self.transport is not None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._drop)

    def _drop(self) -> None:
        """Close a connection whose client is too slow."""
        self._header_timer = self._body_timer = None
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def _cancel_timers(self) -> None:
        self._cancel(self._header_timer)
        self._cancel(self._body_timer)
        self._header_timer = self._body_timer = None

    @staticmethod
    def _cancel(timer: asyncio.TimerHandle | None) -> None:
        if timer is not None:
            timer.cancel()
