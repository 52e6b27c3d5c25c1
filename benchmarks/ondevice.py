"""On-device inference: a run's web export classifying a 3-s clip in Chromium, next to
the server's ``/v1/predict`` on the same clip (issue 30's table).

    .venv/bin/python -m benchmarks.ondevice RUN [RUN ...]
    .venv/bin/python -m benchmarks.ondevice RUN --clip clip.wav --threads 1 2 4 --no-record

Each RUN must hold ``web/`` (``audioclf export RUN --target web --out RUN/web``, or
written by training). The runs are served by one ``audioclf serve`` process; Debian's
headless Chromium (``/usr/bin/chromium``, as the browser tests use) opens the app, and in
a fresh page per thread count imports ``/static/ondevice.js``, loads the model with
``numThreads`` N and times ``classify`` on the clip's samples (already at 16 kHz, so no
resampling): the p50 of ``--repeats`` calls after ``--warmup``. The server's figure is
the p50 of as many sequential ``POST /v1/predict?model=NAME`` of the same clip as 16 kHz
WAV, the round trip on this machine. The clip is the 3 s of Emo-DB speech of
benchmarks/serving.py unless ``--clip`` names a WAV.

Threads beyond the machine's cores only share them: the row notes how many cores the
page saw (``navigator.hardwareConcurrency``) and whether it was cross-origin isolated
(without that the runtime runs one thread whatever is asked).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import soundfile as sf

from audioclf.service.app import WEB_DIR
from benchmarks import serving
from benchmarks.local_server import serve
from benchmarks.results import command_line, record

SECTION = "On-device inference in the browser"
CHROMIUM = "/usr/bin/chromium"
RATE = 16_000
RUNTIME_FILES = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")

TIME_IN_PAGE = """
async ({ name, samples, rate, threads, warmup, repeats }) => {
  const { load } = await import("/static/ondevice.js");
  const model = await load(name, { numThreads: threads });
  const y = Float32Array.from(samples);
  for (let i = 0; i < warmup; i += 1) {
    await model.classify(y, rate);
  }
  const ms = [];
  for (let i = 0; i < repeats; i += 1) {
    const started = performance.now();
    await model.classify(y, rate);
    ms.push(performance.now() - started);
  }
  return {
    ms,
    threads: model.threads,
    isolated: crossOriginIsolated,
    cores: navigator.hardwareConcurrency,
    card: model.card,
  };
}
"""


def clip_wav(path: str | None) -> bytes:
    """The benchmark clip as 16 kHz mono WAV bytes."""
    if path is None:
        return serving.clip_bytes()
    y, sr = sf.read(path, dtype="float32", always_2d=True)
    if sr != RATE:
        raise SystemExit(f"{path}: {sr} Hz; give a 16 kHz clip")
    buffer = io.BytesIO()
    sf.write(buffer, y.mean(axis=1), RATE, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def runtime_bytes() -> int:
    """The vendored ONNX Runtime Web files a page downloads once (any model)."""
    vendor = WEB_DIR / "vendor"
    missing = [f for f in RUNTIME_FILES if not (vendor / f).is_file()]
    if missing:
        raise SystemExit(f"{vendor} lacks {', '.join(missing)}: run `make` to vendor them")
    return sum((vendor / f).stat().st_size for f in RUNTIME_FILES)


def time_in_page(
    url: str, name: str, samples: np.ndarray, threads: list[int], warmup: int, repeats: int
) -> dict[int, dict[str, Any]]:
    """For each thread count, ``classify`` timings of ``name`` in a fresh Chromium page."""
    from playwright.sync_api import sync_playwright

    results = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            for n in threads:
                context = browser.new_context()
                page = context.new_page()
                page.goto(url)
                page.wait_for_selector("#model-list li", timeout=60_000)
                arg = {
                    "name": name,
                    "samples": samples.tolist(),
                    "rate": RATE,
                    "threads": n,
                    "warmup": warmup,
                    "repeats": repeats,
                }
                results[n] = page.evaluate(TIME_IN_PAGE, arg)
                context.close()
        finally:
            browser.close()
    return results


def server_p50(url: str, name: str, wav: bytes, warmup: int, repeats: int) -> float:
    """p50 ms of sequential ``POST /v1/predict`` of ``wav`` to model ``name``."""
    headers = {"Content-Type": "application/octet-stream"}
    ms = []
    with httpx.Client(base_url=url, timeout=120) as client:
        for i in range(warmup + repeats):
            started = time.perf_counter()
            response = client.post(
                "/v1/predict", params={"model": name}, content=wav, headers=headers
            )
            response.raise_for_status()
            if i >= warmup:
                ms.append((time.perf_counter() - started) * 1000)
    return statistics.median(ms)


def _row(run: Path, page: dict[int, dict[str, Any]], server_ms: float) -> dict[str, Any]:
    card = next(iter(page.values()))["card"]
    row: dict[str, Any] = {
        "run": run.name,
        "task": card.get("task") or "",
        "download MB": round(card["bytes"] / 1e6, 2),
        "runtime MB": round(runtime_bytes() / 1e6, 1),
        "int8": bool(card.get("quantized")),
    }
    for n, result in page.items():
        row[f"page ms ({n} thr)"] = round(statistics.median(result["ms"]), 1)
    row["server p50 ms"] = round(server_ms, 1)
    row["WA web"] = card.get("accuracy")
    row["WA same model in run"] = card.get("source_accuracy")
    row["WA run"] = card.get("run_accuracy")
    first = next(iter(page.values()))
    row["notes"] = (
        f"{first['cores']} cores seen, isolated {first['isolated']}; "
        f"loadavg {os.getloadavg()[0]:.2f}"
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="Run folders with web/.")
    parser.add_argument("--clip", help="A 16 kHz WAV (default: 3 s of Emo-DB speech).")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--no-record", action="store_true", help="Print, don't store.")
    args = parser.parse_args()
    for run in args.runs:
        if not (run / "web" / "card.json").is_file():
            raise SystemExit(f"{run} has no web/ export: audioclf export {run} --target web")
    wav = clip_wav(args.clip)
    samples = sf.read(io.BytesIO(wav), dtype="float32")[0]
    env = {**os.environ, "AUDIOCLF_RATE_LIMIT_PER_MINUTE": "0"}
    with serve([str(r) for r in args.runs], env) as (url, _):
        for run in args.runs:
            page = time_in_page(url, run.name, samples, args.threads, args.warmup, args.repeats)
            server_ms = server_p50(url, run.name, wav, args.warmup, args.repeats)
            row = _row(run, page, server_ms)
            print(row, flush=True)
            if not args.no_record:
                record(SECTION, run.name, row, command_line())


if __name__ == "__main__":
    main()
