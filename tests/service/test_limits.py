"""Intake limits: the sliding-window rate limiter and in-memory multipart parsing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient

from audioclf.service.limits import RateLimiter, WorkSlots, multipart_file, retry_after_header
from tests.service.conftest import wav_bytes


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


def test_work_slots_refuse_past_the_limit_and_free_on_release() -> None:
    slots = WorkSlots(2)
    assert slots.try_acquire() and slots.try_acquire()
    assert not slots.try_acquire() and slots.in_use == 2
    slots.release()
    assert slots.try_acquire()


def test_a_busy_server_sheds_load_at_once_and_frees_its_slots(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(rate_limit_per_minute=0, max_concurrent_requests=1)
    slots: WorkSlots = client.app.state.work_slots  # type: ignore[attr-defined]
    assert slots.try_acquire()  # another request holds the only slot
    busy = client.post("/v1/predict", files={"file": ("a.wav", wav_bytes(), "audio/wav")})
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"
    assert "busy" in busy.json()["detail"]
    slots.release()
    ok = client.post("/v1/predict", files={"file": ("a.wav", wav_bytes(), "audio/wav")})
    assert ok.status_code == 200
    bad = client.post("/v1/predict", files={"file": ("a.wav", b"not audio", "audio/wav")})
    assert bad.status_code in (400, 415, 422)
    assert slots.in_use == 0  # released after a success and after a refusal
