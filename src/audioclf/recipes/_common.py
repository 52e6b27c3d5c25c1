"""What every recipe shares: finding audio files, checking options, probing and building rows.

A recipe lists the files of its corpus, reads label, speaker, gender and metadata from the
file names (and any side files), and hands the resulting :class:`FoundFile` list to
:func:`build_manifest`, which probes every file under a progress bar, sets aside the ones
that cannot be decoded as :class:`~audioclf.formats.manifest.SkippedFile` rows, and returns a
validated manifest in a deterministic order. Corpora whose file names alone say everything
go through :func:`prepare_from_names`, which lists the files, matches each name against the
naming scheme, sets aside the ones off it and builds the manifest.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audioclf.audio import AudioError, probe
from audioclf.console import track
from audioclf.formats.manifest import Clip, Manifest, SkippedFile

AUDIO_SUFFIXES = frozenset({".wav", ".flac"})
"""File extensions a recipe lists (compared case-insensitively); content decides decoding."""

_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


class RecipeError(ValueError):
    """A recipe cannot run: unknown recipe or option, bad option value, missing corpus files."""


@dataclass(frozen=True)
class PrepareResult:
    """What a recipe returns: the manifest and the files it left out (with the reason)."""

    manifest: Manifest
    skipped: list[SkippedFile]


@dataclass(frozen=True)
class FoundFile:
    """A file a recipe wants in the manifest, with what its name (or a side file) says."""

    path: Path
    label: str
    speaker: str | None = None
    gender: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def require_dir(source: str | Path, corpus: str) -> Path:
    """``source`` as a Path, or a :class:`RecipeError` when it is not an existing folder."""
    path = Path(source).expanduser()
    if not path.is_dir():
        what = "is a file, not a folder" if path.exists() else "no such folder"
        raise RecipeError(f"{path}: {what}; give the folder that holds the {corpus} corpus")
    return path


def _hidden(path: Path, root: Path) -> bool:
    """Dot files (macOS ``._x.wav`` resource forks) and ``__MACOSX`` folders from zip files."""
    parts = path.relative_to(root).parts
    return any(p.startswith(".") or p == "__MACOSX" for p in parts)


def audio_files(
    folder: Path, *, recursive: bool = True, suffixes: Iterable[str] = AUDIO_SUFFIXES
) -> list[Path]:
    """Sorted audio files under ``folder`` by extension (any case), hidden files left out."""
    wanted = {s.lower() for s in suffixes}
    pattern = "**/*" if recursive else "*"
    return sorted(
        p
        for p in folder.glob(pattern)
        if p.suffix.lower() in wanted and p.is_file() and not _hidden(p, folder)
    )


def as_bool(name: str, value: Any) -> bool:
    """An option value as a bool (``true``/``false``/``yes``/``no``/``1``/``0`` accepted)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise RecipeError(f"option {name}={value!r} must be true or false")


def as_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """An option value that must be one of ``choices`` (compared case-insensitively)."""
    text = str(value).strip().lower()
    if text not in choices:
        raise RecipeError(f"option {name}={value!r} must be one of: {', '.join(choices)}")
    return text


def as_list(name: str, value: Any) -> list[str]:
    """An option value as a list of strings: a list, or one comma-separated string."""
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",")]
    elif isinstance(value, list | tuple | set | frozenset):
        items = [str(v).strip() for v in value]
    else:
        raise RecipeError(f"option {name}={value!r} must be a list, e.g. {name}=[a,b]")
    items = [v for v in items if v]
    if not items:
        raise RecipeError(f"option {name} must name at least one item")
    return items


def as_regex(name: str, value: Any, group: str) -> re.Pattern[str]:
    """An option value compiled as a regular expression that has the named ``group``."""
    try:
        pattern = re.compile(str(value))
    except re.error as exc:
        raise RecipeError(f"option {name}={value!r} is not a valid regex: {exc}") from exc
    if group not in pattern.groupindex:
        raise RecipeError(
            f"option {name}={value!r} needs a named group (?P<{group}>...), "
            f"e.g. {name}='^(?P<{group}>[^_]+)_'"
        )
    return pattern


def clip_id(corpus: str, path: Path, root: Path) -> str:
    """``corpus/relative/path/without/suffix`` with posix separators.

    A path outside ``root`` (possible for the CSV recipe) uses its full path instead.
    """
    try:
        rel = path.relative_to(root)
    except ValueError:
        rel = Path(*path.parts[1:]) if path.is_absolute() else path
    return f"{corpus}/{rel.with_suffix('').as_posix()}"


def build_manifest(
    candidates: Iterable[FoundFile],
    root: Path,
    corpus: str,
    *,
    progress: bool = True,
    skipped: Iterable[SkippedFile] = (),
) -> PrepareResult:
    """Probe each candidate and build the validated, id-sorted manifest.

    Unreadable files become :class:`SkippedFile` rows (with the decoder's reason), as do
    files whose id repeats an earlier one (e.g. ``x.wav`` beside ``x.flac``). ``skipped``
    carries what the recipe itself already set aside (names off its naming scheme, ...).
    """
    ordered = sorted(candidates, key=lambda c: (clip_id(corpus, c.path, root), str(c.path)))
    left_out = list(skipped)
    clips: list[Clip] = []
    seen: dict[str, Path] = {}
    for cand in track(ordered, f"probing {corpus}", enabled=progress):
        cid = clip_id(corpus, cand.path, root)
        if cid in seen:
            left_out.append(
                SkippedFile(str(cand.path), f"same clip id {cid!r} as {seen[cid]}; keep one")
            )
            continue
        try:
            info = probe(cand.path)
        except AudioError as exc:
            left_out.append(SkippedFile(str(cand.path), str(exc)))
            continue
        except OSError as exc:
            left_out.append(SkippedFile(str(cand.path), f"cannot read the file ({exc})"))
            continue
        seen[cid] = cand.path
        clips.append(
            Clip(
                id=cid,
                path=str(cand.path.resolve()),
                label=cand.label,
                speaker=cand.speaker,
                gender=cand.gender,
                duration=round(info.duration, 6),
                sample_rate=info.sample_rate,
                channels=info.channels,
                corpus=corpus,
                meta=dict(cand.meta),
            )
        )
    left_out.sort(key=lambda s: s.path)
    return PrepareResult(Manifest(clips).validate(), left_out)


def off_scheme(path: Path, scheme: str) -> SkippedFile:
    """A :class:`SkippedFile` for a file whose name does not follow the corpus naming scheme."""
    return SkippedFile(str(path), f"the file name does not follow the naming scheme {scheme}")


def prepare_from_names(
    root: Path,
    corpus: str,
    name: re.Pattern[str],
    scheme: str,
    make: Callable[[Path, re.Match[str]], FoundFile | None],
    *,
    progress: bool = True,
    suffixes: Iterable[str] = AUDIO_SUFFIXES,
) -> PrepareResult:
    """The manifest of a corpus whose file names follow one naming scheme.

    Every audio file under ``root`` (see :func:`audio_files`) whose stem ``name`` matches is
    turned into a :class:`FoundFile` by ``make(path, match)``; a file whose stem does not
    match, or for which ``make`` returns None (a field outside the scheme's codes, a file in
    the wrong place), is set aside with :func:`off_scheme` and ``scheme``.
    """
    candidates: list[FoundFile] = []
    skipped: list[SkippedFile] = []
    for path in audio_files(root, suffixes=suffixes):
        match = name.match(path.stem)
        cand = make(path, match) if match is not None else None
        if cand is None:
            skipped.append(off_scheme(path, scheme))
        else:
            candidates.append(cand)
    return build_manifest(candidates, root, corpus, progress=progress, skipped=skipped)
