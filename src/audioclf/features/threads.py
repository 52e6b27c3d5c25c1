"""Threads for feature extraction: the cores this process may use, and one BLAS thread
while extractors run side by side.

NumPy's OpenBLAS starts a thread per core and, after each call, keeps those threads
spinning for work. When two extractor threads run at once (the feature cache's workers,
a server's clips and speed views), the spinning threads of one take the cores the
other's torch or ONNX Runtime call is running on: two voice-encoder clips in parallel
ran no faster than one after the other, and twice as fast with one BLAS thread. The
matrices the extractors hand to BLAS (mel filterbanks, a few hundred frames) are far too
small to gain from more than one thread.

The limit is process-wide (OpenBLAS has one thread count), so it is set around the
parallel section by the caller that starts the threads, with threadpoolctl's
controller, made once because finding the loaded libraries costs more than a clip's
BLAS calls.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from audioclf.jobs import CORES_ENV


def available_cores() -> int:
    """The CPU cores this process may run on: the CPUs a job was given when an executor
    says so (:data:`audioclf.jobs.CORES_ENV`), else the cores it is allowed to run on."""
    given = os.environ.get(CORES_ENV, "")
    if given.isdigit() and int(given) > 0:
        return int(given)
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


@lru_cache(maxsize=1)
def _blas() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS (NumPy's OpenBLAS, MKL) on one thread inside the block, as before after it."""
    with _blas().limit(limits=1, user_api="blas"):
        yield


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """torch on one intra-op thread in this thread while the block runs (torch's OpenMP
    thread count is per calling thread, so other threads — a trainer's — keep theirs)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
