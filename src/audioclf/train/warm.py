"""The features a set of runs will read, computed once over a manifest before they start.

On a cluster the folds of a cross-validation train at once, and every clip is in all
folds but one: with a cold feature cache each fold would decode and featurise the same
clips at the same time. Computed first over the whole manifest — sharded over every node
by :func:`audioclf.features.cache.map_readable` under the Ray executor — the folds find
them in the cache. The features are the ones training reads (the same functions, keys and
speed views), so a warm cache costs one read per clip here. Noise views
(train/noise_views.py) are left to the runs: babble is made from each run's own
training speakers, so a fold's views can only be computed once its split is known.
"""

from __future__ import annotations

from audioclf.console import console
from audioclf.features.cache import FeatureCache
from audioclf.formats.manifest import Manifest
from audioclf.models import model_info
from audioclf.train.auto.candidates import candidates
from audioclf.train.config import AUTO, TrainConfig
from audioclf.train.data import load_split
from audioclf.train.vectors import load_vectors

WAVEFORM = "waveform"


def inputs_of(config: TrainConfig) -> list[tuple[str, tuple[float, ...]]]:
    """``(input kind, speeds)`` of the model of ``config``, or of every candidate of an
    ``auto`` config (the classical ones at the config's speeds), each once."""
    models = [c.model for c in candidates(config)] if config.model == AUTO else [config.model]
    found: dict[tuple[str, tuple[float, ...]], None] = {}
    for name in models:
        info = model_info(name)
        speeds = tuple(config.speeds) if info.family == "classical" else ()
        found[(info.input, speeds)] = None
    return list(found)


def warm_cache(config: TrainConfig, manifest: Manifest, *, progress: bool = True) -> None:
    """Decode and featurise every clip of ``manifest`` as the runs of ``config`` will,
    into the feature cache (unreadable clips are left for the runs to report)."""
    cache = FeatureCache()
    for kind, speeds in inputs_of(config):
        description = f"warming the cache: {kind}"
        if kind == WAVEFORM:
            load_split(
                manifest,
                [],
                config.sample_rate,
                cache=cache,
                progress=progress,
                description=description,
            )
        else:
            load_vectors(
                manifest,
                [],
                config.sample_rate,
                kind,
                cache=cache,
                progress=progress,
                description=description,
                speeds=speeds,
            )
    console.print(f"feature cache warm for {len(manifest)} clips", highlight=False)
