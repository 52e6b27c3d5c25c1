"""FSDD: the Free Spoken Digit Dataset.

English digits 0-9 spoken by 6 speakers (george, jackson, lucas, nicolas, theo,
yweweler), 50 takes each: 3000 WAV files at 8 kHz. Licence: CC BY-SA 4.0
(github.com/Jakobovski/free-spoken-digit-dataset).

Layout: one flat folder, or the repository's ``recordings/`` folder. Naming scheme
``digit_speaker_index`` (e.g. ``7_jackson_32.wav``). The speakers' genders are not
published, so ``gender`` is left empty.
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

CORPUS = "fsdd"
_NAME = re.compile(r"^(\d)_([A-Za-z]+)_(\d+)$")
_SCHEME = "digit_speaker_index (e.g. 7_jackson_32.wav)"


def prepare_fsdd(source: str | Path, *, progress: bool = True) -> PrepareResult:
    """FSDD: spoken digits 0-9, 6 speakers, 8 kHz (7_jackson_32.wav, flat or recordings/)."""
    root = require_dir(source, CORPUS)
    return prepare_from_names(root, CORPUS, _NAME, _SCHEME, _candidate, progress=progress)


def _candidate(path: Path, match: re.Match[str]) -> FoundFile:
    """Digit label, speaker and take index from an FSDD file name."""
    digit, speaker, index = match.groups()
    return FoundFile(
        path=path,
        label=digit,
        speaker=f"{CORPUS}/{speaker.lower()}",
        meta={"index": int(index)},
    )
