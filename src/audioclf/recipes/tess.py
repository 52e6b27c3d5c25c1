"""TESS: the Toronto Emotional Speech Set.

Two actresses, aged 26 (YAF) and 64 (OAF), say 200 target words in the carrier phrase
"Say the word ..." in 7 emotions; 2800 clips. Licence: CC BY-NC-ND 4.0
(Pichora-Fuller & Dupuis 2020, University of Toronto, doi:10.5683/SP2/E8H2MF).

Layout: one folder per speaker and emotion (``OAF_angry/``, ``YAF_pleasant_surprise/``,
possibly under a wrapper folder). Naming scheme ``Speaker_word_emotion``
(e.g. ``OAF_back_angry.wav``, ``YAF_bar_ps.wav``); emotions angry, disgust, fear, happy,
neutral, sad and pleasant surprise (``ps`` / ``pleasant_surprise[d]``) → surprised.
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

CORPUS = "tess"
EMOTIONS = {
    "angry": "angry",
    "disgust": "disgust",
    "fear": "fearful",
    "happy": "happy",
    "neutral": "neutral",
    "sad": "sad",
    "ps": "surprised",
    "pleasant_surprise": "surprised",
    "pleasant_surprised": "surprised",
}
_NAME = re.compile(
    r"^(OAF|YAF)_(.+?)_(angry|disgust|fear|happy|neutral|sad|ps|pleasant_surprised?)$",
    re.IGNORECASE,
)
_SCHEME = "Speaker_word_emotion (e.g. OAF_back_angry.wav)"


def prepare_tess(source: str | Path, *, progress: bool = True) -> PrepareResult:
    """TESS: 2 actresses (OAF, YAF), 7 emotions, 200 words (OAF_angry/OAF_back_angry.wav)."""
    root = require_dir(source, CORPUS)
    return prepare_from_names(root, CORPUS, _NAME, _SCHEME, _candidate, progress=progress)


def _candidate(path: Path, match: re.Match[str]) -> FoundFile:
    """Emotion, speaker (both actresses are female) and target word from a TESS file name."""
    speaker, word, emotion = match.groups()
    return FoundFile(
        path=path,
        label=EMOTIONS[emotion.lower()],
        speaker=f"{CORPUS}/{speaker.upper()}",
        gender="female",
        meta={"word": word.lower()},
    )
