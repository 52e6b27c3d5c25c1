"""Berlin Emo-DB: the Berlin Database of Emotional Speech.

10 actors (5 female, 5 male) say 10 German sentences in 7 emotions; 535 utterances.
Licence: free for research use (Burkhardt et al. 2005, http://emodb.bilderbar.info).

Layout: one flat folder, or the files inside a ``wav/`` sub-folder; ``.wav`` or ``.flac``.
Naming scheme ``SSTTTEV`` (e.g. ``03a01Fa.wav``): speaker (2 digits), text code
(``a01`` .. ``b10``), emotion letter (W anger, L boredom, E disgust, A fear, F happiness,
T sadness, N neutral) and version letter. Speakers 03, 10, 11, 12, 15 are male;
08, 09, 13, 14, 16 female.
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

CORPUS = "emodb"
EMOTIONS = {
    "W": "angry",
    "L": "bored",
    "E": "disgust",
    "A": "fearful",
    "F": "happy",
    "T": "sad",
    "N": "neutral",
}
GENDERS = {
    **dict.fromkeys(("03", "10", "11", "12", "15"), "male"),
    **dict.fromkeys(("08", "09", "13", "14", "16"), "female"),
}
_NAME = re.compile(r"^(\d\d)([a-z]\d\d)([WLEAFTN])([a-z])$")
_SCHEME = "SSTTTEV (e.g. 03a01Fa.wav)"


def prepare_emodb(source: str | Path, *, progress: bool = True) -> PrepareResult:
    """Berlin Emo-DB: 10 German actors, 7 emotions (03a01Fa.wav, flat or in wav/)."""
    root = require_dir(source, CORPUS)
    return prepare_from_names(root, CORPUS, _NAME, _SCHEME, _candidate, progress=progress)


def _candidate(path: Path, match: re.Match[str]) -> FoundFile:
    """Emotion, speaker, gender, text code and version from an Emo-DB file name."""
    speaker, text, emotion, version = match.groups()
    return FoundFile(
        path=path,
        label=EMOTIONS[emotion],
        speaker=f"{CORPUS}/{speaker}",
        gender=GENDERS.get(speaker),
        meta={"text": text, "version": version},
    )
