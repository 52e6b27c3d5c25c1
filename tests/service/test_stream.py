"""``WS /v1/stream``: float32 chunks in, rolling predictions out; bad input closes."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.conftest import tone


def test_stream_yields_predictions(client: TestClient) -> None:
    rate = 48_000
    y = tone(2.0, rate, 300.0)
    with client.websocket_connect("/v1/stream?model=cnn") as ws:
        ws.send_text(json.dumps({"sample_rate": rate}))
        for chunk in np.array_split(y, 8):  # 0.25 s chunks; hop 0.5 s → 4 predictions
            ws.send_bytes(chunk.astype("<f4").tobytes())
        messages = [ws.receive_json() for _ in range(4)]
    assert [m["t"] for m in messages] == pytest.approx([0.5, 1.0, 1.5, 2.0])
    for m in messages:
        assert m["model"] == "cnn"
        assert set(m["probabilities"]) == {"high", "low"}
        assert m["top"] == max(m["probabilities"], key=m["probabilities"].__getitem__)


def _close_reason(client: TestClient, url: str, *messages: str | bytes) -> tuple[int, str]:
    with client.websocket_connect(url) as ws:
        for message in messages:
            if isinstance(message, str):
                ws.send_text(message)
            else:
                ws.send_bytes(message)
        with pytest.raises(WebSocketDisconnect) as err:
            ws.receive_json()
    return err.value.code, err.value.reason


def test_stream_rejects_bad_input(client: TestClient) -> None:
    code, reason = _close_reason(client, "/v1/stream?model=nope")
    assert code == 1008 and "cnn, logreg" in reason
    code, reason = _close_reason(client, "/v1/stream", "not json")
    assert code == 1003 and "sample_rate" in reason
    code, reason = _close_reason(client, "/v1/stream", '{"sample_rate": 5}')
    assert code == 1003 and "sample_rate" in reason
    code, reason = _close_reason(client, "/v1/stream", b"\x00\x01\x02")
    assert code == 1003 and "float32" in reason
    nan = np.full(16, np.nan, dtype="<f4").tobytes()
    code, reason = _close_reason(client, "/v1/stream", nan)
    assert code == 1003 and "NaN" in reason


def test_stream_refuses_huge_or_deeply_nested_config_frames(client: TestClient) -> None:
    code, reason = _close_reason(client, "/v1/stream", "[" * 100_000)
    assert code == 1009 and "exceeds 1024" in reason
    code, reason = _close_reason(client, "/v1/stream", "[" * 512 + "]" * 512)  # 1024 bytes
    assert code == 1003 and "sample_rate" in reason


def test_stream_rejects_oversized_frames(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_stream_frame_bytes=1024, rate_limit_per_minute=0)
    code, reason = _close_reason(client, "/v1/stream", np.zeros(1024, "<f4").tobytes())
    assert code == 1009 and "exceeds 1024" in reason


def test_one_stream_cannot_ask_for_more_predictions_than_its_budget(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(rate_limit_per_minute=0, stream_predictions_per_minute=3)
    hop = np.zeros(8000, "<f4").tobytes()  # 0.5 s at 16 kHz: one prediction each
    with client.websocket_connect("/v1/stream?model=cnn") as ws:
        for _ in range(3):
            ws.send_bytes(hop)
            assert "probabilities" in ws.receive_json()
        ws.send_bytes(hop)
        with pytest.raises(WebSocketDisconnect) as err:
            ws.receive_json()
    assert err.value.code == 1008 and "more than 3 predictions a minute" in err.value.reason


def test_an_idle_stream_is_closed(make_client: Callable[..., TestClient]) -> None:
    client = make_client(rate_limit_per_minute=0, stream_idle_seconds=0.3)
    code, reason = _close_reason(client, "/v1/stream?model=cnn")
    assert code == 1008 and "no audio for 0.3 s" in reason


def test_streams_are_capped_per_client_and_in_total(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(rate_limit_per_minute=0, max_streams=3, max_streams_per_client=2)
    with (
        client.websocket_connect("/v1/stream?model=cnn"),
        client.websocket_connect("/v1/stream?model=cnn"),
    ):
        code, reason = _close_reason(client, "/v1/stream?model=cnn")
        assert code == 1008 and "2 long-lived streams open already" in reason
        # another client may still open one, up to the server's total
        streams = client.app.state.streams  # type: ignore[attr-defined]
        assert streams.acquire("other") is None
        code, reason = _close_reason(client, "/v1/stream?model=cnn")
        assert code == 1013 and "3 long-lived streams open" in reason
        streams.release("other")
    # closed streams give their slots back
    assert client.app.state.streams.open == 0  # type: ignore[attr-defined]
