"""AESDD: the Acted Emotional Speech Dynamic Database (Greek).

Actors read Greek utterances in 5 emotions (anger, disgust, fear, happiness, sadness);
about 600 clips from 5 actors in the first release. Licence: free for research use
(Vryzas et al. 2018, m3c.web.auth.gr/research/aesdd-speech-emotion-recognition).

Layout: one folder per emotion (``anger/``, ``disgust/``, ``fear/``, ``happiness/``,
``sadness/``). Naming scheme ``<letter><utterance> (<speaker>)`` (e.g. ``a01 (1).wav``:
emotion letter a/d/f/h/s, utterance 01, speaker 1). The folder names the emotion; the
letter is used when a file sits elsewhere. Genders are not in the file names, so left empty.
"""

from __future__ import annotations

import re
from pathlib import Path

from audioclf.recipes._common import (
    FoundFile,
    PrepareResult,
    prepare_from_names,
    require_dir,
)

CORPUS = "aesdd"
FOLDERS = {
    "anger": "angry",
    "disgust": "disgust",
    "fear": "fearful",
    "happiness": "happy",
    "sadness": "sad",
}
LETTERS = {"a": "angry", "d": "disgust", "f": "fearful", "h": "happy", "s": "sad"}
_NAME = re.compile(r"^([adfhs])(\d+)\s*\((\d+)\)\s*([a-z]*)$", re.IGNORECASE)
_SCHEME = "'a01 (1).wav' (emotion letter, utterance, speaker in parentheses)"


def prepare_aesdd(source: str | Path, *, progress: bool = True) -> PrepareResult:
    """AESDD: Greek acted speech, 5 emotions (anger/a01 (1).wav)."""
    root = require_dir(source, CORPUS)
    return prepare_from_names(root, CORPUS, _NAME, _SCHEME, _candidate, progress=progress)


def _candidate(path: Path, match: re.Match[str]) -> FoundFile:
    """Emotion (from the folder, else the letter), speaker and utterance from an AESDD file."""
    letter, utterance, speaker, take = match.groups()
    label = FOLDERS.get(path.parent.name.lower(), LETTERS[letter.lower()])
    meta: dict[str, str | int] = {"utterance": int(utterance)}
    if take:
        meta["take"] = take.lower()
    return FoundFile(path=path, label=label, speaker=f"{CORPUS}/{speaker}", meta=meta)
