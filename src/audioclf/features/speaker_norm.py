"""Per-speaker standardisation of clip feature vectors.

Speaker normalisation (Schuller et al.; the usual protocol of the Interspeech
paralinguistics challenges) standardises every feature with the mean and standard
deviation over *that speaker's* clips, removing much of what separates voices rather
than emotions. It is transductive: the statistics of a test speaker come from that
speaker's own (unlabelled) test clips, so a model trained this way needs several clips
of a speaker at prediction time — `audioclf evaluate` can do that with a manifest.

A clip alone is standardised with the statistics of all training clips
(:class:`NormStats`, kept in the run folder as ``speaker_norm.json``): what such a run
does for a single clip of an unseen speaker. The server accumulates a speaker's own
statistics clip by clip (:class:`RunningStats`, Welford's update: mean and variance,
never the clips) for the requests of one session, and uses them once a session has
enough clips; the numbers equal :func:`standardise_per_speaker` over the same clips.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_EPS = 1e-8
MIN_CLIPS = 2
"""Speakers with fewer clips fall back to the statistics of all clips."""
STATS_FILE = "speaker_norm.json"
"""The training clips' statistics in a speaker-normalised run folder."""


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


def standardise(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Rows of ``x`` standardised with one mean and std, as :func:`standardise_per_speaker`
    does for one speaker (float32)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != len(mean):
        raise SpeakerNormError(
            f"features of shape {x.shape} do not match statistics of {len(mean)} features"
        )
    return ((x - mean) / (std + _EPS)).astype(np.float32)


@dataclass(frozen=True)
class NormStats:
    """The mean and standard deviation of every feature over a set of clips."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray) -> NormStats:
        """The statistics of the rows of ``x`` ``(n, dim)``."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or not len(x):
            raise SpeakerNormError(f"statistics need rows of features, got shape {x.shape}")
        return cls(x.mean(axis=0), x.std(axis=0))

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Rows of ``x`` standardised with these statistics."""
        return standardise(x, self.mean, self.std)

    def write(self, folder: str | Path) -> Path:
        """Save as ``folder/speaker_norm.json``."""
        path = Path(folder) / STATS_FILE
        data = {"mean": self.mean.tolist(), "std": self.std.tolist()}
        path.write_text(json.dumps(data), encoding="utf-8")
        return path

    @classmethod
    def read(cls, folder: str | Path) -> NormStats | None:
        """The statistics saved in ``folder`` (None when it has none)."""
        path = Path(folder) / STATS_FILE
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        mean, std = np.asarray(data["mean"], float), np.asarray(data["std"], float)
        if mean.shape != std.shape or mean.ndim != 1:
            raise SpeakerNormError(f"{path}: mean and std must be lists of one length")
        return cls(mean, std)


class RunningStats:
    """A speaker's feature mean and variance, updated one clip at a time (Welford).

    Keeps the count, the mean and the sum of squared deviations, never the clips; after
    the clips ``x1..xn`` :meth:`stats` equals :meth:`NormStats.of` of them (to rounding).
    """

    def __init__(self, dim: int) -> None:
        self.count = 0
        self.mean = np.zeros(dim, dtype=np.float64)
        self._m2 = np.zeros(dim, dtype=np.float64)

    def add(self, row: np.ndarray) -> None:
        """Fold one clip's feature vector into the statistics."""
        row = np.asarray(row, dtype=np.float64)
        if row.shape != self.mean.shape:
            raise SpeakerNormError(
                f"a feature vector of shape {row.shape}; this session holds {self.mean.shape}"
            )
        self.count += 1
        delta = row - self.mean
        self.mean += delta / self.count
        self._m2 += delta * (row - self.mean)

    def stats(self) -> NormStats:
        """The mean and (population) standard deviation of the clips added so far."""
        if not self.count:
            raise SpeakerNormError("no clips added yet")
        return NormStats(self.mean.copy(), np.sqrt(np.maximum(self._m2 / self.count, 0.0)))


def check_servable(run: object, speaker_norm: bool, stats: NormStats | None = None) -> None:
    """Refuse to serve a speaker-normalised run that has no training statistics (a run
    trained before they were kept): it could not standardise a clip alone."""
    if speaker_norm and stats is None:
        raise SpeakerNormError(
            f"{run}: trained with speaker_norm but has no {STATS_FILE} (the training "
            "clips' statistics a clip alone is standardised with); train it again to serve it"
        )
