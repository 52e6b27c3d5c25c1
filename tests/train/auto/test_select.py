"""``--model auto``: candidates on one split, the best on validation kept, test untouched."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from audioclf.evaluate.compare import load_run_summary
from audioclf.formats.manifest import read_manifest
from audioclf.formats.runfolder import (
    RunFolder,
    ValPredictions,
    read_val_predictions,
    write_val_predictions,
)
from audioclf.inference.predictor import Predictor
from audioclf.train.auto import select
from audioclf.train.auto.candidates import SelectionError
from audioclf.train.classical import VIEW_GAIN
from audioclf.train.config import ROBUST_VIEWS, TrainConfig
from audioclf.train.cv import cross_validate
from audioclf.train.run import train_run
from audioclf.train.single import RunResult
from tests.corpus_factory import make_corpus
from tests.train.auto.test_pair_weights import TARGETS, two_class

TINY_CNN = {"clip_seconds": 0.5, "batch_size": 8, "augment": "none", "epochs": 2, "lr": 0.01}


def _auto(manifest: Path, candidates: list[str], **extra: Any) -> TrainConfig:
    return TrainConfig.build(
        {
            "data": str(manifest),
            "model": "auto",
            "model_options": {"candidates": candidates},
            **TINY_CNN,
            **extra,
        }
    )


def test_auto_trains_each_candidate_and_keeps_the_best_on_validation(tmp_path: Path) -> None:
    manifest = make_corpus(tmp_path / "corpus")
    # --serve best: the most accurate model by the held-out estimates (the rule that
    # serves the fastest close model is tested below)
    config = _auto(manifest, ["logreg", "cnn2d_2"], serve="best")
    config.model_options["ensemble"] = False
    result = train_run(config, tmp_path / "run", progress=False)
    run = result.run_dir
    selection = result.metrics["selection"]
    scores = {row["model"]: row["score"] for row in selection["candidates"]}
    assert set(scores) == {"logreg", "cnn2d_2"}
    # auto's classical candidates train on the clips at three speeds; the CNN has `augment`
    cards = {name: RunFolder(run / "candidates" / name).read_card() for name in scores}
    assert {name: card.train_speeds for name, card in cards.items()} == {
        "logreg": [0.9, 1.1],
        "cnn2d_2": [],
    }
    # and on noisy copies of them (noise views)
    assert {name: card.train_noise for name, card in cards.items()} == {
        "logreg": list(ROBUST_VIEWS),
        "cnn2d_2": [],
    }
    # the test-time views are served only when inner CV says they add more than VIEW_GAIN
    logreg = json.loads((run / "candidates" / "logreg" / "metrics.json").read_text())
    earned = logreg["test_time_views_gain"] > VIEW_GAIN
    assert cards["logreg"].speeds == ([0.9, 1.1] if earned else [])
    # each candidate is a complete run on the same split, scored on validation
    for name in scores:
        sub = run / "candidates" / name
        metrics = json.loads((sub / "metrics.json").read_text())
        # the classical candidate is judged by inner CV, the CNN by its best epoch
        key = "cv_balanced_accuracy" if name == "logreg" else "val_balanced_accuracy"
        assert metrics[key] == scores[name]
        assert (sub / "splits" / "test.jsonl").read_text() == (
            run / "splits" / "test.jsonl"
        ).read_text()
    best = max(scores, key=lambda n: scores[n])  # first maximum: the cheaper on a tie
    assert selection["chosen"] == best == result.card.model
    saved = json.loads((run / "metrics.json").read_text())
    assert saved["model"] == best and saved["selected_by"] == "auto"
    assert json.loads((run / "model.json").read_text())["model"] == best
    assert not (run / "checkpoint.pt").exists()
    report = (run / "report.html").read_text()
    assert "Model selection" in report
    assert 'href="candidates/logreg/report.html"' in report
    # every candidate's cost per second of audio is in the selection, and the served
    # model's table (its own metrics, copied up) in the report
    assert all(row["ms_per_audio_second"] > 0 for row in selection["candidates"])
    assert "cost / s of audio" in report and "Cost per second of audio" in report
    assert load_run_summary(run).model == f"auto → {best}"
    # the root is an ordinary run folder: it serves
    probs = Predictor(run).predict_source(read_manifest(manifest)[0].path)
    assert probs.shape == (2,)
    # each candidate kept its predictions for the validation clips; the CNN's are its best
    # epoch's, the ones it serves
    val_clips = read_manifest(run / "splits" / "val.jsonl")
    for name in scores:
        kept = read_val_predictions(RunFolder(run / "candidates" / name))
        assert kept is not None and kept.ids == [c.id for c in val_clips]
        assert kept.targets.tolist() == [result.card.labels.index(c.label) for c in val_clips]
        np.testing.assert_allclose(kept.probs.sum(axis=1), 1.0, atol=1e-5)
    cnn_kept = read_val_predictions(RunFolder(run / "candidates" / "cnn2d_2"))
    assert cnn_kept is not None
    served = Predictor(run / "candidates" / "cnn2d_2")
    for val_clip, row in zip(list(val_clips)[:3], cnn_kept.probs[:3], strict=True):
        np.testing.assert_allclose(served.predict_source(val_clip.path), row, atol=1e-4)

    # by default the best of each family is kept together, the CNN weighted as the
    # validation clips prefer; resuming (which reads the run's config.yaml) reuses the
    # candidates and replaces the single winner's files. The validation predictions are
    # replaced by ones where each member is sure where the other is not: an equal share
    # scores best but its gain is not clear on four clips, a quarter share's is
    # (tests/train/test_pair_weights.py): the CNN gets 0.25
    _plant_val_predictions(run, cnn=[0.2, 0.2, 0.99, 0.99], logreg=[0.99, 0.99, 0.3, 0.3])
    config.model_options["ensemble"] = True
    config.to_yaml(run / "config.yaml")
    (run / "notes.txt").write_text("mine")  # not audioclf's: a new selection leaves it
    weights = {p.name for p in (run / "candidates" / best).glob("model.*")} - {"model.json"}
    trained_at = (run / "candidates" / "logreg" / "metrics.json").stat().st_mtime_ns
    result = train_run(config, run, resume=True, progress=False)
    assert (run / "candidates" / "logreg" / "metrics.json").stat().st_mtime_ns == trained_at
    selection = result.metrics["selection"]
    assert selection["chosen"] == "cnn2d_2+logreg"
    assert selection["members"] == ["cnn2d_2", "logreg"]
    assert selection["weights"] == {"cnn2d_2": 0.25, "logreg": 0.75}
    assert set(selection["weight_scores"]) == {"0", "0.25", "0.5"}
    gain, se = (selection["weight_gains"]["0.25"][k] for k in ("gain", "se"))
    assert gain > 1.645 * se and "standard errors" in selection["weighted_by"]
    card = json.loads((run / "model.json").read_text())
    assert card["family"] == "ensemble" and card["options"]["models"] == ["cnn2d_2", "logreg"]
    assert card["options"]["weights"] == [0.25, 0.75]
    assert not [p for p in run.iterdir() if p.name in weights]  # no stale single model
    assert (run / "notes.txt").read_text() == "mine"
    assert "members" in selection["files"] and "notes.txt" not in selection["files"]
    assert {p.name for p in (run / "members").iterdir()} == {"1-cnn2d_2", "2-logreg"}
    # scored on the split's test part, like any run
    n_test = len(read_manifest(run / "splits" / "test.jsonl"))
    assert result.metrics["n"] == n_test and 0.0 <= result.metrics["accuracy"] <= 1.0
    assert load_run_summary(run).model == "auto → cnn2d_2+logreg"
    report = (run / "report.html").read_text()
    assert "<b>kept (weight 0.25)</b>" in report and "<b>kept (weight 0.75)</b>" in report
    clip = read_manifest(manifest)[0].path
    probs = Predictor(run).predict_source(clip)
    cnn, logreg = (
        Predictor(run / "candidates" / n).predict_source(clip) for n in ("cnn2d_2", "logreg")
    )
    weighted = np.exp(0.25 * np.log(cnn) + 0.75 * np.log(logreg))
    np.testing.assert_allclose(probs, weighted / weighted.sum(), atol=1e-5)

    # a CNN whose help the validation clips cannot tell from noise gets no weight: the
    # logreg is kept alone
    _plant_val_predictions(run, cnn=[0.6, 0.6, 0.6, 0.7], logreg=[0.9, 0.9, 0.9, 0.4])
    result = train_run(config, run, resume=True, progress=False)
    selection = result.metrics["selection"]
    assert selection["chosen"] == "logreg" and selection["pair"] == ["cnn2d_2", "logreg"]
    assert selection["weights"] == {"cnn2d_2": 0.0, "logreg": 1.0}
    assert json.loads((run / "model.json").read_text())["model"] == "logreg"
    assert not (run / "members").exists()
    report = (run / "report.html").read_text()
    assert "<b>kept (weight 1)</b>" in report and "<b>(weight 0)</b>" in report

    # candidates from before validation predictions were kept: equal weights
    (run / "candidates" / "logreg" / "val_predictions.npz").unlink()
    result = train_run(config, run, resume=True, progress=False)
    assert result.metrics["selection"]["chosen"] == "cnn2d_2+logreg"
    assert "weights" not in result.metrics["selection"]
    assert "weights" not in json.loads((run / "model.json").read_text())["options"]


def test_auto_serves_the_fastest_model_within_the_tolerance(tmp_path: Path) -> None:
    manifest = make_corpus(tmp_path / "corpus")
    config = _auto(manifest, ["logreg", "cnn2d_2"], tolerance=1.0)
    result = train_run(config, tmp_path / "run", progress=False)
    selection = result.metrics["selection"]
    front = {row["model"]: row for row in selection["front"]}
    # every model trained is a point: both candidates, and the pair when it was built
    assert {"logreg", "cnn2d_2"} <= set(front)
    assert all(row["latency_ms"] > 0 for row in front.values())
    # a tolerance of 1 admits every model: the fastest is served, and it is on the front
    fastest = min(front, key=lambda name: front[name]["latency_ms"])
    assert selection["chosen"] == fastest and front[fastest]["served"]
    assert front[fastest]["on_front"]
    assert selection["rule"]["serve"] == "fastest" and selection["rule"]["tolerance"] == 1.0
    assert json.loads((tmp_path / "run" / "model.json").read_text())["model"] == (
        "ensemble" if "+" in fastest else fastest
    )
    assert (tmp_path / "run" / "plots" / "front.png").is_file()
    assert "plots/front.png" in (tmp_path / "run" / "report.html").read_text()
    # another point serves without retraining, from its candidate folder
    other = next(name for name in front if name != fastest)
    assert Predictor(tmp_path / "run" / "candidates" / other).classes_ == result.card.labels


def _plant_val_predictions(run: Path, **p_true: list[float]) -> None:
    """Replace the candidates' validation predictions by four two-class clips (targets
    a, a, b, b) on which each gives its true class the probabilities ``p_true[name]``."""
    for name, values in p_true.items():
        folder = RunFolder(run / "candidates" / ("cnn2d_2" if name == "cnn" else name))
        planted = ValPredictions(["v1", "v2", "v3", "v4"], two_class(values), TARGETS)
        write_val_predictions(folder, planted)


def test_resume_reuses_finished_candidates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = make_corpus(tmp_path / "corpus", speakers=5)
    config = _auto(manifest, ["logreg", "svm"])
    real = select.train_single
    trained: list[str] = []

    def dies_on_svm(cfg: TrainConfig, out: RunFolder, **kw: Any) -> RunResult:
        if cfg.model == "svm":
            raise KeyboardInterrupt
        trained.append(cfg.model)
        return real(cfg, out, **kw)

    monkeypatch.setattr(select, "train_single", dies_on_svm)
    with pytest.raises(KeyboardInterrupt):
        train_run(config, tmp_path / "run", progress=False)
    first = (tmp_path / "run" / "candidates" / "logreg" / "metrics.json").stat().st_mtime_ns
    monkeypatch.setattr(select, "train_single", real)
    result = train_run(config, tmp_path / "run", resume=True, progress=False)
    assert trained == ["logreg"]
    assert (tmp_path / "run" / "candidates" / "logreg" / "metrics.json").stat().st_mtime_ns == first
    assert {r["model"] for r in result.metrics["selection"]["candidates"]} == {"logreg", "svm"}
    # the run's time includes what the reused candidate cost before the kill
    rows = {r["model"]: r for r in result.metrics["selection"]["candidates"]}
    assert result.metrics["train_seconds"] >= sum(r["train_seconds"] for r in rows.values())


def test_budget_shares_what_is_left_between_neural_candidates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(select.time, "perf_counter", lambda: 120.0)
    with_budget = TrainConfig.build({"time_budget": 6.0})
    # 2 of 6 minutes gone on classical candidates: 4 left for two neural ones
    assert select._budget(with_budget, 0.0, 120.0, torch_left=2) == pytest.approx(2.0)
    # the classical ones took 10 minutes: the neural ones still get 40 % of the budget
    assert select._budget(with_budget, -480.0, 120.0, torch_left=1) == pytest.approx(2.4)
    assert select._budget(with_budget, -480.0, 120.0, torch_left=2) == pytest.approx(1.2)
    # ... less what the first neural candidate already used of it
    assert select._budget(with_budget, -600.0, 60.0, torch_left=1) == pytest.approx(1.4)
    assert select._budget(with_budget, -6000.0, -6000.0, torch_left=1) == pytest.approx(0.1)
    unlimited = TrainConfig.build({"time_budget": None})
    assert select._budget(unlimited, 0.0, 0.0, torch_left=1) is None


def test_cv_with_auto_reports_what_each_fold_kept(tmp_path: Path) -> None:
    manifest = make_corpus(tmp_path / "corpus", speakers=6)
    metrics = cross_validate(
        _auto(manifest, ["logreg", "svm"]), tmp_path / "cv", folds=3, progress=False
    )
    assert metrics["model"] == "auto"
    assert sum(metrics["selected"].values()) == 3
    assert set(metrics["selected"]) <= {"logreg", "svm"}
    assert all(fold["selected_by"] == "auto" for fold in metrics["folds"])
    assert "kept, per fold" in (tmp_path / "cv" / "report.html").read_text()
    assert load_run_summary(tmp_path / "cv").model.startswith("auto (")


def test_cli_train_auto_with_a_candidate_list(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from audioclf.cli import app

    manifest = make_corpus(tmp_path / "corpus", speakers=5)
    config = tmp_path / "auto.yaml"
    config.write_text("model_options:\n  candidates: [logreg, random_forest]\n")
    out = tmp_path / "run"
    args = ["train", "--data", str(manifest), "--config", str(config)]  # auto: the default
    result = CliRunner().invoke(app, [*args, "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    kept = json.loads((out / "metrics.json").read_text())["selection"]["chosen"]
    assert kept in {"logreg", "random_forest"}
    assert f"[bold]{kept}" not in result.output and f"auto → {kept} on" in result.output
    assert "report.html, metrics.json, model.onnx)" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("model_options:\n  candidates: [logreg, lgoreg]\n")
    args = ["train", "--data", str(manifest), "--model", "auto", "--config", str(bad)]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "bad"), "--no-progress"])
    assert result.exit_code != 0 and "unknown model 'lgoreg'" in result.output


def test_auto_can_distil_a_student_onto_the_front(tmp_path: Path) -> None:
    manifest = make_corpus(tmp_path / "corpus")
    config = _auto(manifest, ["logreg"], tolerance=1.0)
    # unlabelled clips: another generated corpus's audio, found in its folder
    unlabelled = make_corpus(tmp_path / "unlabelled", speakers=2, per_class=1).parent
    config.model_options["student"] = {"unlabelled": str(unlabelled), "views": 1}
    result = train_run(config, tmp_path / "run", progress=False)
    selection = result.metrics["selection"]
    front = {row["model"]: row for row in selection["front"]}
    assert set(front) == {"logreg", "student"}
    student = json.loads((tmp_path / "run" / "candidates" / "student" / "metrics.json").read_text())
    assert student["distilled_from"] == "logreg"  # the accurate model is the teacher
    assert student["transfer"]["unlabelled"] == 4
    train_clips = (tmp_path / "run" / "splits" / "train.jsonl").read_text().splitlines()
    assert student["transfer"]["view"] == len(train_clips)  # one view of each
    # its split is the selection's: the same test clips as every candidate
    assert (tmp_path / "run" / "candidates" / "student" / "splits" / "test.jsonl").read_text() == (
        tmp_path / "run" / "splits" / "test.jsonl"
    ).read_text()
    assert selection["chosen"] == min(front, key=lambda name: front[name]["latency_ms"])
    with pytest.raises(SelectionError, match="student must be true, false or a mapping"):
        bad = _auto(manifest, ["logreg"])
        bad.model_options["student"] = "yes"
        train_run(bad, tmp_path / "bad", progress=False)
    with pytest.raises(SelectionError, match="no audio files under"):
        bad = _auto(manifest, ["logreg"])
        bad.model_options["student"] = {"unlabelled": str(tmp_path / "nowhere")}
        train_run(bad, tmp_path / "bad2", progress=False)
    with pytest.raises(SelectionError, match="takes"):
        bad = _auto(manifest, ["logreg"])
        bad.model_options["student"] = {"unlabeled": str(unlabelled)}
        train_run(bad, tmp_path / "bad3", progress=False)


@pytest.mark.xdist_group("ray")
def test_auto_on_ray_trains_the_neural_candidate_as_a_job(tmp_path: Path, local_ray: Any) -> None:
    from typer.testing import CliRunner

    from audioclf.cli import app

    manifest = make_corpus(tmp_path / "corpus")
    config = _auto(manifest, ["logreg", "cnn2d_2"], serve="best")
    here = train_run(config, tmp_path / "local", progress=False).metrics["selection"]
    config.to_yaml(tmp_path / "auto.yaml")
    args = ["train", "--config", str(tmp_path / "auto.yaml"), "--out", str(tmp_path / "ray")]
    result = CliRunner().invoke(app, [*args, "--ray", "--no-progress"])
    assert result.exit_code == 0, result.output
    there = json.loads((tmp_path / "ray" / "metrics.json").read_text())["selection"]
    assert [r["model"] for r in there["candidates"]] == [r["model"] for r in here["candidates"]]
    scores = {r["model"]: r["score"] for r in here["candidates"]}
    ray_scores = {r["model"]: r["score"] for r in there["candidates"]}
    assert ray_scores["logreg"] == scores["logreg"]  # fitted here either way
    # the CNN trained in a Ray worker on one thread: the same epochs and seed
    assert ray_scores["cnn2d_2"] == pytest.approx(scores["cnn2d_2"], abs=1e-6)
    assert there["chosen"] == here["chosen"]
    assert (tmp_path / "ray" / "candidates" / "cnn2d_2" / "model.onnx").is_file()
