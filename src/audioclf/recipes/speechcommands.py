"""Speech Commands: Google's one-second spoken word recordings (v0.01 / v0.02).

35 words (v0.02) from thousands of speakers, 1 s, 16 kHz; the usual task keeps 10
commands and gathers the rest as ``_unknown_`` plus a ``_silence_`` class.
Licence: CC BY 4.0 (Warden 2018, arXiv:1804.03209).

Layout: one folder per word (``yes/``, ``backward/``, ...), ``_background_noise_/`` with
long noise recordings, and ``validation_list.txt`` / ``testing_list.txt`` naming the
val/test files (all others are train). Naming scheme ``<speaker hash>_nohash_<n>.wav``
(e.g. ``yes/0a7c2a8d_nohash_0.wav``). Prepared test sets may also hold a ``_silence_``
folder of noise clips and an ``_unknown_`` folder whose files start with their word
(``_unknown_/backward_0c540988_nohash_0.wav``); both are used as they are. Background
noise is not cut into silence clips here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from audioclf.formats.manifest import SkippedFile
from audioclf.recipes._common import (
    FoundFile,
    PrepareResult,
    as_bool,
    as_list,
    audio_files,
    build_manifest,
    off_scheme,
    require_dir,
)

CORPUS = "speechcommands"
COMMANDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
UNKNOWN = "_unknown_"
SILENCE = "_silence_"
BACKGROUND = "_background_noise_"
SPLIT_LISTS = {"val": "validation_list.txt", "test": "testing_list.txt"}
_NAME = re.compile(r"^(?:(?P<word>[A-Za-z]+)_)?(?P<speaker>[0-9a-fA-F]{8})_nohash_(?P<n>\d+)$")
_SCHEME = "<speaker hash>_nohash_<n>.wav (e.g. 0a7c2a8d_nohash_0.wav)"


def prepare_speechcommands(
    source: str | Path,
    *,
    progress: bool = True,
    words: Sequence[str] | str = COMMANDS,
    unknown: bool | str = True,
) -> PrepareResult:
    """Speech Commands: 1 s spoken words, 10 commands + _unknown_ + _silence_ (yes/x_nohash_0.wav).

    ``words`` are the classes kept by name (default the 10 commands); other word folders
    become ``_unknown_`` unless ``unknown=false``, which leaves them out.
    """
    root = require_dir(source, CORPUS)
    keep = {w.lower() for w in as_list("words", words)}
    with_unknown = as_bool("unknown", unknown)
    splits = _read_splits(root)
    candidates: list[FoundFile] = []
    skipped: list[SkippedFile] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        name = folder.name
        if name == SILENCE:
            for path in audio_files(folder):
                candidates.append(_candidate(path, SILENCE, None, root, splits))
            continue
        if name.startswith("_") and name != UNKNOWN:
            continue  # _background_noise_ and other helper folders
        if name != UNKNOWN and name.lower() not in keep and not with_unknown:
            continue
        for path in audio_files(folder):
            match = _NAME.match(path.stem)
            if match is None:
                skipped.append(off_scheme(path, _SCHEME))
                continue
            word = (match["word"] if name == UNKNOWN else name) or UNKNOWN
            label = word.lower() if word.lower() in keep else UNKNOWN
            if label == UNKNOWN and not with_unknown:
                continue
            speaker = f"{CORPUS}/{match['speaker'].lower()}"
            cand = _candidate(path, label, speaker, root, splits)
            cand.meta["word"] = word.lower()
            cand.meta["take"] = int(match["n"])
            candidates.append(cand)
    return build_manifest(candidates, root, CORPUS, progress=progress, skipped=skipped)


def _key(rel: str) -> str:
    """A split-list entry or relative path without its extension (lists name .wav files)."""
    return str(Path(rel.strip()).with_suffix("").as_posix())


def _read_splits(root: Path) -> dict[str, str] | None:
    """File key → "val"/"test" from the split lists; None when neither list exists."""
    found = False
    splits: dict[str, str] = {}
    for split, name in SPLIT_LISTS.items():
        path = root / name
        if not path.is_file():
            continue
        found = True
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                splits[_key(line)] = split
    return splits if found else None


def _candidate(
    path: Path, label: str, speaker: str | None, root: Path, splits: dict[str, str] | None
) -> FoundFile:
    """A candidate with the ``split`` meta set when the corpus ships split lists."""
    meta: dict[str, Any] = {}
    if splits is not None:
        meta["split"] = splits.get(_key(path.relative_to(root).as_posix()), "train")
    return FoundFile(path=path, label=label, speaker=speaker, meta=meta)
