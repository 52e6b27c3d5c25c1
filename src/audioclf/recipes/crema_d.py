"""CREMA-D: the Crowd-sourced Emotional Multimodal Actors Dataset.

91 actors (48 male, 43 female, aged 20-74) say 12 sentences in 6 emotions; 7442 clips.
Licence: Open Database License / Database Contents License (Cao et al. 2014,
github.com/CheyneyComputerScience/CREMA-D).

Layout: ``AudioWAV/*.wav`` (any folder depth is accepted) and, optionally,
``VideoDemographics.csv`` (``ActorID,Age,Sex,Race,Ethnicity``) at the corpus root, one
level up or one level down, which gives each actor's gender. Naming scheme
``ActorID_Sentence_Emotion_Level`` (e.g. ``1001_DFA_ANG_XX.wav``): emotion ANG, DIS, FEA,
HAP, NEU, SAD; level LO, MD, HI or XX (unspecified).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from audioclf.recipes._common import (
    FoundFile,
    PrepareResult,
    prepare_from_names,
    require_dir,
)

CORPUS = "crema-d"
EMOTIONS = {
    "ANG": "angry",
    "DIS": "disgust",
    "FEA": "fearful",
    "HAP": "happy",
    "NEU": "neutral",
    "SAD": "sad",
}
LEVELS = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}
_NAME = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})$")
_SCHEME = "ActorID_Sentence_Emotion_Level (e.g. 1001_DFA_ANG_XX.wav)"
DEMOGRAPHICS = "VideoDemographics.csv"


def prepare_crema_d(source: str | Path, *, progress: bool = True) -> PrepareResult:
    """CREMA-D: 91 actors, 6 emotions, 12 sentences (AudioWAV/1001_DFA_ANG_XX.wav)."""
    root = require_dir(source, CORPUS)
    actors = _demographics(root)

    def candidate(path: Path, match: re.Match[str]) -> FoundFile | None:
        """Emotion, actor, level and sentence from the name, gender and age from the CSV."""
        actor, sentence, emotion, level = match.groups()
        if emotion not in EMOTIONS or level not in LEVELS:
            return None
        info = actors.get(actor, {})
        meta: dict[str, Any] = {"sentence": sentence, "level": LEVELS[level]}
        if "age" in info:
            meta["age"] = info["age"]
        return FoundFile(
            path=path,
            label=EMOTIONS[emotion],
            speaker=f"{CORPUS}/{actor}",
            gender=info.get("gender"),
            meta=meta,
        )

    return prepare_from_names(root, CORPUS, _NAME, _SCHEME, candidate, progress=progress)


def _find_demographics(root: Path) -> Path | None:
    """``VideoDemographics.csv`` at the root, one level up, or one level down."""
    for folder in (root, root.parent, *sorted(p for p in root.iterdir() if p.is_dir())):
        candidate = folder / DEMOGRAPHICS
        if candidate.is_file():
            return candidate
    return None


def _demographics(root: Path) -> dict[str, dict[str, Any]]:
    """Actor id → {"gender", "age"} from VideoDemographics.csv (empty when absent)."""
    path = _find_demographics(root)
    if path is None:
        return {}
    actors: dict[str, dict[str, Any]] = {}
    with path.open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            actor = (row.get("ActorID") or "").strip()
            if not actor:
                continue
            info: dict[str, Any] = {}
            sex = (row.get("Sex") or "").strip().lower()
            if sex in ("male", "female"):
                info["gender"] = sex
            age = (row.get("Age") or "").strip()
            if age.isdigit():
                info["age"] = int(age)
            actors[actor] = info
    return actors
