"""Decoder functions for DecodePool's worker processes in tests (importable by name)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from audioclf.audio import Audio


def sleepy(data: bytes, sample_rate: int | None, max_seconds: float) -> Audio:
    """Never finishes in a test's time: records its pid in the file ``data`` names (when
    it names one), then sleeps. (The file is named in the call, not in the environment:
    workers inherit the environment of the pool's first start.)"""
    if data.startswith(b"/"):
        Path(data.decode()).write_text(str(os.getpid()))
    time.sleep(60)
    raise AssertionError("the worker should have been killed")


def greedy(data: bytes, sample_rate: int | None, max_seconds: float) -> Audio:
    """Asks for 4 GiB, as a decoder blown up by a hostile header would."""
    np.ones(2**29, dtype=np.float64)
    raise AssertionError("the allocation should have failed")
