"""A clip's feature vector through the cache: the same as from its waveform, computed once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from audioclf.features import cached_vectors
from audioclf.features.cache import FeatureCache
from audioclf.features.cached_vectors import clip_vectors, vector_parts
from audioclf.features.handcrafted import POOLED_DIM
from audioclf.features.inputs import vectors
from audioclf.formats.manifest import read_manifest
from tests.corpus_factory import make_corpus

SR = 16_000


def test_parts_put_the_clip_itself_first_and_key_only_the_speeds() -> None:
    parts = vector_parts("compare+pooled", [0.9])
    assert [(name, params) for name, params, _ in parts] == [
        ("compare", {}),
        ("pooled", {}),
        ("compare", {"speed": 0.9}),
        ("pooled", {"speed": 0.9}),
    ]


def test_whisper_vectors_are_keyed_on_the_states_they_pool() -> None:
    states = list(cached_vectors.WHISPER_STATES)
    assert [params for _, params, _ in vector_parts("whisper", [0.9])] == [
        {"states": states},
        {"states": states, "speed": 0.9},
    ]


@pytest.mark.parametrize("speeds", [[], [0.9, 1.1]])
def test_cached_vectors_equal_the_waveform_path_and_are_computed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, speeds: list[float]
) -> None:
    clips = list(read_manifest(make_corpus(tmp_path, speakers=2, per_class=2)))
    cache = FeatureCache()
    waves = [cache.load(clip, SR) for clip in clips]
    first = clip_vectors(clips, "pooled", SR, speeds, cache)
    np.testing.assert_allclose(first, vectors("pooled", waves, SR, speeds), rtol=1e-5, atol=1e-5)
    assert first.shape == (len(clips), POOLED_DIM * (1 + len(speeds)))

    def failing(part: str) -> Callable[[np.ndarray, int], np.ndarray]:
        def compute(y: np.ndarray, sample_rate: int) -> np.ndarray:
            raise AssertionError(f"{part} computed again")

        return compute

    monkeypatch.setattr(cached_vectors, "vector_function", failing)
    np.testing.assert_array_equal(clip_vectors(clips, "pooled", SR, speeds, cache), first)
