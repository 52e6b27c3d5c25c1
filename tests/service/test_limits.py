"""Intake limits: the sliding-window rate limiter and in-memory multipart parsing."""

from __future__ import annotations

import pytest
from fastapi import HTTPException

from audioclf.service.limits import RateLimiter, multipart_file, retry_after_header


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sliding_window_blocks_then_recovers() -> None:
    clock = Clock()
    limiter = RateLimiter(3, clock=clock)
    assert [limiter.check("a") for _ in range(3)] == [None, None, None]
    wait = limiter.check("a")
    assert wait is not None and 59 <= wait <= 60
    assert limiter.check("b") is None  # per client
    clock.now += 30
    assert limiter.check("a") is not None
    clock.now += 31
    assert limiter.check("a") is None


def test_zero_means_unlimited() -> None:
    limiter = RateLimiter(0)
    assert all(limiter.check("a") is None for _ in range(1000))


def test_idle_clients_are_forgotten() -> None:
    clock = Clock()
    limiter = RateLimiter(5, clock=clock)
    for i in range(50):
        limiter.check(f"client{i}")
    clock.now += 120
    limiter.check("new")
    assert set(limiter._hits) == {"new"}


def test_retry_after_is_whole_seconds() -> None:
    assert retry_after_header(0.2) == {"Retry-After": "1"}
    assert retry_after_header(12.1) == {"Retry-After": "13"}


def _multipart(fields: dict[str, bytes], boundary: str = "XyZ") -> bytes:
    body = b""
    for name, data in fields.items():
        body += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{name}.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
            ).encode()
            + data
            + b"\r\n"
        )
    return body + f"--{boundary}--\r\n".encode()


def test_multipart_file_field_is_extracted() -> None:
    payload = bytes(range(256)) * 10
    body = _multipart({"other": b"x", "file": payload})
    assert multipart_file(body, "multipart/form-data; boundary=XyZ") == payload


def test_multipart_without_file_field_names_what_was_found() -> None:
    body = _multipart({"audio": b"abc"})
    with pytest.raises(HTTPException) as err:
        multipart_file(body, "multipart/form-data; boundary=XyZ")
    assert err.value.status_code == 400
    assert "audio" in str(err.value.detail) and "'file'" in str(err.value.detail)


def test_multipart_without_boundary_is_bad_request() -> None:
    with pytest.raises(HTTPException) as err:
        multipart_file(b"--x\r\n", "multipart/form-data")
    assert err.value.status_code == 400
