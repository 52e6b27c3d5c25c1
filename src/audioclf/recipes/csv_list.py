"""A corpus described by a CSV file: one row per clip.

The source is the CSV itself, with a header ``path,label`` and optional ``speaker`` and
``gender`` columns; every other column goes to the clip's metadata (numbers are kept as
numbers). Relative paths resolve against the CSV's folder. ``gender`` accepts
female/male/f/m (any case) or an empty cell. Licence: that of the corpus listed.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from audioclf.formats.manifest import SkippedFile
from audioclf.recipes._common import FoundFile, PrepareResult, RecipeError, build_manifest

REQUIRED = ("path", "label")
_GENDERS = {"female": "female", "f": "female", "male": "male", "m": "male"}


def prepare_csv(
    source: str | Path, *, progress: bool = True, corpus: str | None = None
) -> PrepareResult:
    """CSV list: path,label[,speaker][,gender][,extra columns → meta] (source = the CSV file).

    ``corpus``: the corpus name used in ids (default the CSV file's name without suffix).
    """
    table = Path(source).expanduser()
    if not table.is_file():
        what = "is a folder, not a CSV file" if table.is_dir() else "no such file"
        raise RecipeError(f"{table}: {what}; give the CSV file (columns path,label,...)")
    base = table.resolve().parent
    name = str(corpus) if corpus else table.stem
    candidates: list[FoundFile] = []
    skipped: list[SkippedFile] = []
    with table.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        columns = [c.strip() for c in reader.fieldnames or []]
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            raise RecipeError(
                f"{table}: missing required column(s) {', '.join(missing)}; the header must "
                f"start with path,label (found: {', '.join(columns) or 'nothing'})"
            )
        for lineno, raw in enumerate(reader, 2):
            row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
            if not row["path"]:
                raise RecipeError(f"{table}:{lineno}: empty path")
            path = Path(row["path"]).expanduser()
            path = path if path.is_absolute() else base / path
            if not row["label"]:
                skipped.append(SkippedFile(str(path), f"{table.name}:{lineno}: empty label"))
                continue
            if not path.is_file():
                skipped.append(SkippedFile(str(path), f"{table.name}:{lineno}: no such file"))
                continue
            candidates.append(
                FoundFile(
                    path=path,
                    label=row["label"],
                    speaker=row.get("speaker") or None,
                    gender=_gender(row.get("gender", ""), table, lineno),
                    meta={
                        k: _number(v)
                        for k, v in row.items()
                        if k and k not in ("path", "label", "speaker", "gender") and v
                    },
                )
            )
    return build_manifest(candidates, base, name, progress=progress, skipped=skipped)


def _gender(value: str, table: Path, lineno: int) -> str | None:
    """female/male (or None for an empty cell); RecipeError naming the line otherwise."""
    if not value:
        return None
    gender = _GENDERS.get(value.lower())
    if gender is None:
        raise RecipeError(f"{table}:{lineno}: gender {value!r} must be female, male, f, m or empty")
    return gender


def _number(value: str) -> Any:
    """An int or float when the text is exactly one (``007`` stays text), else the text."""
    try:
        number = int(value)
    except ValueError:
        try:
            real = float(value)
        except ValueError:
            return value
        return real if math.isfinite(real) else value
    return number if str(number) == value else value
