"""The trainer's time budget: the plan of epochs shrinks to what fits, never grows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from audioclf.train.config import TrainConfig
from audioclf.train.run import train_run
from audioclf.train.trainer import CHECKPOINT, _replan, budget_epochs
from tests.corpus_factory import make_corpus


@pytest.mark.parametrize(
    ("budget", "done", "seconds", "expected"),
    [
        (100.0, 1, 10.0, 10),  # 10 s per epoch: ten fit in 100 s
        (100.0, 4, 40.0, 10),
        (95.0, 2, 20.0, 9),  # 7.5 more epochs fit: round down
        (5.0, 1, 10.0, 1),  # the first epoch already overran: stop after it
        (30.0, 3, 60.0, 3),  # never fewer than the epochs done
    ],
)
def test_budget_epochs(budget: float, done: int, seconds: float, expected: int) -> None:
    assert budget_epochs(budget, done, seconds) == expected


def test_budget_epochs_needs_a_timed_epoch() -> None:
    with pytest.raises(ValueError, match="timed epoch"):
        budget_epochs(60.0, 0, 0.0)


def test_the_plan_grows_back_after_slow_first_epochs_but_never_past_epochs() -> None:
    config = TrainConfig.build(epochs=10, time_budget=1.0)
    plan = {"epochs": 2}  # cut after a slow first epoch
    _replan(plan, config, done=2, seconds=10.0)  # 5 s per epoch: 12 would fit in 60 s
    assert plan["epochs"] == 10
    _replan(plan, config, done=3, seconds=45.0)  # now 15 s per epoch: one more fits
    assert plan["epochs"] == 4


def _config(manifest: Path, **overrides: object) -> TrainConfig:
    base = {
        "data": str(manifest),
        "model": "cnn2d_1",
        "clip_seconds": 0.5,
        "batch_size": 8,
        "augment": "none",
        "epochs": 3,
    }
    return TrainConfig.build(base, **overrides)


def test_a_budget_too_small_for_two_epochs_stops_after_one(tmp_path: Path) -> None:
    manifest = make_corpus(tmp_path / "corpus", speakers=4, per_class=2)
    result = train_run(_config(manifest, time_budget=1e-9), tmp_path / "run", progress=False)
    assert result.metrics["epochs_run"] == 1
    ckpt = torch.load(tmp_path / "run" / CHECKPOINT, weights_only=False)
    assert ckpt["planned_epochs"] == 1 and ckpt["finished"]
    # a resumed run keeps the cut plan instead of training the remaining epochs
    again = train_run(_config(manifest), tmp_path / "run", resume=True, progress=False)
    assert again.metrics["epochs_run"] == 1


def test_a_generous_budget_changes_nothing(tmp_path: Path) -> None:
    manifest = make_corpus(tmp_path / "corpus", speakers=4, per_class=2)
    result = train_run(_config(manifest, time_budget=1e6), tmp_path / "run", progress=False)
    assert result.metrics["epochs_run"] == 3
    ckpt = torch.load(tmp_path / "run" / CHECKPOINT, weights_only=False)
    assert ckpt["planned_epochs"] == 3


def test_budget_must_be_positive() -> None:
    with pytest.raises(ValueError, match="time_budget"):
        TrainConfig.build(time_budget=0)


def test_cli_train_time_budget(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from audioclf.cli import app

    manifest = make_corpus(tmp_path / "corpus", speakers=4, per_class=2)
    out = tmp_path / "run"
    args = ["train", "--data", str(manifest), "--model", "cnn2d_1", "--epochs", "3"]
    result = CliRunner().invoke(
        app, [*args, "--time-budget", "1e-9", "--out", str(out), "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    assert "epochs fit" in result.output
    assert TrainConfig.from_yaml(out / "config.yaml").time_budget == 1e-9
    assert json.loads((out / "metrics.json").read_text())["epochs_run"] == 1
