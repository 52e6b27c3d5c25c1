"""Property-based tests of the request parsers: any body and Content-Type give the parsed
value or a 4xx HTTPException (multipart, the feedback form), any live-stream frame gives
a sample rate, samples or a StreamError with its close code; never another exception.

Also through the server: arbitrary uploads to ``POST /v1/predict`` and arbitrary frames
on ``WS /v1/stream`` get a documented status or close code, never a server error.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import urlencode

import numpy as np
import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from starlette.websockets import WebSocketDisconnect

from audioclf.service.limits import multipart_file
from audioclf.service.routes.feedback import MAX_FIELD_CHARS, _form_reader, _text
from audioclf.service.routes.stream import (
    MAX_CONFIG_BYTES,
    MAX_RATE,
    MIN_RATE,
    StreamError,
    parse_config,
    parse_frame,
)
from tests.conftest import tone
from tests.service.conftest import wav_bytes

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
THROUGH_THE_SERVER = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

FEEDBACK_FIELDS = ("prediction_id", "feedback_token", "label", "who", "consent", "file")
BCHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? "
"""The characters RFC 2046 allows in a multipart boundary."""

boundaries = st.text(BCHARS, min_size=1, max_size=70).map(str.strip).filter(bool)
latin1_text = st.text(st.characters(codec="latin-1", exclude_categories=["Cc"]), max_size=120)
any_text = st.text(st.characters() | st.characters(categories=["Cs"]), max_size=200)


def multipart_body(boundary: str, parts: list[tuple[str, bytes]], *, closed: bool = True) -> bytes:
    """A multipart/form-data body of ``(field name, value)`` parts."""
    out = b""
    for name, value in parts:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value + b"\r\n"
    return out + (f"--{boundary}--\r\n".encode() if closed else b"")


@st.composite
def content_types(draw: st.DrawFn) -> str:
    """multipart/form-data with a valid, quoted, missing, repeated or odd boundary, or
    any other text (non-Latin-1 included)."""
    boundary = draw(boundaries | latin1_text | any_text)
    template = draw(
        st.sampled_from(
            [
                "multipart/form-data; boundary={}",
                'multipart/form-data; boundary="{}"',
                "multipart/form-data; charset=utf-8; boundary={}",
                "multipart/form-data; boundary={0}; boundary={0}x",
                "multipart/form-data",
                "multipart/form-data; boundary=",
                "{}",
            ]
        )
    )
    return template.format(boundary)


@st.composite
def multipart_bodies(draw: st.DrawFn, boundary: str) -> bytes:
    """Parts with odd names, repeated fields, random headers and values; then maybe cut,
    a byte overwritten, or CRLF replaced by LF."""
    names = st.sampled_from(["file", "label", "", 'fi"le', "file; x=1"]) | st.text(max_size=10)
    out = b""
    for _ in range(draw(st.integers(0, 4))):
        disposition = draw(
            st.sampled_from(['form-data; name="{}"', "form-data; name={}", "form-data", "{}"])
        ).format(draw(names))
        headers = [f"Content-Disposition: {disposition}".encode("utf-8", "surrogatepass")]
        headers += draw(st.lists(st.binary(max_size=40), max_size=2))
        out += f"--{boundary}\r\n".encode() + b"\r\n".join(headers) + b"\r\n\r\n"
        out += draw(st.binary(max_size=200)) + b"\r\n"
    if draw(st.booleans()):
        out += f"--{boundary}--\r\n".encode()
    damage = draw(st.sampled_from(["none", "cut", "overwrite", "lf"]))
    if damage == "cut":
        out = out[: draw(st.integers(0, len(out)))]
    elif damage == "overwrite" and out:
        at = draw(st.integers(0, len(out) - 1))
        out = out[:at] + bytes([draw(st.integers(0, 255))]) + out[at + 1 :]
    elif damage == "lf":
        out = out.replace(b"\r\n", b"\n")
    return out


@st.composite
def multipart_requests(draw: st.DrawFn) -> tuple[bytes, str]:
    """(body, Content-Type): a structured multipart body or arbitrary bytes."""
    boundary = draw(boundaries)
    content_type = draw(st.just(f"multipart/form-data; boundary={boundary}") | content_types())
    body = draw(multipart_bodies(boundary) | st.binary(max_size=600))
    return body, content_type


def field_or_4xx(body: bytes, content_type: str, name: str) -> bytes | None:
    """``multipart_file``'s answer, checked: the bytes or a 4xx with a message."""
    try:
        value = multipart_file(body, content_type, name)
    except HTTPException as err:
        assert 400 <= err.status_code < 500 and err.detail
        return None
    assert isinstance(value, bytes)
    return value


@PROPERTY
@given(request=multipart_requests(), name=st.sampled_from(["file", "label", ""]))
@example(request=(b"", "multipart/form-data; boundary=\u0100"), name="file")
def test_multipart_bodies_give_the_field_or_a_4xx(request: tuple[bytes, str], name: str) -> None:
    field_or_4xx(*request, name)


@PROPERTY
@given(body=st.binary(max_size=600), content_type=any_text)
def test_arbitrary_bytes_and_content_types_give_the_field_or_a_4xx(
    body: bytes, content_type: str
) -> None:
    field_or_4xx(body, content_type, "file")


@PROPERTY
@given(
    boundary=boundaries,
    fields=st.lists(st.tuples(st.sampled_from(["file", "label", "x"]), st.binary(max_size=300))),
)
def test_a_well_formed_body_gives_the_first_part_of_the_field(
    boundary: str, fields: list[tuple[str, bytes]]
) -> None:
    assume(all(f"\r\n--{boundary}".encode() not in b"\r\n" + v for _, v in fields))
    value = field_or_4xx(
        multipart_body(boundary, fields), f'multipart/form-data; boundary="{boundary}"', "file"
    )
    expected = next((v for name, v in fields if name == "file"), None)
    assert value == expected


@st.composite
def feedback_requests(draw: st.DrawFn) -> tuple[bytes, str]:
    """(body, Content-Type) of a feedback form: URL-encoded or multipart, well formed or
    not, or arbitrary bytes under any Content-Type."""
    values = st.lists(
        st.tuples(st.sampled_from(FEEDBACK_FIELDS) | st.text(max_size=8), st.text(max_size=250))
    )
    kind = draw(st.sampled_from(["urlencoded", "multipart", "other"]))
    if kind == "urlencoded":
        body = urlencode(draw(values)).encode() if draw(st.booleans()) else draw(st.binary())
        return body, draw(
            st.sampled_from(
                [
                    "application/x-www-form-urlencoded",
                    "APPLICATION/X-WWW-FORM-URLENCODED; charset=latin-1",
                ]
            )
        )
    if kind == "multipart":
        boundary = draw(boundaries)
        parts = [(k, v.encode("utf-8", "surrogatepass")) for k, v in draw(values)]
        body = draw(st.just(multipart_body(boundary, parts)) | multipart_bodies(boundary))
        return body, f"multipart/form-data; boundary={boundary}"
    return draw(st.binary(max_size=400)), draw(content_types() | any_text)


@PROPERTY
@given(request=feedback_requests())
def test_feedback_forms_give_fields_or_a_400(request: tuple[bytes, str]) -> None:
    try:
        get = _form_reader(*request)
    except HTTPException as err:
        assert err.status_code == 400 and err.detail
        return
    for name in FEEDBACK_FIELDS:
        for required in (True, False):
            try:
                value = get(name, required)
            except HTTPException as err:
                assert err.status_code == 400 and err.detail
                continue
            assert (value is None and not required) or isinstance(value, bytes)
            try:
                text = _text(value, name)
            except HTTPException as err:
                assert err.status_code == 400 and str(MAX_FIELD_CHARS) in err.detail
                continue
            assert isinstance(text, str) and len(text) <= MAX_FIELD_CHARS


@PROPERTY
@given(fields=st.dictionaries(st.sampled_from(FEEDBACK_FIELDS[:5]), st.text(max_size=250)))
def test_url_encoded_feedback_fields_read_back(fields: dict[str, str]) -> None:
    get = _form_reader(urlencode(fields).encode(), "application/x-www-form-urlencoded")
    for name in FEEDBACK_FIELDS[:5]:
        assert get(name, False) == (fields[name].encode() if name in fields else None)


def config_or_stream_error(text: str) -> int | None:
    """``parse_config``'s answer, checked: a rate in range, or a StreamError with 1003
    (bad config) or 1009 (too big)."""
    try:
        rate = parse_config(text)
    except StreamError as err:
        assert err.code in (1003, 1009) and str(err)
        assert (err.code == 1009) == (len(text.encode("utf-8", "surrogatepass")) > MAX_CONFIG_BYTES)
        return None
    assert isinstance(rate, int) and MIN_RATE <= rate <= MAX_RATE
    return rate


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


@PROPERTY
@given(text=any_text)
@example(text='{"sample_rate": 16000, "note": "\ud800"}')
def test_arbitrary_text_frames_give_a_rate_or_a_stream_error(text: str) -> None:
    config_or_stream_error(text)


@PROPERTY
@given(
    config=st.dictionaries(st.just("sample_rate") | st.text(max_size=10), json_values) | json_values
)
def test_json_config_frames_give_the_announced_rate_or_a_stream_error(config: object) -> None:
    rate = config_or_stream_error(json.dumps(config))
    announced = config.get("sample_rate", 16_000) if isinstance(config, dict) else None
    in_range = type(announced) is int and MIN_RATE <= announced <= MAX_RATE
    assert rate == (announced if in_range and len(json.dumps(config)) <= MAX_CONFIG_BYTES else None)


@PROPERTY
@given(depth=st.integers(1, 5_000))
def test_deeply_nested_config_frames_are_refused(depth: int) -> None:
    assert config_or_stream_error("[" * depth + "]" * depth) is None


@PROPERTY
@given(data=st.binary(max_size=2_048), max_bytes=st.integers(1, 2_048))
def test_binary_frames_give_their_samples_or_a_stream_error(data: bytes, max_bytes: int) -> None:
    try:
        samples = parse_frame(data, max_bytes)
    except StreamError as err:
        assert err.code in (1003, 1009) and str(err)
        return
    assert samples.dtype == np.float32 and np.isfinite(samples).all()
    assert len(data) <= max_bytes and samples.tobytes() == data


HOP = np.zeros(8_000, "<f4").tobytes()  # 0.5 s at 16 kHz: one prediction
WAV = wav_bytes(tone(0.3))

stream_frames = st.one_of(
    st.binary(max_size=64),
    st.lists(st.floats(width=32), max_size=64).map(lambda v: np.asarray(v, "<f4").tobytes()),
    st.builds(bytes, st.just(len(HOP))),  # HOP (built, so its repr stays short)
    st.integers(8_000, 48_000).map(lambda rate: json.dumps({"sample_rate": rate})),
    any_text,
)


def test_any_stream_frames_get_predictions_then_a_documented_close_code(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(rate_limit_per_minute=0, max_stream_frame_bytes=len(HOP))

    @THROUGH_THE_SERVER
    @given(frames=st.lists(stream_frames, max_size=5))
    @example(frames=['{"sample_rate": 16000}', HOP, HOP])
    def stream(frames: list[str | bytes]) -> None:
        with client.websocket_connect("/v1/stream?model=logreg") as ws:
            for frame in [*frames, b"\x00"]:  # the last frame (not float32) ends the stream
                ws.send_text(frame) if isinstance(frame, str) else ws.send_bytes(frame)
            with pytest.raises(WebSocketDisconnect) as closed:
                while True:
                    assert "probabilities" in ws.receive_json()
        assert closed.value.code in (1003, 1008, 1009) and closed.value.reason

    stream()


@st.composite
def uploads(draw: st.DrawFn) -> bytes:
    """Arbitrary bytes, or a WAV whole, cut short or with bytes overwritten."""
    how = draw(st.sampled_from(["bytes", "whole", "cut", "overwrite"]))
    if how == "bytes":
        return draw(st.binary(max_size=2_000))
    if how == "cut":
        return WAV[: draw(st.integers(0, len(WAV)))]
    if how == "overwrite":
        at, patch = draw(st.integers(0, 100)), draw(st.binary(min_size=1, max_size=8))
        return WAV[:at] + patch + WAV[at + len(patch) :]
    return WAV


def test_any_upload_to_predict_gets_a_documented_status_and_a_json_body(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(rate_limit_per_minute=0)

    @THROUGH_THE_SERVER
    @given(
        upload=uploads(),
        multipart=st.none() | boundaries,
        content_type=st.sampled_from(["", "audio/wav", "application/octet-stream"])
        | content_types(),
    )
    def predict(upload: bytes, multipart: str | None, content_type: str) -> None:
        if multipart is not None:
            upload = multipart_body(multipart, [("file", upload)])
            content_type = f"multipart/form-data; boundary={multipart}"
        headers = [(b"content-type", content_type.encode("latin-1", "replace"))]
        response = client.post("/v1/predict", content=upload, headers=headers)
        assert response.status_code in (200, 400, 413, 415, 422, 429, 503), response.text
        body = response.json()
        if response.status_code == 200:
            assert body["results"]
        else:
            assert isinstance(body["detail"], str) and body["detail"]

    predict()
