"""Pooled multi-corpus training data: several manifests as one, corpus by corpus.

``audioclf train --data A.jsonl --data B.jsonl`` trains on :func:`pool_manifests`:

- every clip gets its corpus: its own ``corpus`` field, else the manifest's name (the
  file stem, or the folder name for a file called ``manifest.jsonl``);
- speakers and clip ids are namespaced by corpus (``emodb/03``), since speaker 03 of two
  corpora is two people: speaker splits stay speaker-independent across corpora;
- when the manifests' label sets differ and every label is an emotion, labels are mapped
  onto the shared emotion vocabulary (:func:`audioclf.data.labels.to_shared_emotions`);
  ``shared_emotions`` forces or forbids that;
- the classes are those every corpus has (``pool_classes: shared``, the default: a class
  only one corpus has would teach the model the corpus, not the class) or all of them.

Corpus balance (:func:`balance_corpora`) repeats each training clip of a smaller corpus
a whole number of times, so every corpus weighs about the same in the fit. Repetition is
used instead of per-sample weights because it works unchanged for every model of the zoo
(pipelines, multi-view and fusion estimators, the torch trainer take no sample weights),
and a whole-number factor leaves each speaker's feature statistics unchanged (per-speaker
normalisation sees the same mean and variance). Speaker splits of a pool are made inside
each corpus and joined (:func:`split_within_corpora`), so every split holds every corpus.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from audioclf.console import console
from audioclf.data.labels import LabelError, canonical_emotion, to_shared_emotions
from audioclf.data.split import SplitError, Splits, grouped_kfold, split_manifest
from audioclf.evaluate.metrics import classification_metrics
from audioclf.formats.manifest import Clip, Manifest, read_manifest
from audioclf.train.data import LoadedSplit

PoolClasses = Literal["shared", "all"]


class PoolError(ValueError):
    """Manifests that cannot be pooled as asked; the message says what to change."""


@dataclass
class PoolReport:
    """What pooling did: the corpora, their clips before and after, the classes."""

    corpora: dict[str, dict[str, Any]] = field(default_factory=dict)
    classes: list[str] = field(default_factory=list)
    shared_emotions: bool = False
    pool_classes: str = "shared"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, as a run's metrics keep it under ``pool``."""
        return {
            "corpora": self.corpora,
            "classes": self.classes,
            "shared_emotions": self.shared_emotions,
            "pool_classes": self.pool_classes,
        }


def manifest_corpus(path: str | Path) -> str:
    """The corpus name a manifest file gives its clips without a ``corpus`` field."""
    path = Path(path)
    return path.parent.name if path.stem == "manifest" else path.stem


def _namespaced(value: str, corpus: str) -> str:
    return value if value.startswith(f"{corpus}/") else f"{corpus}/{value}"


def _tagged(clip: Clip, default_corpus: str) -> Clip:
    """The clip with its corpus set, and its speaker and id under that corpus."""
    corpus = clip.corpus or default_corpus
    speaker = _namespaced(clip.speaker, corpus) if clip.speaker else None
    return clip.with_(corpus=corpus, speaker=speaker, id=_namespaced(clip.id, corpus))


def _all_emotions(manifests: Sequence[Manifest]) -> bool:
    return all(canonical_emotion(label) is not None for m in manifests for label in m.labels)


def _use_emotions(manifests: Sequence[Manifest], shared_emotions: bool | None) -> bool:
    """Whether to map labels onto the shared emotion vocabulary (None: when label sets
    differ and every label is an emotion)."""
    if shared_emotions is not None:
        return shared_emotions
    differ = len({tuple(m.labels) for m in manifests}) > 1
    return differ and _all_emotions(manifests)


def pool_manifests(
    paths: Sequence[str | Path],
    *,
    pool_classes: PoolClasses = "shared",
    shared_emotions: bool | None = None,
) -> tuple[Manifest, PoolReport]:
    """The manifests at ``paths`` as one manifest (see the module docstring) and a report
    of what was done."""
    if len(paths) < 2:
        raise PoolError(f"pooling needs at least two manifests, got {len(paths)}")
    tagged: list[Manifest] = []
    for path in paths:
        manifest = read_manifest(path)
        tagged.append(Manifest(_tagged(c, manifest_corpus(path)) for c in manifest))
    emotions = _use_emotions(tagged, shared_emotions)
    if emotions:
        try:
            tagged = [to_shared_emotions(m) for m in tagged]
        except LabelError as err:
            raise PoolError(f"--shared-emotions: {err}") from None
    by_corpus: dict[str, list[Clip]] = {}
    for manifest in tagged:
        for clip in manifest:
            by_corpus.setdefault(str(clip.corpus), []).append(clip)
    if len(by_corpus) < 2:
        raise PoolError(
            f"every clip is of corpus {next(iter(by_corpus))!r}: pooling needs two corpora "
            "(give the manifests different names or `corpus` fields)"
        )
    label_sets = {name: {c.label for c in clips} for name, clips in by_corpus.items()}
    classes = sorted(
        set.intersection(*label_sets.values())
        if pool_classes == "shared"
        else set.union(*label_sets.values())
    )
    if len(classes) < 2:
        listed = "; ".join(f"{n}: {', '.join(sorted(s))}" for n, s in label_sets.items())
        raise PoolError(
            f"the corpora share {len(classes)} class(es) ({listed}); map their labels onto "
            "common names (--shared-emotions for emotion corpora) or use pool_classes: all"
        )
    report = PoolReport(shared_emotions=emotions, pool_classes=pool_classes, classes=classes)
    kept: list[Clip] = []
    for name, clips in by_corpus.items():
        mine = [c for c in clips if c.label in classes]
        report.corpora[name] = {
            "clips": len(clips),
            "kept": len(mine),
            "speakers": len({c.speaker for c in mine if c.speaker}),
            "dropped_labels": sorted(label_sets[name] - set(classes)),
        }
        kept.extend(mine)
    _announce(report)
    return Manifest(kept).validate(), report


def _announce(report: PoolReport) -> None:
    """Say on the console what pooling kept."""
    mapped = " (labels mapped onto the shared emotions)" if report.shared_emotions else ""
    console.print(
        f"pooled {len(report.corpora)} corpora{mapped}; classes {', '.join(report.classes)}",
        highlight=False,
    )
    for name, row in report.corpora.items():
        dropped = f", dropped {', '.join(row['dropped_labels'])}" if row["dropped_labels"] else ""
        console.print(f"  {name}: {row['kept']} of {row['clips']} clips{dropped}", highlight=False)


def corpora_of(manifest: Manifest) -> list[str]:
    """The distinct corpora of a manifest's clips (those that have one), sorted."""
    return sorted({c.corpus for c in manifest if c.corpus})


def split_within_corpora(manifest: Manifest, *, val: float, test: float, seed: int) -> Splits:
    """A speaker-independent split made inside each corpus and joined, so every split
    holds every corpus in about the same share."""
    parts = [
        split_manifest(
            manifest.filter(lambda c, n=name: c.corpus == n), val=val, test=test, seed=seed
        )
        for name in corpora_of(manifest)
    ]
    return Splits(
        *(sum((getattr(p, n) for p in parts), Manifest()) for n in ("train", "val", "test"))
    )


def corpus_split(manifest: Manifest, test_corpus: str, *, val: float, seed: int) -> Splits:
    """Test on the corpus ``test_corpus`` alone; train (and a speaker-independent val
    share) on the others."""
    names = corpora_of(manifest)
    if test_corpus not in names:
        raise SplitError(
            f"no corpus {test_corpus!r} to test on; the corpora are {', '.join(names) or 'none'}"
        )
    if len(names) < 2:
        raise SplitError("a corpus split needs at least two corpora (--data A --data B)")
    test = manifest.filter(lambda c: c.corpus == test_corpus)
    rest = manifest.filter(lambda c: c.corpus != test_corpus)
    inner = split_manifest(rest, val=val, test=0.0, seed=seed)
    return Splits(inner.train, inner.val, test)


def pooled_kfold(manifest: Manifest, k: int, *, seed: int, val: float) -> list[Splits]:
    """``k`` speaker-disjoint folds made inside each corpus and joined fold by fold, so
    every fold tests speakers of every corpus."""
    per_corpus = [
        grouped_kfold(manifest.filter(lambda c, n=name: c.corpus == n), k, seed=seed, val=val)
        for name in corpora_of(manifest)
    ]
    return [
        Splits(*(sum((getattr(f, n) for f in folds), Manifest()) for n in ("train", "val", "test")))
        for folds in zip(*per_corpus, strict=True)
    ]


def corpus_factors(clips: Sequence[Clip]) -> dict[str, int]:
    """How many times each corpus's clips are repeated so every corpus weighs about as
    much as the largest: ``round(largest / n)``, at least 1."""
    counts = Counter(str(c.corpus) for c in clips)
    if len(counts) < 2:
        return dict.fromkeys(counts, 1)
    largest = max(counts.values())
    return {name: max(1, round(largest / n)) for name, n in counts.items()}


def balance_corpora(split: LoadedSplit) -> tuple[LoadedSplit, dict[str, int]]:
    """``split`` with each corpus's clips repeated by :func:`corpus_factors` (unchanged
    for one corpus), and the factors."""
    factors = corpus_factors(split.clips)
    if all(f == 1 for f in factors.values()):
        return split, factors
    rows = [i for i, c in enumerate(split.clips) for _ in range(factors[str(c.corpus)])]
    balanced = LoadedSplit(
        [split.clips[i] for i in rows],
        [split.waves[i] for i in rows],
        split.targets[np.asarray(rows, dtype=np.int64)],
        list(split.skipped),
    )
    return balanced, factors


def per_corpus_metrics(
    clips: Sequence[Clip], targets: np.ndarray, probs: np.ndarray, labels: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Accuracy (WA), balanced accuracy (UA), macro F1 and clip count of the known test
    clips of each corpus; empty when the clips hold fewer than two corpora."""
    names = np.asarray([str(c.corpus) for c in clips])
    if len(set(names.tolist())) < 2:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for name in sorted(set(names.tolist())):
        rows = (names == name) & (targets >= 0)
        if not rows.any():
            continue
        scores = classification_metrics(targets[rows], probs[rows], list(labels))
        out[name] = {key: scores[key] for key in ("accuracy", "balanced_accuracy", "macro_f1", "n")}
    return out
