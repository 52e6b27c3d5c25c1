"""Grouped k-fold cross-validation over generated speakers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from audioclf.formats.manifest import read_manifest
from audioclf.train.config import TrainConfig
from audioclf.train.cv import aggregate_folds, cross_validate
from tests.corpus_factory import make_corpus


def test_cv_tests_every_speaker_once_and_reports_mean_std(tmp_path: Path) -> None:
    manifest = make_corpus(tmp_path / "corpus", speakers=6, per_class=2)
    config = TrainConfig.build({"data": str(manifest), "model": "logreg", "val": 0.2})
    metrics = cross_validate(config, tmp_path / "cv", folds=3, progress=False)
    assert metrics["kind"] == "cv" and metrics["n_folds"] == 3
    tested = [
        s
        for i in range(1, 4)
        for s in read_manifest(tmp_path / "cv" / f"fold{i}" / "splits" / "test.jsonl").speakers
    ]
    assert sorted(tested) == sorted(read_manifest(manifest).speakers)
    accs = [f["accuracy"] for f in metrics["folds"]]
    assert metrics["mean"]["accuracy"] == np.mean(accs)
    assert metrics["std"]["accuracy"] == np.std(accs)
    assert metrics["accuracy"] == metrics["mean"]["accuracy"]
    on_disk = json.loads((tmp_path / "cv" / "metrics.json").read_text())
    assert on_disk["n"] == len(read_manifest(manifest))
    assert np.asarray(on_disk["confusion"]).sum() == on_disk["n"]
    assert (tmp_path / "cv" / "report.html").is_file()
    # each fold keeps its wall time in its metrics.json, so a resumed cv reports it again
    walls = on_disk["fold_wall_seconds"]
    assert len(walls) == 3 and all(w > 0 for w in walls)
    fold1 = json.loads((tmp_path / "cv" / "fold1" / "metrics.json").read_text())
    assert fold1["wall_seconds"] == walls[0] >= fold1["train_seconds"]
    (tmp_path / "cv" / "fold3" / "metrics.json").unlink()
    resumed = cross_validate(config, tmp_path / "cv", folds=3, resume=True, progress=False)
    assert resumed["fold_wall_seconds"][:2] == walls[:2] and resumed["fold_wall_seconds"][2] > 0


def test_aggregate_aligns_confusions_by_label() -> None:
    fold_a = {"accuracy": 1.0, "labels": ["a", "b"], "confusion": [[1, 0], [0, 2]], "n": 3}
    fold_b = {"accuracy": 0.5, "labels": ["b", "c"], "confusion": [[1, 1], [0, 0]], "n": 2}
    agg = aggregate_folds([fold_a, fold_b])
    assert agg["labels"] == ["a", "b", "c"]
    assert agg["confusion"] == [[1, 0, 0], [0, 3, 1], [0, 0, 0]]
    assert agg["mean"]["accuracy"] == 0.75


def test_cli_cv_with_speaker_norm(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from audioclf.cli import app

    manifest = make_corpus(tmp_path / "corpus", speakers=6, per_class=3)
    out = tmp_path / "cv"
    args = ["cv", "--data", str(manifest), "--model", "logreg", "--speaker-norm"]
    result = CliRunner().invoke(app, [*args, "--folds", "3", "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    fold = json.loads((out / "fold1" / "model.json").read_text())
    assert fold["speaker_norm"] is True
    assert json.loads((out / "metrics.json").read_text())["mean"]["accuracy"] >= 0.75


def test_cli_cv_with_speeds(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from audioclf.cli import app

    manifest = make_corpus(tmp_path / "corpus", speakers=4, per_class=2)
    out = tmp_path / "cv"
    args = ["cv", "--data", str(manifest), "--model", "logreg", "--speeds", "0.9,1.1"]
    result = CliRunner().invoke(app, [*args, "--folds", "2", "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "fold1" / "model.json").read_text())["speeds"] == [0.9, 1.1]
    bad = CliRunner().invoke(app, [*args[:-1], "fast", "--out", str(tmp_path / "bad")])
    assert bad.exit_code != 0 and "--speeds takes numbers" in bad.output


def test_cli_cv_with_noise_views(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from audioclf.cli import app

    manifest = make_corpus(tmp_path / "corpus", speakers=4, per_class=2)
    out = tmp_path / "cv"
    views = ["noise=pink,snr=0..20", "reverb=0.2..1.0"]
    args = ["cv", "--data", str(manifest), "--model", "logreg", "--folds", "2"]
    given = [x for spec in views for x in ("--noise-view", spec)]
    result = CliRunner().invoke(app, [*args, *given, "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "fold1" / "model.json").read_text())["train_noise"] == views
    bad = ["--noise-view", "noise=pink,snr=20..0", "--out", str(tmp_path / "bad")]
    refused = CliRunner().invoke(app, [*args, *bad])
    assert refused.exit_code != 0 and "runs downwards" in refused.output


def test_cli_cv_scores_every_fold_under_perturbations(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from audioclf.cli import app

    manifest = make_corpus(tmp_path / "corpus", speakers=4, per_class=2)
    out = tmp_path / "cv"
    specs = ["noise=white,snr=30", "noise=white,snr=-20"]
    args = ["cv", "--data", str(manifest), "--model", "logreg", "--folds", "2"]
    perturb = [x for spec in specs for x in ("--perturb", spec)]
    result = CliRunner().invoke(app, [*args, *perturb, "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "accuracy @ noise=white,snr=-20" in result.output
    summary = json.loads((out / "metrics.json").read_text())
    folds = [json.loads((out / f"fold{i}" / "metrics.json").read_text()) for i in (1, 2)]
    for fold in folds:
        assert [r["spec"] for r in fold["perturbations"]] == specs
        assert fold["perturbations"][0]["n_scored"] == fold["n"]
    assert (out / "fold2" / "perturbed" / "report.html").is_file()
    rows = summary["perturbations"]
    assert [r["spec"] for r in rows] == specs and all(r["n_folds"] == 2 for r in rows)
    fold_accuracies = [f["perturbations"][1]["accuracy"] for f in folds]
    assert rows[1]["accuracy"] == round(float(np.mean(fold_accuracies)), 4)
    assert rows[1]["accuracy_std"] == round(float(np.std(fold_accuracies)), 4)
    assert "Under perturbations" in (out / "report.html").read_text()
    # a resumed cv reuses the folds' perturbed scores; a bad SPEC fails before any fold
    again = CliRunner().invoke(
        app, [*args, *perturb, "--out", str(out), "--resume", "--no-progress"]
    )
    assert again.exit_code == 0, again.output
    assert json.loads((out / "metrics.json").read_text())["perturbations"] == rows
    bad = CliRunner().invoke(
        app, [*args, "--perturb", "noise=pink", "--out", str(tmp_path / "bad"), "--no-progress"]
    )
    assert bad.exit_code != 0 and "needs snr" in bad.output
    assert not (tmp_path / "bad" / "fold1").exists()


def test_cli_cv_makes_babble_from_a_given_manifest_and_rescores_when_it_changes(
    tmp_path: Path,
) -> None:
    from typer.testing import CliRunner

    from audioclf.cli import app

    manifest = make_corpus(tmp_path / "corpus", speakers=4, per_class=2)
    speech = make_corpus(tmp_path / "speech", speakers=3, per_class=1)
    out = tmp_path / "cv"
    args = ["cv", "--data", str(manifest), "--model", "logreg", "--folds", "2"]
    args += ["--perturb", "noise=babble,snr=0", "--out", str(out), "--no-progress"]
    first = CliRunner().invoke(app, [*args, "--babble", str(speech)])
    assert first.exit_code == 0, first.output
    for i in (1, 2):
        fold = json.loads((out / f"fold{i}" / "metrics.json").read_text())
        assert fold["babble_from"] == str(speech) and fold["babble_manifest"] == str(speech)
    # resumed without --babble: the folds are scored again, babble from their own clips
    again = CliRunner().invoke(app, [*args, "--resume"])
    assert again.exit_code == 0, again.output
    fold = json.loads((out / "fold1" / "metrics.json").read_text())
    assert fold["babble_manifest"] is None and fold["babble_from"] != str(speech)
    missing = CliRunner().invoke(app, [*args, "--babble", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code != 0 and "no such manifest" in " ".join(missing.output.split())


def _noisy_corpus(root: Path) -> Path:
    """A corpus a linear model gets partly wrong (a third of the labels swapped), so
    that equal metrics mean equal fits, not two perfect scores."""
    manifest = make_corpus(root, speakers=6, per_class=4)
    rows = [json.loads(line) for line in manifest.read_text().splitlines()]
    for i, row in enumerate(rows):
        if i % 3 == 0:
            row["label"] = "low" if row["label"] == "high" else "high"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return manifest


@pytest.mark.xdist_group("ray")
def test_cv_on_ray_equals_the_local_run(tmp_path: Path, local_ray: Any) -> None:
    from typer.testing import CliRunner

    from audioclf.cli import app

    manifest = _noisy_corpus(tmp_path / "corpus")
    config = TrainConfig.build({"data": str(manifest), "model": "logreg", "val": 0.2})
    here = cross_validate(config, tmp_path / "local", folds=3, progress=False)
    assert 0.3 < here["accuracy"] < 1.0  # a score that can differ
    result = CliRunner().invoke(
        app,
        [
            *("cv", "-d", str(manifest), "-m", "logreg", "-k", "3"),
            *("-o", str(tmp_path / "ray"), "--ray", "--no-progress"),
        ],
    )
    assert result.exit_code == 0, result.output
    on_ray = json.loads((tmp_path / "ray" / "metrics.json").read_text())
    for key in ("accuracy", "balanced_accuracy", "macro_f1", "confusion", "n"):
        assert on_ray[key] == here[key], key
    for i in range(1, 4):
        fold = f"fold{i}/splits/test.jsonl"
        assert (tmp_path / "ray" / fold).read_text() == (tmp_path / "local" / fold).read_text()
        ours = json.loads((tmp_path / "local" / f"fold{i}" / "metrics.json").read_text())
        theirs = json.loads((tmp_path / "ray" / f"fold{i}" / "metrics.json").read_text())
        assert theirs["confusion"] == ours["confusion"]
