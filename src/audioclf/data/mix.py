"""Speaker-count mixtures: clips with k simultaneous speakers, built from a corpus of
single-speaker utterances (e.g. the ``librispeech`` recipe's manifest).

Each clip takes ``k`` different speakers of one pool (train, val or test: the pools are
disjoint and drawn before mixing, see :mod:`audioclf.data.mix_sources`), a random mostly-
voiced window of one of each speaker's utterances, and mixes them either by averaging
(every segment at the same RMS, as the speaker-count prototype did) or at random relative
levels within a dB range; background noise may be added at a random SNR. ``k = 0`` is a
clip of background only. The finished mixture is set to a random loudness (−30 to −15
dBFS RMS, never clipping), so loudness says nothing about the count.

Labels: ``label`` is the count as a string ("2") by default, or ``"2 speakers"`` with
``labels="words"`` for models served to people; both parse back to the count, so the
count's mean absolute error is computed either way. Rows also hold ``count``,
``speakers``, ``genders``, ``n_female``, ``n_male``, ``pool`` (and the same value as
``split``, so ``audioclf train --split fold`` uses the pools), ``sources``, ``levels_db``
and ``snr_db``. Classes are balanced within each pool, and every random draw of clip ``i``
comes from a generator seeded by (seed, pool, i): the same seed gives the same files.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import soundfile as sf

from audioclf.console import track
from audioclf.data.mix_sources import (
    POOLS,
    MixError,
    Utterance,
    by_speaker,
    load_noises,
    load_utterances,
    split_speakers,
)
from audioclf.features.vad import VadMethod
from audioclf.formats.atomic import atomic_path
from audioclf.formats.manifest import Clip, Manifest, SkippedFile, read_manifest, write_manifest

MixMode = Literal["average", "levels"]
LabelStyle = Literal["digits", "words"]
SAMPLE_RATE = 16_000
LOUDNESS_DB = (-30.0, -15.0)

__all__ = ["MixConfig", "MixError", "MixResult", "count_label", "make_mixtures", "parse_range"]


@dataclass(frozen=True)
class MixConfig:
    """Every setting of a mixture set (saved as ``mix.json`` beside the clips)."""

    speakers: tuple[int, int] = (1, 3)
    seconds: float = 1.0
    n: int = 20_000
    split_speakers: tuple[float, float, float] = (0.8, 0.1, 0.1)
    mode: MixMode = "average"
    level_db: tuple[float, float] = (-12.0, 0.0)
    snr_db: tuple[float, float] = (10.0, 30.0)
    noise_dir: str | None = None
    vad: VadMethod = "silero"
    labels: LabelStyle = "digits"
    seed: int = 0
    sample_rate: int = SAMPLE_RATE

    def check(self) -> MixConfig:
        """Reject impossible settings with the option to change."""
        lo, hi = self.speakers
        if lo < 0 or hi < lo:
            raise MixError(f"--speakers {lo}-{hi}: give MIN-MAX with 0 <= MIN <= MAX, e.g. 1-3")
        if not 0 < self.seconds <= 30:
            raise MixError(f"--seconds must be in (0, 30], got {self.seconds:g}")
        if self.n < 1:
            raise MixError(f"--n must be at least 1, got {self.n}")
        fr = self.split_speakers
        if len(fr) != 3 or min(fr) < 0 or fr[0] <= 0 or fr[2] <= 0:
            raise MixError(
                f"--split-speakers {','.join(f'{f:g}' for f in fr)}: give three fractions "
                "train,val,test (train and test > 0), e.g. 0.8,0.1,0.1"
            )
        if self.mode not in ("average", "levels"):
            raise MixError(f"--mode must be average or levels, not {self.mode!r}")
        if self.level_db[0] > self.level_db[1]:
            raise MixError(f"--level-db range {self.level_db} is empty")
        if self.snr_db[0] > self.snr_db[1]:
            raise MixError(f"--snr range {self.snr_db} is empty")
        if lo == 0 and self.noise_dir is None:
            raise MixError(
                "--speakers starting at 0 asks for background-only clips: give --noise-dir D "
                "(a folder of background recordings), or start at 1"
            )
        return self


@dataclass
class MixResult:
    """What :func:`make_mixtures` wrote."""

    out_dir: Path
    manifests: dict[str, Path]
    pools: dict[str, list[str]]
    counts: dict[str, dict[str, int]]
    skipped: list[SkippedFile] = field(default_factory=list)


_RANGE = re.compile(r"^\s*(-?\d+)\s*(?:-\s*(-?\d+)\s*)?$")


def parse_range(text: str, option: str = "--speakers") -> tuple[int, int]:
    """``"1-3"`` → (1, 3); ``"2"`` → (2, 2)."""
    match = _RANGE.match(text)
    if not match:
        raise MixError(f"{option} {text!r}: give MIN-MAX, e.g. 1-3 (or one number)")
    lo = int(match.group(1))
    hi = int(match.group(2)) if match.group(2) is not None else lo
    return lo, hi


def parse_floats(text: str, option: str, count: int) -> tuple[float, ...]:
    """``"0.8,0.1,0.1"`` → floats, exactly ``count`` of them."""
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != count:
        raise MixError(f"{option} {text!r}: give {count} comma-separated numbers")
    return values


def count_label(k: int, style: LabelStyle = "digits") -> str:
    """The label of a clip with ``k`` speakers: "2", or "2 speakers" / "1 speaker"."""
    if style == "digits":
        return str(k)
    return f"{k} speaker" if k == 1 else f"{k} speakers"


def _dbfs(y: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(y.astype(np.float64) ** 2) + 1e-12))


def _segment(utt: Utterance, rng: np.random.Generator, length: int) -> tuple[np.ndarray, int]:
    start = int(utt.starts[rng.integers(len(utt.starts))])
    seg = utt.audio[start : start + length]
    if len(seg) < length:
        seg = np.pad(seg, (0, length - len(seg)))
    return seg.astype(np.float64), start


def _one_clip(
    k: int,
    speakers: list[str],
    pool_utts: dict[str, list[Utterance]],
    noises: list[np.ndarray],
    config: MixConfig,
    rng: np.random.Generator,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Mix one clip of ``k`` speakers; returns the audio and its row metadata."""
    length = round(config.seconds * config.sample_rate)
    chosen = [speakers[i] for i in rng.choice(len(speakers), size=k, replace=False)]
    mix = np.zeros(length, dtype=np.float64)
    sources: list[dict[str, Any]] = []
    levels: list[float] = []
    genders: list[str | None] = []
    for speaker in chosen:
        utts = pool_utts[speaker]
        utt = utts[int(rng.integers(len(utts)))]
        seg, start = _segment(utt, rng, length)
        seg = seg / np.sqrt(np.mean(seg**2) + 1e-12)  # unit RMS
        level = 0.0 if config.mode == "average" else float(rng.uniform(*config.level_db))
        mix += seg * 10 ** (level / 20)
        levels.append(round(level, 3))
        genders.append(utt.gender)
        sources.append({"id": utt.id, "start": round(start / config.sample_rate, 3)})
    if k and config.mode == "average":
        mix /= k
    snr: float | None = None
    if noises:
        noise = noises[int(rng.integers(len(noises)))]
        offset = int(rng.integers(len(noise) - length + 1))
        piece = noise[offset : offset + length].astype(np.float64)
        piece /= np.sqrt(np.mean(piece**2) + 1e-12)
        if k:
            snr = float(rng.uniform(*config.snr_db))
            piece *= np.sqrt(np.mean(mix**2)) * 10 ** (-snr / 20)
        mix += piece
    target = float(rng.uniform(*LOUDNESS_DB))
    mix *= 10 ** ((target - _dbfs(mix)) / 20)
    peak = float(np.max(np.abs(mix)))
    if peak > 0.99:
        mix *= 0.99 / peak
    meta = {
        "count": k,
        "speakers": chosen,
        "genders": genders,
        "n_female": sum(g == "female" for g in genders),
        "n_male": sum(g == "male" for g in genders),
        "sources": sources,
        "levels_db": levels,
        "snr_db": None if snr is None else round(snr, 3),
        "mode": config.mode,
    }
    return mix.astype(np.float32), meta


def _pool_sizes(n: int, fractions: tuple[float, float, float]) -> dict[str, int]:
    fr = np.asarray(fractions) / sum(fractions)
    cuts = np.round(np.cumsum(fr) * n).astype(int)
    return {name: int(hi - lo) for name, lo, hi in zip(POOLS, [0, *cuts[:-1]], cuts, strict=True)}


def _check_settings_file(out_dir: Path, config: MixConfig, source: str) -> None:
    """Refuse to mix into a folder made with other settings; same settings resume."""
    settings = {"source": source, **asdict(config)}
    path = out_dir / "mix.json"
    if path.is_file():
        old = json.loads(path.read_text(encoding="utf-8"))
        if json.loads(json.dumps(settings)) != old:
            raise MixError(
                f"{out_dir} holds mixtures made with other settings (see {path}); choose "
                "another --out or delete that folder"
            )
    out_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")


def make_mixtures(
    manifest_path: str | Path, out_dir: str | Path, config: MixConfig, *, progress: bool = True
) -> MixResult:
    """Write ``config.n`` mixtures under ``out_dir/clips/<pool>/`` and the manifests
    ``train.jsonl``, ``val.jsonl``, ``test.jsonl`` and ``all.jsonl`` (with ``pool``).
    Re-running with the same settings keeps clips already written (resume)."""
    config.check()
    out = Path(out_dir)
    manifest = read_manifest(manifest_path)
    length = round(config.seconds * config.sample_rate)
    utterances, skipped = load_utterances(
        manifest, sample_rate=config.sample_rate, length=length, vad=config.vad, progress=progress
    )
    noises = (
        load_noises(Path(config.noise_dir), config.sample_rate, length) if config.noise_dir else []
    )
    pools = split_speakers(utterances, config.split_speakers, config.seed)
    utts = by_speaker(utterances)
    lo, hi = config.speakers
    for name, size in zip(POOLS, config.split_speakers, strict=True):
        if size > 0 and len(pools[name]) < hi:
            raise MixError(
                f"the {name} pool has {len(pools[name])} speakers but clips need up to {hi}: "
                f"{len(utts)} usable speakers in {manifest_path}; lower --speakers or give "
                "that pool a larger --split-speakers fraction"
            )
    _check_settings_file(out, config, str(Path(manifest_path).resolve()))
    counts = list(range(lo, hi + 1))
    rows: dict[str, list[Clip]] = {name: [] for name in POOLS}
    jobs = [
        (p, name, i)
        for p, (name, size) in enumerate(_pool_sizes(config.n, config.split_speakers).items())
        for i in range(size)
    ]
    order = {name: np.random.default_rng([config.seed, 2, p]) for p, name in enumerate(POOLS)}
    labels_of = {
        name: order[name].permutation(
            [counts[i % len(counts)] for i in range(sum(j[1] == name for j in jobs))]
        )
        for name in POOLS
    }
    for p, name, i in track(jobs, "mixing", enabled=progress):
        k = int(labels_of[name][i])
        rng = np.random.default_rng([config.seed, 3, p, i])
        audio, meta = _one_clip(k, pools[name], utts, noises, config, rng)
        rel = Path("clips") / name / f"{name}-{i:06d}.wav"
        if not (out / rel).is_file():
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(out / rel) as tmp:
                sf.write(tmp, audio, config.sample_rate, subtype="PCM_16")
        rows[name].append(
            Clip(
                id=f"mix/{name}-{i:06d}",
                path=str(rel),
                label=count_label(k, config.labels),
                duration=config.seconds,
                sample_rate=config.sample_rate,
                channels=1,
                corpus="mix",
                meta={**meta, "pool": name, "split": name},
            )
        )
    manifests = {
        name: write_manifest(Manifest(rows[name]), out / f"{name}.jsonl") for name in POOLS
    }
    manifests["all"] = write_manifest(
        Manifest([c for name in POOLS for c in rows[name]]), out / "all.jsonl"
    )
    tally = {
        name: {
            count_label(k, config.labels): sum(int(c.meta["count"]) == k for c in rows[name])
            for k in counts
        }
        for name in POOLS
    }
    return MixResult(out, manifests, pools, tally, skipped)
