"""Turn decoded audio into what a model takes: the waveform itself, or a fixed vector.

Training and inference both go through here, so a served model sees exactly the input
it was trained on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

VectorFn = Callable[[np.ndarray, int], np.ndarray]


def vector_function(kind: str) -> VectorFn:
    """The feature function of a vector input kind (``handcrafted``, ``pooled``, or the
    openSMILE functionals ``compare`` and ``egemaps``)."""
    from audioclf.features.handcrafted import issa_features, pooled_stats
    from audioclf.features.smile import compare_functionals, egemaps_functionals

    functions: dict[str, VectorFn] = {
        "handcrafted": issa_features,
        "pooled": pooled_stats,
        "compare": compare_functionals,
        "egemaps": egemaps_functionals,
    }
    if kind not in functions:
        raise ValueError(f"input kind {kind!r} is not a feature vector ({sorted(functions)})")
    return functions[kind]


def vectors(kind: str, waves: Sequence[np.ndarray], sample_rate: int) -> np.ndarray:
    """Stack the feature vectors of ``waves`` into ``(n, dim)`` float32."""
    fn = vector_function(kind)
    return np.stack([fn(np.asarray(y, dtype=np.float32), sample_rate) for y in waves]).astype(
        np.float32
    )
