"""Sources of a speaker-count mixture: decoded utterances, their voiced windows, speaker pools.

Every source utterance is decoded once (16 kHz mono, through :func:`audioclf.audio.load`)
and kept in memory with the start samples of its mostly-voiced windows, found with the
project's voice-activity helper (:func:`audioclf.features.vad.voiced_regions`:
silero-vad or an energy gate). Speakers are split into disjoint train/val/test pools
*before* any mixing, stratified by gender, so test mixtures hold only unseen voices.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audioclf.audio import AudioError, load
from audioclf.console import track
from audioclf.features.vad import VadMethod, voiced_regions
from audioclf.formats.manifest import Manifest, SkippedFile

POOLS = ("train", "val", "test")
FRAME_SECONDS = 0.01


class MixError(ValueError):
    """A mixture cannot be made as asked; the message names the option or file to change."""


@dataclass(frozen=True)
class Utterance:
    """One decoded source clip and where a window of the mixture length is mostly voiced."""

    id: str
    speaker: str
    gender: str | None
    audio: np.ndarray
    starts: np.ndarray  # candidate start samples of voiced windows


def voiced_starts(
    y: np.ndarray, sr: int, length: int, *, vad: VadMethod, min_voiced: float = 0.6
) -> np.ndarray:
    """Start samples (10 ms grid) of windows of ``length`` samples that are at least
    ``min_voiced`` voiced; a clip shorter than the window offers start 0 when voiced."""
    regions = voiced_regions(y, sr, method=vad)
    frame = max(1, round(FRAME_SECONDS * sr))
    n_frames = max(1, int(np.ceil(len(y) / frame)))
    mask = np.zeros(n_frames, dtype=np.float64)
    for start, end in regions:
        mask[int(start * sr) // frame : int(np.ceil(end * sr / frame))] = 1.0
    win = max(1, length // frame)
    if n_frames <= win:
        return np.array([0] if mask.mean() * n_frames / win >= min_voiced else [], dtype=np.int64)
    csum = np.concatenate([[0.0], np.cumsum(mask)])
    fraction = (csum[win:] - csum[:-win]) / win
    good = np.flatnonzero(fraction >= min_voiced)
    return (good * frame).astype(np.int64)


def load_utterances(
    manifest: Manifest,
    *,
    sample_rate: int,
    length: int,
    vad: VadMethod,
    progress: bool = True,
) -> tuple[list[Utterance], list[SkippedFile]]:
    """Decode every clip with a speaker once and find its voiced windows; clips without a
    speaker, unreadable or without a voiced window are reported and skipped."""
    utterances: list[Utterance] = []
    skipped: list[SkippedFile] = []
    for clip in track(manifest, "decoding sources", enabled=progress):
        if not clip.speaker:
            skipped.append(SkippedFile(clip.path, "no speaker id: mixing needs one"))
            continue
        try:
            y = load(clip.path, sample_rate)
        except (AudioError, FileNotFoundError) as err:
            skipped.append(SkippedFile(clip.path, str(err)))
            continue
        starts = voiced_starts(y, sample_rate, length, vad=vad)
        if len(starts) == 0:
            skipped.append(SkippedFile(clip.path, f"no voiced {length / sample_rate:g} s"))
            continue
        utterances.append(Utterance(clip.id, clip.speaker, clip.gender, y, starts))
    return utterances, skipped


def split_speakers(
    utterances: Sequence[Utterance], fractions: Sequence[float], seed: int
) -> dict[str, list[str]]:
    """Disjoint speaker pools (train, val, test) in the given fractions, stratified by
    gender; every pool with a positive fraction gets at least one speaker."""
    gender: dict[str, str] = {}
    for utt in utterances:
        gender[utt.speaker] = utt.gender or "unknown"
    by_gender: dict[str, list[str]] = defaultdict(list)
    for speaker in sorted(gender):
        by_gender[gender[speaker]].append(speaker)
    rng = np.random.default_rng([seed, 1])
    pools: dict[str, list[str]] = {name: [] for name in POOLS}
    fr = np.asarray(fractions, dtype=float) / float(sum(fractions))
    for group in sorted(by_gender):
        speakers = list(rng.permutation(by_gender[group]))
        cuts = np.round(np.cumsum(fr) * len(speakers)).astype(int)
        for name, lo, hi in zip(POOLS, [0, *cuts[:-1]], cuts, strict=True):
            pools[name].extend(str(s) for s in speakers[lo:hi])
    # A pool asked for but left empty by rounding borrows one speaker from train.
    for name, f in zip(POOLS, fr, strict=True):
        if f > 0 and not pools[name] and len(pools["train"]) > 1:
            pools[name].append(pools["train"].pop())
    return {name: sorted(speakers) for name, speakers in pools.items()}


def by_speaker(utterances: Sequence[Utterance]) -> dict[str, list[Utterance]]:
    """Utterances grouped by speaker."""
    groups: dict[str, list[Utterance]] = defaultdict(list)
    for utt in utterances:
        groups[utt.speaker].append(utt)
    return dict(groups)


def load_noises(noise_dir: Path, sample_rate: int, length: int) -> list[np.ndarray]:
    """Every readable audio file under ``noise_dir``, decoded once and at least ``length``
    samples long (shorter ones are tiled)."""
    if not noise_dir.is_dir():
        raise MixError(f"--noise-dir {noise_dir}: no such folder")
    noises: list[np.ndarray] = []
    for path in sorted(p for p in noise_dir.rglob("*") if p.is_file()):
        try:
            y = load(path, sample_rate)
        except (AudioError, FileNotFoundError):
            continue
        if len(y) == 0 or not np.any(y):
            continue
        if len(y) < length:
            y = np.tile(y, int(np.ceil(length / len(y))))
        noises.append(y.astype(np.float32))
    if not noises:
        raise MixError(f"--noise-dir {noise_dir}: no readable, non-silent audio files in it")
    return noises
