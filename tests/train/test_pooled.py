"""Pooled multi-corpus training data: corpus tags, namespaced speakers, shared emotions,
corpus balance, splits inside corpora and leaving one corpus out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from audioclf.data.split import SplitError, check_leakage, leave_one_group_out
from audioclf.formats.manifest import Clip, Manifest, read_manifest, write_manifest
from audioclf.train.config import TrainConfig
from audioclf.train.cv import _fold_splits, aggregate_per_corpus
from audioclf.train.data import LoadedSplit
from audioclf.train.pooled import (
    PoolError,
    balance_corpora,
    corpus_factors,
    corpus_split,
    manifest_corpus,
    per_corpus_metrics,
    pool_manifests,
    pooled_kfold,
    split_within_corpora,
)


def _clips(corpus: str | None, labels: tuple[str, ...], speakers: int, per: int = 2) -> list[Clip]:
    return [
        Clip(
            id=f"s{s}-{label}-{k}",
            path=f"/audio/{corpus}/s{s}-{label}-{k}.wav",
            label=label,
            speaker=f"{s:02d}",
            corpus=corpus,
        )
        for s in range(speakers)
        for label in labels
        for k in range(per)
    ]


def _write(tmp_path: Path, name: str, clips: list[Clip]) -> Path:
    return write_manifest(Manifest(clips), tmp_path / f"{name}.jsonl")


@pytest.fixture
def two_corpora(tmp_path: Path) -> list[Path]:
    """An English-named and a German-letter-coded emotion corpus, same speaker ids."""
    return [
        _write(tmp_path, "ravdess", _clips(None, ("angry", "sad", "calm"), 6)),
        _write(tmp_path, "emodb", _clips(None, ("W", "T", "L"), 4)),
    ]


def test_clips_get_their_corpus_and_speakers_are_namespaced(two_corpora: list[Path]) -> None:
    pooled, report = pool_manifests(two_corpora)
    assert {c.corpus for c in pooled} == {"ravdess", "emodb"}
    speakers = set(pooled.speakers)
    assert "ravdess/00" in speakers and "emodb/00" in speakers and len(speakers) == 10
    assert all(c.id.startswith(f"{c.corpus}/") for c in pooled)
    assert report.corpora["emodb"]["speakers"] == 4


def test_differing_emotion_labels_map_onto_the_shared_classes(two_corpora: list[Path]) -> None:
    pooled, report = pool_manifests(two_corpora)
    assert report.shared_emotions and report.classes == ["angry", "sad"]
    assert pooled.labels == ["angry", "sad"]
    assert report.corpora["ravdess"]["dropped_labels"] == ["calm"]
    assert report.corpora["emodb"]["dropped_labels"] == ["bored"]
    assert report.corpora["ravdess"] == {
        "clips": 36,
        "kept": 24,
        "speakers": 6,
        "dropped_labels": ["calm"],
    }


def test_all_classes_on_request(two_corpora: list[Path]) -> None:
    pooled, report = pool_manifests(two_corpora, pool_classes="all")
    assert report.classes == ["angry", "bored", "calm", "sad"] == pooled.labels


def test_corpus_field_wins_over_the_file_name(tmp_path: Path) -> None:
    a = _write(tmp_path, "manifest", _clips("alpha", ("x", "y"), 2))
    b = _write(tmp_path / "beta", "manifest", _clips(None, ("x", "y"), 2))
    pooled, report = pool_manifests([a, b])
    assert sorted(report.corpora) == ["alpha", "beta"] and not report.shared_emotions
    assert manifest_corpus(b) == "beta" and manifest_corpus(tmp_path / "c.jsonl") == "c"
    assert pooled.labels == ["x", "y"]


def test_pooling_errors(tmp_path: Path, two_corpora: list[Path]) -> None:
    with pytest.raises(PoolError, match="at least two manifests"):
        pool_manifests(two_corpora[:1])
    a = _write(tmp_path, "a", _clips("same", ("x", "y"), 2))
    b = _write(tmp_path, "b", _clips("same", ("x", "y"), 2))
    with pytest.raises(PoolError, match="pooling needs two corpora"):
        pool_manifests([a, b])
    c = _write(tmp_path, "c", _clips(None, ("p", "q"), 2))
    with pytest.raises(PoolError, match="share 0 class"):
        pool_manifests([a, c])
    words = _write(tmp_path, "words", _clips(None, ("angry", "table"), 2))
    with pytest.raises(PoolError, match="not in the shared emotion vocabulary"):
        pool_manifests([two_corpora[0], words], shared_emotions=True)


def test_config_takes_a_pool_or_one_manifest() -> None:
    config = TrainConfig.build(pool=["a.jsonl", "b.jsonl"])
    assert config.sources == ["a.jsonl", "b.jsonl"] and config.balance_corpora
    with pytest.raises(ValueError, match="either data"):
        TrainConfig.build(data="a.jsonl", pool=["a.jsonl", "b.jsonl"])
    with pytest.raises(ValueError, match="at least two manifests"):
        TrainConfig.build(pool=["a.jsonl"])
    with pytest.raises(ValueError, match="test_corpus"):
        TrainConfig.build(data="a.jsonl", split="corpus")


def _loaded(counts: dict[str, int]) -> LoadedSplit:
    clips = [
        Clip(id=f"{name}/{i}", path="x", label="a", speaker=f"{name}/{i % 3}", corpus=name)
        for name, n in counts.items()
        for i in range(n)
    ]
    waves = [np.full(4, float(i), dtype=np.float32) for i in range(len(clips))]
    return LoadedSplit(clips, waves, np.arange(len(clips)) % 2)


def test_smaller_corpora_are_repeated_to_weigh_the_same() -> None:
    assert corpus_factors(_loaded({"big": 100, "small": 40, "tiny": 9}).clips) == {
        "big": 1,
        "small": 2,
        "tiny": 11,
    }
    split = _loaded({"big": 10, "small": 4})
    balanced, factors = balance_corpora(split)
    assert factors == {"big": 1, "small": 2} and len(balanced) == 18
    small = [i for i, c in enumerate(balanced.clips) if c.corpus == "small"]
    assert len(small) == 8
    # every clip repeated the same number of times: each speaker's statistics unchanged
    for speaker in {c.speaker for c in balanced.clips if c.corpus == "small"}:
        before = [w for w, c in zip(split.waves, split.clips, strict=True) if c.speaker == speaker]
        after = [
            w for w, c in zip(balanced.waves, balanced.clips, strict=True) if c.speaker == speaker
        ]
        np.testing.assert_allclose(np.mean(before, axis=0), np.mean(after, axis=0))
        np.testing.assert_allclose(np.std(before, axis=0), np.std(after, axis=0))
    assert balanced.targets.tolist()[-2:] == [split.targets[-1]] * 2
    one, same = balance_corpora(_loaded({"only": 5}))
    assert same == {"only": 1} and len(one) == 5


def test_speaker_splits_are_made_inside_each_corpus(two_corpora: list[Path]) -> None:
    pooled, _ = pool_manifests(two_corpora)
    splits = split_within_corpora(pooled, val=0.2, test=0.25, seed=0)
    assert not check_leakage(splits)
    for part in (splits.train, splits.val, splits.test):
        assert {c.corpus for c in part} == {"ravdess", "emodb"}
    assert len(splits.train) + len(splits.val) + len(splits.test) == len(pooled)


def test_corpus_split_tests_on_one_corpus(two_corpora: list[Path]) -> None:
    pooled, _ = pool_manifests(two_corpora)
    splits = corpus_split(pooled, "emodb", val=0.2, seed=0)
    assert {c.corpus for c in splits.test} == {"emodb"} and len(splits.test) == 16
    assert {c.corpus for c in splits.train} == {"ravdess"} and len(splits.val) > 0
    assert not check_leakage(splits)
    with pytest.raises(SplitError, match="no corpus 'savee'"):
        corpus_split(pooled, "savee", val=0.1, seed=0)


def test_leave_one_corpus_out_takes_val_speakers_from_the_other(
    two_corpora: list[Path],
) -> None:
    pooled, _ = pool_manifests(two_corpora)
    with pytest.raises(SplitError, match="only one group is left"):
        leave_one_group_out(pooled, group="corpus", val=0.1)
    folds = _fold_splits(
        TrainConfig.build(pool=[str(p) for p in two_corpora]), pooled, "loso", "corpus"
    )
    assert [{c.corpus for c in f.test} for f in folds] == [{"emodb"}, {"ravdess"}]
    for fold in folds:
        tested = next(iter({c.corpus for c in fold.test}))
        assert {c.corpus for c in fold.train + fold.val} == {"ravdess", "emodb"} - {tested}
        assert len(fold.val) > 0 and not check_leakage(fold)


def test_pooled_kfold_tests_every_corpus_in_every_fold(two_corpora: list[Path]) -> None:
    pooled, _ = pool_manifests(two_corpora)
    folds = pooled_kfold(pooled, 2, seed=0, val=0.2)
    assert len(folds) == 2
    tested: list[str] = []
    for fold in folds:
        assert {c.corpus for c in fold.test} == {"ravdess", "emodb"}
        assert not check_leakage(fold)
        tested += fold.test.speakers
    assert sorted(tested) == pooled.speakers


def test_per_corpus_metrics_and_their_mean_over_folds() -> None:
    clips = [Clip(id=str(i), path="x", label="a", corpus="ab"[i % 2]) for i in range(8)]
    targets = np.array([0, 0, 1, 1, 0, 0, 1, -1])
    right = np.eye(2)[np.clip(targets, 0, 1)]
    probs = np.where((np.arange(8) % 2 == 0)[:, None], right, right[:, ::-1])
    scores = per_corpus_metrics(clips, targets, probs, ["x", "y"])
    assert scores["a"]["accuracy"] == 1.0 and scores["a"]["n"] == 4
    assert scores["b"]["accuracy"] == 0.0 and scores["b"]["n"] == 3  # unknown clip left out
    assert per_corpus_metrics(clips[:1], targets[:1], probs[:1], ["x", "y"]) == {}
    folds = [{"per_corpus": scores}, {"per_corpus": {"a": {**scores["a"], "accuracy": 0.5}}}]
    summary = aggregate_per_corpus(folds)
    assert summary["a"]["accuracy"] == 0.75 and summary["a"]["n_folds"] == 2
    assert summary["b"]["n"] == 3 and summary["b"]["accuracy_std"] == 0.0


def test_cli_trains_on_two_manifests_and_tests_on_one_corpus(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from audioclf.cli import app
    from tests.corpus_factory import make_corpus

    paths = []
    for name, seed, names in (("alpha", 1, ("angry", "sad")), ("beta", 2, ("W", "T"))):
        manifest = read_manifest(make_corpus(tmp_path / name, speakers=4, per_class=2, seed=seed))
        # the tone corpus's "low"/"high" renamed to each corpus's own emotion labels
        renamed = {"low": names[0], "high": names[1]}
        clips = [c.with_(label=renamed[c.label], corpus=None) for c in manifest]
        paths.append(write_manifest(Manifest(clips), tmp_path / f"{name}.jsonl"))
    run = tmp_path / "run"
    args = ["train", "--data", str(paths[0]), "--data", str(paths[1]), "-m", "logreg"]
    args += ["--speaker-norm", "--split", "corpus", "--test-corpus", "beta"]
    result = CliRunner().invoke(app, [*args, "--out", str(run), "--no-progress"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["labels"] == ["angry", "sad"] and metrics["pool"] == [str(p) for p in paths]
    assert metrics["corpora"]["beta"]["n_test"] == 16 and metrics["corpora"]["alpha"]["n_test"] == 0
    assert metrics["n"] == 16 and metrics["accuracy"] >= 0.75
    pool = json.loads((run / "pool.json").read_text())
    assert pool["shared_emotions"] is True and pool["classes"] == ["angry", "sad"]
    assert (run / "speaker_norm.json").is_file()
