"""Load test of ``audioclf serve``: simulated users mixing every kind of request.

    .venv/bin/python -m pip install -e '.[load]'
    .venv/bin/python -m benchmarks.load RUN
    .venv/bin/python -m benchmarks.load RUN --users 32 --spawn-rate 8 --seconds 60 --workers 2

RUN is a trained run folder (``audioclf train ... --out RUN``). The script registers it
as the production version of a model in a throwaway registry (SQLite in a temporary
folder, with the feedback pool beside it), starts ``audioclf serve --registry NAME`` on a
free port of 127.0.0.1 (the registry mode is what gives predictions an id to send
feedback on), and runs locust headless against it, as a library. The users:

- ``ApiUser`` (3 of every 4 users): ``POST /v1/predict`` with a 3-second clip (weight 6),
  ``POST /v1/predict/timeline`` with a 30-second recording (weight 1), and feedback
  (weight 2): a prediction, then ``POST /v1/feedback`` on its id with a label other than
  the predicted one (and the prediction's ``feedback_token`` when the server sends one),
  every other time with consent and the clip again (multipart), else as a URL-encoded form.
- ``StreamUser`` (1 of every 4): the live mode, ``WS /v1/stream``: the sample-rate text
  frame, then 0.5 s of float32 samples every 0.5 s (the real pace) for ``--stream-seconds``;
  each prediction the server sends back is one request, timed from the chunk that
  completed it. locust has no WebSocket user, so this one drives websocket-client and
  reports through ``environment.events.request``.

Between two tasks a user waits ``--think`` seconds (uniform). The clips are Emo-DB
speech from ``$AUDIOCLF_DATA`` (default ../shared/data). A greenlet samples the resident
memory of the server and all its child processes (uvicorn workers, decode processes)
every 0.2 s; the sum double-counts pages the processes share, so its peak is an upper
bound of what the container needs.

Outcomes per endpoint: ``ok``; ``shed`` — the server refusing load as designed (HTTP 429
rate limit, 503 too many predictions at once or a timeline past its deadline, WebSocket
1013 too many streams); ``4xx`` — other client errors, WebSocket 1003/1008/1009 included;
``5xx`` — server errors, WebSocket 1011 included; ``error`` — no answer (connection lost or
refused, timeout). p50/p99 are over the ``ok`` requests. The load generator runs on the
same machine as the server, so it takes CPU from it.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import struct
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np

from benchmarks.results import ROOT, command_line, record

SECTION = "Load test"
DATA = Path(os.environ.get("AUDIOCLF_DATA", ROOT.parent / "shared" / "data"))
RATE = 16_000
CLIP_SECONDS = 3.0
TIMELINE_SECONDS = 30.0
STREAM_HOP = 0.5
MODEL = "load"

SERVER_ENV = {
    # every simulated user comes from 127.0.0.1, i.e. one client to the per-client limits:
    # with them on, all but the first 60 requests a minute would get 429
    "AUDIOCLF_RATE_LIMIT_PER_MINUTE": "0",
    "AUDIOCLF_MAX_STREAMS_PER_CLIENT": "32",
}
"""Settings the test changes; everything else is the server's default."""

SHOWN_SETTINGS = (
    "rate_limit_per_minute",
    "max_streams_per_client",
    "max_streams",
    "max_concurrent_requests",
    "decode_workers",
    "max_batch",
    "batch_wait_ms",
    "stream_predictions_per_minute",
    "body_timeout_seconds",
    "work_timeout_seconds",
)

SHED = frozenset({429, 503, 1013})
CLIENT_WS = frozenset({1003, 1008, 1009})
SERVER_WS = frozenset({1011})
OUTCOMES = ("ok", "shed", "4xx", "5xx", "error")


def outcome(status: int | None) -> str:
    """The column a request's HTTP status or WebSocket close code counts in (module
    docstring); ``None`` is a request that got no answer."""
    if status is None:
        return "error"
    if status in SHED:
        return "shed"
    if 100 <= status < 400 or status == 1000:
        return "ok"
    if 400 <= status < 500 or status in CLIENT_WS:
        return "4xx"
    if 500 <= status < 600 or status in SERVER_WS:
        return "5xx"
    return "error"


class StreamError(RuntimeError):
    """A live-stream request that failed; its message says how (reported as is)."""


@dataclass
class EndpointStats:
    """What one endpoint answered: statuses, and the latency of each ``ok`` request."""

    statuses: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)

    def add(self, status: int | None, ms: float, error: str | None = None) -> None:
        kind = outcome(status)
        self.outcomes[kind] += 1
        self.statuses[str(status) if status is not None else (error or "no answer")] += 1
        if kind == "ok":
            self.latencies_ms.append(ms)


def summary_row(endpoint: str, stats: EndpointStats, seconds: float) -> dict[str, Any]:
    """One table row: counts per outcome, p50/p99 of the ok requests, ok requests/s."""
    ms = np.asarray(stats.latencies_ms)
    total = sum(stats.outcomes.values())
    return {
        "endpoint": endpoint,
        "requests": total,
        **{kind: stats.outcomes.get(kind, 0) for kind in OUTCOMES},
        "p50 ms": round(float(np.percentile(ms, 50)), 1) if len(ms) else None,
        "p99 ms": round(float(np.percentile(ms, 99)), 1) if len(ms) else None,
        "ok/s": round(len(ms) / seconds, 2),
        "statuses": ", ".join(f"{k}×{n}" for k, n in stats.statuses.most_common()),
    }


def feedback_request(
    prediction: dict[str, Any], clip: bytes, consent: bool
) -> tuple[bytes, str] | None:
    """Body and content type of the feedback on one result of ``POST /v1/predict``: a
    label other than the predicted one, the result's ``feedback_token`` when it has one;
    with consent a multipart form with the clip, else a URL-encoded one. ``None`` when the
    result has no ``prediction_id`` (a server not serving a registry)."""
    from urllib3 import encode_multipart_formdata

    if not prediction.get("prediction_id"):
        return None
    top = prediction["top"]["label"]
    label = next((name for name in prediction["labels"] if name != top), top)
    fields: dict[str, Any] = {"prediction_id": prediction["prediction_id"], "label": label}
    if prediction.get("feedback_token"):
        fields["feedback_token"] = prediction["feedback_token"]
    fields["consent"] = "true" if consent else "false"
    if not consent:
        return urlencode(fields).encode(), "application/x-www-form-urlencoded"
    fields["file"] = ("clip.wav", clip, "audio/wav")
    body, content_type = encode_multipart_formdata(fields)
    return body, content_type


def close_code(payload: bytes) -> int | None:
    """The status code of a WebSocket close frame's payload (``None`` when it has none)."""
    return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None


@dataclass
class Plan:
    """What the simulated users send, and where."""

    url: str
    model: str
    clip: bytes
    timeline: bytes
    stream_chunk: bytes
    stream_seconds: float
    think: tuple[float, float]


def speech(seconds: float, data: Path = DATA) -> np.ndarray:
    """``seconds`` of Emo-DB speech at 16 kHz: its clips, sorted by name, joined."""
    from audioclf.audio import load

    files = sorted((data / "emodb").glob("*.flac"))
    if not files:
        raise SystemExit(f"no Emo-DB clips in {data / 'emodb'}; set AUDIOCLF_DATA")
    need, parts, have = int(seconds * RATE), [], 0
    for path in files:
        parts.append(load(path, RATE))
        have += len(parts[-1])
        if have >= need:
            break
    return np.concatenate(parts)[:need].astype(np.float32)


def wav(samples: np.ndarray) -> bytes:
    """16-bit PCM WAV bytes of 16 kHz samples."""
    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, samples, RATE, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def raw(body: bytes) -> Any:
    """A request body for locust's FastHttpSession, which sends bytes as they are (its
    type hints admit only str and dict)."""
    return body


def make_plan(url: str, args: argparse.Namespace) -> Plan:
    voice = speech(max(TIMELINE_SECONDS, STREAM_HOP))
    return Plan(
        url=url,
        model=MODEL,
        clip=wav(voice[: int(CLIP_SECONDS * RATE)]),
        timeline=wav(voice),
        stream_chunk=voice[: int(STREAM_HOP * RATE)].astype("<f4").tobytes(),
        stream_seconds=args.stream_seconds,
        think=(args.think[0], args.think[1]),
    )


def user_classes(plan: Plan) -> list[type]:
    """The locust users (module docstring), bound to ``plan``."""
    from locust import FastHttpUser, User, between, task
    from websocket import ABNF, WebSocket, create_connection

    octet = {"Content-Type": "application/octet-stream"}

    class ApiUser(FastHttpUser):
        host = plan.url
        weight = 3
        wait_time = between(*plan.think)
        consent = False

        def _predict(self) -> dict[str, Any] | None:
            with self.client.post(
                f"/v1/predict?model={plan.model}",
                data=raw(plan.clip),
                headers=octet,
                name="/v1/predict",
                catch_response=True,
            ) as response:
                if response.status_code != 200:
                    response.failure(f"HTTP {response.status_code}")
                    return None
                result: dict[str, Any] = response.json()["results"][0]
                return result

        @task(6)
        def predict(self) -> None:
            self._predict()

        @task(1)
        def timeline(self) -> None:
            self.client.post(
                f"/v1/predict/timeline?model={plan.model}",
                data=raw(plan.timeline),
                headers=octet,
                name="/v1/predict/timeline",
            )

        @task(2)
        def feedback(self) -> None:
            prediction = self._predict()
            request = feedback_request(prediction, plan.clip, self.consent) if prediction else None
            if request is None:
                return
            self.consent = not self.consent
            body, content_type = request
            self.client.post(
                "/v1/feedback",
                data=raw(body),
                headers={"Content-Type": content_type},
                name="/v1/feedback",
            )

    class StreamUser(User):
        weight = 1
        wait_time = between(*plan.think)

        def _fire(
            self, name: str, start: float, status: int | None, error: str | None = None
        ) -> None:
            self.environment.events.request.fire(
                request_type="WS",
                name=name,
                response_time=(time.perf_counter() - start) * 1000,
                response_length=0,
                response=None,
                context={"status": status},
                exception=StreamError(error or f"close {status}")
                if outcome(status) != "ok"
                else None,
            )

        def _next_text(self, ws: WebSocket) -> tuple[int | None, str | None]:
            """(status, error) of the server's next message: 200 for a prediction, the
            close code for a close frame."""
            while True:
                opcode, frame = ws.recv_data_frame(True)
                if opcode == ABNF.OPCODE_TEXT:
                    return 200, None
                if opcode == ABNF.OPCODE_CLOSE:
                    return close_code(frame.data), frame.data[2:].decode("utf-8", "replace")

        @task
        def stream(self) -> None:
            url = plan.url.replace("http://", "ws://") + f"/v1/stream?model={plan.model}"
            start = time.perf_counter()
            try:
                ws = create_connection(url, timeout=30)
            except Exception as err:
                self._fire("/v1/stream connect", start, None, f"{type(err).__name__}: {err}")
                return
            self._fire("/v1/stream connect", start, 101)
            try:
                self._send_audio(ws)
            finally:
                ws.close()

        def _send_audio(self, ws: WebSocket) -> None:
            ws.send(json.dumps({"sample_rate": RATE}))
            for _ in range(int(plan.stream_seconds / STREAM_HOP)):
                start = time.perf_counter()
                try:
                    ws.send_binary(plan.stream_chunk)
                    status, error = self._next_text(ws)
                except Exception as err:
                    self._fire("/v1/stream prediction", start, None, f"{type(err).__name__}: {err}")
                    return
                self._fire("/v1/stream prediction", start, status, error)
                if status != 200:
                    return
                time.sleep(max(0.0, STREAM_HOP - (time.perf_counter() - start)))

    return [ApiUser, StreamUser]


class Recorder:
    """Every request the users report, per endpoint (a locust ``request`` listener)."""

    def __init__(self) -> None:
        self.endpoints: dict[str, EndpointStats] = {}

    def on_request(
        self,
        name: str,
        response_time: float,
        response: Any = None,
        context: dict[str, Any] | None = None,
        exception: BaseException | None = None,
        **_: Any,
    ) -> None:
        status = (context or {}).get("status") if response is None else response.status_code
        status = status or None  # locust's HTTP client reports 0 for no answer
        error = None
        if exception is not None and status is None:
            failure = isinstance(exception, StreamError)
            error = str(exception)[:60] if failure else type(exception).__name__
        self.endpoints.setdefault(name, EndpointStats()).add(status, response_time, error)


@contextmanager
def registry_server(run: Path, workers: int) -> Iterator[tuple[str, Any]]:
    """``audioclf serve --registry load`` serving ``run`` from a throwaway registry; its
    URL and psutil process."""
    from audioclf.registry.store import Registry
    from benchmarks.local_server import serve

    with tempfile.TemporaryDirectory(prefix="audioclf-load-") as tmp:
        db = f"sqlite:///{tmp}/registry.db"
        registry = Registry(db)
        registry.promote(MODEL, registry.add(run, MODEL).version)
        env = {
            **os.environ,
            **SERVER_ENV,
            "AUDIOCLF_DB_URL": db,
            "AUDIOCLF_FEEDBACK_DIR": f"{tmp}/feedback-pool",
        }
        args = ["--registry", MODEL, "--workers", str(workers)]
        with serve(args, env, cwd=Path(tmp)) as (url, process):
            yield url, process


def run_load(
    plan: Plan, server: Any, users: int, spawn_rate: float, seconds: float
) -> tuple[Recorder, int]:
    """locust headless for ``seconds``; the requests it made and the server's peak RSS."""
    import gevent
    from locust.env import Environment

    from benchmarks.local_server import process_tree_rss

    env = Environment(user_classes=user_classes(plan), host=plan.url)
    recorder = Recorder()
    env.events.request.add_listener(recorder.on_request)
    peak = [process_tree_rss(server)]

    def sample() -> None:
        while True:
            peak[0] = max(peak[0], process_tree_rss(server))
            gevent.sleep(0.2)

    sampler = gevent.spawn(sample)
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=spawn_rate)
    gevent.spawn_later(seconds, runner.quit)
    runner.greenlet.join()
    sampler.kill()
    return recorder, peak[0]


def warm_up(plan: Plan, workers: int) -> None:
    """A few predictions and one timeline before the clock starts, so that every worker
    has loaded its models and its decode processes (they start on first use)."""
    import httpx

    predict = f"{plan.url}/v1/predict?model={plan.model}"
    for _ in range(4 * workers):
        httpx.post(predict, content=plan.clip, timeout=120).raise_for_status()
    timeline = f"{plan.url}/v1/predict/timeline?model={plan.model}"
    httpx.post(timeline, content=plan.timeline, timeout=120).raise_for_status()


def settings_note(workers: int) -> str:
    """The server settings the figures were measured with."""
    from audioclf.service.settings import Settings

    settings = Settings.model_validate(
        {k.removeprefix("AUDIOCLF_").lower(): v for k, v in SERVER_ENV.items()}
    )
    shown = ", ".join(f"{name} {getattr(settings, name)}" for name in SHOWN_SETTINGS)
    return f"workers {workers}, {shown}"


def machine_note() -> str:
    one, five, fifteen = os.getloadavg()
    return f"loadavg {one:.2f}/{five:.2f}/{fifteen:.2f} before, {os.cpu_count()} cores"


def report(args: argparse.Namespace, recorder: Recorder, peak: int, notes: tuple[str, str]) -> None:
    """Print the figures (and record them in docs/benchmarks.json unless --no-record)."""
    run_name = args.run.name
    settings, machine = notes
    print(f"command: {command_line()}")
    print(f"model: {args.run}; settings: {settings}; {machine}")
    rows = [
        summary_row(name, stats, args.seconds) for name, stats in sorted(recorder.endpoints.items())
    ]
    for row in rows:
        print(json.dumps(row))
    print(f"server peak RSS (all processes): {peak / 2**20:.0f} MiB")
    if args.no_record:
        return
    users = f"{args.users} users, {args.seconds:g} s"
    for row in rows:
        record(SECTION, f"{run_name}/{row['endpoint']}", {"model": run_name, **row}, command_line())
    server = {"model": run_name, "endpoint": f"server ({users})", "peak RSS MiB": peak // 2**20}
    server["statuses"] = f"{settings}; {machine}"
    record(SECTION, f"{run_name}/server", server, command_line())


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="A trained run folder to serve.")
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--spawn-rate", type=float, default=8.0, help="Users started per s.")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers (Dockerfile: 2).")
    parser.add_argument("--stream-seconds", type=float, default=20.0, help="One live stream.")
    parser.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=(0.5, 1.5),
        metavar=("MIN", "MAX"),
        help="Seconds a user waits between two tasks (uniform).",
    )
    parser.add_argument("--no-record", action="store_true", help="Print only.")
    args = parser.parse_args()
    if not (args.run / "metrics.json").is_file():
        parser.error(f"{args.run} is not a trained run folder")
    return args


def main() -> None:
    # locust's gevent patches the standard library when imported: before anything else
    # imports ssl or starts a thread (so this module imports httpx and the rest late)
    import locust  # noqa: F401

    args = parse_args()
    notes = (settings_note(args.workers), machine_note())
    with registry_server(args.run.resolve(), args.workers) as (url, server):
        plan = make_plan(url, args)
        warm_up(plan, args.workers)
        recorder, peak = run_load(plan, server, args.users, args.spawn_rate, args.seconds)
    report(args, recorder, peak, notes)


if __name__ == "__main__":
    main()
