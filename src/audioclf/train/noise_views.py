"""Noisy views of the training clips for the classical models: robustness training.

A classical model sees a clip's feature vector, so waveform augmentation has to happen
before the features: every training and validation clip gets one extra view per
template of ``noise_views`` (``noise=pink,snr=0..20``, ``noise=babble,snr=0..20``), the
clip corrupted as :mod:`audioclf.augment.perturb` corrupts test clips, with its own
value drawn from each range (:class:`~audioclf.augment.ranges.SpecTemplate`). The views
are training examples only (:class:`~audioclf.models.multiview.MultiView`'s
``train_only``): held-out estimates and serving score the clean clip, so they measure
what a user's clean recording gets.

Babble is the sum of other training speakers' clips (a fixed sample of at most
:data:`MAX_TALKERS`, never the clip's own speaker). Each view's features are cached
under the template, the seed and the talkers' identity, so a second run with the same
split computes none of them again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from audioclf.audio import AudioError
from audioclf.augment.perturb import TalkerPool, perturb_clips
from audioclf.augment.ranges import SpecTemplate
from audioclf.console import console
from audioclf.features.cache import FeatureCache
from audioclf.features.inputs import input_parts, vector_function
from audioclf.formats.manifest import Clip

MAX_TALKERS = 256
"""Training clips decoded at most to make babble from (a fixed sample by id)."""


@dataclass(frozen=True)
class NoiseViews:
    """The noisy views of a run's clips: ``templates`` drawn per clip with ``seed``,
    babble from ``talkers`` (the training clips)."""

    templates: Sequence[SpecTemplate]
    talkers: Sequence[Clip]
    sample_rate: int
    cache: FeatureCache
    seed: int = 0

    @cached_property
    def _sample(self) -> list[Clip]:
        ordered = sorted(self.talkers, key=lambda clip: _digest(clip.id))
        return ordered[:MAX_TALKERS]

    @cached_property
    def _pool_key(self) -> str:
        """The talkers' identity, part of every babble view's cache key."""
        names = "\n".join(f"{clip.id}\t{clip.path}" for clip in self._sample)
        return _digest(names)

    @cached_property
    def _pool(self) -> TalkerPool:
        """The talkers decoded (only when a babble view must be computed)."""
        waves, kept = [], []
        for clip in self._sample:
            try:
                waves.append(self.cache.load(clip, self.sample_rate))
            except AudioError:  # an unreadable clip is skipped, as training skips it
                continue
            kept.append(clip)
        return TalkerPool(waves, [c.speaker for c in kept], [c.id for c in kept])

    def blocks(self, clip: Clip, kind: str) -> list[np.ndarray]:
        """The clip's noisy views of ``kind`` (each part of a composite kind in order),
        one block per template and part, computed once and then read from the cache."""
        out = []
        for template in self.templates:
            for part in input_parts(kind):
                params: dict[str, Any] = {"noise_view": template.text, "seed": self.seed}
                if template.babbles:
                    params["talkers"] = self._pool_key
                compute = self._noisy(clip, template, vector_function(part))
                out.append(self.cache.features(clip, part, params, compute, self.sample_rate))
        return out

    def _noisy(
        self, clip: Clip, template: SpecTemplate, fn: Callable[[np.ndarray, int], np.ndarray]
    ) -> Callable[[np.ndarray, int], np.ndarray]:
        def compute(y: np.ndarray, sr: int) -> np.ndarray:
            talkers = self._pool if template.babbles else None
            (noisy,) = perturb_clips(
                template.draw(clip.id, self.seed),
                [y],
                sr,
                ids=[clip.id],
                speakers=[clip.speaker],
                seed=self.seed,
                talkers=talkers,
            )
            return fn(noisy, sr)

        return compute


def noise_views(
    texts: Sequence[str],
    talkers: Sequence[Clip],
    sample_rate: int,
    cache: FeatureCache,
    seed: int = 0,
) -> NoiseViews | None:
    """The run's noise views (None when it asks for none). Babble needs talkers of at
    least two speakers (a clip's own voice is never its babble); without them the babble
    templates are left out, and the console says so."""
    templates = [SpecTemplate(text) for text in texts]
    speakers = {clip.speaker or clip.id for clip in talkers}
    if len(speakers) < 2:
        dropped = [t.text for t in templates if t.babbles]
        if dropped:
            console.print(
                f"[yellow]note:[/] no babble views ({', '.join(dropped)}): the training "
                "clips have one speaker, and a clip's own voice is not babble",
                highlight=False,
            )
        templates = [t for t in templates if not t.babbles]
    if not templates:
        return None
    return NoiseViews(templates, talkers, sample_rate, cache, seed)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
