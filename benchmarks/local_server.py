"""Helpers for benchmarks that start an ``audioclf`` server on this machine."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil

AUDIOCLF = Path(sys.executable).parent / "audioclf"
READY_SECONDS = 300


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


@contextmanager
def serve(
    args: list[str], env: Mapping[str, str], cwd: Path | None = None
) -> Iterator[tuple[str, psutil.Process]]:
    """``audioclf serve ARGS --port P`` in a subprocess with ``env``, once it is ready:
    its URL and psutil process. Stopped (terminated, then killed) on exit."""
    port = free_port()
    cmd = [str(AUDIOCLF), "serve", *args, "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=dict(env), stdout=subprocess.DEVNULL, cwd=cwd)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_SECONDS
        while not is_ready(url, timeout=2):
            if proc.poll() is not None:
                raise RuntimeError(f"`{' '.join(cmd)}` exited with code {proc.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"`{' '.join(cmd)}` not ready after {READY_SECONDS} s")
            time.sleep(0.5)
        yield url, psutil.Process(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def process_tree_rss(root: psutil.Process) -> int:
    """Resident bytes of a process and all its descendants now (pages they share are
    counted once per process, so the sum is an upper bound)."""
    total = 0
    for proc in [root, *root.children(recursive=True)]:
        try:
            total += proc.memory_info().rss
        except psutil.Error:  # a worker or decode process that just ended
            continue
    return total


@contextmanager
def peak_rss(root: psutil.Process, every: float = 0.02) -> Iterator[list[int]]:
    """Samples :func:`process_tree_rss` of ``root`` in a thread while the block runs; the
    yielded one-item list holds the peak so far (final once the block has ended)."""
    peak = [process_tree_rss(root)]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], process_tree_rss(root))
            time.sleep(every)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        done.set()
        thread.join()
