"""LibriSpeech: read English speech from LibriVox audiobooks.

About 1000 hours from 2484 readers, split into train-clean-100/360, train-other-500,
dev-clean/other and test-clean/other; 16 kHz FLAC. Licence: CC BY 4.0 (Panayotov et al.
2015, openslr.org/12).

Layout: ``SPEAKERS.TXT`` (``ID | SEX | SUBSET | MINUTES | NAME``, comments start with
``;``) at the corpus root, one level up or one level down, and audio under
``<subset-dir>/<speaker>/<chapter>/<speaker>-<chapter>-<utterance>.flac`` (a compact copy
may drop the chapter level). Used here for speaker (or gender) classification: the label
is the speaker id (``label=speaker``, default) or the reader's gender (``label=gender``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from audioclf.formats.manifest import SkippedFile
from audioclf.recipes._common import (
    FoundFile,
    PrepareResult,
    RecipeError,
    as_choice,
    audio_files,
    build_manifest,
    off_scheme,
    require_dir,
)

CORPUS = "librispeech"
SPEAKERS_FILE = "SPEAKERS.TXT"
SEXES = {"F": "female", "M": "male"}
_NAME = re.compile(r"^(\d+)-(\d+)-(\d+)$")
_SUBSET = re.compile(
    r"(train-clean-100|train-clean-360|train-other-500|dev-clean|dev-other|"
    r"test-clean|test-other)"
)
_SCHEME = "<speaker>-<chapter>-<utterance>.flac (e.g. 1688-142285-0000.flac)"


@dataclass(frozen=True)
class Reader:
    """One line of SPEAKERS.TXT."""

    id: str
    gender: str | None
    subset: str
    name: str


def prepare_librispeech(
    source: str | Path, *, progress: bool = True, label: str = "speaker"
) -> PrepareResult:
    """LibriSpeech: read English audiobooks, labelled by speaker or gender (19-198-0001.flac).

    ``label=speaker`` (default) labels each utterance with its reader's id;
    ``label=gender`` with the reader's gender from SPEAKERS.TXT.
    """
    root = require_dir(source, CORPUS)
    target = as_choice("label", label, ("speaker", "gender"))
    speakers_file = _find_speakers_file(root)
    readers = _read_speakers(speakers_file) if speakers_file else {}
    if target == "gender" and speakers_file is None:
        raise RecipeError(
            f"{root}: label=gender needs {SPEAKERS_FILE} (at the corpus root, one level up "
            "or one level down); put it there or use label=speaker"
        )
    candidates: list[FoundFile] = []
    skipped: list[SkippedFile] = []
    for path in audio_files(root):
        match = _NAME.match(path.stem)
        if match is None:
            skipped.append(off_scheme(path, _SCHEME))
            continue
        speaker, chapter, utterance = match.groups()
        reader = readers.get(speaker)
        gender = reader.gender if reader else None
        if target == "gender" and gender is None:
            skipped.append(
                SkippedFile(str(path), f"speaker {speaker} has no gender in {SPEAKERS_FILE}")
            )
            continue
        found = _SUBSET.search(path.relative_to(root).as_posix())
        subset = found[1] if found else (reader.subset if reader else None)
        candidates.append(
            FoundFile(
                path=path,
                label=speaker if target == "speaker" else str(gender),
                speaker=f"{CORPUS}/{speaker}",
                gender=gender,
                meta={"subset": subset, "chapter": int(chapter), "utterance": int(utterance)},
            )
        )
    return build_manifest(candidates, root, CORPUS, progress=progress, skipped=skipped)


def _find_speakers_file(root: Path) -> Path | None:
    """SPEAKERS.TXT at the root, one level up, or in a direct sub-folder."""
    for folder in (root, root.parent, *sorted(p for p in root.iterdir() if p.is_dir())):
        candidate = folder / SPEAKERS_FILE
        if candidate.is_file():
            return candidate
    return None


def _read_speakers(path: Path) -> dict[str, Reader]:
    """Speaker id → :class:`Reader`; comment lines (``;``) and blank lines are skipped."""
    readers: dict[str, Reader] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith(";"):
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 3 or not parts[0].isdigit():
            continue
        name = "|".join(parts[4:]) if len(parts) > 4 else ""
        readers[parts[0]] = Reader(parts[0], SEXES.get(parts[1].upper()), parts[2], name)
    return readers
