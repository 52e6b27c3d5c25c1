"""Train/val/test splits: random (stratified), speaker-independent, corpus folds, k-fold.

A model that has heard a speaker in training scores higher on that speaker's test clips
than it would on a stranger, so emotion and speaker tasks need *speaker-independent*
splits: :func:`split_manifest` with ``by="speaker"`` never puts one speaker in two splits,
and :func:`warn_leakage` shouts when a split does (e.g. ``by="random"`` on data with
speakers). Within each split clips keep their manifest order, and every split is
deterministic for a given seed.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from rich.panel import Panel
from rich.table import Table

from audioclf.console import console
from audioclf.formats.manifest import Clip, Manifest, write_manifest

SPLIT_NAMES = ("train", "val", "test")
_SPLIT_ALIASES = {
    "train": "train",
    "training": "train",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "dev": "val",
    "test": "test",
    "testing": "test",
}


class SplitError(ValueError):
    """A split cannot be made as asked; the message says what to change."""


class LeakageWarning(UserWarning):
    """The same speaker appears in more than one split: scores will be optimistic."""


class StratifyWarning(UserWarning):
    """A class has too few clips to stratify; the split was made unstratified."""


@dataclass(frozen=True)
class Splits:
    """The train, validation and test manifests of one split."""

    train: Manifest
    val: Manifest
    test: Manifest

    def items(self) -> Iterator[tuple[str, Manifest]]:
        """``("train", manifest), ("val", ...), ("test", ...)``."""
        yield from zip(SPLIT_NAMES, (self.train, self.val, self.test), strict=True)

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write ``train.jsonl``, ``val.jsonl`` and ``test.jsonl`` (empty splits too)."""
        out = Path(out_dir)
        return {name: write_manifest(part, out / f"{name}.jsonl") for name, part in self.items()}

    def summary(self) -> Table:
        """The :func:`split_summary` table of these splits."""
        return split_summary(self)


def _check_fractions(val: float, test: float) -> None:
    for name, value in (("val", val), ("test", test)):
        if not 0.0 <= value < 1.0:
            raise SplitError(f"--{name} must be a fraction in [0, 1), got {value}")
    if val + test >= 1.0:
        raise SplitError(f"--val + --test must leave clips to train on, got {val} + {test} >= 1")


def _group_of(clip: Clip, group: str) -> str | None:
    """The value of a clip's grouping field (``speaker``, ``gender``, ``corpus`` or meta)."""
    if group in {"speaker", "gender", "corpus"}:
        value = getattr(clip, group)
    else:
        value = clip.meta.get(group)
    return None if value is None else str(value)


SPEAKERLESS_GROUP = "(no speaker) "
"""The prefix of the group a clip of a speakerless class gets in a speaker split."""


def speakerless_classes(clips: Iterable[tuple[str, str | None]]) -> list[str]:
    """Of ``(label, speaker)`` pairs, the classes none of whose clips has a speaker where
    other classes' clips do — the background-noise or silence class of a spoken corpus
    (Speech Commands' ``_silence_``). No voice of theirs can leak between splits, so a
    speaker split puts each of their clips in a group of its own."""
    pairs = list(clips)
    with_speaker = {label for label, speaker in pairs if speaker is not None}
    if not with_speaker:
        return []
    return sorted({label for label, _ in pairs} - with_speaker)


def _groups(manifest: Manifest, group: str) -> list[str]:
    """The group of every clip (clips of :func:`speakerless_classes` each their own in a
    speaker split); other clips without one are a :class:`SplitError`."""
    values = [_group_of(c, group) for c in manifest]
    if group == "speaker":
        alone = set(speakerless_classes((c.label, c.speaker) for c in manifest))
        values = [
            f"{SPEAKERLESS_GROUP}{c.id}" if v is None and c.label in alone else v
            for c, v in zip(manifest, values, strict=True)
        ]
    missing = [c.id for c, v in zip(manifest, values, strict=True) if v is None]
    if missing:
        raise SplitError(
            f"{len(missing)} of {len(manifest)} clips have no {group} (e.g. {missing[0]!r}); "
            f"a {group}-independent split needs one on every clip. Use --by random, "
            f"or give the clips a {group} in the manifest"
        )
    return [v for v in values if v is not None]


def _subset(manifest: Manifest, mask: np.ndarray) -> Manifest:
    return Manifest(c for c, m in zip(manifest, mask, strict=True) if m)


def _from_assignment(manifest: Manifest, assign: np.ndarray) -> Splits:
    """Splits from a per-clip array of 0 (train), 1 (val), 2 (test)."""
    return Splits(*(_subset(manifest, assign == i) for i in range(3)))


# --- random -------------------------------------------------------------------------------


def _random_part(
    indices: np.ndarray, labels: np.ndarray, size: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``indices`` into (rest, part of ``size``), stratified by label when possible."""
    from sklearn.model_selection import train_test_split

    try:
        rest, part = train_test_split(
            indices, test_size=size, random_state=seed, stratify=labels[indices]
        )
    except ValueError:
        counts = np.unique(labels[indices], return_counts=True)[1]
        message = (
            f"cannot stratify a part of {size} clips over {len(counts)} classes "
            f"(smallest class: {counts.min()} clips); the split is random but not stratified"
        )
        warnings.warn(message, StratifyWarning, stacklevel=3)
        console.print(f"[yellow]warning:[/] {message}", highlight=False)
        rest, part = train_test_split(indices, test_size=size, random_state=seed)
    return np.asarray(rest), np.asarray(part)


def _split_random(manifest: Manifest, val: float, test: float, seed: int) -> Splits:
    n = len(manifest)
    labels = np.array([c.label for c in manifest])
    n_test = max(1, round(test * n)) if test > 0 else 0
    n_val = max(1, round(val * n)) if val > 0 else 0
    if n_test + n_val >= n:
        raise SplitError(
            f"{n} clips are too few for --val {val} --test {test}; lower them or add clips"
        )
    assign = np.zeros(n, dtype=int)
    rest = np.arange(n)
    if n_test:
        rest, part = _random_part(rest, labels, n_test, seed)
        assign[part] = 2
    if n_val:
        rest, part = _random_part(rest, labels, n_val, seed + 1)
        assign[part] = 1
    return _from_assignment(manifest, assign)


# --- grouped (speaker-independent) --------------------------------------------------------


@dataclass
class _GroupTable:
    """Per-group clip counts by label, and the group's gender when it has one."""

    names: list[str]
    counts: np.ndarray  # groups x labels
    female: np.ndarray  # 1 female, 0 male, nan unknown
    clip_group: np.ndarray  # group index of every clip

    @classmethod
    def build(cls, manifest: Manifest, groups: Sequence[str]) -> _GroupTable:
        names = sorted(set(groups))
        index = {g: i for i, g in enumerate(names)}
        labels = manifest.labels
        label_index = {label: i for i, label in enumerate(labels)}
        counts = np.zeros((len(names), len(labels)), dtype=np.int64)
        female = np.full(len(names), np.nan)
        clip_group = np.array([index[g] for g in groups], dtype=np.int64)
        for clip, g in zip(manifest, clip_group, strict=True):
            counts[g, label_index[clip.label]] += 1
            if clip.gender is not None:
                female[g] = 1.0 if clip.gender == "female" else 0.0
        return cls(names, counts, female, clip_group)


def _assignment_cost(
    table: _GroupTable, assign: np.ndarray, targets: np.ndarray, needed: np.ndarray
) -> float:
    """Lower is better: clip-fraction error + missing classes + gender imbalance + empty parts."""
    total = table.counts.sum()
    per_split = np.stack([table.counts[assign == s].sum(axis=0) for s in range(3)])
    fractions = per_split.sum(axis=1) / total
    score = float(np.abs(fractions - targets).sum())
    present = table.counts.sum(axis=0) > 0
    for s in range(3):
        if needed[s]:
            if not (assign == s).any():
                score += 100.0
            score += 2.0 * float(((per_split[s] == 0) & present).sum()) / max(1, present.sum())
    known = ~np.isnan(table.female)
    if known.sum() >= 2:
        overall = table.female[known].mean()
        for s in (1, 2):
            sel = known & (assign == s)
            if needed[s] and sel.sum() >= 2:
                score += 0.25 * abs(float(table.female[sel].mean()) - overall)
    return score


def _assign_groups(
    table: _GroupTable, val: float, test: float, seed: int, trials: int | None = None
) -> np.ndarray:
    """Per-group split (0/1/2): the best of many seeded greedy fills, scored by :func:`_score`."""
    n_groups = len(table.names)
    sizes = table.counts.sum(axis=1)
    total = sizes.sum()
    targets = np.array([1.0 - val - test, val, test])
    needed = targets > 0
    if n_groups < int(needed.sum()):
        raise SplitError(
            f"only {n_groups} speaker(s)/group(s) for {int(needed.sum())} splits; "
            "use --val 0, fewer splits, or --by random"
        )
    rng = np.random.default_rng(seed)
    trials = trials or int(np.clip(200_000 // max(1, n_groups), 40, 300))
    best: np.ndarray | None = None
    best_score = np.inf
    for _ in range(trials):
        order = rng.permutation(n_groups)
        assign = np.zeros(n_groups, dtype=np.int64)
        filled = np.zeros(3)
        for g in order:
            deficits = targets[1:] * total - filled[1:]
            # a group goes to the split that is missing the most clips, if it fits halfway
            s = int(np.argmax(deficits)) + 1
            if deficits[s - 1] < sizes[g] / 2:
                s = 0
            assign[g] = s
            filled[s] += sizes[g]
        for s in (2, 1):  # make sure every wanted split has at least one group
            if needed[s] and not (assign == s).any():
                donors = np.flatnonzero(assign == 0)
                if len(donors) > 1:
                    assign[donors[np.argmin(sizes[donors])]] = s
        score = _assignment_cost(table, assign, targets, needed)
        if score < best_score:
            best, best_score = assign, score
    assert best is not None
    return best


def _split_grouped(manifest: Manifest, val: float, test: float, seed: int, group: str) -> Splits:
    groups = _groups(manifest, group)
    table = _GroupTable.build(manifest, groups)
    assign = _assign_groups(table, val, test, seed)
    return _from_assignment(manifest, assign[table.clip_group])


# --- corpus folds and lists ---------------------------------------------------------------


def _split_folds(
    manifest: Manifest,
    test_folds: Sequence[int | str] | None,
    val_folds: Sequence[int | str] | None,
) -> Splits:
    if any("split" in c.meta for c in manifest):
        assign = np.zeros(len(manifest), dtype=int)
        for i, clip in enumerate(manifest):
            name = _SPLIT_ALIASES.get(str(clip.meta.get("split", "")).lower())
            if name is None:
                raise SplitError(
                    f"clip {clip.id!r} has split {clip.meta.get('split')!r}; with --by fold "
                    "every clip needs split train, val or test (re-run the corpus recipe)"
                )
            assign[i] = SPLIT_NAMES.index(name)
        return _from_assignment(manifest, assign)
    if not any("fold" in c.meta for c in manifest):
        raise SplitError(
            "--by fold needs the corpus's own folds or lists (a `fold` or `split` field on "
            "the clips, as the ESC-50 and Speech Commands recipes write); "
            "use --by speaker or --by random"
        )
    folds = _groups(manifest, "fold")
    existing = sorted(set(folds), key=lambda f: (not f.isdigit(), int(f) if f.isdigit() else 0, f))
    test_set = {str(f) for f in test_folds} if test_folds else {existing[-1]}
    if val_folds is None:
        candidates = [f for f in existing if f not in test_set]
        val_set = {candidates[-1]} if len(candidates) > 1 else set()
    else:
        val_set = {str(f) for f in val_folds}
    unknown = sorted((test_set | val_set) - set(existing))
    if unknown:
        raise SplitError(f"no fold(s) {', '.join(unknown)}; the folds are {', '.join(existing)}")
    if test_set & val_set:
        raise SplitError(f"fold(s) {', '.join(sorted(test_set & val_set))} are both val and test")
    if not set(existing) - test_set - val_set:
        raise SplitError("no fold left to train on; give fewer --test-fold/--val-fold")
    assign = np.array([2 if f in test_set else 1 if f in val_set else 0 for f in folds])
    return _from_assignment(manifest, assign)


# --- the public entry points --------------------------------------------------------------


def split_manifest(
    manifest: Manifest,
    *,
    by: Literal["speaker", "random", "fold"] = "speaker",
    val: float = 0.1,
    test: float = 0.2,
    seed: int = 0,
    test_folds: Sequence[int | str] | None = None,
    val_folds: Sequence[int | str] | None = None,
) -> Splits:
    """Split a manifest into train/val/test.

    * ``by="speaker"``: speaker-independent; speakers are chosen so each split holds close to
      ``val``/``test`` of the clips, every class appears in every split when possible, and
      female/male speakers are balanced where gender is known.
    * ``by="random"``: clips drawn at random, stratified by label (unstratified, with a
      :class:`StratifyWarning`, when a class is too small). Warns loudly when speakers leak.
    * ``by="fold"``: the corpus's own partition: a ``split`` field (train/val/test lists)
      is used as is; a ``fold`` field puts ``test_folds`` (default: the last fold) in test,
      ``val_folds`` (default: the one before) in val and the rest in train.
    """
    if not manifest:
        raise SplitError("the manifest is empty; nothing to split")
    if by == "fold":
        splits = _split_folds(manifest, test_folds, val_folds)
    else:
        _check_fractions(val, test)
        if by == "speaker":
            splits = _split_grouped(manifest, val, test, seed, "speaker")
        elif by == "random":
            splits = _split_random(manifest, val, test, seed)
        else:
            raise SplitError(f"unknown split method {by!r}; use speaker, random or fold")
    if by != "speaker":
        warn_leakage(splits)
    return splits


def _kfold_assignments(
    manifest: Manifest, groups: list[str], k: int, seed: int
) -> list[np.ndarray]:
    """For each of ``k`` folds, a boolean test mask over clips, with whole groups per fold."""
    from sklearn.model_selection import StratifiedGroupKFold

    names = sorted(set(groups))
    if k < 2:
        raise SplitError(f"k-fold needs k >= 2, got {k}")
    if k > len(names):
        raise SplitError(
            f"{k} folds need at least {k} groups, but there are {len(names)}; use --kfold "
            f"{len(names)} or fewer"
        )
    group_arr = np.array(groups)
    if k == len(names):
        order = np.random.default_rng(seed).permutation(len(names))
        return [group_arr == names[i] for i in order]
    labels = np.array([c.label for c in manifest])
    kfold = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "least populated class has only n members"
        folds = list(kfold.split(np.zeros(len(labels)), labels, group_arr))
    masks = []
    for _, test_idx in folds:
        mask = np.zeros(len(labels), dtype=bool)
        mask[test_idx] = True
        masks.append(mask)
    return masks


def _with_val(
    manifest: Manifest, groups: list[str], test_mask: np.ndarray, val: float, seed: int
) -> Splits:
    """Test = ``test_mask``; val = a group-disjoint ``val`` fraction (of all clips) of the rest."""
    assign = np.where(test_mask, 2, 0)
    rest = np.flatnonzero(~test_mask)
    if val > 0:
        rest_manifest = Manifest(manifest[int(i)] for i in rest)
        rest_groups = [groups[int(i)] for i in rest]
        table = _GroupTable.build(rest_manifest, rest_groups)
        share = min(0.9, val * len(manifest) / max(1, len(rest)))
        if len(table.names) < 2:
            raise SplitError(
                "after taking the test fold only one group is left, so there is none for val; "
                "use val=0 or more groups"
            )
        group_assign = _assign_groups(table, share, 0.0, seed)
        assign[rest] = group_assign[table.clip_group]
    return _from_assignment(manifest, assign)


def grouped_kfold(
    manifest: Manifest, k: int, *, group: str = "speaker", seed: int = 0, val: float = 0.1
) -> list[Splits]:
    """``k`` group-disjoint folds: each group is in the test split of exactly one fold.

    Folds are stratified by label where possible (scikit-learn's ``StratifiedGroupKFold``);
    each fold's val split is a group-disjoint ``val`` fraction of the remaining clips.
    ``group`` may be ``speaker``, ``corpus`` or a metadata key such as ``fold``.
    """
    if not manifest:
        raise SplitError("the manifest is empty; nothing to split")
    _check_fractions(val, 0.0)
    groups = _groups(manifest, group)
    masks = _kfold_assignments(manifest, groups, k, seed)
    return [_with_val(manifest, groups, m, val, seed + i) for i, m in enumerate(masks)]


def leave_one_group_out(
    manifest: Manifest,
    group: str = "speaker",
    *,
    val: float = 0.1,
    seed: int = 0,
    val_group: str | None = None,
) -> list[Splits]:
    """One fold per group (in sorted order), testing on that group alone; each fold's val
    split is a ``val_group``-disjoint share of the rest (default: by ``group``; leaving
    one corpus out of two, ``val_group="speaker"`` takes val speakers from the other)."""
    if not manifest:
        raise SplitError("the manifest is empty; nothing to split")
    _check_fractions(val, 0.0)
    groups = _groups(manifest, group)
    names = sorted(set(groups))
    if len(names) < 2:
        raise SplitError(f"leave-one-{group}-out needs at least 2 groups, found {len(names)}")
    group_arr = np.array(groups)
    val_groups = groups if val_group in (None, group) else _groups(manifest, str(val_group))
    return [_with_val(manifest, val_groups, group_arr == g, val, seed) for g in names]


# --- leakage and summaries ----------------------------------------------------------------


def check_leakage(splits: Splits) -> dict[str, list[str]]:
    """Speakers found in more than one split: ``{"train/test": [...], ...}``, only non-empty."""
    speakers = {name: set(part.speakers) for name, part in splits.items()}
    leaks: dict[str, list[str]] = {}
    for i, a in enumerate(SPLIT_NAMES):
        for b in SPLIT_NAMES[i + 1 :]:
            shared = sorted(speakers[a] & speakers[b])
            if shared:
                leaks[f"{a}/{b}"] = shared
    return leaks


def warn_leakage(splits: Splits, *, limit: int = 10) -> dict[str, list[str]]:
    """Print a loud panel and emit a :class:`LeakageWarning` when speakers cross splits.

    Returns :func:`check_leakage`'s result (empty when the splits are speaker-independent).
    """
    leaks = check_leakage(splits)
    if not leaks:
        return leaks
    lines = []
    for pair, shared in leaks.items():
        names = ", ".join(shared[:limit])
        more = f" and {len(shared) - limit} more" if len(shared) > limit else ""
        lines.append(f"[bold]{pair}[/]: {len(shared)} shared speaker(s): {names}{more}")
    body = "\n".join(
        [
            *lines,
            "",
            "[yellow]The same voices are in training and evaluation, so accuracy will be "
            "optimistic and will not carry over to new speakers.[/]",
            "For a speaker-independent split use [bold]--by speaker[/].",
        ]
    )
    console.print(
        Panel(
            body,
            title="[bold red]WARNING: split is NOT speaker-independent",
            border_style="bold red",
        ),
        highlight=False,
    )
    total = len(set().union(*leaks.values()))
    warnings.warn(
        f"{total} speaker(s) appear in more than one split ({', '.join(leaks)}); "
        "the split is not speaker-independent",
        LeakageWarning,
        stacklevel=2,
    )
    return leaks


def split_summary(splits: Splits) -> Table:
    """Clips, speakers, classes and per-class clip counts of every split."""
    parts = dict(splits.items())
    total = sum(len(p) for p in parts.values()) or 1
    table = Table(title="splits", header_style="bold")
    table.add_column("")
    for name in SPLIT_NAMES:
        table.add_column(name, justify="right")

    def row(title: str, value: Callable[[Manifest], str]) -> None:
        table.add_row(title, *(value(p) for p in parts.values()))

    row("clips", lambda p: f"{len(p)} ({100 * len(p) / total:.0f}%)")
    row("speakers", lambda p: str(len(p.speakers)))
    if any(c.gender for p in parts.values() for c in p):
        row("female/male speakers", _gender_counts)
    row("classes", lambda p: str(len(p.labels)))
    table.add_section()
    labels = sorted({label for p in parts.values() for label in p.labels})
    counts = {name: p.label_counts() for name, p in parts.items()}
    for label in labels:
        table.add_row(label, *(str(counts[name][label]) for name in SPLIT_NAMES))
    return table


def _gender_counts(part: Manifest) -> str:
    genders = {c.speaker: c.gender for c in part if c.speaker is not None and c.gender}
    values = list(genders.values())
    return f"{values.count('female')}/{values.count('male')}"
