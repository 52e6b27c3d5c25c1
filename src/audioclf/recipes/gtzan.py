"""GTZAN: the GTZAN music genre collection.

1000 thirty-second excerpts, 100 in each of 10 genres (blues, classical, country, disco,
hiphop, jazz, metal, pop, reggae, rock), 22.05 kHz. Licence: none stated; distributed for
research (Tzanetakis & Cook 2002). Known flaws: repeated and mislabelled excerpts, and
``jazz.00054.wav`` is corrupt — it fails to decode and is reported as skipped.

Layout: ``genres/<genre>/<genre>.NNNNN.au`` (original) or
``genres_original/<genre>/<genre>.NNNNN.wav`` (Kaggle copy); any wrapper folder is fine.
The label is the genre folder; excerpts have no speaker, the track number goes to meta.
"""

from __future__ import annotations

import re
from pathlib import Path

from audioclf.recipes._common import (
    AUDIO_SUFFIXES,
    FoundFile,
    PrepareResult,
    prepare_from_names,
    require_dir,
)

CORPUS = "gtzan"
_NAME = re.compile(r"^([a-z]+)\.(\d+)$", re.IGNORECASE)
_SCHEME = "<genre>/<genre>.NNNNN.wav (e.g. blues/blues.00000.wav)"


def prepare_gtzan(source: str | Path, *, progress: bool = True) -> PrepareResult:
    """GTZAN: 1000 music excerpts in 10 genres (genres_original/blues/blues.00000.wav)."""
    root = require_dir(source, CORPUS)

    def candidate(path: Path, match: re.Match[str]) -> FoundFile | None:
        """The genre folder as label, the track number as meta; None outside a genre folder."""
        if path.parent == root:
            return None
        return FoundFile(path=path, label=path.parent.name.lower(), meta={"track": int(match[2])})

    return prepare_from_names(
        root,
        CORPUS,
        _NAME,
        _SCHEME,
        candidate,
        progress=progress,
        suffixes=AUDIO_SUFFIXES | {".au"},
    )
