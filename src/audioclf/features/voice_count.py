"""How many distinct voices a clip holds, described with a pretrained voice encoder.

The voice encoder (:mod:`audioclf.features.voice_encoder`, Resemblyzer's GE2E LSTM) was
trained to map speech to one point per speaker. Its embedding is the last LSTM layer's
state through a linear layer and a ReLU, scaled to unit length. This module reads two
sets of such embeddings from a clip and summarises how spread out, and how clustered,
each set is:

- *frame embeddings*: the embedding of the running state at every 10 ms frame of one
  pass over the clip (after :data:`WARMUP_FRAMES`), so the point moves as whichever voice
  dominates changes;
- *window embeddings*: the embedding at the end of each :data:`WINDOW_FRAMES` window
  (400 ms, every :data:`HOP_FRAMES` = 160 ms), each window run from a fresh state —
  Resemblyzer's partial embeddings, shortened to the length of a counting clip.

Each set becomes :data:`SET_DIM` statistics (:func:`cluster_stats`): the leading
eigenvalues of its cosine-similarity matrix as fractions of their sum (the spectrum whose
largest gap spectral-clustering diarisation reads as the number of speakers) and that
eigengap count, the number of clusters average-linkage agglomerative clustering leaves at
each cosine distance of :data:`THRESHOLDS`, and dispersion (mean and spread of pairwise
similarity, length of the mean embedding, mean and least similarity to the centroid).
The vector (:data:`DIM` values) is those two blocks, then the mean and standard deviation
of the frame embeddings.

The statistics are written here with numpy and scipy's hierarchical clustering: they are
a few lines over a matrix of at most a few hundred rows, and no library computes this
particular summary. A clip is prepared as the voice encoder prepares it (16 kHz, -30 dBFS,
padded with silence to :data:`~audioclf.features.voice_encoder.MIN_SECONDS`); silence gives
identical window embeddings (one cluster) and finite statistics.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
from scipy.cluster.hierarchy import linkage

from audioclf.features.voice_encoder import (
    HIDDEN,
    encoder_input,
    length_groups,
    run_layers,
    weights_file,
)

WARMUP_FRAMES = 10
"""Frames (10 ms each) at the start of a pass whose state has heard too little to count."""
WINDOW_FRAMES = 40
"""Frames in a window embedding: 400 ms."""
HOP_FRAMES = 16
"""Frames between window starts: 160 ms."""
N_EIGEN = 8
"""Leading eigenvalues kept (zero-padded when a set has fewer points)."""
THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
"""Cosine distances at which the agglomerative clusters are counted."""
MIN_SHARE = 0.01
"""Least share of the eigenvalue sum an eigenvalue needs to count as a voice."""
N_DISPERSION = 5
SET_DIM = N_EIGEN + 1 + len(THRESHOLDS) + N_DISPERSION
DIM = 2 * SET_DIM + 2 * HIDDEN
_EPS = 1e-8

_projection: list[tuple[np.ndarray, np.ndarray]] = []
_lock = threading.Lock()


def _linear() -> tuple[np.ndarray, np.ndarray]:
    """The encoder's output layer (weight ``(256, 256)``, bias ``(256,)``), read once."""
    with _lock:
        if not _projection:
            import torch

            state = torch.load(weights_file(), map_location="cpu", weights_only=True)
            state = state.get("model_state", state)
            weight = state["linear.weight"].numpy().astype(np.float32)
            bias = state["linear.bias"].numpy().astype(np.float32)
            _projection.append((weight, bias))
        return _projection[0]


def embed(states: np.ndarray) -> np.ndarray:
    """Unit-length speaker embeddings of last-layer LSTM states ``(n, 256)``: ReLU of the
    encoder's linear layer, scaled to length one (an all-zero row stays zero)."""
    weight, bias = _linear()
    out = np.maximum(states @ weight.T + bias, 0.0)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return (out / np.maximum(norms, _EPS)).astype(np.float32)


def _eigen_stats(points: np.ndarray) -> list[float]:
    """Leading eigenvalues of the similarity matrix as fractions of their sum, and the
    index (1-based) of the largest ratio between consecutive ones."""
    values = np.linalg.eigvalsh(points.astype(np.float64) @ points.T.astype(np.float64))
    values = np.clip(values[::-1], 0.0, None)[:N_EIGEN]
    share = values / max(float(values.sum()), _EPS)
    share = np.pad(share, (0, N_EIGEN - len(share)))
    return [*share.tolist(), float(eigengap_count(share))]


def eigengap_count(share: np.ndarray) -> int:
    """The eigengap heuristic on eigenvalue shares sorted in descending order: the ``k``
    after which the ratio ``share[k-1] / share[k]`` is largest, among the eigenvalues
    holding at least :data:`MIN_SHARE` of the sum (smaller ones are noise)."""
    m = max(1, int(np.sum(share >= MIN_SHARE)))
    if m >= len(share):
        m = len(share) - 1
    ratios = share[:m] / np.maximum(share[1 : m + 1], MIN_SHARE / 10)
    return int(np.argmax(ratios)) + 1


def _cluster_counts(points: np.ndarray) -> list[float]:
    """Clusters left by average-linkage agglomerative clustering (cosine distance) at
    each of :data:`THRESHOLDS`: the points less the merges at or below the threshold
    (average linkage never merges below an earlier merge, so this is what cutting the
    tree there leaves)."""
    if len(points) < 2:
        return [1.0] * len(THRESHOLDS)
    distances = np.clip(1.0 - points.astype(np.float64) @ points.T.astype(np.float64), 0, 2)
    condensed = distances[np.triu_indices(len(points), k=1)]
    heights = linkage(condensed, method="average")[:, 2]
    merged = np.searchsorted(heights, THRESHOLDS, side="right")
    return [float(len(points) - m) for m in merged]


def _dispersion(points: np.ndarray) -> list[float]:
    """Mean and standard deviation of pairwise cosine similarity, the mean embedding's
    length, and the mean and least similarity to the (unit) centroid."""
    similarity = points @ points.T
    pairs = similarity[np.triu_indices(len(points), k=1)] if len(points) > 1 else np.ones(1)
    centroid = points.mean(axis=0)
    length = float(np.linalg.norm(centroid))
    to_centroid = points @ (centroid / max(length, _EPS))
    return [
        float(pairs.mean()),
        float(pairs.std()),
        length,
        float(to_centroid.mean()),
        float(to_centroid.min()),
    ]


def cluster_stats(points: np.ndarray) -> np.ndarray:
    """:data:`SET_DIM` statistics of how many groups the unit vectors ``points``
    ``(n, d)`` form (see the module docstring); ``n`` must be at least 1."""
    if points.ndim != 2 or len(points) == 0:
        raise ValueError(f"cluster_stats needs (n >= 1, dim) points, got shape {points.shape}")
    stats = [*_eigen_stats(points), *_cluster_counts(points), *_dispersion(points)]
    return np.nan_to_num(np.asarray(stats, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)


def window_starts(n_frames: int) -> list[int]:
    """Start frames of the windows of a clip of ``n_frames`` frames: every
    :data:`HOP_FRAMES`, the last ending at the clip's end; one window (the whole clip)
    when it is shorter than :data:`WINDOW_FRAMES`."""
    if n_frames <= WINDOW_FRAMES:
        return [0]
    starts = list(range(0, n_frames - WINDOW_FRAMES + 1, HOP_FRAMES))
    if starts[-1] != n_frames - WINDOW_FRAMES:
        starts.append(n_frames - WINDOW_FRAMES)
    return starts


def _outputs_last_layer(mels: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The last LSTM layer's states of each spectrogram, run in batches of similar
    length."""
    out: list[np.ndarray] = [np.empty((0, HIDDEN), np.float32)] * len(mels)
    for group in length_groups([len(mel) for mel in mels]):
        for i, outputs in zip(group, run_layers([mels[i] for i in group]), strict=True):
            out[i] = outputs[-1]
    return out


def _vector(frames: np.ndarray, window_ends: np.ndarray) -> np.ndarray:
    """The clip vector from its last-layer states ``frames`` and the window-end states."""
    frame_points = embed(frames[min(WARMUP_FRAMES, len(frames) - 1) :])
    window_points = embed(window_ends)
    return np.concatenate(
        [
            cluster_stats(frame_points),
            cluster_stats(window_points),
            frame_points.mean(axis=0),
            frame_points.std(axis=0),
        ]
    ).astype(np.float32)


def voice_count_stats_batch(waves: Sequence[np.ndarray], sr: int) -> list[np.ndarray]:
    """:func:`voice_count_stats` of each waveform, the clips' passes and their windows run
    through the LSTM in shared batches."""
    mels = [encoder_input(y, sr) for y in waves]
    spans: list[tuple[int, int]] = []
    sequences: list[np.ndarray] = list(mels)
    for mel in mels:
        first = len(sequences)
        sequences += [mel[s : s + WINDOW_FRAMES] for s in window_starts(len(mel))]
        spans.append((first, len(sequences)))
    states = _outputs_last_layer(sequences)
    return [
        _vector(states[i], np.stack([states[j][-1] for j in range(*spans[i])]))
        for i in range(len(mels))
    ]


def voice_count_stats(y: np.ndarray, sr: int) -> np.ndarray:
    """The ``(DIM,)`` float32 vector describing how many voices the mono waveform ``y``
    holds (see the module docstring)."""
    return voice_count_stats_batch([y], sr)[0]
