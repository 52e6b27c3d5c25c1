"""Decoding uploads in worker processes that can be killed.

A decoder stuck on a hostile file cannot be stopped from outside a thread: a timed-out
decode in a thread answers the client but keeps its CPU and memory until it ends by
itself. Here each upload is decoded in one of ``workers`` processes (pebble's
``ProcessPool``, which kills the worker running a task past its timeout or cancelled, and
starts a new one), each with an address-space limit, so a decode costs at most
``timeout`` seconds of one core and ``memory_bytes`` of memory, and stops when the
request is cancelled. The bytes go to the worker through a pipe and the samples come back
the same way; nothing touches the disk.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import resource
from collections.abc import Callable
from concurrent.futures import CancelledError, TimeoutError

from pebble import ProcessExpired, ProcessPool

from audioclf.audio import Audio, load_audio

log = logging.getLogger("audioclf.service")

UPLOAD_NAME = "upload"


class DecodeError(Exception):
    """A decode that did not finish: ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _limit_memory(memory_bytes: int) -> None:
    """Worker start-up: cap the process's address space."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def _decode(data: bytes, sample_rate: int | None, max_seconds: float) -> Audio:
    """What a worker runs: the loader on the bytes."""
    return load_audio(data, sample_rate, max_seconds=max_seconds, name=UPLOAD_NAME)


Decoder = Callable[[bytes, int | None, float], Audio]


class DecodePool:
    """``workers`` decoding processes, started on first use; ``function`` (bytes, sample
    rate, longest seconds → Audio; importable by name) is what they run."""

    def __init__(self, workers: int, memory_bytes: int, *, function: Decoder = _decode) -> None:
        self.workers = workers
        self.memory_bytes = memory_bytes
        self.function = function
        self._pool: ProcessPool | None = None

    def _started(self) -> ProcessPool:
        if self._pool is None:
            # forkserver: workers never inherit the server's threads (ONNX Runtime, uvicorn)
            context = multiprocessing.get_context("forkserver")
            self._pool = ProcessPool(
                max_workers=self.workers,
                initializer=_limit_memory,
                initargs=(self.memory_bytes,),
                context=context,
            )
        return self._pool

    async def decode(
        self, data: bytes, *, max_seconds: float, timeout: float, sample_rate: int | None = None
    ) -> Audio:
        """The decoded audio; raises the loader's ``AudioError`` for a bad file and
        :class:`DecodeError` when the decode ran past ``timeout`` or out of memory (its
        worker is killed). Cancelling the caller kills the worker too."""
        future = self._started().schedule(
            self.function, args=(data, sample_rate, max_seconds), timeout=timeout
        )
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except TimeoutError:
            log.info("decode timeout: %d bytes after %.1f s", len(data), timeout)
            raise DecodeError(
                f"{UPLOAD_NAME}: decoding took longer than {timeout:g} s; send a plainer format",
                422,
            ) from None
        except MemoryError:
            log.info("decode out of memory: %d bytes", len(data))
            raise DecodeError(
                f"{UPLOAD_NAME}: decoding needs more memory than this server allows "
                f"({self.memory_bytes / 2**20:.0f} MiB); send a shorter or plainer file",
                413,
            ) from None
        except (ProcessExpired, CancelledError):
            log.info("decode worker died: %d bytes", len(data))
            raise DecodeError(f"{UPLOAD_NAME}: the decoder failed on this file", 422) from None

    def close(self) -> None:
        """Stop the workers (running decodes are killed)."""
        if self._pool is not None:
            self._pool.stop()
            self._pool.join()
            self._pool = None
