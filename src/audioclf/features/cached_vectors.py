"""A clip's feature vector read through the :class:`~audioclf.features.cache.FeatureCache`.

Training (:func:`audioclf.train.vectors.load_vectors`) and scoring a manifest
(:meth:`audioclf.inference.predictor.Predictor.predict_clips`) both build a classical
model's vector here, so they compute the same thing and share the cache: the test clips a
run scored during training are not featurised again when ``audioclf evaluate`` or an
ensemble scores them (with speed views, ComParE and the voice encoder at three speeds
take about a third of a second a clip).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from audioclf.audio import AudioError
from audioclf.features.cache import FeatureCache, map_readable
from audioclf.features.inputs import input_parts, vector_function
from audioclf.features.speed import played_at, views
from audioclf.features.whisper_encoder import POOLED_LAYERS as WHISPER_STATES
from audioclf.formats.manifest import Clip

Part = tuple[str, dict[str, Any], Callable[[np.ndarray, int], np.ndarray]]


PART_PARAMS: dict[str, dict[str, Any]] = {"whisper": {"states": list(WHISPER_STATES)}}
"""Cache parameters of the parts whose definition has a setting that may change (the
Whisper hidden states pooled), so that vectors of another setting are not read back."""


def vector_parts(kind: str, speeds: Sequence[float] = ()) -> list[Part]:
    """``(part, cache parameters, function)`` for every block of a ``kind`` vector: each
    part of a composite kind (``compare+pooled``) at each speed view, the clip itself first
    and under the key runs without speeds use."""
    return [
        (part, _params(part, speed), played_at(vector_function(part), speed))
        for speed in views(speeds)
        for part in input_parts(kind)
    ]


def _params(part: str, speed: float) -> dict[str, Any]:
    return {**PART_PARAMS.get(part, {}), **({"speed": speed} if speed != 1.0 else {})}


def clip_vector(
    clip: Clip, parts: Sequence[Part], sample_rate: int, cache: FeatureCache
) -> np.ndarray:
    """The clip's vector (float32), its parts computed once and then read from ``cache``;
    raises :class:`~audioclf.audio.AudioError` for a clip that cannot be read."""
    blocks = [cache.features(clip, part, params, fn, sample_rate) for part, params, fn in parts]
    return np.asarray(np.concatenate(blocks), dtype=np.float32)


def clip_vectors(
    clips: Sequence[Clip],
    kind: str,
    sample_rate: int,
    speeds: Sequence[float] = (),
    cache: FeatureCache | None = None,
) -> np.ndarray:
    """``(len(clips), dim)`` vectors of ``clips`` (all readable) through ``cache``, two
    clips at a time; raises the AudioError of the first clip that cannot be read."""
    cache = cache or FeatureCache()
    parts = vector_parts(kind, speeds)
    results = map_readable(
        lambda clip: clip_vector(clip, parts, sample_rate, cache),
        clips,
        description="features",
        progress=False,
    )
    vectors = []
    for result in results:
        if isinstance(result, AudioError):
            raise result
        vectors.append(result)
    return np.stack(vectors)
