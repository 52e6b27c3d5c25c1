"""A generic corpus: one sub-folder per class (e.g. Kaggle's "Audio Emotions").

Any corpus laid out as ``<source>/<class>/.../<file>.wav`` — files may sit at any depth
inside their class folder. The label is the name of the top-level class folder
(lower-cased unless ``lowercase=false``); a regex with a named group ``speaker``
(``speaker_pattern``), searched in the file name, can fill in the speaker. Licence: that
of the corpus you point it at.
"""

from __future__ import annotations

from pathlib import Path

from audioclf.formats.manifest import SkippedFile
from audioclf.recipes._common import (
    FoundFile,
    PrepareResult,
    as_bool,
    as_regex,
    audio_files,
    build_manifest,
    require_dir,
)


def prepare_folder(
    source: str | Path,
    *,
    progress: bool = True,
    speaker_pattern: str | None = None,
    lowercase: bool | str = True,
    corpus: str | None = None,
) -> PrepareResult:
    """Generic corpus: one sub-folder per class, files at any depth (Angry/x/y.wav).

    ``speaker_pattern``: regex with a named group ``speaker`` searched in each file name
    (no match → no speaker). ``lowercase``: lower-case the labels (default true).
    ``corpus``: the corpus name used in ids (default the folder's name).
    """
    root = require_dir(source, "class-per-folder")
    pattern = as_regex("speaker_pattern", speaker_pattern, "speaker") if speaker_pattern else None
    lower = as_bool("lowercase", lowercase)
    name = str(corpus) if corpus else root.resolve().name
    candidates: list[FoundFile] = []
    skipped: list[SkippedFile] = []
    for path in audio_files(root):
        rel = path.relative_to(root)
        if len(rel.parts) < 2:
            skipped.append(
                SkippedFile(str(path), "not inside a class folder; move it into <class>/")
            )
            continue
        label = rel.parts[0].lower() if lower else rel.parts[0]
        match = pattern.search(path.name) if pattern else None
        speaker = match["speaker"] if match and match["speaker"] else None
        candidates.append(FoundFile(path=path, label=label, speaker=speaker))
    return build_manifest(candidates, root, name, progress=progress, skipped=skipped)
