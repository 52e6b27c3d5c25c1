"""Excerpts of long clips: the scored audio never exceeds the cap and spans the clip."""

from __future__ import annotations

import numpy as np
import pytest

from audioclf.inference.excerpts import scored_excerpts

RATE = 1_000


def test_a_clip_within_the_cap_is_scored_whole() -> None:
    y = np.arange(30 * RATE, dtype=np.float32)
    scored, sampled = scored_excerpts(y, RATE, max_seconds=30)
    assert scored is y
    assert not sampled


def test_a_long_clip_is_cut_to_the_cap_in_excerpts_from_start_to_end() -> None:
    y = np.arange(600 * RATE, dtype=np.float32)
    scored, sampled = scored_excerpts(y, RATE, max_seconds=30, excerpt_seconds=5)
    assert sampled
    assert len(scored) == 30 * RATE
    excerpts = scored.reshape(6, 5 * RATE)
    # each excerpt is a contiguous piece of the clip
    assert np.all(np.diff(excerpts, axis=1) == 1)
    starts = excerpts[:, 0]
    assert starts[0] == 0
    assert excerpts[-1, -1] == len(y) - 1
    gaps = np.diff(starts)
    assert gaps.max() - gaps.min() <= 1


def test_a_cap_shorter_than_an_excerpt_takes_the_middle() -> None:
    y = np.arange(100 * RATE, dtype=np.float32)
    scored, sampled = scored_excerpts(y, RATE, max_seconds=2, excerpt_seconds=5)
    assert sampled
    assert len(scored) == 2 * RATE
    assert scored[0] == (len(y) - 2 * RATE) // 2


def test_a_cap_that_is_not_a_whole_number_of_excerpts_stays_under_it() -> None:
    y = np.zeros(200 * RATE, dtype=np.float32)
    scored, _ = scored_excerpts(y, RATE, max_seconds=12, excerpt_seconds=5)
    assert len(scored) == 10 * RATE


def test_the_cap_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        scored_excerpts(np.zeros(10, dtype=np.float32), RATE, max_seconds=0)
