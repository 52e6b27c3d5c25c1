"""The run configuration: defaults, auto's own defaults, files and flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from audioclf.train.config import AUTO, AUTO_DEFAULTS, DEFAULT_MODEL, ROBUST_VIEWS, TrainConfig

ROOT = Path(__file__).resolve().parents[2]


def test_the_default_model_is_auto_with_a_four_minute_budget() -> None:
    config = TrainConfig.build()
    assert config.model == DEFAULT_MODEL == AUTO
    assert (config.time_budget, config.epochs, config.augment) == (4.0, 20, "light")


def test_a_named_model_keeps_the_trainer_defaults() -> None:
    config = TrainConfig.build(model="cnn2d_1")
    assert (config.time_budget, config.epochs, config.augment) == (None, 60, "default")


def test_what_is_given_wins_over_autos_defaults(tmp_path: Path) -> None:
    given = TrainConfig.build({"epochs": 5}, time_budget=2.5)
    assert (given.time_budget, given.epochs, given.augment) == (2.5, 5, "light")
    # a config file can ask for no limit at all
    path = tmp_path / "unlimited.yaml"
    path.write_text("time_budget: null\naugment: default\n")
    unlimited = TrainConfig.from_yaml(path)
    assert (unlimited.model, unlimited.time_budget, unlimited.augment) == (AUTO, None, "default")


def test_a_saved_auto_config_reads_back_unchanged(tmp_path: Path) -> None:
    config = TrainConfig.build({"time_budget": None, "epochs": 7})
    assert TrainConfig.from_yaml(config.to_yaml(tmp_path / "config.yaml")) == config


def test_the_default_is_the_configuration_the_benchmark_rows_measured() -> None:
    """docs/benchmarks.md's older `auto-fast-4min` rows measured auto as `--config
    benchmarks/configs/fast.yaml --time-budget 4`: the default is exactly that run plus the
    classical candidates' speed and noise views (the newer `auto` rows ran the default
    itself)."""
    fast = ROOT / "benchmarks" / "configs" / "fast.yaml"
    plain: dict[str, Any] = {"data": "x.jsonl", "speeds": [], "noise_views": []}
    benchmarked = TrainConfig.from_yaml(fast, model=AUTO, time_budget=4, **plain)
    assert TrainConfig.build(**plain) == benchmarked
    assert TrainConfig.build(data="x.jsonl").speeds == [0.9, 1.1]
    assert TrainConfig.build(data="x.jsonl").noise_views == list(ROBUST_VIEWS)
    # a model named is trained as asked: no views it did not ask for
    assert TrainConfig.build(data="x.jsonl", model="logreg").noise_views == []
    assert set(AUTO_DEFAULTS) <= set(TrainConfig.model_fields)


def test_bad_values_name_the_field() -> None:
    with pytest.raises(ValueError, match="time_budget"):
        TrainConfig.build(time_budget=-1)
