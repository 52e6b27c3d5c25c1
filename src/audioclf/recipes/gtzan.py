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

from audioclf.data.manifest import SkippedFile
from audioclf.recipes._common import (
    AUDIO_SUFFIXES,
    Candidate,
    PrepareResult,
    audio_files,
    build_manifest,
    off_scheme,
    require_dir,
)

CORPUS = "gtzan"
_NAME = re.compile(r"^([a-z]+)\.(\d+)$", re.IGNORECASE)
_SCHEME = "<genre>/<genre>.NNNNN.wav (e.g. blues/blues.00000.wav)"


def prepare_gtzan(source: str | Path, *, progress: bool = True) -> PrepareResult:
    """GTZAN: 1000 music excerpts in 10 genres (genres_original/blues/blues.00000.wav)."""
    root = require_dir(source, CORPUS)
    candidates: list[Candidate] = []
    skipped: list[SkippedFile] = []
    for path in audio_files(root, suffixes=AUDIO_SUFFIXES | {".au"}):
        match = _NAME.match(path.stem)
        if match is None or path.parent == root:
            skipped.append(off_scheme(path, _SCHEME))
            continue
        candidates.append(
            Candidate(path=path, label=path.parent.name.lower(), meta={"track": int(match[2])})
        )
    return build_manifest(candidates, root, CORPUS, progress=progress, skipped=skipped)
