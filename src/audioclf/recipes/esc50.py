"""ESC-50: a dataset of 2000 five-second environmental sound clips in 50 classes.

Clips cut from Freesound recordings, 40 per class, in 5 folds prepared so that clips
from one source recording share a fold; ESC-10 is a 10-class subset. Licence:
CC BY-NC 3.0 (Piczak 2015, github.com/karolpiczak/ESC-50).

Layout: ``audio/*.wav`` and ``meta/esc50.csv`` with the columns
``filename,fold,target,category,esc10,src_file,take``. Naming scheme
``{fold}-{src_file}-{take}-{target}.wav`` (e.g. ``1-100032-A-0.wav``). The label is the
category; the speaker field holds the source recording so grouped splits keep its clips
together.
"""

from __future__ import annotations

import csv
from pathlib import Path

from audioclf.formats.manifest import SkippedFile
from audioclf.recipes._common import (
    FoundFile,
    PrepareResult,
    RecipeError,
    as_bool,
    audio_files,
    build_manifest,
    require_dir,
)

CORPUS = "esc50"
META_FILES = ("meta/esc50.csv", "esc50.csv")
_COLUMNS = ("filename", "fold", "target", "category", "esc10", "src_file", "take")


def prepare_esc50(
    source: str | Path, *, progress: bool = True, esc10: bool | str = False
) -> PrepareResult:
    """ESC-50: 2000 environmental sound clips, 50 classes, 5 folds (audio/1-100032-A-0.wav).

    ``esc10=true`` keeps only the 10-class ESC-10 subset.
    """
    root = require_dir(source, CORPUS)
    only_esc10 = as_bool("esc10", esc10)
    rows = _read_meta(root)
    audio = root / "audio" if (root / "audio").is_dir() else root
    on_disk = {p.name: p for p in audio_files(audio)}
    candidates: list[FoundFile] = []
    skipped: list[SkippedFile] = []
    for row in rows:
        name = row["filename"].strip()
        path = on_disk.pop(name, None)
        if only_esc10 and row["esc10"].strip().lower() != "true":
            continue
        if path is None:
            skipped.append(SkippedFile(str(audio / name), "listed in esc50.csv but not found"))
            continue
        candidates.append(
            FoundFile(
                path=path,
                label=row["category"].strip(),
                speaker=f"{CORPUS}/{row['src_file'].strip()}",
                meta={
                    "fold": int(row["fold"]),
                    "target": int(row["target"]),
                    "esc10": row["esc10"].strip().lower() == "true",
                    "take": row["take"].strip(),
                },
            )
        )
    skipped += [SkippedFile(str(p), "not listed in esc50.csv") for p in on_disk.values()]
    return build_manifest(candidates, root, CORPUS, progress=progress, skipped=skipped)


def _read_meta(root: Path) -> list[dict[str, str]]:
    """The rows of meta/esc50.csv; RecipeError when it is missing or lacks a column."""
    path = next((root / m for m in META_FILES if (root / m).is_file()), None)
    if path is None:
        raise RecipeError(
            f"{root}: no meta/esc50.csv; give the ESC-50 folder that holds audio/ and meta/"
        )
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in _COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise RecipeError(f"{path}: missing column(s) {', '.join(missing)}")
        rows = list(reader)
    for row in rows:
        if not row["fold"].strip().isdigit() or not row["target"].strip().isdigit():
            raise RecipeError(f"{path}: fold and target must be integers in row {row}")
    return rows
