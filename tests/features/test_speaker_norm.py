"""Per-speaker standardisation: statistics per speaker, clear errors, serving refusal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from audioclf.features.speaker_norm import (
    STATS_FILE,
    NormStats,
    RunningStats,
    SpeakerNormError,
    check_servable,
    standardise_per_speaker,
)


def test_each_speaker_standardised_with_its_own_statistics() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(5.0, 2.0, (30, 4))
    b = rng.normal(-3.0, 0.5, (20, 4))
    x = np.concatenate([a, b])
    speakers = ["a"] * 30 + ["b"] * 20
    z = standardise_per_speaker(x, speakers)
    for rows in (slice(0, 30), slice(30, 50)):
        np.testing.assert_allclose(z[rows].mean(axis=0), 0.0, atol=1e-5)
        np.testing.assert_allclose(z[rows].std(axis=0), 1.0, atol=1e-4)
    # speaker b alone gives the same rows: nothing leaks between speakers
    np.testing.assert_allclose(standardise_per_speaker(b, ["b"] * 20), z[30:], atol=1e-6)


def test_constant_feature_becomes_zero() -> None:
    x = np.array([[1.0, 7.0], [3.0, 7.0]])
    z = standardise_per_speaker(x, ["s", "s"])
    np.testing.assert_allclose(z, [[-1.0, 0.0], [1.0, 0.0]], atol=1e-6)


def test_single_clip_speaker_uses_pooled_statistics() -> None:
    x = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 40.0]])
    z = standardise_per_speaker(x, ["a", "a", "lonely"])
    expected = (x[2] - x.mean(axis=0)) / x.std(axis=0)
    np.testing.assert_allclose(z[2], expected, atol=1e-5)
    assert np.abs(z[2]).sum() > 0


def test_errors() -> None:
    with pytest.raises(SpeakerNormError, match="1 of 2 clips have none"):
        standardise_per_speaker(np.zeros((2, 3)), ["s", None])
    with pytest.raises(SpeakerNormError, match="3 speakers"):
        standardise_per_speaker(np.zeros((2, 3)), ["s", "s", "t"])
    check_servable("run", False)
    check_servable("run", True, NormStats.of(np.ones((2, 3))))
    with pytest.raises(SpeakerNormError, match="train it again to serve it"):
        check_servable("run", True)


def test_running_statistics_equal_the_batch_ones() -> None:
    x = np.random.default_rng(2).normal(3.0, 4.0, (12, 5))
    running = RunningStats(5)
    for row in x:
        running.add(row)
    assert running.count == 12
    np.testing.assert_allclose(running.stats().mean, x.mean(axis=0))
    np.testing.assert_allclose(running.stats().std, x.std(axis=0))
    # the last clip standardised with its speaker's statistics, as a session does it
    online = running.stats().apply(x[-1:])
    np.testing.assert_allclose(online, standardise_per_speaker(x, ["s"] * 12)[-1:], atol=1e-6)
    with pytest.raises(SpeakerNormError, match="this session holds"):
        running.add(np.zeros(4))
    with pytest.raises(SpeakerNormError, match="no clips"):
        RunningStats(3).stats()


def test_training_statistics_round_trip(tmp_path: Path) -> None:
    assert NormStats.read(tmp_path) is None
    stats = NormStats.of(np.array([[1.0, 2.0], [3.0, 2.0]]))
    assert stats.write(tmp_path).name == STATS_FILE
    read = NormStats.read(tmp_path)
    assert read is not None
    np.testing.assert_allclose(read.mean, [2.0, 2.0])
    np.testing.assert_allclose(read.apply(np.array([[3.0, 2.0]])), [[1.0, 0.0]], atol=1e-6)
    with pytest.raises(SpeakerNormError, match="do not match"):
        read.apply(np.zeros((1, 3)))
    with pytest.raises(SpeakerNormError, match="rows of features"):
        NormStats.of(np.zeros((0, 2)))
