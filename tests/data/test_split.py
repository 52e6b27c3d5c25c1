"""Splits: speaker independence, fractions, stratification, folds, k-fold and leakage."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from audioclf.data.split import (
    LeakageWarning,
    SplitError,
    Splits,
    StratifyWarning,
    check_leakage,
    grouped_kfold,
    leave_one_group_out,
    split_manifest,
    split_summary,
    warn_leakage,
)
from audioclf.formats.manifest import Clip, Manifest, read_manifest

LABELS = ("angry", "happy", "neutral", "sad")


def speech(n_speakers: int = 20, seed: int = 0) -> Manifest:
    """Speakers with 6-14 clips each over four labels; half female."""
    rng = np.random.default_rng(seed)
    clips = []
    for s in range(n_speakers):
        for j in range(int(rng.integers(6, 15))):
            clips.append(
                Clip(
                    id=f"s{s:02d}_{j}",
                    path=f"s{s}/{j}.wav",
                    label=LABELS[(j + s) % len(LABELS)],
                    speaker=f"spk{s:02d}",
                    gender="female" if s % 2 else "male",
                )
            )
    return Manifest(clips)


def speakers_of(part: Manifest) -> set[str]:
    return set(part.speakers)


def test_speaker_split_is_speaker_independent_and_close_to_fractions() -> None:
    manifest = speech()
    splits = split_manifest(manifest, by="speaker", val=0.1, test=0.2, seed=0)
    assert not speakers_of(splits.train) & speakers_of(splits.test)
    assert not speakers_of(splits.train) & speakers_of(splits.val)
    assert not speakers_of(splits.val) & speakers_of(splits.test)
    assert check_leakage(splits) == {}
    n = len(manifest)
    assert len(splits.train) + len(splits.val) + len(splits.test) == n
    assert abs(len(splits.test) / n - 0.2) < 0.05
    assert abs(len(splits.val) / n - 0.1) < 0.05
    for _, part in splits.items():
        assert part.labels == list(LABELS)  # every class in every split


def test_speaker_split_balances_gender() -> None:
    splits = split_manifest(speech(), by="speaker", val=0.1, test=0.2, seed=0)
    genders = {c.speaker: c.gender for c in splits.test}
    values = list(genders.values())
    assert values.count("female") >= 1 and values.count("male") >= 1


def test_splits_are_deterministic_for_a_seed() -> None:
    manifest = speech()
    for by in ("speaker", "random"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LeakageWarning)
            a = split_manifest(manifest, by=by, val=0.1, test=0.2, seed=3)
            b = split_manifest(manifest, by=by, val=0.1, test=0.2, seed=3)
            c = split_manifest(manifest, by=by, val=0.1, test=0.2, seed=4)
        assert a == b
        assert a.test != c.test


def test_clips_keep_manifest_order() -> None:
    manifest = speech()
    splits = split_manifest(manifest, by="speaker", seed=1)
    order = {c.id: i for i, c in enumerate(manifest)}
    for _, part in splits.items():
        positions = [order[c.id] for c in part]
        assert positions == sorted(positions)


def test_speaker_split_without_speakers_is_an_error() -> None:
    manifest = Manifest(Clip(id=str(i), path=f"{i}.wav", label="a") for i in range(10))
    with pytest.raises(SplitError, match=r"(?i)use --by random"):
        split_manifest(manifest, by="speaker")


def test_a_class_with_no_speaker_at_all_is_split_clip_by_clip() -> None:
    # Speech Commands' _silence_: background noise, no voice to leak between splits
    silence = [Clip(id=f"s{i}", path=f"s{i}.wav", label="_silence_") for i in range(20)]
    manifest = Manifest([*speech(), *silence])
    parts = split_manifest(manifest, by="speaker", seed=0)
    assert not speakers_of(parts.train) & speakers_of(parts.test)
    assert all(
        any(c.label == "_silence_" for c in part) for part in (parts.train, parts.val, parts.test)
    )
    folds = grouped_kfold(manifest, 4)
    tested = sorted(c.id for fold in folds for c in fold.test if c.label == "_silence_")
    assert tested == sorted(c.id for c in silence)  # each silence clip tested exactly once


def test_a_missing_speaker_in_a_class_that_has_speakers_is_still_an_error() -> None:
    clips = list(speech())
    clips[0] = Clip(id="lost", path="lost.wav", label=clips[0].label)
    with pytest.raises(SplitError, match=r"1 of \d+ clips have no speaker \(e.g. 'lost'\)"):
        split_manifest(Manifest(clips), by="speaker")


def test_too_few_speakers_is_an_error() -> None:
    with pytest.raises(SplitError, match="only 2 speaker"):
        split_manifest(speech(2), by="speaker", val=0.1, test=0.2)


def test_random_split_is_stratified_and_warns_about_speakers() -> None:
    manifest = speech()
    with pytest.warns(LeakageWarning, match="not speaker-independent"):
        splits = split_manifest(manifest, by="random", val=0.1, test=0.2, seed=0)
    n = len(manifest)
    assert len(splits.test) == round(0.2 * n)
    assert len(splits.val) == round(0.1 * n)
    overall = manifest.label_counts()
    test_counts = splits.test.label_counts()
    for label in LABELS:
        assert abs(test_counts[label] - 0.2 * overall[label]) <= 1.5
    assert check_leakage(splits)


def test_random_split_without_speakers_does_not_warn() -> None:
    manifest = Manifest(Clip(id=str(i), path=f"{i}.wav", label=LABELS[i % 4]) for i in range(40))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        splits = split_manifest(manifest, by="random", val=0.25, test=0.25, seed=0)
    assert [len(p) for _, p in splits.items()] == [20, 10, 10]


def test_random_split_falls_back_when_a_class_is_tiny() -> None:
    clips = [Clip(id=str(i), path=f"{i}.wav", label="big") for i in range(30)]
    clips.append(Clip(id="lonely", path="l.wav", label="rare"))
    with pytest.warns(StratifyWarning, match="not stratified"):
        splits = split_manifest(Manifest(clips), by="random", val=0.1, test=0.2, seed=0)
    assert sum(len(p) for _, p in splits.items()) == 31


@pytest.mark.parametrize(("val", "test"), [(-0.1, 0.2), (0.5, 0.5), (0.1, 1.0)])
def test_bad_fractions(val: float, test: float) -> None:
    with pytest.raises(SplitError):
        split_manifest(speech(), by="speaker", val=val, test=test)


def test_empty_manifest_is_an_error() -> None:
    with pytest.raises(SplitError, match="empty"):
        split_manifest(Manifest(), by="random")


def test_fold_split_uses_split_lists() -> None:
    names = ["train", "validation", "testing", "train", "val", "test"]
    manifest = Manifest(
        Clip(id=str(i), path=f"{i}.wav", label="yes", meta={"split": s})
        for i, s in enumerate(names)
    )
    splits = split_manifest(manifest, by="fold")
    assert [[c.id for c in p] for _, p in splits.items()] == [["0", "3"], ["1", "4"], ["2", "5"]]


def test_fold_split_rejects_a_bad_split_value() -> None:
    manifest = Manifest(
        [
            Clip(id="a", path="a.wav", label="x", meta={"split": "train"}),
            Clip(id="b", path="b.wav", label="x", meta={"split": "holdout"}),
        ]
    )
    with pytest.raises(SplitError, match="'b'"):
        split_manifest(manifest, by="fold")


def esc(n_folds: int = 5) -> Manifest:
    return Manifest(
        Clip(id=f"{f}-{i}", path=f"{f}-{i}.wav", label=f"c{i % 3}", meta={"fold": f})
        for f in range(1, n_folds + 1)
        for i in range(6)
    )


def test_fold_split_defaults_to_last_fold_test_and_previous_val() -> None:
    splits = split_manifest(esc(), by="fold")
    assert {c.meta["fold"] for c in splits.test} == {5}
    assert {c.meta["fold"] for c in splits.val} == {4}
    assert {c.meta["fold"] for c in splits.train} == {1, 2, 3}


def test_fold_split_with_chosen_folds() -> None:
    splits = split_manifest(esc(), by="fold", test_folds=[1], val_folds=[2, "3"])
    assert {c.meta["fold"] for c in splits.test} == {1}
    assert {c.meta["fold"] for c in splits.val} == {2, 3}
    with pytest.raises(SplitError, match="the folds are 1, 2, 3, 4, 5"):
        split_manifest(esc(), by="fold", test_folds=[9])


def test_fold_split_without_folds_is_an_error() -> None:
    with pytest.raises(SplitError, match="--by fold needs"):
        split_manifest(speech(), by="fold")


def test_grouped_kfold_tests_every_speaker_exactly_once() -> None:
    manifest = speech(12)
    folds = grouped_kfold(manifest, 4, seed=0, val=0.1)
    assert len(folds) == 4
    tested = [s for fold in folds for s in fold.test.speakers]
    assert sorted(tested) == manifest.speakers
    for fold in folds:
        assert check_leakage(fold) == {}
        assert len(fold.val) > 0
        assert len(fold.train) + len(fold.val) + len(fold.test) == len(manifest)


def test_grouped_kfold_errors() -> None:
    with pytest.raises(SplitError, match="at least 13 groups"):
        grouped_kfold(speech(12), 13)
    with pytest.raises(SplitError, match="k >= 2"):
        grouped_kfold(speech(12), 1)


def test_grouped_kfold_over_corpus_folds() -> None:
    folds = grouped_kfold(esc(), 5, group="fold", val=0.0)
    assert sorted(next(iter({c.meta["fold"] for c in f.test})) for f in folds) == [1, 2, 3, 4, 5]
    assert all(len(f.val) == 0 for f in folds)


def test_leave_one_group_out() -> None:
    manifest = speech(5)
    folds = leave_one_group_out(manifest, val=0.2)
    assert [f.test.speakers for f in folds] == [[s] for s in manifest.speakers]
    for fold in folds:
        assert check_leakage(fold) == {}
        assert fold.val.speakers


def test_leakage_detection_and_loud_warning(capsys: pytest.CaptureFixture[str]) -> None:
    a = Clip(id="1", path="1.wav", label="x", speaker="alice")
    b = Clip(id="2", path="2.wav", label="x", speaker="alice")
    c = Clip(id="3", path="3.wav", label="x", speaker="bob")
    d = Clip(id="4", path="4.wav", label="x", speaker="bob")
    splits = Splits(Manifest([a, c]), Manifest([d]), Manifest([b]))
    assert check_leakage(splits) == {"train/val": ["bob"], "train/test": ["alice"]}
    with pytest.warns(LeakageWarning):
        assert warn_leakage(splits) == check_leakage(splits)
    err = capsys.readouterr().err
    assert "NOT speaker-independent" in err
    assert "alice" in err and "bob" in err


def test_write_and_summary(tmp_path: Path) -> None:
    splits = split_manifest(speech(), by="speaker", seed=0)
    written = splits.write(tmp_path / "out")
    assert set(written) == {"train", "val", "test"}
    for name, path in written.items():
        assert path.name == f"{name}.jsonl"
        assert [c.id for c in read_manifest(path)] == [c.id for c in getattr(splits, name)]
    console = Console(record=True, width=120)
    console.print(split_summary(splits))
    text = console.export_text()
    for word in ("clips", "speakers", "female/male", "classes", *LABELS):
        assert word in text
    assert f"{len(splits.test)} (" in text
