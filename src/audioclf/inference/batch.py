"""Batch prediction: every clip of a manifest scored by a run, one JSON row per clip.

``audioclf predict RUN --manifest M.jsonl --out P.jsonl`` reads rows with a ``path``
(relative paths resolve against the manifest's folder, as training manifests do) and an
optional ``id`` (default: the path); labels and other fields are ignored, so an
unlabelled list of files works too. Each output row carries the id, the path, the top
label and the probability of every class, in the manifest's order. A clip that cannot
be read is reported (``P.skipped.jsonl`` beside the output, and on the console) and
skipped; it never stops the rest.

Clips are decoded and scored ``batch_size`` at a time, so memory holds one batch of
waveforms whatever the manifest's length. With ``ray=True`` the rows become a Ray
Dataset and :class:`BatchScorer` actors (``concurrency`` of them, each loading the run
once, one CPU each) score its batches with ``map_batches``; the rows come back in the
manifest's order either way (Ray Data's ``preserve_order``), streamed into the output.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from audioclf.audio import AudioError, load
from audioclf.console import track
from audioclf.formats.atomic import atomic_path
from audioclf.formats.manifest import ManifestError, SkippedFile, json_rows, write_skipped
from audioclf.formats.runfolder import RunFolder
from audioclf.inference.predictor import Predictor
from audioclf.jobs.cluster import ray_jobs

BATCH_SIZE = 32


@dataclass(frozen=True)
class BatchSummary:
    """What a batch prediction wrote."""

    out: Path
    scored: int
    skipped: list[SkippedFile]
    skipped_file: Path | None
    """Where the skipped clips are listed (None: none was skipped)."""


def read_rows(manifest: str | Path) -> list[dict[str, str]]:
    """``{"id", "path"}`` for every row of a JSON Lines manifest, paths made absolute."""
    path = Path(manifest)
    base = path.resolve().parent
    rows = []
    for lineno, row in json_rows(path):
        if not isinstance(row.get("path"), str):
            raise ManifestError(f"{path}:{lineno}: a row must be a JSON object with a path")
        clip = Path(row["path"]).expanduser()
        clip = clip if clip.is_absolute() else base / clip
        rows.append({"id": str(row.get("id") or row["path"]), "path": str(clip)})
    return rows


def score_rows(predictor: Predictor, rows: Sequence[dict[str, str]]) -> list[dict[str, Any]]:
    """One output row per input row: the top label and the probabilities, or ``error``
    for a clip that cannot be read."""
    waves: list[np.ndarray] = []
    readable: list[int] = []
    out: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        try:
            waves.append(load(row["path"], predictor.sample_rate))
            readable.append(i)
            out.append(dict(row))
        except (AudioError, FileNotFoundError, OSError) as err:
            out.append(dict(row) | {"error": str(err)})
    probs = predictor.predict_proba(waves) if waves else np.zeros((0, len(predictor.classes_)))
    for i, p in zip(readable, probs, strict=True):
        out[i]["label"] = predictor.classes_[int(np.argmax(p))]
        out[i]["probabilities"] = {
            label: round(float(v), 6) for label, v in zip(predictor.classes_, p, strict=True)
        }
    return out


class BatchScorer:
    """A Ray Data ``map_batches`` callable: the run loaded once per actor, each batch of
    rows scored by :func:`score_rows` (each result as one JSON string column)."""

    def __init__(self, run: str) -> None:
        self.predictor = Predictor(run, threads=1)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows = [
            {"id": str(i), "path": str(p)} for i, p in zip(batch["id"], batch["path"], strict=True)
        ]
        scored = score_rows(self.predictor, rows)
        return {"result": np.array([json.dumps(r) for r in scored], dtype=object)}


def _local(
    run: Path, rows: list[dict[str, str]], batch_size: int, progress: bool
) -> Iterator[dict[str, Any]]:
    predictor = Predictor(run)
    starts = range(0, len(rows), batch_size)
    for start in track(starts, "predicting", enabled=progress):
        yield from score_rows(predictor, rows[start : start + batch_size])


def _on_ray(
    run: Path, rows: list[dict[str, str]], batch_size: int, concurrency: int | None
) -> Iterator[dict[str, Any]]:
    # deferred: Ray is an optional extra, loaded only for --ray
    import ray

    readable: list[str | Path] = [RunFolder(run).card, *(row["path"] for row in rows)]
    with ray_jobs(reads=[p for p in readable if Path(p).exists()]):
        # rows stream back in the manifest's order and are written as they come: the
        # driver never holds the whole output
        ray.data.DataContext.get_current().execution_options.preserve_order = True
        actors = concurrency or max(1, int(ray.cluster_resources().get("CPU", 1)))
        scored = ray.data.from_items(rows).map_batches(
            BatchScorer,
            fn_constructor_kwargs={"run": str(run.resolve())},
            batch_size=batch_size,
            concurrency=actors,
            num_cpus=1,
        )
        for result in scored.iter_rows():
            yield json.loads(result["result"])


def predict_manifest(
    run: str | Path,
    manifest: str | Path,
    out: str | Path,
    *,
    batch_size: int = BATCH_SIZE,
    ray: bool = False,
    concurrency: int | None = None,
    progress: bool = True,
) -> BatchSummary:
    """Score every clip of ``manifest`` with the run into ``out`` (JSON Lines, written
    whole or not at all); the unreadable clips go to ``out``'s ``.skipped.jsonl``."""
    if batch_size < 1:
        raise ValueError(f"--batch-size must be at least 1, not {batch_size}")
    if concurrency is not None and concurrency < 1:
        raise ValueError(f"--concurrency must be at least 1, not {concurrency}")
    rows = read_rows(manifest)
    run = Path(run)
    scored = (
        _on_ray(run, rows, batch_size, concurrency)
        if ray
        else _local(run, rows, batch_size, progress)
    )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    skipped: list[SkippedFile] = []
    count = 0
    with atomic_path(out) as tmp, tmp.open("w", encoding="utf-8") as f:
        for row in scored:
            if "error" in row:
                skipped.append(SkippedFile(row["path"], row["error"]))
                continue
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return BatchSummary(out, count, skipped, write_skipped(skipped, out))
