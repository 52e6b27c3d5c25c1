"""Feature-vector splits (hand-crafted / pooled statistics), cached per clip."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from audioclf.audio import AudioError
from audioclf.console import track
from audioclf.data.manifest import Clip, Manifest, SkippedFile
from audioclf.features.cache import FeatureCache
from audioclf.features.inputs import input_parts, vector_function
from audioclf.train.data import LoadedSplit


def load_vectors(
    manifest: Manifest,
    labels: Sequence[str],
    sample_rate: int,
    kind: str,
    *,
    cache: FeatureCache | None = None,
    progress: bool = True,
    description: str = "features",
) -> LoadedSplit:
    """One feature vector per readable clip (computed once, then read from the cache).

    A composite kind (``compare+pooled``) caches each part on its own, so it shares the
    cache with runs of the single kinds.
    """
    cache = cache or FeatureCache()
    parts = [(part, vector_function(part)) for part in input_parts(kind)]
    index = {label: i for i, label in enumerate(labels)}
    clips: list[Clip] = []
    rows: list[np.ndarray] = []
    targets: list[int] = []
    skipped: list[SkippedFile] = []
    for clip in track(list(manifest), description=description, enabled=progress):
        try:
            vector = np.concatenate(
                [cache.features(clip, part, {}, fn, sample_rate) for part, fn in parts]
            )
        except AudioError as err:
            skipped.append(SkippedFile(clip.path, str(err)))
            continue
        clips.append(clip)
        rows.append(np.asarray(vector, dtype=np.float32))
        targets.append(index.get(clip.label, -1))
    return LoadedSplit(clips, rows, np.array(targets, dtype=np.int64), skipped)
