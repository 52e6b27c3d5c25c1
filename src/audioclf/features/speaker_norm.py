"""Per-speaker standardisation of clip feature vectors.

Speaker normalisation (Schuller et al.; the usual protocol of the Interspeech
paralinguistics challenges) standardises every feature with the mean and standard
deviation over *that speaker's* clips, removing much of what separates voices rather
than emotions. It is transductive: the statistics of a test speaker come from that
speaker's own (unlabelled) test clips, so a model trained this way needs several clips
of a speaker at prediction time — `audioclf evaluate` can do that; the server, which
sees one clip at a time, cannot, and refuses such runs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_EPS = 1e-8
MIN_CLIPS = 2
"""Speakers with fewer clips fall back to the statistics of all clips."""


class SpeakerNormError(ValueError):
    """Speaker normalisation asked for where it cannot be applied."""


def standardise_per_speaker(x: np.ndarray, speakers: Sequence[str | None]) -> np.ndarray:
    """``x`` ``(n, dim)`` with each speaker's rows standardised by their own mean and std.

    A feature constant within a speaker becomes 0. Every row needs a speaker. A speaker
    with fewer than :data:`MIN_CLIPS` clips has no usable statistics of its own (one clip
    would become all zeros); those rows are standardised with the statistics of all rows.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) != len(speakers):
        raise SpeakerNormError(f"{len(speakers)} speakers for features of shape {x.shape}")
    missing = sum(1 for s in speakers if not s)
    if missing:
        raise SpeakerNormError(
            f"speaker normalisation needs the speaker of every clip; {missing} of "
            f"{len(speakers)} clips have none in the manifest"
        )
    out = np.empty_like(x)
    names = np.asarray([str(s) for s in speakers])
    pooled_mean, pooled_std = x.mean(axis=0), x.std(axis=0)
    for speaker in np.unique(names):
        rows = names == speaker
        part = x[rows]
        if len(part) >= MIN_CLIPS:
            out[rows] = (part - part.mean(axis=0)) / (part.std(axis=0) + _EPS)
        else:
            out[rows] = (part - pooled_mean) / (pooled_std + _EPS)
    return out.astype(np.float32)


def check_servable(run: object, speaker_norm: bool) -> None:
    """Refuse to serve a run trained with speaker normalisation (one clip at a time)."""
    if speaker_norm:
        raise SpeakerNormError(
            f"{run}: trained with speaker_norm (features standardised per speaker over "
            "several clips), so it cannot score one uploaded clip; serve a run trained "
            "without it"
        )
