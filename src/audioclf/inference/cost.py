"""What a finished run costs per second of audio, stage by stage, on its own test clips.

:func:`measure_cost` decodes up to :data:`MAX_CLIPS` of the run's test clips one at a time
and scores each through the run's :class:`~audioclf.inference.predictor.Predictor` — the
code the server runs, its model session on one thread — with the stage clock open
(:mod:`audioclf.stages`). The stages are the ones the code marks where it runs:
``decode`` (reading the file and resampling it to the run's rate), each feature
extractor at each speed view (``pooled@1``, ``speech_embedding@0.9``, and ``speed@0.9``
for playing the clip at that speed), ``crops`` and ``model``, and for an ensemble each
member's stages under its folder name (``1-cnn/model``) plus ``combine``. ``other`` is
the rest of the wall time (the glue between stages), so the stages add up to ``total``.

Figures are milliseconds per second of audio (the sums over the clips divided by their
duration), so runs scored on clips of different lengths compare; ``ms_per_clip_p50`` is
the median wall time of one clip. Timing stops after :data:`BUDGET_SECONDS` (at least one
clip), so a slow model adds seconds, not minutes, to a run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from time import perf_counter
from typing import Any

import numpy as np

from audioclf.audio import AudioError, load
from audioclf.formats.manifest import Clip, Manifest, read_manifest
from audioclf.inference.predictor import Predictor
from audioclf.stages import measuring, stage

MAX_CLIPS = 20
"""Test clips timed at most."""
BUDGET_SECONDS = 2.0
"""Seconds of timing after which no further clip is started."""
TOTAL = "total"
OTHER = "other"


def measure_cost(
    run_dir: str | Path,
    test: Manifest | str | Path,
    *,
    max_clips: int = MAX_CLIPS,
    budget: float = BUDGET_SECONDS,
) -> dict[str, Any]:
    """The run's cost on up to ``max_clips`` clips of ``test`` (evenly spread over it):
    ``{"clips", "audio_seconds", "threads", "ms_per_audio_second": {"total", STAGE…,
    "other"}, "ms_per_clip_p50"}``, with ``members`` (each member's total) for an
    ensemble; ``{"clips": 0, "skipped": REASON}`` when nothing can be timed."""
    manifest = test if isinstance(test, Manifest) else read_manifest(test)
    predictor = Predictor(run_dir, threads=1)
    if predictor.card.speaker_norm:
        return _skipped("the run standardises features per speaker, so it scores no clip alone")
    clips = _spread(list(manifest), max_clips)
    if not clips:
        return _skipped("the run has no test clips")
    stages: dict[str, float] = {}
    walls: list[float] = []
    seconds = 0.0
    warm = False
    started = perf_counter()
    for clip in clips:
        if walls and perf_counter() - started > budget:
            break
        if not warm:
            warm = _warm_up(predictor, clip)
        timed = _time_clip(predictor, clip)
        if timed is None:
            continue
        clip_stages, wall, clip_seconds = timed
        for name, ms in clip_stages.items():
            stages[name] = stages.get(name, 0.0) + ms
        walls.append(wall)
        seconds += clip_seconds
    if not walls or seconds <= 0:
        return _skipped("none of the test clips could be read")
    return _summary(stages, walls, seconds)


def _spread(clips: Sequence[Clip], n: int) -> list[Clip]:
    """Up to ``n`` clips evenly spread over ``clips`` (all of them when fewer)."""
    if len(clips) <= n:
        return list(clips)
    picks = np.linspace(0, len(clips) - 1, n).round().astype(int)
    return [clips[i] for i in picks]


def _warm_up(predictor: Predictor, clip: Clip) -> bool:
    """Score ``clip`` once untimed (sessions and lazily loaded feature networks start);
    False when it cannot be read."""
    try:
        y = load(Path(clip.path), predictor.sample_rate)
    except AudioError:
        return False
    predictor.predict_proba([y])
    return True


def _time_clip(predictor: Predictor, clip: Clip) -> tuple[dict[str, float], float, float] | None:
    """``(stage ms, wall ms, audio seconds)`` of decoding and scoring ``clip``; None when
    it cannot be read."""
    with measuring() as clock:
        start = perf_counter()
        try:
            with stage("decode"):
                y = load(Path(clip.path), predictor.sample_rate)
        except AudioError:
            return None
        predictor.predict_proba([y])
        wall = (perf_counter() - start) * 1000
    return clock.totals(), wall, len(y) / predictor.sample_rate


def _summary(stages: dict[str, float], walls: list[float], seconds: float) -> dict[str, Any]:
    total = sum(walls)
    per_second = {TOTAL: total / seconds}
    per_second |= {name: ms / seconds for name, ms in stages.items()}
    per_second[OTHER] = max(0.0, total - sum(stages.values())) / seconds
    cost: dict[str, Any] = {
        "clips": len(walls),
        "audio_seconds": round(seconds, 3),
        "threads": 1,
        "ms_per_audio_second": {name: round(ms, 4) for name, ms in per_second.items()},
        "ms_per_clip_p50": round(float(np.median(walls)), 3),
    }
    members = member_totals(per_second)
    if members:
        cost["members"] = {name: round(ms, 4) for name, ms in members.items()}
    return cost


def member_totals(ms_per_stage: dict[str, float]) -> dict[str, float]:
    """Each ensemble member's share of the stages (those named ``MEMBER/STAGE``), summed
    per member; empty for a single model."""
    members: dict[str, float] = {}
    for name, ms in ms_per_stage.items():
        if "/" in name:
            member = name.split("/", 1)[0]
            members[member] = members.get(member, 0.0) + ms
    return members


def _skipped(reason: str) -> dict[str, Any]:
    return {"clips": 0, "skipped": reason}
