"""Turn decoded audio into what a model takes: the waveform itself, or a fixed vector.

Training and inference both go through here, so a served model sees exactly the input
it was trained on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from time import perf_counter
from typing import TypeVar

import numpy as np

from audioclf.features.speed import VectorFn, at_speed, views
from audioclf.features.threads import one_blas_thread
from audioclf.stages import record, stage

J = TypeVar("J")
R = TypeVar("R")
BatchFn = Callable[[Sequence[np.ndarray], int], list[np.ndarray]]
"""Feature vectors of several waveforms (mono, one sample rate) in one call."""
MIN_BATCH = 2
"""Views per worker below which a part with a batch function extracts them one by one
(a batch of one is a plain call, and one clip's three speed views run faster spread over
the cores than batched on one)."""

_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def input_parts(kind: str) -> list[str]:
    """The vector kinds a composite input joins (``"compare+pooled"`` → both), in order."""
    return kind.split("+")


def vector_function(kind: str) -> VectorFn:
    """The feature function of a vector input kind (``handcrafted``, ``pooled``, the
    openSMILE functionals ``compare`` and ``egemaps``, the pretrained ``speech_embedding``,
    ``voice_encoder`` and ``whisper``, the voice encoder's cluster statistics
    ``voice_count``, or parts joined with ``+``, whose vectors are concatenated in
    order)."""
    # deferred: librosa, openSMILE, ONNX Runtime and torch load only for the vector kinds a run uses
    from audioclf.features.handcrafted import issa_features, pooled_stats
    from audioclf.features.smile import compare_functionals, egemaps_functionals
    from audioclf.features.speech_embedding import speech_embedding_stats
    from audioclf.features.voice_count import voice_count_stats
    from audioclf.features.voice_encoder import voice_encoder_stats
    from audioclf.features.whisper_encoder import whisper_stats

    functions: dict[str, VectorFn] = {
        "handcrafted": issa_features,
        "pooled": pooled_stats,
        "compare": compare_functionals,
        "egemaps": egemaps_functionals,
        "speech_embedding": speech_embedding_stats,
        "voice_encoder": voice_encoder_stats,
        "voice_count": voice_count_stats,
        "whisper": whisper_stats,
    }
    parts = input_parts(kind)
    unknown = [part for part in parts if part not in functions]
    if unknown:
        raise ValueError(
            f"input kind {kind!r} is not a feature vector ({sorted(functions)}, "
            "or several joined with '+')"
        )
    if len(parts) == 1:
        return functions[kind]
    chosen = [functions[part] for part in parts]

    def joined(y: np.ndarray, sr: int) -> np.ndarray:
        return np.concatenate([fn(y, sr) for fn in chosen]).astype(np.float32)

    return joined


def batch_function(kind: str) -> BatchFn | None:
    """The function that extracts the vectors of several waveforms in one call, for the
    vector kinds that have one (the voice encoder batches its LSTM), else None."""
    if kind == "voice_encoder":
        # deferred: torch loads only for the vector kinds a run uses
        from audioclf.features.voice_encoder import voice_encoder_stats_batch

        return voice_encoder_stats_batch
    if kind == "voice_count":
        # deferred: torch and scipy load only for the vector kinds a run uses
        from audioclf.features.voice_count import voice_count_stats_batch

        return voice_count_stats_batch
    return None


def vectors(
    kind: str,
    waves: Sequence[np.ndarray],
    sample_rate: int,
    speeds: Sequence[float] = (),
    *,
    workers: int = 1,
) -> np.ndarray:
    """Stack the feature vectors of ``waves`` into ``(n, dim)`` float32. With ``speeds``
    (:mod:`audioclf.features.speed`), a row is the vector of the clip itself followed by
    the vector of the clip at each speed: ``(n, dim × (1 + len(speeds)))``.

    Every clip at every speed is a view. With ``workers`` > 1 the views are extracted
    that many at a time in threads — the extractors (ONNX Runtime, torch, openSMILE,
    librosa's FFTs) release the GIL for their heavy part — so one clip's speed views, or
    a batch's clips, use every core. A part with a :func:`batch_function` gets its views
    in batches instead, one per worker, once there are at least :data:`MIN_BATCH` views
    per worker. The rows are those of one view at a time, to float rounding.

    Each part is timed as stage ``PART@SPEED`` (``pooled@1``, ``compare@0.9``) and the
    resampling to a speed view as ``speed@SPEED`` (:mod:`audioclf.stages`); a batched
    call's time is shared among its views by their length. With workers a stage's time
    is summed over the threads, so stages can add up to more than the call's wall time."""
    vector_function(kind)  # an unknown kind fails here, named whole
    workers = max(1, workers)
    speeds_seen = views(speeds)
    jobs = [(np.asarray(y, dtype=np.float32), speed) for y in waves for speed in speeds_seen]
    played = _in_threads(lambda job: _played(job[0], sample_rate, job[1]), jobs, workers)
    speed_of = [speed for _, speed in jobs]
    columns = [
        _part_vectors(part, played, speed_of, sample_rate, workers) for part in input_parts(kind)
    ]
    per_view = [np.concatenate([column[j] for column in columns]) for j in range(len(jobs))]
    n = len(speeds_seen)
    rows = [np.concatenate(per_view[i : i + n]) for i in range(0, len(per_view), n)]
    return np.stack(rows).astype(np.float32)


def _played(y: np.ndarray, sr: int, speed: float) -> np.ndarray:
    if speed == 1.0:
        return y
    with stage(f"speed@{speed:g}"):
        return at_speed(y, sr, speed)


def _part_vectors(
    part: str, waves: Sequence[np.ndarray], speeds: Sequence[float], sr: int, workers: int
) -> list[np.ndarray]:
    """One part's vector of each view, timed per view as ``PART@SPEED``."""
    batch = batch_function(part)
    if batch is None or len(waves) < MIN_BATCH * workers:
        fn = vector_function(part)

        def one(j: int) -> np.ndarray:
            with stage(f"{part}@{speeds[j]:g}"):
                return fn(waves[j], sr)

        return _in_threads(one, range(len(waves)), workers)
    extract = batch

    def together(group: list[int]) -> list[np.ndarray]:
        start = perf_counter()
        out = extract([waves[j] for j in group], sr)
        ms = (perf_counter() - start) * 1000
        frames = sum(len(waves[j]) for j in group) or 1
        for j in group:
            record(f"{part}@{speeds[j]:g}", ms * len(waves[j]) / frames)
        return out

    order = sorted(range(len(waves)), key=lambda j: len(waves[j]))
    groups = [order[k::workers] for k in range(workers)]
    out: list[np.ndarray] = [np.empty(0, np.float32)] * len(waves)
    for group, vectors_ in zip(groups, _in_threads(together, groups, workers), strict=True):
        for j, v in zip(group, vectors_, strict=True):
            out[j] = v
    return out


def _in_threads(one: Callable[[J], R], jobs: Sequence[J], workers: int) -> list[R]:
    """``one(job)`` for every job, in order, up to ``workers`` at a time; each runs in a
    copy of the caller's context, so the stage clock open around the call sees it."""
    if workers <= 1 or len(jobs) <= 1:
        return [one(job) for job in jobs]
    pool = _pool(workers)
    with one_blas_thread():
        futures = [pool.submit(copy_context().run, one, job) for job in jobs]
        return [future.result() for future in futures]


def _pool(workers: int) -> ThreadPoolExecutor:
    """A pool of ``workers`` threads kept for the life of the process: a thread's first
    torch or ONNX Runtime call sets up per-thread state that costs more than a clip, so
    threads made per call would pay it on every request."""
    with _POOLS_LOCK:
        if workers not in _POOLS:
            _POOLS[workers] = ThreadPoolExecutor(workers, thread_name_prefix="audioclf-features")
        return _POOLS[workers]
