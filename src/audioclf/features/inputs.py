"""Turn decoded audio into what a model takes: the waveform itself, or a fixed vector.

Training and inference both go through here, so a served model sees exactly the input
it was trained on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context

import numpy as np

from audioclf.features.speed import VectorFn, at_speed, views
from audioclf.features.threads import one_blas_thread
from audioclf.stages import stage

_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def input_parts(kind: str) -> list[str]:
    """The vector kinds a composite input joins (``"compare+pooled"`` → both), in order."""
    return kind.split("+")


def vector_function(kind: str) -> VectorFn:
    """The feature function of a vector input kind (``handcrafted``, ``pooled``, the
    openSMILE functionals ``compare`` and ``egemaps``, the pretrained ``speech_embedding``
    and ``voice_encoder``, or parts joined with ``+``, whose vectors are concatenated in
    order)."""
    # deferred: librosa, openSMILE, ONNX Runtime and torch load only for the vector kinds a run uses
    from audioclf.features.handcrafted import issa_features, pooled_stats
    from audioclf.features.smile import compare_functionals, egemaps_functionals
    from audioclf.features.speech_embedding import speech_embedding_stats
    from audioclf.features.voice_encoder import voice_encoder_stats

    functions: dict[str, VectorFn] = {
        "handcrafted": issa_features,
        "pooled": pooled_stats,
        "compare": compare_functionals,
        "egemaps": egemaps_functionals,
        "speech_embedding": speech_embedding_stats,
        "voice_encoder": voice_encoder_stats,
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

    With ``workers`` > 1 the views (every clip at every speed) are extracted that many at
    a time in threads — the extractors (ONNX Runtime, torch, openSMILE, librosa's FFTs)
    release the GIL for their heavy part — so one clip's speed views, or a batch's clips,
    use every core; the rows are the same as one at a time.

    Each part is timed as stage ``PART@SPEED`` (``pooled@1``, ``compare@0.9``) and the
    resampling to a speed view as ``speed@SPEED`` (:mod:`audioclf.stages`); with workers
    a stage's time is summed over the threads, so stages can add up to more than the
    call's wall time."""
    vector_function(kind)  # an unknown kind fails here, named whole
    parts = [(part, vector_function(part)) for part in input_parts(kind)]
    speeds_seen = views(speeds)
    clips = [np.asarray(y, dtype=np.float32) for y in waves]
    jobs = [(y, speed) for y in clips for speed in speeds_seen]

    def one(job: tuple[np.ndarray, float]) -> np.ndarray:
        return _view_vector(parts, job[0], sample_rate, job[1])

    blocks = _in_threads(one, jobs, workers)
    n = len(speeds_seen)
    rows = [np.concatenate(blocks[i : i + n]) for i in range(0, len(blocks), n)]
    return np.stack(rows).astype(np.float32)


def _in_threads(
    one: Callable[[tuple[np.ndarray, float]], np.ndarray],
    jobs: Sequence[tuple[np.ndarray, float]],
    workers: int,
) -> list[np.ndarray]:
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


def _view_vector(
    parts: Sequence[tuple[str, VectorFn]], y: np.ndarray, sr: int, speed: float
) -> np.ndarray:
    """The vector of ``y`` played at ``speed``: its parts, in order, each timed."""
    view = y
    if speed != 1.0:
        with stage(f"speed@{speed:g}"):
            view = at_speed(y, sr, speed)
    blocks = []
    for name, fn in parts:
        with stage(f"{name}@{speed:g}"):
            blocks.append(fn(view, sr))
    if len(blocks) == 1:
        return blocks[0]
    return np.concatenate(blocks).astype(np.float32)
