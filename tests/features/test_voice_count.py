"""The voice encoder's cluster statistics for speaker counting, on generated audio."""

from __future__ import annotations

import importlib.util
import itertools

import numpy as np
import pytest

from audioclf.features.voice_count import (
    DIM,
    HOP_FRAMES,
    N_EIGEN,
    SET_DIM,
    THRESHOLDS,
    WINDOW_FRAMES,
    cluster_stats,
    eigengap_count,
    embed,
    voice_count_stats,
    voice_count_stats_batch,
    window_starts,
)

needs_weights = pytest.mark.skipif(
    importlib.util.find_spec("resemblyzer") is None, reason="resemblyzer not installed"
)
SR = 16_000
COUNTS = slice(N_EIGEN + 1, N_EIGEN + 1 + len(THRESHOLDS))
"""Where the agglomerative cluster counts sit in a set's statistics."""


def _voice(f0: float, formant: float, seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    """A vowel-like harmonic tone: pitch ``f0`` with vibrato, harmonics weighted by a
    resonance at ``formant`` Hz, a little noise."""
    t = np.arange(int(seconds * SR)) / SR
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.05 * np.sin(2 * np.pi * 3 * t))) / SR
    y = np.zeros_like(t)
    for k in range(1, 30):
        if k * f0 < SR / 2:
            y += np.sin(k * phase) / (1 + ((k * f0 - formant) / 300.0) ** 2)
    rng = np.random.default_rng(seed)
    y = y / np.abs(y).max() + 0.01 * rng.standard_normal(len(t))
    return (0.1 * y).astype(np.float32)


def _cluster(direction: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    points = direction + 0.05 * rng.standard_normal((n, len(direction)))
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def test_three_separate_groups_give_three_clusters_and_an_eigengap_at_three() -> None:
    rng = np.random.default_rng(0)
    axes = np.eye(16)
    points = np.concatenate([_cluster(axes[i], 20, rng) for i in range(3)])
    stats = cluster_stats(points)
    assert stats.shape == (SET_DIM,) and stats.dtype == np.float32
    assert stats[N_EIGEN] == 3  # the eigengap count
    counts = dict(zip(THRESHOLDS, stats[COUNTS], strict=True))
    assert counts[0.3] == counts[0.5] == 3
    one = cluster_stats(_cluster(axes[0], 60, rng))
    assert one[N_EIGEN] == 1 and one[COUNTS].max() == 1
    # one group is less dispersed: higher mean pairwise similarity
    assert one[COUNTS.stop] > stats[COUNTS.stop] + 0.3


def test_cluster_stats_of_one_point_and_bad_shapes() -> None:
    stats = cluster_stats(np.eye(4)[:1])
    assert np.isfinite(stats).all() and stats[COUNTS].tolist() == [1.0] * len(THRESHOLDS)
    with pytest.raises(ValueError, match="points"):
        cluster_stats(np.zeros((0, 4)))
    with pytest.raises(ValueError, match="points"):
        cluster_stats(np.zeros(4))


def test_eigengap_count_reads_the_largest_ratio_among_real_eigenvalues() -> None:
    assert eigengap_count(np.array([0.96, 0.03, 0.005, 0.005, 0, 0, 0, 0])) == 1
    assert eigengap_count(np.array([0.5, 0.3, 0.18, 0.01, 0.005, 0.005, 0, 0])) == 3
    assert eigengap_count(np.array([1.0, 0, 0, 0, 0, 0, 0, 0])) == 1


def test_window_starts_cover_the_clip() -> None:
    assert window_starts(WINDOW_FRAMES - 5) == [0]
    starts = window_starts(101)
    assert starts[0] == 0 and starts[-1] == 101 - WINDOW_FRAMES
    assert all(b - a <= HOP_FRAMES for a, b in itertools.pairwise(starts))


@needs_weights
def test_embeddings_are_unit_length_rows() -> None:
    rng = np.random.default_rng(1)
    points = embed(rng.standard_normal((5, 256)).astype(np.float32))
    assert points.shape == (5, 256)
    np.testing.assert_allclose(np.linalg.norm(points, axis=1), 1.0, atol=1e-5)


@needs_weights
def test_vector_shape_determinism_batch_and_gain() -> None:
    one = _voice(120.0, 700.0)
    three = _voice(120.0, 700.0) + _voice(210.0, 1200.0, seed=1) + _voice(310.0, 2200.0, seed=2)
    v = voice_count_stats(one, SR)
    assert v.shape == (DIM,) and v.dtype == np.float32 and np.isfinite(v).all()
    np.testing.assert_array_equal(v, voice_count_stats(one, SR))
    np.testing.assert_allclose(voice_count_stats(0.3 * one, SR), v, atol=1e-3)
    batch = voice_count_stats_batch([one, three, one[: SR // 2]], SR)
    np.testing.assert_allclose(batch[0], v, atol=1e-4)
    np.testing.assert_allclose(batch[1], voice_count_stats(three, SR), atol=1e-4)
    # a mixture of three voices is described differently from one voice
    assert np.abs(batch[1] - v).max() > 0.05


@needs_weights
def test_silence_short_and_resampled_input() -> None:
    silent = voice_count_stats(np.zeros(SR, np.float32), SR)
    assert np.isfinite(silent).all()
    windows = slice(SET_DIM + COUNTS.start, SET_DIM + COUNTS.stop)
    assert silent[windows].tolist() == [1.0] * len(THRESHOLDS)
    short = voice_count_stats(_voice(150.0, 800.0, seconds=0.1), SR)
    assert short.shape == (DIM,) and np.isfinite(short).all()
    at_8k = voice_count_stats(_voice(150.0, 800.0)[::2], 8_000)
    assert at_8k.shape == (DIM,) and np.isfinite(at_8k).all()
    with pytest.raises(ValueError, match="mono"):
        voice_count_stats(np.zeros((2, SR), np.float32), SR)
