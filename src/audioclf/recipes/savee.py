"""SAVEE: the Surrey Audio-Visual Expressed Emotion database.

Four male British English speakers (DC, JE, JK, KL) read 15 TIMIT sentences each in
7 emotions; 480 clips. Licence: free for research use (Haq & Jackson 2009, University of
Surrey, kahlan.eps.surrey.ac.uk/savee).

Layout: either a flat ``ALL/`` folder with ``DC_a01.wav`` names (the Kaggle copy), or
one folder per speaker (``DC/a01.wav``, the original ``AudioData``). Naming scheme
emotion code + sentence number: a anger, d disgust, f fear, h happiness, n neutral,
sa sadness, su surprise.
"""

from __future__ import annotations

import re
from pathlib import Path

from audioclf.formats.manifest import SkippedFile
from audioclf.recipes._common import (
    FoundFile,
    PrepareResult,
    audio_files,
    build_manifest,
    off_scheme,
    require_dir,
)

CORPUS = "savee"
SPEAKERS = ("DC", "JE", "JK", "KL")
EMOTIONS = {
    "a": "angry",
    "d": "disgust",
    "f": "fearful",
    "h": "happy",
    "n": "neutral",
    "sa": "sad",
    "su": "surprised",
}
_FLAT = re.compile(r"^(DC|JE|JK|KL)_(sa|su|a|d|f|h|n)(\d+)$", re.IGNORECASE)
_NESTED = re.compile(r"^(sa|su|a|d|f|h|n)(\d+)$", re.IGNORECASE)
_SCHEME = "DC_a01.wav (flat) or DC/a01.wav (one folder per speaker)"


def prepare_savee(source: str | Path, *, progress: bool = True) -> PrepareResult:
    """SAVEE: 4 male speakers, 7 emotions (ALL/DC_a01.wav or DC/a01.wav)."""
    root = require_dir(source, CORPUS)
    candidates: list[FoundFile] = []
    skipped: list[SkippedFile] = []
    for path in audio_files(root):
        parsed = _parse(path)
        if parsed is None:
            skipped.append(off_scheme(path, _SCHEME))
            continue
        speaker, emotion, sentence = parsed
        candidates.append(
            FoundFile(
                path=path,
                label=EMOTIONS[emotion],
                speaker=f"{CORPUS}/{speaker}",
                gender="male",
                meta={"sentence": sentence},
            )
        )
    return build_manifest(candidates, root, CORPUS, progress=progress, skipped=skipped)


def _parse(path: Path) -> tuple[str, str, int] | None:
    """(speaker, emotion code, sentence number) from either layout; None when off-scheme."""
    flat = _FLAT.match(path.stem)
    if flat:
        return flat[1].upper(), flat[2].lower(), int(flat[3])
    nested = _NESTED.match(path.stem)
    folder = path.parent.name.upper()
    if nested and folder in SPEAKERS:
        return folder, nested[1].lower(), int(nested[2])
    return None
