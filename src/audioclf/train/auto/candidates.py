"""Which candidates an ``auto`` run trains, and with which options.

No model family wins every task: on emotion corpora the openSMILE functionals with a
linear model beat a CNN trained from scratch on a few hundred clips; on spoken words the
CNN wins. The default list holds both families, classical ones first (they fit in seconds
on cached feature vectors, so with a time budget the neural candidates get what is left),
and leaves out the models whose features need an extra that is not installed.

``whisper_logreg`` (the ``whisper`` extra) scores 0.908 on Emo-DB, 0.769 on RAVDESS and
0.948 on Speech Commands in docs/benchmarks.md's protocols (the best other rows: 0.848,
0.713 and 0.891), but is not in the default list: its features cost about 180 ms
of CPU per 3-s clip, and ``auto`` extracts every training clip at three speeds, so on a
cold cache RAVDESS (1440 clips of about 3.7 s) needs about 1440 × 3 × 0.2 s ≈ 14
CPU-minutes, 7 minutes on two cores: more than the whole 4-minute budget of a fold. A
config that names it (``candidates: [whisper_logreg, ...]``) gets it, and then it can be
served and be the student's teacher like any candidate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from audioclf.console import console
from audioclf.features.inputs import input_parts
from audioclf.features.whisper_encoder import PARTS as WHISPER_PARTS
from audioclf.models import model_info
from audioclf.recipes._common import AUDIO_SUFFIXES, audio_files
from audioclf.train.config import AUTO, TrainConfig

# classical first (cheapest); the ComParE-based ones need the `smile` extra (opensmile),
# the voice-encoder ones the `voice` extra (resemblyzer)
CANDIDATES = (
    "speech_embedding_logreg",
    "fusion_voice_logreg",
    "voice_logreg",
    "fusion_logreg",
    "compare_logreg",
    "logreg",
    "audioclf_default",
)

# feature parts that need an optional extra: part → (module it needs, extra)
_EXTRA_PARTS = {
    "compare": ("opensmile", "smile"),
    "egemaps": ("opensmile", "smile"),
    "voice_encoder": ("resemblyzer", "voice"),
}
# parts whose extra installs data, not a module: part → (distributions it needs, extra)
_EXTRA_DATA_PARTS = {
    "whisper": (tuple(name for name, _ in WHISPER_PARTS), "whisper"),
}


class SelectionError(ValueError):
    """A selection that cannot run (bad candidate list, no validation split)."""


@dataclass
class Candidate:
    """One model to try and the options it is built with."""

    model: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def classical(self) -> bool:
        return model_info(self.model).family == "classical"


def _missing_extras(model: str) -> set[str]:
    """The extras ``model``'s features need that are not installed (a module extra by
    its module, a data extra — the Whisper weights — by its distributions' metadata)."""
    parts = input_parts(model_info(model).input)
    needed = [_EXTRA_PARTS[p] for p in parts if p in _EXTRA_PARTS]
    missing = {extra for module, extra in needed if find_spec(module) is None}
    data = [_EXTRA_DATA_PARTS[p] for p in parts if p in _EXTRA_DATA_PARTS]
    return missing | {extra for names, extra in data if not all(map(_distributed, names))}


def _distributed(name: str) -> bool:
    """Whether the distribution ``name`` is installed."""
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def candidates(config: TrainConfig) -> list[Candidate]:
    """The candidates of an ``auto`` config, classical ones first.

    ``model_options`` may name them (``candidates: [logreg, audioclf_default]``) and give
    a candidate its own options under its name (``audioclf_default: {vtlp: 0.1}``). The
    default list skips the models whose features need an extra that is not installed
    (openSMILE, the voice encoder); a list the user wrote does not (their run then fails
    with the install hint)."""
    options = dict(config.model_options)
    named = options.pop("candidates", None)
    options.pop("ensemble", None)
    options.pop("student", None)
    names = list(named) if named is not None else list(CANDIDATES)
    if not names or not all(isinstance(n, str) for n in names):
        raise SelectionError("model_options.candidates must be a non-empty list of model names")
    if AUTO in names or len(set(names)) != len(names):
        raise SelectionError(f"candidates must be distinct models other than {AUTO!r}: {names}")
    for name in names:
        model_info(name)  # unknown names fail here, with the registry's hint
    stray = sorted(set(options) - set(names))
    if stray:
        raise SelectionError(
            f"model_options of an auto run are `candidates`, `ensemble`, `student` and "
            f"per-candidate "
            f"options keyed by a candidate's name; {stray} is none of these"
        )
    if named is None:
        missing = {n: _missing_extras(n) for n in names}
        skipped = [n for n in names if missing[n]]
        if skipped:
            extras = ",".join(sorted(set().union(*missing.values())))
            names = [n for n in names if not missing[n]]
            console.print(
                f"[yellow]note:[/] auto skips {', '.join(skipped)} (features of an extra "
                f"that is not installed): pip install 'audioclf\\[{extras}]' to try them"
            )
    chosen = [Candidate(n, dict(options.get(n) or {})) for n in names]
    if config.speaker_norm and not all(c.classical for c in chosen):
        raise SelectionError(
            "speaker_norm applies to the classical models; with --model auto name classical "
            "candidates only (model_options: {candidates: [compare_logreg, ...]})"
        )
    return sorted(chosen, key=lambda c: not c.classical)


UNLABELLED_SUFFIXES = AUDIO_SUFFIXES | {".mp3", ".ogg", ".opus", ".m4a"}
STUDENT_OPTIONS = frozenset({"unlabelled", "views", "max_unlabelled"})
"""What ``model_options.student`` may set when it is a mapping (train/distill.py)."""


def wants_student(config: TrainConfig) -> bool:
    """``model_options.student`` (default false): distil the accurate model into the
    compact ``student`` (train/distill.py) and put it on the front; ``true`` or a mapping
    of its options (:func:`student_options`). Off by default until the benchmark shows it
    earns the minutes its teacher's scoring costs."""
    value = config.model_options.get("student", False)
    if isinstance(value, dict):
        stray = sorted(set(value) - STUDENT_OPTIONS)
        if stray:
            raise SelectionError(
                f"model_options.student takes {sorted(STUDENT_OPTIONS)}, not {stray}"
            )
        return True
    if not isinstance(value, bool):
        raise SelectionError(
            f"model_options.student must be true, false or a mapping of options, not {value!r}"
        )
    return value


def student_options(config: TrainConfig) -> dict[str, Any]:
    """The distillation options ``model_options.student`` gives: ``unlabelled`` (a folder
    of audio, searched recursively, whose clips join the transfer set unlabelled) becomes
    the list of its files; ``views`` and ``max_unlabelled`` pass as they are."""
    value = config.model_options.get("student")
    if not isinstance(value, dict):
        return {}
    options = dict(value)
    folder = options.pop("unlabelled", None)
    if folder is not None:
        root = Path(str(folder)).expanduser()
        files = audio_files(root, suffixes=UNLABELLED_SUFFIXES) if root.is_dir() else []
        if not files:
            raise SelectionError(f"model_options.student.unlabelled: no audio files under {root}")
        options["unlabelled"] = files
    for name in ("views", "max_unlabelled"):
        if name in options and (not isinstance(options[name], int) or options[name] < 0):
            raise SelectionError(f"model_options.student.{name} must be a whole number >= 0")
    return options


def wants_ensemble(config: TrainConfig) -> bool:
    """``model_options.ensemble`` (default true): serve the best neural and the best
    classical candidate together when both ran."""
    value = config.model_options.get("ensemble", True)
    if not isinstance(value, bool):
        raise SelectionError(f"model_options.ensemble must be true or false, not {value!r}")
    return value
