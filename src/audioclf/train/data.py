"""Training data in memory: decoded clips (through the disk cache), targets, batches.

The corpora audioclf targets fit in memory at 16 kHz (RAVDESS speech: ~340 MB as
float32), so every split is decoded once — from the cache after the first run — and
batches are cut from RAM: random fixed-length crops for training, overlapping crops
covering the whole clip for evaluation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from audioclf.audio import AudioError
from audioclf.features.cache import FeatureCache
from audioclf.features.crops import eval_crops, random_crop
from audioclf.formats.manifest import Clip, Manifest, SkippedFile

Augment = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]


@dataclass
class LoadedSplit:
    """Readable clips of one split, their waveforms and class indices (-1 = unknown)."""

    clips: list[Clip]
    waves: list[np.ndarray]
    targets: np.ndarray
    skipped: list[SkippedFile] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.clips)


def load_split(
    manifest: Manifest,
    labels: Sequence[str],
    sample_rate: int,
    *,
    cache: FeatureCache | None = None,
    progress: bool = True,
    description: str = "decoding",
    max_seconds: float | None = None,
) -> LoadedSplit:
    """Decode every clip (cached); unreadable clips, and clips longer than
    ``max_seconds``, are reported in ``skipped``."""
    cache = cache or FeatureCache()
    index = {label: i for i, label in enumerate(labels)}
    results = cache.load_many(
        list(manifest), sample_rate, progress=progress, description=description
    )
    clips: list[Clip] = []
    waves: list[np.ndarray] = []
    targets: list[int] = []
    skipped: list[SkippedFile] = []
    for clip, result in zip(manifest, results, strict=True):
        if isinstance(result, AudioError):
            skipped.append(SkippedFile(clip.path, str(result)))
            continue
        if max_seconds is not None and len(result) > max_seconds * sample_rate:
            seconds = len(result) / sample_rate
            reason = f"{seconds:.0f} s is longer than max_seconds={max_seconds:g}"
            skipped.append(SkippedFile(clip.path, reason))
            continue
        clips.append(clip)
        waves.append(result)
        targets.append(index.get(clip.label, -1))
    return LoadedSplit(clips, waves, np.array(targets, dtype=np.int64), skipped)


def class_weights(targets: np.ndarray, n_classes: int) -> torch.Tensor:
    """Inverse-frequency weights normalised to mean 1 (absent classes get weight 0)."""
    counts = np.bincount(targets[targets >= 0], minlength=n_classes).astype(np.float64)
    weights = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / n_classes, 0.0)
    present = weights > 0
    weights[present] /= weights[present].mean()
    return torch.tensor(weights, dtype=torch.float32)


def train_batches(
    split: LoadedSplit,
    batch_size: int,
    n_samples: int,
    sample_rate: int,
    rng: np.random.Generator,
    augment: Augment | None = None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """One epoch of shuffled (waveform crops, targets) batches; the last partial batch
    is kept when it has at least two clips (BatchNorm needs two)."""
    order = rng.permutation(len(split))
    for start in range(0, len(order), batch_size):
        chosen = order[start : start + batch_size]
        if len(chosen) < 2 and start > 0:
            break
        crops = []
        for i in chosen:
            y = random_crop(split.waves[i], n_samples, rng)
            if augment is not None:
                y = augment(y, sample_rate, rng)
                y = random_crop(np.asarray(y, dtype=np.float32), n_samples, rng)
            crops.append(y)
        x = torch.from_numpy(np.stack(crops).astype(np.float32, copy=False))
        yield x, torch.from_numpy(split.targets[chosen])


@torch.no_grad()
def predict_split(
    forward: Callable[[torch.Tensor], torch.Tensor],
    waves: Sequence[np.ndarray],
    n_samples: int,
    *,
    hop: float = 0.5,
    batch_size: int = 64,
) -> np.ndarray:
    """Class probabilities per clip: softmax averaged over crops covering the clip."""
    crops: list[np.ndarray] = []
    owner: list[int] = []
    for i, y in enumerate(waves):
        c = eval_crops(y, n_samples, hop=hop)
        crops.extend(c)
        owner.extend([i] * len(c))
    if not crops:
        return np.zeros((0, 0), dtype=np.float32)
    probs: list[np.ndarray] = []
    for start in range(0, len(crops), batch_size):
        x = torch.from_numpy(np.stack(crops[start : start + batch_size]).astype(np.float32))
        probs.append(torch.softmax(forward(x), dim=-1).numpy())
    all_probs = np.concatenate(probs)
    owners = np.asarray(owner)
    out = np.zeros((len(waves), all_probs.shape[1]), dtype=np.float64)
    np.add.at(out, owners, all_probs)
    out /= np.bincount(owners, minlength=len(waves))[:, None]
    return out.astype(np.float32)
