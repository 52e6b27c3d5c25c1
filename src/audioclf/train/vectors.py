"""Feature-vector splits (hand-crafted / pooled statistics), cached per clip."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from audioclf.audio import AudioError
from audioclf.features.cache import FeatureCache, map_readable
from audioclf.features.cached_vectors import Part, clip_vector, vector_parts
from audioclf.formats.manifest import Clip, Manifest, SkippedFile
from audioclf.train.data import LoadedSplit
from audioclf.train.noise_views import NoiseViews


def load_vectors(
    manifest: Manifest,
    labels: Sequence[str],
    sample_rate: int,
    kind: str,
    *,
    cache: FeatureCache | None = None,
    progress: bool = True,
    description: str = "features",
    speeds: Sequence[float] = (),
    noise: NoiseViews | None = None,
) -> LoadedSplit:
    """One feature vector per readable clip (computed once, then read from the cache).

    A composite kind (``compare+pooled``) caches each part on its own, so it shares the
    cache with runs of the single kinds. With ``speeds``, the vector is the clip's own
    followed by the clip's at each speed (as :func:`audioclf.features.inputs.vectors`);
    each speed is cached on its own, the clip itself under the key runs without speeds use.
    With ``noise``, the clip's noisy views follow (training examples only).
    """
    cache = cache or FeatureCache()
    parts = vector_parts(kind, speeds)
    index = {label: i for i, label in enumerate(labels)}
    clips: list[Clip] = []
    rows: list[np.ndarray] = []
    targets: list[int] = []
    skipped: list[SkippedFile] = []
    items = list(manifest)
    results = map_readable(
        lambda clip: _row(clip, parts, kind, sample_rate, cache, noise),
        items,
        description=description,
        progress=progress,
    )
    for clip, result in zip(items, results, strict=True):
        if isinstance(result, AudioError):
            skipped.append(SkippedFile(clip.path, str(result)))
            continue
        clips.append(clip)
        rows.append(result)
        targets.append(index.get(clip.label, -1))
    return LoadedSplit(clips, rows, np.array(targets, dtype=np.int64), skipped)


def _row(
    clip: Clip,
    parts: Sequence[Part],
    kind: str,
    sample_rate: int,
    cache: FeatureCache,
    noise: NoiseViews | None,
) -> np.ndarray:
    """A clip's training row: its views, then its noisy views when there are any."""
    clean = clip_vector(clip, parts, sample_rate, cache)
    if noise is None:
        return clean
    return np.concatenate([clean, *noise.blocks(clip, kind)]).astype(np.float32)
