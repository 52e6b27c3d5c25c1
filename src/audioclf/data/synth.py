"""A synthetic spoken-digit corpus: "zero" … "nine" spoken by many eSpeak NG voices.

A *voice* — the manifest's ``speaker`` — is one English accent (American, British RP,
Scottish, Caribbean, New York, Lancastrian, West Midlands…) with one voice variant (male,
female, whisper, croak, Klatt…) and its own base speed, pitch, pitch range and volume.
Every take of a digit jitters that prosody a little, sits at a random offset in a clip
of ``clip_seconds``, and is lightly augmented with :mod:`audioclf.augment` (gain,
coloured noise, synthetic-room reverb). Labels are the digits ``0``–``9``, as in the Free
Spoken Digit Dataset's recipe, so a model trained here can be scored on FSDD directly.

Everything random is drawn from generators seeded by ``(seed, voice, digit, take)`` and
eSpeak NG's own noise is seeded per utterance, so the same settings give byte-identical
WAV files. The folder holds ``manifest.jsonl``, ``synth.json`` (the settings) and
``clips/VOICE/DIGIT_TAKE.wav``; re-running with the same settings reuses it, and a run
that was interrupted keeps the clips it had written.
"""

from __future__ import annotations

import io
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import soxr

from audioclf.augment import ColoredNoise, Compose, Gain, Reverb
from audioclf.console import progress_bar
from audioclf.data.espeak import Engine, Prosody, load_engine
from audioclf.formats.atomic import write_bytes
from audioclf.formats.manifest import Clip, Manifest, read_manifest, write_manifest

CORPUS = "synth-digits"
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
ACCENTS = (
    "en-us",
    "en",
    "en-gb-x-rp",
    "en-gb-scotland",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
    "en-029",
    "en-us-nyc",
)
"""eSpeak NG's English voices (its ``gmw`` language family)."""
VARIANTS = (
    *(f"m{i}" for i in range(1, 9)),
    *(f"f{i}" for i in range(1, 6)),
    "whisper",
    "whisperf",
    "croak",
    *("klatt", "klatt2", "klatt3", "klatt4", "klatt5", "klatt6"),
    *("Alicia", "Andrea", "Annie", "anika", "aunty", "belinda", "grandma", "linda"),
    *("steph", "steph2", "steph3"),
    *("Andy", "Lee", "Hugo", "Storm", "antonio", "michel", "miguel", "sandro", "travis"),
    *("victor", "adam", "david", "ed", "edward", "grandpa", "john", "max", "paul"),
    *("quincy", "rob", "robert", "zac", "iven", "norbert"),
)
"""Voice variants that speak intelligible digits (robots and effects left out)."""
WORKERS = 2
"""Worker processes (the two cores)."""
MANIFEST_NAME = "manifest.jsonl"
SETTINGS_NAME = "synth.json"


@dataclass(frozen=True)
class SynthConfig:
    """The settings of a synthetic digit corpus (saved as ``synth.json``)."""

    n_voices: int = 80
    per_digit: int = 1
    seed: int = 0
    sample_rate: int = 16_000
    clip_seconds: float = 1.0
    augment: bool = True

    def check(self) -> SynthConfig:
        """Raise ValueError naming the option and the allowed values."""
        most = len(ACCENTS) * len(VARIANTS)
        if not 2 <= self.n_voices <= most:
            raise ValueError(f"--n-voices must be between 2 and {most}, got {self.n_voices}")
        if self.per_digit < 1:
            raise ValueError(f"--per-digit must be at least 1, got {self.per_digit}")
        if not 8_000 <= self.sample_rate <= 48_000:
            raise ValueError(f"--sample-rate must be 8000–48000 Hz, got {self.sample_rate}")
        if not 0.5 <= self.clip_seconds <= 4.0:
            raise ValueError(f"--clip-seconds must be 0.5–4 s, got {self.clip_seconds}")
        return self


@dataclass(frozen=True)
class Voice:
    """One synthetic speaker: accent + variant + base prosody."""

    index: int
    accent: str
    variant: str
    gender: str | None
    prosody: Prosody

    @property
    def id(self) -> str:
        return f"{self.accent}+{self.variant}"


@dataclass(frozen=True)
class SynthResult:
    """A corpus on disk and whether it was reused as it was."""

    manifest_path: Path
    manifest: Manifest
    reused: bool
    engine: str


def pick_voices(n_voices: int, seed: int, engine: Engine) -> list[Voice]:
    """``n_voices`` distinct accent+variant pairs, variants as varied as possible.

    Round ``r`` walks every variant once (in a seeded order), pairing variant ``k`` with
    accent ``(r + k) mod len(ACCENTS)``, so no pair repeats and the first
    ``len(VARIANTS)`` voices all sound different.
    """
    rng = np.random.default_rng([seed, 0x5EED])
    variants = [VARIANTS[i] for i in rng.permutation(len(VARIANTS))]
    accents = [ACCENTS[i] for i in rng.permutation(len(ACCENTS))]
    voices: list[Voice] = []
    for index in range(n_voices):
        round_, k = divmod(index, len(variants))
        variant = variants[k]
        prosody = Prosody(
            rate=int(rng.integers(130, 200)),
            pitch=int(rng.integers(25, 76)),
            range=int(rng.integers(20, 91)),
            volume=int(rng.integers(70, 131)),
        )
        accent = accents[(round_ + k) % len(accents)]
        voices.append(Voice(index, accent, variant, engine.variant_gender(variant), prosody))
    return voices


def _augmentation() -> Compose:
    """Light: gain ±6 dB, coloured noise at 15–40 dB SNR (p .7), a small room (p .3)."""
    return Compose(
        [
            Gain(-6.0, 6.0, p=1.0),
            ColoredNoise(min_snr_db=15.0, max_snr_db=40.0, p=0.7),
            Reverb(min_rt60=0.1, max_rt60=0.5, min_wet=0.1, max_wet=0.35, p=0.3),
        ]
    )


def _jitter(base: Prosody, rng: np.random.Generator) -> Prosody:
    return Prosody(
        rate=int(np.clip(base.rate * rng.uniform(0.88, 1.12), 80, 450)),
        pitch=int(np.clip(base.pitch + rng.integers(-6, 7), 0, 100)),
        range=int(np.clip(base.range + rng.integers(-10, 11), 0, 100)),
        volume=int(np.clip(base.volume + rng.integers(-10, 11), 0, 200)),
    )


def render_clip(
    engine: Engine, voice: Voice, digit: int, take: int, config: SynthConfig
) -> tuple[np.ndarray, Prosody]:
    """One take of a digit: float32 mono at ``config.sample_rate`` and its prosody."""
    rng = np.random.default_rng([config.seed, voice.index, digit, take])
    prosody = _jitter(voice.prosody, rng)
    speech = engine.speak(
        DIGIT_WORDS[digit], voice.id, prosody, seed=int(rng.integers(2**32, dtype=np.uint64))
    )
    if engine.sample_rate != config.sample_rate:
        speech = soxr.resample(speech, engine.sample_rate, config.sample_rate, quality="HQ")
    speech = np.asarray(speech, dtype=np.float32)
    sr = config.sample_rate
    length = max(round(config.clip_seconds * sr), len(speech) + sr // 10)
    start = int(rng.integers(0, length - len(speech) + 1))
    clip = np.zeros(length, dtype=np.float32)
    clip[start : start + len(speech)] = speech
    if config.augment:
        clip = _augmentation()(clip, sr, rng)
    peak = float(np.max(np.abs(clip)))
    if peak > 0.99:
        clip = clip * (0.99 / peak)
    return clip.astype(np.float32), prosody


def _settings(config: SynthConfig, engine: Engine) -> dict[str, Any]:
    return {"corpus": CORPUS, "engine": engine.name, **asdict(config)}


def _reusable(out: Path, settings: dict[str, Any]) -> bool:
    path = out / SETTINGS_NAME
    if not path.is_file():
        if out.is_dir() and any(out.iterdir()):
            raise FileExistsError(
                f"{out} is not empty and holds no synthetic corpus; choose another --out"
            )
        return False
    try:
        saved = json.loads(path.read_text())
    except json.JSONDecodeError:
        saved = None
    if saved != settings:
        raise FileExistsError(
            f"{out} holds a synthetic corpus made with other settings ({path}); "
            "choose another --out or delete that folder"
        )
    return True


def _render_voice_share(
    out: Path, voices: list[Voice], config: SynthConfig
) -> list[dict[str, Any]]:
    """Worker: speak every clip of ``voices`` in order, write the missing files, return the
    manifest rows."""
    engine = load_engine()
    rows = []
    for voice in voices:
        for digit in range(10):
            for take in range(config.per_digit):
                rel = Path("clips") / voice.id.replace("+", "_") / f"{digit}_{take}.wav"
                audio, prosody = render_clip(engine, voice, digit, take, config)
                path = out / rel
                if not path.is_file():  # an interrupted run's clips are identical: keep them
                    path.parent.mkdir(parents=True, exist_ok=True)
                    _write_wav(path, audio, config.sample_rate)
                clip = Clip(
                    id=f"{voice.id}/{digit}_{take}",
                    path=rel.as_posix(),
                    label=str(digit),
                    speaker=voice.id,
                    gender=voice.gender,
                    duration=round(len(audio) / config.sample_rate, 4),
                    sample_rate=config.sample_rate,
                    channels=1,
                    corpus=CORPUS,
                    meta={
                        "text": DIGIT_WORDS[digit],
                        "accent": voice.accent,
                        "variant": voice.variant,
                        **{f"espeak_{k}": v for k, v in asdict(prosody).items()},
                    },
                )
                rows.append(clip.to_dict())
    return rows


def _write_wav(path: Path, audio: np.ndarray, sample_rate: int) -> None:
    """16-bit WAV, written whole then renamed (soundfile's own file close syncs to disk,
    which cost more than synthesising the clip)."""
    buffer = io.BytesIO()
    sf.write(buffer, audio, sample_rate, format="WAV", subtype="PCM_16")
    write_bytes(path, buffer.getvalue())


def synth_digits(
    out_dir: str | Path, config: SynthConfig | None = None, *, progress: bool = True
) -> SynthResult:
    """Write the corpus into ``out_dir`` (or reuse the one there) and return its manifest.

    Raises FileExistsError if ``out_dir`` holds other files or a corpus made with other
    settings, :class:`~audioclf.data.espeak.EspeakError` if eSpeak NG is missing.
    """
    config = (config or SynthConfig()).check()
    engine = load_engine()
    out = Path(out_dir)
    settings = _settings(config, engine)
    manifest_path = out / MANIFEST_NAME
    if _reusable(out, settings) and manifest_path.is_file():
        manifest = read_manifest(manifest_path)
        if all(Path(c.path).is_file() for c in manifest):
            return SynthResult(manifest_path, manifest, True, engine.name)
    out.mkdir(parents=True, exist_ok=True)
    (out / SETTINGS_NAME).write_text(json.dumps(settings, indent=2) + "\n")

    voices = pick_voices(config.n_voices, config.seed, engine)
    # eSpeak NG keeps state between utterances that no API call resets (its flutter phase
    # among others), so each worker is a fresh process that speaks a fixed share of the
    # voices in a fixed order: the same settings give the same bytes, in two workers.
    shares = [voices[i::WORKERS] for i in range(WORKERS)]
    rows: dict[str, dict[str, Any]] = {}
    context = multiprocessing.get_context("spawn")
    with (
        ProcessPoolExecutor(WORKERS, mp_context=context) as pool,
        progress_bar() as bar,
    ):
        task = bar.add_task("synthesising digits", total=len(voices), visible=progress)
        futures = [pool.submit(_render_voice_share, out, share, config) for share in shares]
        for future in as_completed(futures):
            for row in future.result():
                rows[row["id"]] = row
            bar.advance(task, len(shares[futures.index(future)]))
    order = [f"{v.id}/{d}_{t}" for v in voices for d in range(10) for t in range(config.per_digit)]
    clips = [Clip.from_dict(rows[key]) for key in order]
    manifest = Manifest(clips).validate()
    write_manifest(manifest, manifest_path)
    return SynthResult(manifest_path, read_manifest(manifest_path), False, engine.name)
