"""Label operations: drop, keep, rename, merge; YAML label maps; a shared emotion vocabulary.

Every operation checks the label names it is given against the labels the manifest really
has, so a typo (``--drop suprised``) is an error that lists the existing labels instead of
a no-op. A mapping is applied once (``a=b`` and ``b=c`` do not chain); mapping a label to
``None`` drops its clips, and mapping several labels to one name merges them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from audioclf.formats.manifest import Manifest

EMOTIONS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised", "bored")
"""The shared emotion vocabulary every emotion corpus is mapped onto."""

_SYNONYM_LISTS: dict[str, tuple[str, ...]] = {
    "neutral": ("neutral", "neu", "n", "neutrality"),
    "calm": ("calm", "calmness"),
    "happy": ("happy", "happiness", "joy", "joyful", "hap", "h", "freude"),
    "sad": ("sad", "sadness", "sa", "t", "trauer"),
    "angry": ("angry", "anger", "ang", "mad", "w", "wut", "ärger"),
    "fearful": ("fearful", "fear", "fea", "afraid", "scared", "angst"),
    "disgust": ("disgust", "disgusted", "dis", "d", "e", "ekel"),
    "surprised": (
        "surprised",
        "surprise",
        "sur",
        "su",
        "ps",
        "pleasant_surprise",
        "pleasant_surprised",
    ),
    "bored": ("bored", "boredom", "bor", "l", "langeweile"),
}

EMOTION_SYNONYMS: dict[str, str] = {
    name: emotion for emotion, names in _SYNONYM_LISTS.items() for name in names
}
"""Normalised corpus label → shared emotion.

Covers RAVDESS (``fearful``), CREMA-D (``ANG``, ``DIS``…), TESS (``ps`` = pleasant surprise),
SAVEE (``sa``, ``su``, ``d``, ``h``), IEMOCAP (``hap``, ``neu``…) and EmoDB, both its English
names and its German letter codes (W=Wut, L=Langeweile, E=Ekel, T=Trauer, N=neutral).
The single letters ``a`` and ``f`` are deliberately absent: SAVEE uses them for anger and
fear, EmoDB for Angst (fear) and Freude (joy); map them explicitly with ``--map``.
"""


class LabelError(ValueError):
    """A label operation names a label that does not exist, or leaves no clips."""


def _normalise(label: str) -> str:
    """Lower-case, trimmed, with spaces and dashes as underscores."""
    return label.strip().lower().replace("-", "_").replace(" ", "_")


def _check_known(names: Iterable[str], existing: Iterable[str], what: str) -> None:
    """Raise :class:`LabelError` when any of ``names`` is not an existing label."""
    existing_set = set(existing)
    unknown = sorted({n for n in names if n not in existing_set})
    if unknown:
        raise LabelError(
            f"{what}: unknown label(s) {', '.join(map(repr, unknown))}; "
            f"the manifest has {', '.join(sorted(existing_set)) or 'no labels'} "
            "(label names are case-sensitive)"
        )


def apply_label_ops(
    manifest: Manifest,
    *,
    drop: Iterable[str] = (),
    keep: Iterable[str] = (),
    mapping: Mapping[str, str | None] | None = None,
    strict: bool = True,
) -> Manifest:
    """Rename/merge labels with ``mapping``, then drop ``drop`` and keep only ``keep``.

    ``mapping`` keys are the manifest's labels (a ``None`` value drops those clips); ``drop``
    and ``keep`` name labels as they are *after* the mapping. With ``strict`` (the default)
    every name must exist, so typos raise :class:`LabelError`; ``strict=False`` ignores
    mapping keys the manifest does not have (for a map shared by several corpora).
    An operation that would leave no clips at all is an error too.
    """
    mapping = dict(mapping or {})
    drop_set, keep_set = set(drop), set(keep)
    if strict:
        _check_known(mapping, manifest.labels, "label map")
    clips = []
    for clip in manifest:
        new = mapping.get(clip.label, clip.label)
        if new is None:
            continue
        clips.append(clip if new == clip.label else clip.with_(label=new))
    mapped = Manifest(clips)
    _check_known(drop_set, mapped.labels, "--drop")
    _check_known(keep_set, mapped.labels, "--keep")
    result = mapped.filter(
        lambda c: c.label not in drop_set and (not keep_set or c.label in keep_set)
    )
    if manifest and not result:
        raise LabelError(
            f"these label operations drop all {len(manifest)} clips; "
            f"labels before: {', '.join(manifest.labels)}"
        )
    return result


class _StringLoader(yaml.SafeLoader):
    """A YAML loader that reads ``yes``/``no``/``on``/``off`` as strings, not booleans.

    Speech Commands has the words ``yes``, ``no``, ``on`` and ``off``; YAML 1.1 would turn
    them into ``True``/``False`` and silently break a label map.
    """


_StringLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class LabelMap:
    """A reusable ``{from: to}`` label mapping; ``to`` = ``None`` drops the label.

    Labels not in the map are kept unchanged.
    """

    mapping: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def from_yaml(cls, path: str | Path) -> LabelMap:
        """Read a YAML file of ``from: to`` lines (``from: null`` or ``from:`` drops)."""
        path = Path(path)
        if not path.is_file():
            raise LabelError(f"{path}: no such label map file")
        try:
            data: Any = yaml.load(path.read_text(encoding="utf-8"), Loader=_StringLoader)
        except yaml.YAMLError as exc:
            raise LabelError(f"{path}: not valid YAML ({exc})") from exc
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise LabelError(
                f"{path}: a label map is a YAML mapping of `from: to` lines "
                f"(e.g. `calm: neutral`, `surprised: null`), got a {type(data).__name__}"
            )
        mapping: dict[str, str | None] = {}
        for key, value in data.items():
            if isinstance(value, list | dict):
                raise LabelError(
                    f"{path}: label {key!r} maps to a {type(value).__name__}; "
                    "write one target label, or null to drop it"
                )
            mapping[str(key)] = None if value is None or value == "" else str(value)
        return cls(mapping)

    def to_yaml(self, path: str | Path) -> Path:
        """Write the map as YAML (``null`` for dropped labels)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            yaml.safe_dump(self.mapping, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
        return path

    def map(self, label: str) -> str | None:
        """The new name of ``label`` (``None`` when dropped; unchanged when not in the map)."""
        return self.mapping.get(label, label)

    def apply(self, manifest: Manifest, *, strict: bool = True) -> Manifest:
        """Relabel a manifest; with ``strict`` every map key must be a label it has."""
        return apply_label_ops(manifest, mapping=self.mapping, strict=strict)


def canonical_emotion(label: str, *, calm_as_neutral: bool = False) -> str | None:
    """The shared emotion name for a corpus label, or ``None`` when it is not an emotion."""
    emotion = EMOTION_SYNONYMS.get(_normalise(label))
    if emotion == "calm" and calm_as_neutral:
        return "neutral"
    return emotion


def shared_emotion_map(
    labels: Iterable[str], *, calm_as_neutral: bool = False
) -> dict[str, str | None]:
    """Map every label to the shared vocabulary (``None`` for labels it does not know)."""
    return {label: canonical_emotion(label, calm_as_neutral=calm_as_neutral) for label in labels}


def to_shared_emotions(
    manifest: Manifest, *, calm_as_neutral: bool = False, strict: bool = True
) -> Manifest:
    """Rename emotion labels to :data:`EMOTIONS` so corpora can be mixed and compared.

    ``calm_as_neutral`` merges RAVDESS's *calm* into *neutral* (most corpora lack calm).
    Labels outside the synonym table raise :class:`LabelError` with ``strict``; with
    ``strict=False`` their clips are dropped.
    """
    mapping = shared_emotion_map(manifest.labels, calm_as_neutral=calm_as_neutral)
    unknown = sorted(label for label, emotion in mapping.items() if emotion is None)
    if unknown and strict:
        counts = manifest.label_counts()
        listed = ", ".join(f"{label!r} ({counts[label]} clips)" for label in unknown)
        raise LabelError(
            f"label(s) {listed} are not in the shared emotion vocabulary "
            f"({', '.join(EMOTIONS)}); map them first (e.g. --map {unknown[0]}=happy) "
            f"or drop them (--map {unknown[0]}=)"
        )
    return apply_label_ops(manifest, mapping=mapping)


def parse_label_ops(strings: Iterable[str]) -> dict[str, str | None]:
    """Parse CLI specs ``FROM=TO`` into a mapping: ``calm=neutral``, ``surprised=`` (drop).

    Several sources may share a target (``a,b=c`` or repeated specs) to merge labels.
    """
    mapping: dict[str, str | None] = {}
    for spec in strings:
        sources, sep, target = spec.partition("=")
        names = [s.strip() for s in sources.split(",") if s.strip()]
        if not sep or not names:
            raise LabelError(
                f"label mapping {spec!r} is not FROM=TO; "
                "write e.g. calm=neutral to rename or surprised= to drop"
            )
        new = target.strip() or None
        for name in names:
            if name in mapping and mapping[name] != new:
                raise LabelError(
                    f"label {name!r} is mapped twice ({mapping[name]!r} and {new!r}); keep one"
                )
            mapping[name] = new
    return mapping


def label_count_changes(before: Manifest, after: Manifest) -> list[tuple[str, int, int]]:
    """``(label, clips before, clips after)`` for every label in either manifest."""
    b: Counter[str] = before.label_counts()
    a: Counter[str] = after.label_counts()
    return [(label, b[label], a[label]) for label in sorted(set(b) | set(a))]
